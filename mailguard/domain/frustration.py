"""Frustration in a person's own words: repeat contact, complaint and legal words, shouting.

Only the author's text is scored (quoted history is removed before this runs), each term
counts once, and a term preceded closely by a negation ("no complaint", "keine
Beschwerde", "I don't want to cancel") does not count. Scores combine as independent
clues, 1 - prod(1 - w), so they stay within 0..1 and saturate gently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailguard.domain.gate import Gate, GateText
from mailguard.domain.model import Evidence
from mailguard.domain.rules import FrustrationTerm


def _t(name: str, pattern: str, weight: float, lang: str | None) -> FrustrationTerm:
    return FrustrationTerm(name, pattern, weight, lang)


SHIPPED_TERMS: tuple[FrustrationTerm, ...] = (
    _t(
        "repeat_count_en",
        r"\bfor the (?:second|third|fourth|fifth|sixth|\d+(?:st|nd|rd|th)) time\b|"
        r"\b(?:second|third|fourth|fifth) (?:e-?mail|message|attempt|request|"
        r"time i(?:'m| am) writing)\b|\bhow many (?:more )?times\b|\bagain and again\b|"
        r"\b(?:several|many|multiple|numerous|countless) (?:times|e-?mails|messages|attempts)\b|"
        r"\bi (?:have )?(?:already )?(?:written|e-?mailed|contacted|called) (?:you )?"
        r"(?:twice|three times|several times|multiple times|\d+ times)\b",
        0.4,
        "en",
    ),
    _t(
        "still_no_answer_en",
        r"\bstill (?:no|not|haven't|have not|hasn't|waiting|nothing)\b|"
        r"\bno(?: ?one|body) (?:has )?(?:answered|replied|responded|got back|gets back|"
        r"is answering)\b|\b(?:never|not once) (?:got|received|had) (?:an? )?(?:answer|reply|"
        r"response)\b|\bonly (?:ever )?(?:get|got|getting) (?:an? )?(?:automatic|automated|"
        r"auto)",
        0.4,
        "en",
    ),
    _t("again_en", r"\b(?:once again|yet again|again)\b", 0.15, "en"),
    _t(
        "complaint_en",
        r"\b(?:complain(?:t|ts|ing)?|unacceptable|ridiculous|disgrace(?:ful)?|outrageous|"
        r"appalling|terrible service|worst|furious|angry|fed up|sick (?:and tired )?of|"
        r"scam|fraud|rip-?off|incompetent|useless)\b",
        0.35,
        "en",
    ),
    _t(
        "cancel_en",
        r"\b(?:cancel(?:l?ing|l?ed|lation)?|terminate my (?:contract|account|subscription)|"
        r"close my account|take my business elsewhere|switch(?:ing)? to (?:a )?competitor)\b",
        0.35,
        "en",
    ),
    _t(
        "legal_en",
        r"\b(?:lawyer|attorney|solicitor|legal action|legal steps|sue you|take you to court|"
        r"small claims|ombudsman|consumer protection|better business bureau|trading standards|"
        r"chargeback|charge back|dispute (?:the|this) (?:charge|payment)|final warning|"
        r"last chance)\b",
        0.5,
        "en",
    ),
    _t("refund_en", r"\b(?:refund|money back|reimburse(?:ment)?)\b", 0.25, "en"),
    _t(
        "repeat_count_de",
        r"\bzum (?:zweiten|dritten|vierten|f[üu]nften|sechsten|\d+\.) ?mal\b|"
        r"\bwie oft (?:noch|soll|muss)\b|\b(?:mehrfach|mehrmals|wiederholt|x-mal|zigmal)\b|"
        r"\bseit (?:wochen|tagen|monaten)\b",
        0.4,
        "de",
    ),
    _t(
        "still_no_answer_de",
        r"\b(?:immer noch|noch immer|bis heute|nach wie vor) (?:keine?|nicht|nichts)\b|"
        r"\bkeine (?:antwort|reaktion|r[üu]ckmeldung)\b|\bnur (?:eine )?automatische\b|"
        r"\bniemand (?:antwortet|meldet sich|reagiert)\b",
        0.4,
        "de",
    ),
    _t("again_de", r"\b(?:schon wieder|erneut|wieder einmal|abermals)\b", 0.3, "de"),
    _t(
        "complaint_de",
        r"\b(?:beschwerde|beschwere|reklamation|unversch[äa]mt(?:heit)?|frechheit|"
        r"skandal(?:[öo]s)?|inakzeptabel|entt[äa]uscht|zumutung|ärgerlich|verärgert|"
        r"sauer|betrug|abzocke|katastrophe|katastrophal)\b",
        0.35,
        "de",
    ),
    _t(
        "cancel_de",
        r"\b(?:k[üu]ndig(?:ung|e|en)|vertrag (?:aufl[öo]sen|beenden)|widerruf)\w*",
        0.35,
        "de",
    ),
    _t(
        "legal_de",
        r"\b(?:anwalt|anw[äa]ltin|rechtsanwalt|anwaltlich|verbraucherzentrale|"
        r"rechtliche schritte|gericht|klage|schlichtungsstelle|bundesnetzagentur|"
        r"letzte (?:frist|mahnung|chance|warnung)|frist bis)\w*",
        0.5,
        "de",
    ),
    _t("refund_de", r"\b(?:r[üu]ckerstattung|erstattung|geld zur[üu]ck|gutschrift)\b", 0.25, "de"),
    _t(
        "complaint_fr",
        r"\b(?:plainte|r[ée]clamation|inadmissible|inacceptable|avocat|"
        r"r[ée]siliation|rembourse(?:ment|z))\b",
        0.35,
        "fr",
    ),
    _t(
        "complaint_es",
        r"\b(?:queja|reclamaci[óo]n|inaceptable|abogado|cancelaci[óo]n|"
        r"reembolso|otra vez|todav[íi]a no)\b",
        0.35,
        "es",
    ),
)

_NEGATION = re.compile(
    r"\b(?:not|no|never|don't|do not|doesn't|won't|wouldn't|isn't|without|nor|"
    r"nicht|kein|keine|keinen|keiner|keinerlei|ohne|nie|niemals|pas|sin|senza|geen|sem)\b"
    r"[^.!?\n]{0,25}$",
    re.IGNORECASE,
)
_NOT_LETTER = re.compile(r"[\W\d_]+")
_NOT_UPPER = re.compile(r"[^A-ZÀ-ÖØ-Þ]+")
_SHOUT_WORD = re.compile(r"\b[A-ZÄÖÜ]{3,}\b")
_MARKS = re.compile(r"[!?]{3,}|(?:!\s*){3,}")
SHOUT_SAMPLE = 800


@dataclass(frozen=True, slots=True)
class _Compiled:
    term: FrustrationTerm
    regex: re.Pattern[str]
    gate: Gate | None


def _negated(text: str, start: int) -> bool:
    """Whether a negation word sits within a few words before ``start``, same sentence."""
    return _NEGATION.search(text, max(0, start - 40), start) is not None


def _shouting(text: str) -> list[Evidence]:
    found: list[Evidence] = []
    sample = text[:SHOUT_SAMPLE]
    words = _SHOUT_WORD.findall(sample)
    # Counting by deleting runs is a C-speed pass; a per-character loop is not. Shouting
    # needs a dozen letters in all-capital words, so acronyms ("PDF", "DHL") skip the count.
    shouted = sum(len(word) for word in words)
    letters = len(_NOT_LETTER.sub("", sample)) if shouted >= 12 else 0
    if letters >= 20:
        upper = len(_NOT_UPPER.sub("", sample))
        if upper / letters > 0.6:
            found.append(Evidence("frustration:shouting", f"{upper}/{letters} capitals", 0.4))
    elif len(words) >= 2:
        found.append(Evidence("frustration:shouting", " ".join(words[:5]), 0.3))
    marks = _MARKS.search(sample) if sample.count("!") + sample.count("?") >= 3 else None
    if marks:
        found.append(Evidence("frustration:exclamation", marks.group(0).strip(), 0.2))
    return found


class FrustrationScorer:
    """Scores a person's own text with the shipped lexicon plus configured terms."""

    def __init__(self, extra: tuple[FrustrationTerm, ...] = ()) -> None:
        self._terms: list[_Compiled] = []
        for term in SHIPPED_TERMS + extra:
            try:
                regex = re.compile(term.pattern, re.IGNORECASE)
            except re.error as exc:
                raise ValueError(f"frustration term {term.name!r}: bad pattern: {exc}") from exc
            self._terms.append(_Compiled(term, regex, Gate.of(term.pattern)))

    def score(
        self, text: str, language: str | None, prepared: GateText | None = None
    ) -> tuple[float, tuple[Evidence, ...]]:
        """(score in 0..1, evidence) for ``text`` written in ``language`` (None = unknown).

        ``prepared`` may pass a GateText of ``text`` (or of a text containing it).
        """
        evidence: list[Evidence] = []
        prepared = prepared or GateText.of(text)
        for compiled in self._terms:
            term = compiled.term
            if term.language and language and term.language != language:
                continue
            if not prepared.opens(compiled.gate):
                continue
            for match in compiled.regex.finditer(text):
                if not _negated(text, match.start()):
                    evidence.append(
                        Evidence(f"frustration:{term.name}", match.group(0)[:80], term.weight)
                    )
                    break
        evidence.extend(_shouting(text))
        remaining = 1.0
        for item in evidence:
            remaining *= 1.0 - min(max(item.weight, 0.0), 1.0)
        return round(1.0 - remaining, 3), tuple(evidence)
