"""The classifier: automated or human, which kind, how sure, how frustrated, and why.

Every clue is a named rule with a weight (see ``lexicon``). The automated score is the
sum of the weights of the rules that fired, where weak clues (below 0.5) count at most
0.9 together, minus the weights of rules of kind ``human``; 1.0 or more means automated.
The kind is the best vote among the automated kinds, where the two catch-all kinds
(auto_reply, notification) vote at a discount so that a specific clue (an absence phrase,
a DSN, a ticket number) decides what sort of robot wrote it. Configured agents and human
markers overrule everything: they are the operator's word.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from mailguard.domain.facts import MessageFacts, normalize_address
from mailguard.domain.frustration import FrustrationScorer, Heard
from mailguard.domain.gate import Gate, GateText, folded_twin
from mailguard.domain.gate_segments import GateIndex
from mailguard.domain.language import detect_languages
from mailguard.domain.lexicon import FROM_RULES, HEADER_RULES, SUBJECT_RULES
from mailguard.domain.lexicon_body import BODY_RULES
from mailguard.domain.model import Classification, Evidence, Kind
from mailguard.domain.quotes import inside_inline_quotes
from mailguard.domain.rules import (
    BODY,
    FROM,
    HEADER_PREFIX,
    SUBJECT,
    ClassifierSettings,
    FrustrationTerm,
    PatternRule,
    validate_target,
)
from mailguard.domain.system_sender import person_at_system_address
from mailguard.domain.voice_model import VoiceModel, joined, shipped_model

__all__ = [
    "Classifier",
    "ClassifierSettings",
    "FrustrationTerm",
    "PatternRule",
    "is_reply_subject",
]

AUTOMATED_THRESHOLD = 1.0
# Clues below this weight are weak (a person may write "thank you for your message", quote a
# ticket number or say "we will get back to you"); together they count at most WEAK_CAP,
# so they decide "automated" only in company of a stronger clue.
WEAK_WEIGHT = 0.5
WEAK_CAP = 0.9
# Catch-all kinds say "a robot wrote this" more than "this sort of robot".
_GENERIC_VOTE = {Kind.AUTO_REPLY: 0.3, Kind.NOTIFICATION: 0.3}
# Kinds that name the sort of robot, most specific first (which also breaks ties) ...
_SPECIFIC = (Kind.BOUNCE, Kind.CHALLENGE_RESPONSE, Kind.OUT_OF_OFFICE, Kind.TICKET_ACK)
# ... and kinds that mostly say "some robot"; a specific kind needs this much vote to win.
_GENERIC = (Kind.BULK, Kind.AUTO_REPLY, Kind.NOTIFICATION)
_SPECIFIC_MINIMUM = 0.5
_REPLY_PREFIX = re.compile(
    r"^\s*(?:\[[^\]]{1,40}\]\s*)?(?:re|aw|antw|antwort|sv|vs|odp|r|rif|ref|réf|tr|wg|fwd?|"
    r"enc|res|rv|i|doorst|trs|vl|ynt|答复|回复|転送)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]",
    re.IGNORECASE,
)
_MATCH_CHARS = 120
_Fire = Callable[[PatternRule, str], None]


def is_reply_subject(subject: str) -> bool:
    """Whether a subject starts with a reply or forward prefix (Re:, AW:, Antw:, WG:, ...)."""
    return _REPLY_PREFIX.match(subject) is not None


@dataclass(frozen=True, slots=True)
class _Read:
    """The author's text, prepared once, with its language and the plausible languages."""

    text: str
    prepared: GateText
    language: str | None
    plausible: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Rule:
    rule: PatternRule
    regex: re.Pattern[str]
    gate: Gate | None
    # The pattern in lower case, searched case-sensitively in the lower-cased text (None
    # when that would not find the same; see gate.folded_twin).
    folded: re.Pattern[str] | None = None


def _unquoted_match(item: _Rule, text: str, lowered: str | None) -> tuple[int, int] | None:
    """The span of the first match not inside inline quotation marks.

    A person quoting a robot ('I keep getting "This is an automated response"') writes the
    robot's words in quotes; those words are not the person's own. ``lowered`` is the
    text's lower-case copy, position for position (``gate.lowered_in_place``), or None.
    """
    if item.folded is not None and lowered is not None:
        matches = item.folded.finditer(lowered)
    else:
        matches = item.regex.finditer(text)
    for match in matches:
        if not inside_inline_quotes(text, match.start()):
            return match.span()
    return None


def _compile(rule: PatternRule) -> _Rule:
    if not validate_target(rule.target):
        raise ValueError(f"rule {rule.name!r}: unknown target {rule.target!r}")
    try:
        regex = re.compile(rule.pattern, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"rule {rule.name!r}: invalid regular expression: {exc}") from exc
    if rule.target != BODY:
        return _Rule(rule, regex, None)
    return _Rule(rule, regex, Gate.of(rule.pattern), folded_twin(rule.pattern))


