"""The catalogue of what the scorer listens for: every shipped term, and the signal groups.

``SHIPPED_TERMS`` joins the lexicons: the first signals in English and German
(``voice_lexicon``), French, Dutch, Spanish and Italian (``voice_lexicon_intl``) and
Portuguese (``voice_lexicon_pt``); then the signals that generalise beyond the first
batches of the voice set, in all seven languages: a request for a person by role
(``voice_roles``), money taken without the goods (``voice_money``), finality, sarcasm,
broken promises and ultimatums (``voice_tone``), long waits and counted contacts
(``voice_time``), the runaround, disbelief and demands (``voice_pressure``), one more thing
on top and urgency (``voice_escalation``), everyday wording for the first signals
(``voice_words``), sentence shapes (``voice_phrasing``) and reassurance. Each term's weight
is its signal's (``voice_lexicon.SIGNAL_WEIGHTS``, learned ones from ``voice_weights``).
"""

from __future__ import annotations

from mailguard.domain.rules import FrustrationTerm
from mailguard.domain.voice_escalation import (
    DANGER_TERMS,
    ESCALATE_TERMS,
    ESCALATION_TERMS,
    REJECTED_TERMS,
    UNAUTHORISED_TERMS,
)
from mailguard.domain.voice_lexicon import ASKS_FOR_HUMAN, ENGLISH, GERMAN
from mailguard.domain.voice_lexicon_intl import DUTCH, FRENCH, ITALIAN, SPANISH
from mailguard.domain.voice_lexicon_pt import PORTUGUESE
from mailguard.domain.voice_money import MONEY_TERMS
from mailguard.domain.voice_phrasing import FINAL_CANCEL_TERMS, PHRASING_TERMS
from mailguard.domain.voice_pressure import PRESSURE_TERMS
from mailguard.domain.voice_roles import ASKS_FOR_ROLE, ROLE_TERMS
from mailguard.domain.voice_time import ONGOING_TERMS, TIME_TERMS
from mailguard.domain.voice_tone import REASSURANCE_TERMS, TONE_TERMS
from mailguard.domain.voice_words import WORD_TERMS


def _merged(terms: tuple[FrustrationTerm, ...]) -> tuple[FrustrationTerm, ...]:
    """One term per name: the wordings several modules give one signal in one language are
    the branches of a single pattern, in the order given (one gate, one pass per text)."""
    by_name: dict[str, list[FrustrationTerm]] = {}
    for item in terms:
        by_name.setdefault(item.name, []).append(item)
    return tuple(
        FrustrationTerm(
            name, "|".join(t.pattern for t in group), group[0].weight, group[0].language
        )
        for name, group in by_name.items()
    )


SHIPPED_TERMS: tuple[FrustrationTerm, ...] = _merged(
    ENGLISH + GERMAN + FRENCH + DUTCH + SPANISH + ITALIAN + PORTUGUESE
    + ROLE_TERMS + MONEY_TERMS + TONE_TERMS + TIME_TERMS + ONGOING_TERMS
    + PRESSURE_TERMS + ESCALATION_TERMS + REJECTED_TERMS + UNAUTHORISED_TERMS
    + ESCALATE_TERMS + DANGER_TERMS
    + WORD_TERMS + PHRASING_TERMS + FINAL_CANCEL_TERMS + REASSURANCE_TERMS
)  # fmt: skip
PERSON_RULE = ASKS_FOR_HUMAN
# Signals that are a request for a person: the evidence is PERSON_RULE, which the policy
# escalates on; a request by role ("a case worker") is one like any other.
PERSON_SIGNALS = frozenset({ASKS_FOR_HUMAN, ASKS_FOR_ROLE})
# Signals that describe a state of things, where a negation before the words is part of the
# complaint, not a denial of it: "no internet for ten days", "senza internet da dieci
# giorni", "nothing received although I paid".
STATES = frozenset(
    {
        "unauthorised",
        "waiting",
        "no_answer",
        "money_without_goods",
        "broken_promise",
        "runaround",
        "ignored",
    }
)
# "No rush", "kein Stress": the score of a message that says so is multiplied by this.
REASSURANCE = "reassurance"
REASSURANCE_FACTOR = 0.5
# Thanks or praise is sarcasm only beside a complaint ("thanks for all the help" after three
# unanswered mails); these are the signals that make it one.
IRONIC_PRAISE = "ironic_praise"
# ... and only near the start: sarcasm sets the tone of a message.
IRONIC_REACH = 300
COMPLAINTS = frozenset(
    {
        "anger",
        "dissatisfaction",
        "fed_up_automation",
        "complaint",
        "consequence",
        "repeat_contact",
        "waiting",
        "no_answer",
        "finality",
        "money_without_goods",
        "money_back",
        "double_charge",
        "refusal_to_pay",
        "broken_promise",
        "ultimatum",
        "shouting",
        "exclamation",
        "runaround",
        "disbelief",
        "ignored",
        "business_loss",
        "demand",
        "compensation",
        "on_top",
        "urgency",
        "rejected",
        "unauthorised",
        "danger",
    }
)
