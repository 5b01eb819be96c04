"""A learned voice model: how much a customer's words sound like "send me to a person".

The lexicon's signals (``frustration``) catch the phrases they list; customers say the same
things in other words. This model reads the words themselves: logistic regression over the
presence of the text's words, their first four letters and, for longer words, their first
five and six letters (so "enttäuscht", "enttäuschend" and "Enttäuschung" share a feature,
and so do "decepcionado" and "decepcionante"). It was trained by
``scripts/train_voice_model.py`` on the tune half of tests/data/voice only, with its
hyper-parameters chosen by cross-validation on that half; the weights ship as plain data in
``mailguard/data/voice_model.json`` and nothing is downloaded or trained at run time.

Its logit, shifted by the offset the training script chose (so that, cross-validated on the
tune half, the model adds few false alarms to the lexicon's), becomes one more noisy-OR
clue, ``frustration:voice_model``: its weight is ``sigmoid(logit - offset)`` and what it
matched lists the features that pushed hardest towards a person. It is added only when its
weight reaches ``FLOOR``; below that it would change no decision and only clutter the
evidence. Scoring is a few set intersections and dictionary lookups: tens of microseconds.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

from mailguard.domain.gate import GateText
from mailguard.domain.model import Evidence

MODEL_RULE = "frustration:voice_model"
MODEL_FILE = "voice_model.json"
FLOOR = 0.05  # a smaller weight changes no decision at the policy's threshold
SHOWN = 4  # features listed as the evidence's matched text
# Feature families: the word, its first letters (4 for every word, 5 and 6 for longer ones).
WORD, HEAD, STEM5, STEM6 = "w:", "h:", "5:", "6:"
HEAD_LETTERS = 4


def feature_names(words: Iterable[str]) -> frozenset[str]:
    """The features of a text whose lower-case words are ``words`` (``GateText.words``)."""
    found: set[str] = set()
    for word in words:
        found.add(WORD + word)
        found.add(HEAD + word[:HEAD_LETTERS])
        if len(word) > 5:
            found.add(STEM5 + word[:5])
        if len(word) > 6:
            found.add(STEM6 + word[:6])
    return frozenset(found)


def message_words(subject: str, text: str) -> frozenset[str]:
    """The words the classifier gives the model: those of ``subject + "\\n" + text``, as the
    classifier prepares them once for every gate (``GateText``)."""
    return GateText.of(subject + "\n" + text).words


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-min(max(z, -30.0), 30.0)))


@dataclass(frozen=True)
class VoiceModel:
    """Weights per feature family, the bias, and the offset that maps the logit to a clue."""

    bias: float
    offset: float
    words: dict[str, float]
    heads: dict[str, float]
    stems5: dict[str, float]
    stems6: dict[str, float]

    @classmethod
    def from_document(cls, document: dict[str, object]) -> VoiceModel:
        """The model of a JSON document written by the training script; ValueError when it
        is not one."""
        try:
            weights = document["weights"]
            if not isinstance(weights, dict):
                raise TypeError("weights is not an object")
            families: dict[str, dict[str, float]] = {WORD: {}, HEAD: {}, STEM5: {}, STEM6: {}}
            for name, weight in weights.items():
                families[name[:2]][name[2:]] = float(weight)
            return cls(
                float(document["bias"]),  # type: ignore[arg-type]
                float(document["offset"]),  # type: ignore[arg-type]
                families[WORD],
                families[HEAD],
                families[STEM5],
                families[STEM6],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a voice model document: {exc!r}") from exc

    def contributions(self, words: frozenset[str]) -> tuple[float, list[tuple[str, float]]]:
        """(logit, [(feature, contribution)]) for a text of ``words``.

        The weighted features are divided by the square root of the text's feature count,
        so a long text does not sound angrier for being long.
        """
        heads = {word[:HEAD_LETTERS] for word in words}
        stems5 = {word[:5] for word in words if len(word) > 5}
        stems6 = {word[:6] for word in words if len(word) > 6}
        count = len(words) + len(heads) + len(stems5) + len(stems6)
        if not count:
            return self.bias, []
        hits = [(WORD + w, self.words[w]) for w in self.words.keys() & words]
        hits += [(HEAD + h, self.heads[h]) for h in self.heads.keys() & heads]
        hits += [(STEM5 + s, self.stems5[s]) for s in self.stems5.keys() & stems5]
        hits += [(STEM6 + s, self.stems6[s]) for s in self.stems6.keys() & stems6]
        norm = 1.0 / math.sqrt(count)
        scaled = [(name, weight * norm) for name, weight in hits]
        return self.bias + math.fsum(weight for _, weight in scaled), scaled

    def probability(self, words: frozenset[str]) -> float:
        """The model's probability that a text of ``words`` must go to a person."""
        return _sigmoid(self.contributions(words)[0])

    def evidence(self, words: frozenset[str]) -> Evidence | None:
        """The model's clue for a text of ``words``, or None when it weighs below FLOOR."""
        logit, scaled = self.contributions(words)
        weight = round(_sigmoid(logit - self.offset), 3)
        if weight < FLOOR:
            return None
        strongest = sorted((item for item in scaled if item[1] > 0), key=lambda i: (-i[1], i[0]))
        shown = ", ".join(_readable(name) for name, _ in strongest[:SHOWN])
        return Evidence(MODEL_RULE, shown or "(no telling word)", weight)


def _readable(feature: str) -> str:
    """A feature as a reader sees it: the word, or a prefix with an ellipsis ("enttäu…")."""
    family, text = feature[:2], feature[2:]
    return text if family == WORD else text + "…"


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
