"""A learned voice model: how much a customer's words sound like "send me to a person".

The lexicon's signals (``frustration``) catch the phrases they list; customers say the same
things in other words. This model reads the words themselves: logistic regression over the
presence of the text's words and of their first four letters ("enttäuscht", "enttäuschend"
and "Enttäuschung" share ``entt…``), leaving out function words and numbers, the summed
weights divided by the square root of the text's feature count (at least ``least``, so a
few words cannot say much). ``scripts/train_voice_model.py`` trained it on the tune half of
tests/data/voice only, with its settings chosen by cross-validation on that half; the
weights ship as plain data in ``mailguard/data/voice_model.json``, and nothing is
downloaded or trained at run time.

It is off by default (``Classifier(learned=True)`` puts it in, ``mailguard explain
--model`` shows it): on calm polite text that robots write too ("I will get back to you as
soon as I can") it still raises false alarms; see docs/classifier.md, section 6. Its logit,
shifted by the offset the training script chose, becomes one more noisy-OR clue,
``frustration:voice_model``, weight ``sigmoid(logit - offset)``, whose text lists the
features that pushed hardest towards a person. It is added only when its weight reaches
``FLOOR``. Scoring is set operations and dictionary lookups: tens of microseconds.
"""

from __future__ import annotations

import functools
import json
import math
import operator
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources

from mailguard.domain.gate import HEAD as GATE_HEAD
from mailguard.domain.gate import GateText
from mailguard.domain.language import FUNCTION_WORDS
from mailguard.domain.model import Evidence

MODEL_RULE = "frustration:voice_model"
MODEL_FILE = "voice_model.json"
FLOOR = 0.05  # a smaller weight changes no decision at the policy's threshold
SHOWN = 4  # features listed as the evidence's matched text
# Feature families: the word, its first letters (4 for every word, 5 and 6 for longer ones).
WORD, HEAD = "w:", "h:"
FAMILIES = (WORD, HEAD)
# How many first letters a family keeps (0: the whole word); 4, as GateText's heads.
LETTERS = (0, GATE_HEAD)
_FIRST = tuple(operator.itemgetter(slice(letters or None)) for letters in LETTERS)


def feature_names(words: Iterable[str]) -> frozenset[str]:
    """The features of a text whose distinct lower-case words are ``words``
    (``GateText.words``): each word that is not a function word of ``language`` ("this",
    "mi", "von" say nothing of a mood, and a short text would hang on them), and its first
    four letters (the whole word when shorter), each present or not: words that share
    their first letters share a feature."""
    found: set[str] = set()
    for word in words:
        if word not in FUNCTION_WORDS:
            found.update(
                family + first(word) for family, first in zip(FAMILIES, _FIRST, strict=True)
            )
    return frozenset(found)


def normaliser(count: int, least: int) -> float:
    """What the weights of a text's ``count`` features are multiplied by: 1/sqrt(count),
    so that a long text does not sound angrier for being long, but at most 1/sqrt(least),
    so that a few words cannot say much."""
    return 1.0 / math.sqrt(max(count, least, 1))


def message_words(subject: str, text: str) -> frozenset[str]:
    """The words the classifier gives the model: those of ``subject + "\\n" + text``, as the
    classifier prepares them once for every gate (``GateText``)."""
    return GateText.of(subject + "\n" + text).words


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-min(max(z, -30.0), 30.0)))


