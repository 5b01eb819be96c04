"""Learn the weights of the voice signals: ``python scripts/train_voice_weights.py [--check]``.

The frustration score is a noisy-OR, ``1 - prod(1 - w)`` over the signals a message fired
(see mailguard/domain/frustration.py). This script fits the weights ``w`` of the lexicon's
signals to the **tune** half of tests/data/voice (rows whose ``split`` is ``tune``; the test
half is never read): for every tune message that does not ask for a person (those go to
one whatever the score), the chance that it must go to a person is the noisy-OR of its
signals, and the weights maximise the likelihood of the labels, with a Gaussian prior in
logit space around the hand-set weights (``voice_lexicon.SIGNAL_WEIGHTS``) so that a signal
seen rarely keeps about its hand-set weight. Shouting and exclamation marks keep their
fixed weights and enter as they are; "no rush" halves the score as it does at run time.

Plain gradient ascent, a fixed number of rounds, no randomness: the same data give the same
weights. The result is written to mailguard/domain/voice_weights.py as plain data (a dict
literal): nothing is downloaded, and nothing of this script runs in the daemon. ``--check``
compares instead and exits 1 when the shipped weights are stale (a lexicon change makes
different signals fire, so the weights are refitted with it).
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mailguard.domain.classify import Classifier
from mailguard.domain.facts import parse_facts
from mailguard.domain.frustration import signal_of
from mailguard.domain.voice_catalog import PERSON_RULE, REASSURANCE, REASSURANCE_FACTOR
from mailguard.domain.voice_lexicon import FIXED_SIGNALS, PRIOR_WEIGHTS

__all__ = ["PRIOR_WEIGHTS", "Example", "examples", "fit", "main"]

REPO = Path(__file__).resolve().parents[1]
VOICE_SET = REPO / "tests" / "data" / "voice"
TARGET = REPO / "mailguard" / "domain" / "voice_weights.py"
# Batch 5's tune part is where the lexicon's own score is honest (no rule was written on
# it): scripts/train_voice_model.py chooses the learned model's settings there, so the
# lexicon's weights are not fitted on it.
UNREAD_BATCHES = ("5",)
PRIOR_STRENGTH = 0.5  # L2 in logit space around the hand-set weight
ROUNDS = 3000
STEP = 0.5
LOWEST, HIGHEST = 0.02, 0.95
TOLERANCE = 0.01


@dataclass(frozen=True)
class Example:
    """One tune message: the learnable signals it fired, the fixed part, and its label."""

    signals: frozenset[str]
    fixed_remaining: float  # prod(1 - w) over fixed-weight clues (shouting, exclamation)
    calm_factor: float  # REASSURANCE_FACTOR when it says "no rush", else 1
    person: bool


def examples(folder: Path = VOICE_SET) -> list[Example]:
    """The tune half's messages that do not ask for a person, as training examples."""
    classifier = Classifier(learned=False)
    found = []
    with (folder / "LABELS.tsv").open(encoding="utf-8", newline="") as handle:
        rows = [
            row
            for row in csv.DictReader(handle, delimiter="\t")
            if row["split"] == "tune" and row["batch"] not in UNREAD_BATCHES
        ]
    for row in rows:
        result = classifier.classify(parse_facts((folder / row["file"]).read_bytes()))
        if result.automated or any(e.rule == PERSON_RULE for e in result.evidence):
            continue
        signals, remaining, factor = set(), 1.0, 1.0
        for item in result.frustration_evidence:
            signal = signal_of(item)
            if signal == REASSURANCE:
                factor = REASSURANCE_FACTOR
            elif signal in FIXED_SIGNALS:
                remaining *= 1.0 - item.weight
            else:
                signals.add(signal)
        found.append(Example(frozenset(signals), remaining, factor, row["expect"] == "person"))
    return found


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def fit(data: Iterable[Example]) -> dict[str, float]:
    """Weights per signal that maximise the penalised likelihood of the labels."""
    data = [example for example in data if example.signals]
    prior = {s: _logit(min(max(w, LOWEST), 0.9)) for s, w in PRIOR_WEIGHTS.items()}
    theta = dict(prior)
    ceiling = _logit(HIGHEST)
    for _ in range(ROUNDS):
        grad = {s: -PRIOR_STRENGTH * (theta[s] - prior[s]) for s in theta}
        for example in data:
            remaining = example.fixed_remaining
            for signal in example.signals:
                remaining *= 1.0 - _sigmoid(theta[signal])
            p = min(max((1.0 - remaining) * example.calm_factor, 1e-6), 1.0 - 1e-6)
            # d log L / d p, times d p / d theta_s = factor * remaining * w_s.
            slope = (1.0 / p if example.person else -1.0 / (1.0 - p)) * example.calm_factor
            for signal in example.signals:
                grad[signal] += slope * remaining * _sigmoid(theta[signal])
        for signal in theta:
            theta[signal] = min(theta[signal] + STEP * grad[signal] / len(data), ceiling)
    return {s: round(_sigmoid(z), 2) for s, z in sorted(theta.items())}


def render(weights: dict[str, float], count: int) -> str:
    """The voice_weights module for ``weights`` learned from ``count`` messages."""
    lines = [
        '"""Learned weights of the voice signals: generated by scripts/train_voice_weights.py.',
        "",
        f"Fitted on {count} messages of the tune half of tests/data/voice that do not ask for",
        "a person (noisy-OR likelihood, prior around the hand-set weights). Do not edit by",
        "hand: change the lexicon, then run the script; a test checks that these are current.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "LEARNED_WEIGHTS: dict[str, float] = {",
    ]
    lines += [f'    "{signal}": {weight},' for signal, weight in weights.items()]
    lines.append("}")
    return "\n".join(lines) + "\n"


def stale(shipped: dict[str, float], fitted: dict[str, float]) -> list[str]:
    """Signals whose shipped weight differs from the fitted one by more than TOLERANCE."""
    names = sorted(set(shipped) | set(fitted))
    return [
        f"{name}: shipped {shipped.get(name)}, fitted {fitted.get(name)}"
        for name in names
        if name not in shipped
        or name not in fitted
        or abs(shipped[name] - fitted[name]) > TOLERANCE
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    data = examples()
    weights = fit(data)
    if args.check:
        from mailguard.domain.voice_weights import LEARNED_WEIGHTS

        problems = stale(LEARNED_WEIGHTS, weights)
        for problem in problems:
            print(f"train_voice_weights: stale weight {problem}", file=sys.stderr)
        return 1 if problems else 0
    TARGET.write_text(render(weights, len(data)), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(REPO)}: {len(weights)} weights from {len(data)} messages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