def _clip(text: str) -> str:
    return text if len(text) <= _MATCH_CHARS else text[: _MATCH_CHARS - 1] + "…"


def _domain_of(address: str) -> str:
    return "@" + address.rpartition("@")[2]


class Classifier:
    """Compiles the shipped rules plus configured extras once; classifies any facts."""

    def __init__(
        self, settings: ClassifierSettings | None = None, *, learned: bool = False
    ) -> None:
        """``learned=True`` joins the learned voice model (``voice_model``) to the lexicon's
        frustration score. It is off by default: on calm, polite text that robots also write
        ("I will get back to you as soon as I can") it still raises false alarms
        (docs/classifier.md, section 6)."""
        self.settings = settings if settings is not None else ClassifierSettings()
        self._voice_model: VoiceModel | None = shipped_model() if learned else None
        rules = HEADER_RULES + FROM_RULES + SUBJECT_RULES + BODY_RULES + self.settings.extra_rules
        self._header: dict[str, list[_Rule]] = {}
        self._subject: list[_Rule] = []
        self._from: list[_Rule] = []
        self._body: list[_Rule] = []
        for rule in rules:
            compiled = _compile(rule)
            if rule.target == SUBJECT:
                self._subject.append(compiled)
            elif rule.target == FROM:
                self._from.append(compiled)
            elif rule.target == BODY:
                self._body.append(compiled)
            else:
                name = rule.target[len(HEADER_PREFIX) :].strip().lower()
                self._header.setdefault(name, []).append(compiled)
        self._header_rank = {name: rank for rank, name in enumerate(self._header)}
        self._body_index = GateIndex.of([item.gate for item in self._body])
        self._human_rules = frozenset(rule.name for rule in rules if rule.kind is Kind.HUMAN)
        self._helpdesk = frozenset(
            entry.lower() if entry.startswith("@") else normalize_address(entry)
            for entry in self.settings.helpdesk_senders
        )
        self._agents = frozenset(normalize_address(a) for a in self.settings.agent_addresses)
        self._markers = [
            (name.lower(), re.compile(pattern, re.IGNORECASE))
            for name, pattern in self.settings.human_markers
        ]
        self._frustration = FrustrationScorer(self.settings.extra_frustration)

    def classify(self, facts: MessageFacts) -> Classification:
        """Classify one message. Never raises."""
        try:
            return self._classify(facts)
        except Exception as exc:  # a verdict is owed for every message, even on a bug here
            return Classification(
                kind=Kind.HUMAN,
                automated=False,
                confidence=0.0,
                language=None,
                evidence=(Evidence("classifier_error", _clip(repr(exc)), 0.0),),
                malformed=True,
            )

    def _classify(self, facts: MessageFacts) -> Classification:
        evidence: list[Evidence] = []
        votes: list[tuple[Kind, float]] = []

        def fire(rule: PatternRule, matched: str) -> None:
            evidence.append(Evidence(rule.name, _clip(matched), rule.weight))
            votes.append((rule.kind, rule.weight))

        overruled = self._company_side(facts, evidence, votes)
        self._match_headers(facts, fire)
        if facts.return_path == "":
            # RFC 5321 section 4.5.5: the null reverse-path is for DSNs and auto-replies.
            evidence.append(Evidence("null_return_path", "Return-Path: <>", 0.6))
            votes.append((Kind.NOTIFICATION, 0.6))
        self._match_sender_and_subject(facts, fire)
        text = facts.body_text()
        # One lower-cased, tokenized copy of subject and text serves the language guess,
        # the body-rule gates and the frustration gates; a wider text only opens more gates.
        prepared = GateText.of(facts.subject + "\n" + text)
        language, plausible = detect_languages(facts.subject + "\n" + text, prepared.words or None)
        # The rules whose gates open, from one index of all their literals; then each such
        # rule's pattern in lower case on the lower-cased text (where positions are kept).
        opened = self._body_index.candidates(prepared)
        # The text's part of the prepared copy: lower() treats the text after the line
        # break as it treats the text alone (a line break ends a final-sigma context too).
        lowered = None if prepared.lowered is None else prepared.lowered[len(facts.subject) + 1 :]
        for position, item in enumerate(self._body):
            lang = item.rule.language
            if position not in opened or (lang and language and lang != language):
                continue
            span = _unquoted_match(item, text, lowered)
            if span is not None:
                fire(item.rule, text[span[0] : span[1]])
        person = person_at_system_address(evidence, votes, text, self._human_rules)
        if person is not None:
            evidence.append(person)
        read = _Read(text, prepared, language, plausible)
        return self._verdict(facts, evidence, votes, overruled, read)

    def _learned(self, heard: Heard, prepared: GateText) -> Heard:
        """The lexicon's score joined with the learned model's clue (noisy-OR), if any."""
        model = self._voice_model
        clue = model.evidence(prepared.words) if model is not None else None
        if clue is None:
            return heard
        evidence = heard.evidence + (clue,)
        return Heard(joined(heard.score, clue), evidence, heard.asks_for_human)

    def _company_side(
        self, facts: MessageFacts, evidence: list[Evidence], votes: list[tuple[Kind, float]]
    ) -> bool:
        """Apply configured helpdesk senders, agents and human markers; True = human."""
        sender = facts.from_addr or ""
        if sender and sender in self._agents:
            evidence.append(Evidence("configured_agent", sender, 0.0))
            return True
        for name, regex in self._markers:
            value = facts.header(name)
            if value is not None and regex.search(value):
                evidence.append(Evidence("configured_human_marker", _clip(f"{name}: {value}"), 0.0))
                return True
        if sender and (sender in self._helpdesk or _domain_of(sender) in self._helpdesk):
            evidence.append(Evidence("configured_helpdesk_sender", sender, 3.0))
            votes.append((Kind.AUTO_REPLY, 3.0))
        return False

    def _match_sender_and_subject(self, facts: MessageFacts, fire: _Fire) -> None:
        if facts.from_addr:
            for item in self._from:
                if item.regex.search(facts.from_addr):
                    fire(item.rule, facts.from_addr)
        # A reply's subject repeats the subject it answers ("AW: Automatische Antwort: ...").
        if not is_reply_subject(facts.subject):
            for item in self._subject:
                match = item.regex.search(facts.subject)
                if match:
                    fire(item.rule, match.group(0).strip())

    def _match_headers(self, facts: MessageFacts, fire: _Fire) -> None:
        # Only fields the message has: one set intersection instead of ~50 lookups, then
        # the rule table's order so that evidence reads the same every time.
        present = self._header.keys() & facts.field_names()
        for name in sorted(present, key=self._header_rank.__getitem__):
            value = facts.header_lower(name)
            if value is None:
                continue
            for item in self._header[name]:
                if item.regex.search(value):
                    fire(item.rule, f"{item.rule.target[len(HEADER_PREFIX) :]}: {value}")

    def _verdict(
        self,
        facts: MessageFacts,
        evidence: list[Evidence],
        votes: list[tuple[Kind, float]],
        overruled: bool,
        read: _Read,
    ) -> Classification:
        score = _automation_score(votes)
        # The epsilon keeps float summation order from deciding a message on the threshold.
        automated = score >= AUTOMATED_THRESHOLD - 1e-9 and not overruled
        defects = facts.malformed + facts.body_defects()
        if defects:
            evidence.append(Evidence("malformed", _clip("; ".join(dict.fromkeys(defects))), 0.0))
        if not automated:
            if overruled:
                confidence = 0.99
            else:
                confidence = 0.95 - 0.45 * min(max(score, 0.0), 1.0)
            heard = Heard(0.0, ())
            if not overruled:
                # The company's agents are never scored: only customers' words count. A reply
                # subject repeats the subject of the mail it answers, so only a fresh one does.
                subject = "" if is_reply_subject(facts.subject) else facts.subject
                heard = self._frustration.hear(
                    subject + "\n" + read.text, read.language, read.prepared, read.plausible
                )
                heard = self._learned(heard, read.prepared)
            if heard.asks_for_human is not None:
                evidence.append(heard.asks_for_human)
            return Classification(
                kind=Kind.HUMAN,
                automated=False,
                confidence=round(confidence, 3),
                language=read.language,
                evidence=tuple(evidence),
                frustration=heard.score,
                frustration_evidence=heard.evidence,
                malformed=bool(defects),
            )
        confidence = min(0.99, 1.0 - 0.5 * math.exp(-1.5 * (score - AUTOMATED_THRESHOLD)))
        return Classification(
            kind=_pick_kind(votes),
            automated=True,
            confidence=round(confidence, 3),
            language=read.language,
            evidence=tuple(evidence),
            malformed=bool(defects),
        )