@dataclass(frozen=True)
class VoiceModel:
    """Weights per feature family (the word; its first four letters), the bias, and the
    offset that maps the logit to a clue."""

    bias: float
    offset: float
    families: tuple[dict[str, float], ...]  # in the order of FAMILIES
    least: int = 1  # the normaliser's least feature count
    # Each family's features as a frozenset: frozenset & frozenset walks the smaller set,
    # where dict.keys() & set would copy every key.
    _keys: tuple[frozenset[str], ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.families) != len(FAMILIES):
            raise ValueError(f"{len(self.families)} feature families, not {len(FAMILIES)}")
        object.__setattr__(self, "_keys", tuple(frozenset(d) for d in self.families))

    @classmethod
    def from_document(cls, document: dict[str, object]) -> VoiceModel:
        """The model of a JSON document written by the training script; ValueError when it
        is not one."""
        try:
            weights = document["weights"]
            if not isinstance(weights, dict):
                raise TypeError("weights is not an object")
            families: dict[str, dict[str, float]] = {family: {} for family in FAMILIES}
            for name, weight in weights.items():
                families[name[:2]][name[2:]] = float(weight)
            return cls(
                float(document["bias"]),  # type: ignore[arg-type]
                float(document["offset"]),  # type: ignore[arg-type]
                tuple(families[family] for family in FAMILIES),
                int(document["least"]),  # type: ignore[call-overload]
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a voice model document: {exc!r}") from exc

    def _hits(self, words: frozenset[str]) -> tuple[float, list[frozenset[str]]]:
        """The normaliser and, per family, the text's weighted features."""
        content = words - FUNCTION_WORDS
        texts = (content, frozenset(map(_FIRST[1], content)))
        count = len(texts[0]) + len(texts[1])
        hits = [text & keys for text, keys in zip(texts, self._keys, strict=True)]
        return normaliser(count, self.least), hits

    def _logit(self, norm: float, hits: list[frozenset[str]]) -> float:
        total = sum(
            sum(map(weights.__getitem__, found))
            for found, weights in zip(hits, self.families, strict=True)
        )
        return self.bias + norm * total

    def logit(self, words: frozenset[str]) -> float:
        """The model's logit for a text of ``words``: the bias plus the weights of its
        features times the ``normaliser``."""
        return self._logit(*self._hits(words))

    def probability(self, words: frozenset[str]) -> float:
        """The model's probability that a text of ``words`` must go to a person."""
        return _sigmoid(self.logit(words))

    def evidence(self, words: frozenset[str]) -> Evidence | None:
        """The model's clue for a text of ``words``, or None when it weighs below FLOOR.
        Its text lists the features that pushed hardest towards a person: a word as it is,
        first letters with an ellipsis ("entt…")."""
        norm, hits = self._hits(words)
        weight = round(_sigmoid(self._logit(norm, hits) - self.offset), 3)
        if weight < FLOOR:
            return None
        strongest: list[tuple[float, str, int]] = []
        for letters, found, weights in zip(LETTERS, hits, self.families, strict=True):
            # Sorting by a float key is the cheapest way to the few strongest of a family;
            # features tied with the last of them come along, so the choice does not
            # depend on the set's order.
            ranked = sorted(found, key=weights.__getitem__, reverse=True)
            cut = SHOWN
            while cut < len(ranked) and weights[ranked[cut]] == weights[ranked[cut - 1]]:
                cut += 1
            strongest += ((weights[name], name, letters) for name in ranked[:cut])
        strongest.sort(reverse=True)  # strongest first, ties by name: reproducible
        return Evidence(MODEL_RULE, _shown(strongest) or "(no telling word)", weight)


def _shown(strongest: list[tuple[float, str, int]]) -> str:
    """The first SHOWN features that push towards a person, strongest first, as a reader
    sees them: a word as it is, first letters with an ellipsis ("entt…"); of a word and its
    own first letters ("geld", "geld…"), the stronger only."""
    shown: list[tuple[str, int]] = []
    for weight, name, letters in strongest:
        if weight <= 0 or len(shown) == SHOWN:
            break
        if not any(name.startswith(seen) or seen.startswith(name) for seen, _ in shown):
            shown.append((name, letters))
    return ", ".join(
        name + "…" if letters and len(name) == letters else name for name, letters in shown
    )


def joined(score: float, clue: Evidence | None) -> float:
    """The noisy-OR of a lexicon score and the model's clue (its weight), rounded as the
    scorer rounds."""
    if clue is None:
        return score
    return round(1.0 - (1.0 - score) * (1.0 - clue.weight), 3)


@functools.cache
def shipped_model() -> VoiceModel:
    """The model that ships in ``mailguard/data`` (read once per process)."""
    text = resources.files("mailguard").joinpath("data", MODEL_FILE).read_text(encoding="utf-8")
    return VoiceModel.from_document(json.loads(text))
