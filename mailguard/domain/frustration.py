"""Hearing what a customer writes: a request for a person, and how frustrated they are.

The signals and their words live in the ``voice_*`` lexicons, joined in ``voice_catalog``;
each is a named :class:`FrustrationTerm` ``<signal>_<language>`` whose weight is learned
from the tune half of the voice set (``voice_weights``). Clues combine as independent
evidence, 1 - prod(1 - w), so the score stays within 0..1 and saturates gently; each signal
counts once (the same word in two languages, "annullato" / "annul", is one clue). A strong
signal (anger, a formal complaint, a consequence, repeated contact, money taken without the
goods, a long wait) reaches the default threshold 0.6 in one plain sentence; weak ones (a
polite cancellation, a refund, urgency) need company. Thanks or praise counts as sarcasm
only near the start and beside a complaint; "no rush" halves the score; capitals and
repeated marks are ``voice_marks``.

The shipped terms of every plausible language apply (see ``language.detect_languages``),
not only those of the best guess: for one or two sentences the guess is often wrong (an
Italian line taken for French) while the right language is close behind. Configured terms
keep their filter: they apply when the message is in their language or it is unknown.

A request for a person (``asks_for_human``, also by role) is not scored: the policy rule of
that name escalates on it. Only the author's words count: quoted history and signatures
never reach this module, a phrase inside inline quotation marks (a robot's words the
customer quotes) is skipped, and so is a phrase that a negation governs a few words before,
in the same clause ("not upset at all", "keine Beschwerde", "no need to call me back"),
unless the signal describes a state ("no internet for ten days"). Lines a mail program
wrapped inside a sentence are joined first. Each branch of a term is searched only when
the gates of its most telling segments open (``gate_segments``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from mailguard.domain.gate import Gate, GateText, lowered_in_place, top_level_branches
from mailguard.domain.gate_segments import (
    GateIndex,
    distributed,
    gate_of,
    key_gate,
    later_gates,
    union,
)
from mailguard.domain.language import detect_languages
from mailguard.domain.model import Evidence
from mailguard.domain.quotes import inside_inline_quotes
from mailguard.domain.rules import FrustrationTerm
from mailguard.domain.voice_catalog import (
    COMPLAINTS,
    IRONIC_PRAISE,
    IRONIC_REACH,
    PERSON_RULE,
    PERSON_SIGNALS,
    REASSURANCE,
    REASSURANCE_FACTOR,
    SHIPPED_TERMS,
    STATES,
)
from mailguard.domain.voice_lexicon import INTENSIFIED, INTENSIFIER_WEIGHT, INTENSIFIERS_EN_DE
from mailguard.domain.voice_lexicon_intl import INTENSIFIERS_INTL
from mailguard.domain.voice_lexicon_pt import INTENSIFIERS_PT
from mailguard.domain.voice_marks import shouting, unwrapped
from mailguard.domain.voice_roles import for_sales

# A negation word followed by at most four words and no punctuation, up to the match:
# "not [upset]", "I don't [want to file a] complaint", "keine [Beschwerde]". "no one" and
# "not only" negate something else.
_NEGATION = re.compile(
    r"(?:\b(?:not(?!\s+only\b)|no(?!\s+(?:one|longer)\b)|never|without|nor|hardly|"
    r"nicht(?!\s+nur\b)|kein\w*|nie|niemals|ohne|keineswegs|pas|jamais|aucun\w*|sans|"
    r"niet|geen|nooit|zonder|nunca|sin|ningun\w*|ningún|non|mai|senza|nessun\w*|inutile|"
    r"n[ãa]o|nem|nenhum\w*|sem|"
    r"unnecessary|needn't)|n't|n’t)(?:[ \t]+[\w'’-]+){0,4}[ \t]*$",
    re.IGNORECASE,
)
_NEGATION_REACH = 60
_CONDITION = re.compile(
    r"\b(?:if|unless|wenn|falls|sofern|si|se|als|indien|tenzij)\s+(?:[\w'’-]+\s+){0,2}[\w'’-]*$",
    re.IGNORECASE,
)
_DEMAND = re.compile(
    r"\b(?:another|more|weitere[nr]?|encore une|une autre|nog een|otra|otro|altra|altro)\b",
    re.IGNORECASE,
)
_INTENSIFIER = re.compile(
    rf"\b(?:{INTENSIFIERS_EN_DE}|{INTENSIFIERS_INTL}|{INTENSIFIERS_PT})[ \t]+(?:[\w'’-]+[ \t]+)?$",
    re.IGNORECASE,
)
# A negated positive word made stronger: "not happy at all", "pas du tout satisfait".
_INNER_INTENSIFIER = re.compile(
    r"\b(?:at all|whatsoever|in the least|überhaupt|gar|keineswegs|du tout|absolument|"
    r"helemaal|totaal|absoluut|para nada|nada|en absoluto|per niente|per nulla|affatto|"
    r"minimamente)\b",
    re.IGNORECASE,
)
_INTENSIFIER_REACH = 40


@dataclass(frozen=True, slots=True)
class _Compiled:
    term: FrustrationTerm
    signal: str
    gate: Gate | None  # of the whole pattern: one test rules out most texts at once
    # Each branch of the pattern (its source) with its gate and, where the pattern allows
    # it, a lower-case twin searched without IGNORECASE in the lower-cased text (faster).
    branches: tuple[tuple[str, Gate | None, re.Pattern[str] | None], ...]
    everywhere: bool  # shipped: applies by plausible language, not the best guess
    # Per branch: its source, lower-case twin and the gates to test before searching it, the
    # most telling first (its later segments, see gate_segments, then its own gate).
    plan: tuple[tuple[str, re.Pattern[str] | None, tuple[Gate, ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class Heard:
    """What the scorer heard: the frustration score, its clues, and a request for a person."""

    score: float
    evidence: tuple[Evidence, ...]
    asks_for_human: Evidence | None = None


def _signal(term: FrustrationTerm) -> str:
    """The signal a term belongs to: its name without the language suffix."""
    head, _, tail = term.name.rpartition("_")
    return head if head and tail == term.language else term.name


def signal_of(item: Evidence) -> str:
    """The signal of a frustration clue: "frustration:ironic_praise_pt" -> "ironic_praise"."""
    head, _, tail = item.rule.removeprefix("frustration:").rpartition("_")
    return head if head and len(tail) == 2 else item.rule.removeprefix("frustration:")


def _out_of_place(signal: str, text: str, span: tuple[int, int]) -> bool:
    """Whether a match does not count where it stands: praise far from the start (sincere,
    see IRONIC_REACH), or a request for a person from the sales department (a seller asked
    to call about buying, see ``voice_roles.for_sales``)."""
    if signal == IRONIC_PRAISE:
        return span[0] > IRONIC_REACH
    return signal in PERSON_SIGNALS and for_sales(text, *span)


def _folded(pattern: str) -> re.Pattern[str] | None:
    """The pattern in lower case for a case-sensitive search of lower-cased text, or None
    when lower-casing would change its meaning (an upper-case escape such as \\W or \\B)."""
    if re.search(r"\\[A-Z]", pattern):
        return None
    return re.compile(pattern.lower())


def _negated(text: str, start: int, matched: str = "") -> bool:
    """Whether a negation governs the words just before ``start`` (same clause).

    "No more canned replies", "I don't want another template answer" refuse the robot's
    answers rather than deny the frustration, so a negation that reaches a following
    "another" / "more" does not count; nor does one that opens a condition ("if you don't
    refund me I'll see a lawyer").
    """
    found = _NEGATION.search(text, max(0, start - _NEGATION_REACH), start)
    if found is None:
        return False
    if _CONDITION.search(text, max(0, found.start() - 30), found.start()):
        # "Se non mi rimborsate mi rivolgerò a un avvocato": the negation belongs to a
        # condition, and what follows it is the consequence, not something denied.
        return False
    return _DEMAND.search(found.group(0) + " " + matched[:20]) is None


def _intensified(text: str, start: int) -> str | None:
    """The intensifier right before ``start`` ("äußerst", "very", "molto"), if any."""
    found = _INTENSIFIER.search(text, max(0, start - _INTENSIFIER_REACH), start)
    return found.group(0).strip() if found else None


@functools.lru_cache(maxsize=1024)
def _compile(term: FrustrationTerm, shipped: bool) -> _Compiled:
    """A term's regexes and gates. Cached: compiling the shipped lexicon (some 500 branches,
    each with a gate) takes a noticeable fraction of a second, and every Classifier needs it.
    The result is immutable, so sharing it is safe."""
    try:
        branches = tuple(
            (branch, gate_of(branch), _folded(branch))
            for outer in top_level_branches(term.pattern)
            for branch in distributed(outer)
        )
        for branch, _, folded in branches:
            if folded is None:
                re.compile(branch, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"frustration term {term.name!r}: bad pattern: {exc}") from exc
    plan = tuple(
        (branch, folded, _checks(branch, own if len(branches) > 1 else None))
        for branch, own, folded in branches
    )
    # The term's gate: any branch's most telling segment. Gated by how the pattern begins
    # ("bitte", "nicht"), a term would open on nearly every German text.
    gate = union([key_gate(branch) for branch, _, _ in branches])
    return _Compiled(term, _signal(term), gate or Gate.of(term.pattern), branches, shipped, plan)


def _checks(branch: str, own: Gate | None) -> tuple[Gate, ...]:
    """The gates to test before a branch is searched: its most telling segments, then its
    own gate (left out for a term of one branch: the term's gate covers it)."""
    later = later_gates(branch)
    return later + ((own,) if own is not None and own not in later else ())


def _own_words(
    source: str, folded: re.Pattern[str] | None, text: str, lowered: str | None, negatable: bool
) -> tuple[int, int] | None:
    """The first match of one branch that no negation governs and no quote holds."""
    for start, end in _spans(source, folded, text, lowered):
        if negatable and _negated(text, start, text[start:end]):
            continue
        if not inside_inline_quotes(text, start):
            return start, end
    return None


def _spans(
    source: str, folded: re.Pattern[str] | None, text: str, lowered: str | None, pos: int = 0
) -> Iterator[tuple[int, int]]:
    """Spans of a branch's matches from ``pos``: in the lower-cased text when it can."""
    if folded is not None and lowered is not None:
        return (m.span() for m in folded.finditer(lowered, pos))
    # re's own cache keeps the rarely needed case-insensitive twin.
    return (m.span() for m in re.compile(source, re.IGNORECASE).finditer(text, pos))


class FrustrationScorer:
    """Hears a person's own text with the shipped lexicon plus configured terms."""

    def __init__(self, extra: tuple[FrustrationTerm, ...] = ()) -> None:
        self._terms = [_compile(term, True) for term in SHIPPED_TERMS]
        self._terms += [_compile(term, False) for term in extra]
        self._shipped = [c for c in self._terms if c.everywhere]
        self._configured = [c for c in self._terms if not c.everywhere]
        self._by_language: dict[str, list[_Compiled]] = {}
        self._lists: dict[tuple[str | None, frozenset[str]], tuple[list[_Compiled], GateIndex]]
        self._lists = {}
        for compiled in self._shipped:
            self._by_language.setdefault(compiled.term.language or "", []).append(compiled)

    def _applicable(
        self, language: str | None, plausible: frozenset[str]
    ) -> tuple[list[_Compiled], GateIndex]:
        """The shipped terms of the plausible languages (all if none), then the configured
        terms that fit ``language``, with an index of their gates (kept per language set)."""
        key = (language, plausible)
        found = self._lists.get(key)
        if found is None:
            terms = self._ordered(language, plausible)
            found = self._lists[key] = (terms, GateIndex.of([c.gate for c in terms]))
        return found

    def _ordered(self, language: str | None, plausible: frozenset[str]) -> list[_Compiled]:
        if plausible:
            # The best guess first, so that its words name a signal two languages share.
            order = sorted(plausible, key=lambda lang: (lang != language, lang))
            terms = [c for lang in order for c in self._by_language.get(lang, ())]
        else:
            terms = sorted(self._shipped, key=lambda c: c.term.language != language)
        terms += [c for c in self._configured if not (language and c.term.language not in
                  (None, language))]  # fmt: skip
        return terms

    def _first(
        self,
        compiled: _Compiled,
        text: str,
        lowered: str | None,
        prepared: GateText,
    ) -> tuple[int, int] | None:
        """The span of a match that is the author's own, unnegated words: the first one of
        the first branch (in the pattern's order) that has one.

        ``lowered`` is ``text.lower()`` when that keeps every position (else None).
        """
        if not prepared.opens(compiled.gate):
            return None
        negatable = compiled.signal not in STATES
        for source, folded, checks in compiled.plan:
            for check in checks:
                if not prepared.opens(check):
                    break
            else:
                span = _own_words(source, folded, text, lowered, negatable)
                if span is not None:
                    return span
        return None

    def _intensifier(
        self, compiled: _Compiled, text: str, lowered: str | None, first: tuple[int, int]
    ) -> Evidence | None:
        """An intensifier on any unnegated match of an anger or dissatisfaction term."""
        spans = [first]
        for source, _, folded in compiled.branches:
            spans += (span for span in _spans(source, folded, text, lowered, first[1]))
        for start, end in spans:
            word = _intensified(text, start)
            if word is None:
                inner = _INNER_INTENSIFIER.search(text, start, min(len(text), end + 20))
                word = inner.group(0) if inner else None
            if word and not _negated(text, start):
                return Evidence(
                    "frustration:intensifier", f"{word}: {text[start:end][:60]}", INTENSIFIER_WEIGHT
                )
        return None

    def hear(
        self,
        text: str,
        language: str | None,
        prepared: GateText | None = None,
        plausible: frozenset[str] | None = None,
    ) -> Heard:
        """Score ``text`` written in ``language`` (None = unknown) and find a person request.

        ``prepared`` may pass a GateText of ``text`` (or of a text containing it), and
        ``plausible`` the languages the text may be in (see ``detect_languages``); the
        shipped terms of those languages apply, all of them when it is empty or None.
        """
        evidence: list[Evidence] = []
        person: Evidence | None = None
        intensifier: Evidence | None = None
        joined = unwrapped(text)
        if joined != text:
            # The gates test phrases as substrings: they must see the joined lines too.
            text, prepared = joined, GateText.of(joined)
        prepared = prepared or GateText.of(text)
        if plausible is None:
            plausible = detect_languages(text, prepared.words or None)[1]
        # The prepared text is this text or contains it: of the same length, it is this text.
        same = prepared.lowered is not None and len(prepared.lowered) == len(text)
        folded = (
            prepared.lowered if same and prepared.lowered is not None else lowered_in_place(text)
        )
        # See GateText.of: positions or the case equivalence with the regex not assured.
        unsafe = len(folded) != len(text) or "ı" in folded or "ſ" in folded
        lowered = None if unsafe else folded
        fired: set[str] = set()
        terms, index = self._applicable(language, plausible)
        candidates = index.candidates(prepared)
        for position, compiled in enumerate(terms):
            term = compiled.term
            if compiled.signal in fired or position not in candidates:
                continue  # one signal counts once, whichever language's words said it
            span = self._first(compiled, text, lowered, prepared)
            if span is None or _out_of_place(compiled.signal, text, span):
                continue
            matched = text[span[0] : span[1]][:80]
            if compiled.signal in PERSON_SIGNALS:
                person = Evidence(PERSON_RULE, matched, 0.0)
                fired.update(PERSON_SIGNALS)
                continue
            fired.add(compiled.signal)
            evidence.append(Evidence(f"frustration:{term.name}", matched, term.weight))
            if intensifier is None and compiled.signal in INTENSIFIED:
                intensifier = self._intensifier(compiled, text, lowered, span)
        if intensifier is not None:
            evidence.append(intensifier)
        loud = shouting(text)
        evidence.extend(loud)
        fired.update(item.rule.removeprefix("frustration:") for item in loud)
        if IRONIC_PRAISE in fired and not fired & COMPLAINTS:
            # Thanks without a complaint are thanks.
            evidence = [e for e in evidence if signal_of(e) != IRONIC_PRAISE]
        remaining = 1.0
        for item in evidence:
            remaining *= 1.0 - min(max(item.weight, 0.0), 1.0)
        score = 1.0 - remaining
        if REASSURANCE in fired:
            score *= REASSURANCE_FACTOR
        return Heard(round(score, 3), tuple(evidence), person)

    def score(
        self, text: str, language: str | None, prepared: GateText | None = None
    ) -> tuple[float, tuple[Evidence, ...]]:
        """(score in 0..1, evidence) for ``text``; see :meth:`hear`."""
        heard = self.hear(text, language, prepared)
        return heard.score, heard.evidence