def _automation_score(votes: list[tuple[Kind, float]]) -> float:
    strong = weak = human = 0.0
    for kind, weight in votes:
        if kind is Kind.HUMAN:
            human += weight
        elif weight < WEAK_WEIGHT:
            weak += weight
        else:
            strong += weight
    return strong + min(weak, WEAK_CAP) - human


def _pick_kind(votes: list[tuple[Kind, float]]) -> Kind:
    """The specific kind with the best vote if any has a real one, else the best generic.

    List servers add list headers to bounces and auto-replies they pass on, and
    auto-responders set "Precedence: bulk"; a specific clue says more than those.
    """
    tally: dict[Kind, float] = {}
    for kind, weight in votes:
        if kind is not Kind.HUMAN:
            tally[kind] = tally.get(kind, 0.0) + weight * _GENERIC_VOTE.get(kind, 1.0)
    for group in (_SPECIFIC, _GENERIC):
        candidates = {kind: tally[kind] for kind in group if kind in tally}
        if not candidates:
            continue
        best = max(candidates.values())
        if group is _SPECIFIC and best < _SPECIFIC_MINIMUM:
            continue
        # Groups are listed most specific first, which breaks ties.
        return next(kind for kind in group if candidates.get(kind, -1.0) >= best - 1e-9)
    return Kind.AUTO_REPLY
