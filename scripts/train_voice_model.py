"""Train the learned voice model: ``python scripts/train_voice_model.py [--check | --cv]``.

The model (mailguard/domain/voice_model.py) is logistic regression over the presence of a
text's words and their first letters. This script trains it on the **tune** half of
tests/data/voice (rows whose ``split`` is ``tune``; a ``test`` row is never opened) and
writes mailguard/data/voice_model.json. Pure Python: full-batch gradient descent with Adam
steps, a fixed number of rounds from zero weights, L2 penalty ``PENALTY``, features kept
when at least ``MIN_COUNT`` tune messages hold them and they hold no digit (numbers are
references, not a voice). No randomness: the same data give the
same weights.

The model reads the words only, not the lexicon's signals: the lexicon was written while
reading every tune message, so on the tune half its signals separate the labels perfectly
and a model given them would learn to repeat the lexicon instead of the words.

``--cv`` chooses the hyper-parameters: 5-fold cross-validation on the tune half (messages
assigned to folds by their sorted file names) over a grid of penalties and numbers of
rounds, printing the out-of-fold log-loss and area under the ROC curve; then, for the chosen
setting, the out-of-fold effect of each candidate ``OFFSET`` (the shift of the model's
logit before it becomes a noisy-OR clue) joined with the lexicon's own score: the calm tune
messages it would send to a person, and the must-escalate ones it would send alone.
The chosen values are the constants below (the docs record the table). ``--check`` trains
and exits 1 when the shipped file differs from the result (a data change needs a retrain).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mailguard.domain.classify import Classifier
from mailguard.domain.facts import parse_facts
from mailguard.domain.policy_model import FrustrationRule
from mailguard.domain.voice_model import (
    FLOOR,
    MODEL_FILE,
    feature_names,
    message_words,
    normaliser,
)

REPO = Path(__file__).resolve().parents[1]
VOICE_SET = REPO / "tests" / "data" / "voice"
TARGET = REPO / "mailguard" / "data" / MODEL_FILE
PENALTY = 1e-5
ROUNDS = 150
STEP = 0.1
MIN_COUNT = 2
LEAST = 20  # the normaliser's least feature count (voice_model.normaliser)
OFFSET = 1.5
FOLDS = 5
DIGITS = 4  # weights are written rounded to this many decimals
TOLERANCE = 2e-3  # --check: differences of rounding (libm) are not staleness
PERSON_RULE = "asks_for_human"
GRID_PENALTY = (1e-4, 1e-5)
GRID_ROUNDS = (150,)
GRID_LEAST = (1, 10, 20, 40)
# Batches whose tune messages no rule of the lexicon was written on (batch 5 was written
# after the rules, by a writer who never read them): there the lexicon's own score is as
# honest as on unseen mail, so the offsets table reports them apart.
UNREAD_BATCHES = ("5",)
GRID_OFFSET = (0.0, 0.5, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0)


@dataclass(frozen=True)
class Example:
    """One tune message: its features, its label, and what the lexicon alone made of it."""

    name: str
    features: frozenset[str]
    person: bool
    lexicon: float = 0.0  # the lexicon's frustration score
    asks: bool = False  # asks for a person: goes to one whatever the score
    automated: bool = False  # called automated: not heard at all
    unread: bool = False  # of a batch no rule was written on (UNREAD_BATCHES)


def tune_rows(folder: Path) -> list[dict[str, str]]:
    """The rows of ``folder``/LABELS.tsv in the tune half, sorted by file name."""
    with (folder / "LABELS.tsv").open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle, delimiter="\t") if row["split"] == "tune"]
    return sorted(rows, key=lambda row: row["file"])


def examples(folder: Path = VOICE_SET) -> list[Example]:
    """The tune half's messages as training examples (the lexicon measured without the
    model, as the daemon would hear them without it)."""
    classifier = Classifier(learned=False)
    found = []
    for row in tune_rows(folder):
        facts = parse_facts((folder / row["file"]).read_bytes())
        result = classifier.classify(facts)
        words = message_words(facts.subject, facts.body_text())
        asks = any(item.rule == PERSON_RULE for item in result.evidence)
        found.append(
            Example(
                row["file"], feature_names(words), row["expect"] == "person",
                result.frustration, asks, result.automated, row["batch"] in UNREAD_BATCHES,
            )
        )  # fmt: skip
    return found


@dataclass(frozen=True)
class Fitted:
    """A trained model: bias and weight per feature name."""

    bias: float
    weights: dict[str, float]
    least: int = 1

    def logit(self, features: frozenset[str]) -> float:
        """The model's logit for a text of ``features`` (as voice_model computes it)."""
        total = math.fsum(self.weights[f] for f in features if f in self.weights)
        return self.bias + total * normaliser(len(features), self.least)


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-min(max(z, -30.0), 30.0)))


def fit(
    data: Sequence[Example],
    penalty: float = PENALTY,
    rounds: int = ROUNDS,
    min_count: int = 1,
    least: int = LEAST,
) -> Fitted:
    """Logistic regression on ``data``: penalised log-likelihood, Adam steps from zero."""
    counts = Counter(f for example in data for f in example.features)
    # Numbers are order and account references, not a voice.
    vocabulary = sorted(
        f for f, n in counts.items() if n >= min_count and not any(c.isdigit() for c in f[2:])
    )
    index = {name: i for i, name in enumerate(vocabulary)}
    rows = [
        ([index[f] for f in sorted(e.features) if f in index], e.person, len(e.features))
        for e in data
    ]
    size = len(vocabulary) + 1  # the last is the bias
    theta = [0.0] * size
    first = [0.0] * size
    second = [0.0] * size
    for step in range(1, rounds + 1):
        grad = [penalty * value for value in theta]
        grad[-1] = 0.0
        for columns, person, count in rows:
            norm = normaliser(count, least)
            z = theta[-1] + norm * math.fsum(theta[c] for c in columns)
            error = (_sigmoid(z) - (1.0 if person else 0.0)) / len(rows)
            grad[-1] += error
            for column in columns:
                grad[column] += error * norm
        for i, g in enumerate(grad):
            first[i] = 0.9 * first[i] + 0.1 * g
            second[i] = 0.999 * second[i] + 0.001 * g * g
            mean = first[i] / (1.0 - 0.9**step)
            spread = math.sqrt(second[i] / (1.0 - 0.999**step))
            theta[i] -= STEP * mean / (spread + 1e-8)
    weights = {name: round(theta[i], DIGITS) for i, name in enumerate(vocabulary)}
    return Fitted(round(theta[-1], DIGITS), {n: w for n, w in weights.items() if w}, least)


def document(model: Fitted, count: int) -> dict[str, object]:
    """The JSON document voice_model reads."""
    return {
        "about": f"trained by scripts/train_voice_model.py on {count} tune messages of "
        "tests/data/voice; do not edit by hand",
        "penalty": PENALTY,
        "rounds": ROUNDS,
        "min_count": MIN_COUNT,
        "least": model.least,
        "bias": model.bias,
        "offset": OFFSET,
        "weights": dict(sorted(model.weights.items())),
    }


def stale(shipped: dict[str, object], fresh: dict[str, object]) -> list[str]:
    """How a shipped document differs from a fresh one beyond rounding (``TOLERANCE``)."""
    problems = [
        f"{key}: shipped {shipped.get(key)!r}, trained {fresh[key]!r}"
        for key in ("penalty", "rounds", "min_count", "least", "offset")
        if shipped.get(key) != fresh[key]
    ]
    old, new = shipped.get("weights"), fresh["weights"]
    if not isinstance(old, dict) or not isinstance(new, dict):
        return [*problems, "weights: not an object"]
    names = sorted(set(old) | set(new))
    problems += [
        f"weight {name!r}: shipped {old.get(name)}, trained {new.get(name)}"
        for name in names
        if abs(float(old.get(name, 0.0)) - float(new.get(name, 0.0))) > TOLERANCE
    ]
    bias, trained = shipped.get("bias"), fresh["bias"]
    if not isinstance(bias, float | int) or not isinstance(trained, float | int):
        problems.append(f"bias: shipped {bias!r}, trained {trained!r}")
    elif abs(bias - trained) > TOLERANCE:
        problems.append(f"bias: shipped {bias}, trained {trained}")
    return problems


def out_of_fold(
    data: Sequence[Example], penalty: float, rounds: int, least: int = LEAST
) -> list[float]:
    """Each message's logit from the model trained on the other folds."""
    logits = [0.0] * len(data)
    for fold in range(FOLDS):
        train = [e for i, e in enumerate(data) if i % FOLDS != fold]
        model = fit(train, penalty, rounds, MIN_COUNT, least)
        for i, example in enumerate(data):
            if i % FOLDS == fold:
                logits[i] = model.logit(example.features)
    return logits


def _auc(logits: Sequence[float], data: Sequence[Example]) -> float:
    pos = [z for z, e in zip(logits, data, strict=True) if e.person]
    neg = [z for z, e in zip(logits, data, strict=True) if not e.person]
    wins = sum((a > b) + 0.5 * (a == b) for a in pos for b in neg)
    return wins / (len(pos) * len(neg))


def _log_loss(logits: Sequence[float], data: Sequence[Example]) -> float:
    total = 0.0
    for z, example in zip(logits, data, strict=True):
        p = min(max(_sigmoid(z), 1e-9), 1 - 1e-9)
        total -= math.log(p if example.person else 1.0 - p)
    return total / len(data)


def offsets_table(logits: Sequence[float], data: Sequence[Example]) -> list[str]:
    """Per candidate offset, out of fold, the lexicon joined with the model's clue: the
    share of calm tune messages sent to a person and of must-escalate ones sent to one, on
    the whole tune half and on its messages of UNREAD_BATCHES (the honest part)."""
    threshold = FrustrationRule().threshold
    lines = [
        "offset  all tune: recall  false alarms   unread batches: recall  false alarms",
        f"lexicon alone    {_rates(data, [0.0] * len(data), threshold)}",
    ]
    for offset in GRID_OFFSET:
        weights = [_sigmoid(z - offset) for z in logits]
        weights = [w if w >= FLOOR else 0.0 for w in weights]
        lines.append(f"{offset:6.2f}           {_rates(data, weights, threshold)}")
    return lines


def _rates(data: Sequence[Example], weights: Sequence[float], threshold: float) -> str:
    cells = []
    for part in (list(range(len(data))), [i for i, e in enumerate(data) if e.unread]):
        hits = persons = alarms = calm = 0
        for i in part:
            example = data[i]
            joined = 1.0 - (1.0 - example.lexicon) * (1.0 - weights[i])
            sent = example.asks or (joined >= threshold - 1e-9 and not example.automated)
            if example.person:
                persons += 1
                hits += sent
            else:
                calm += 1
                alarms += sent
        cells.append(f"{hits / max(persons, 1):6.3f} {alarms / max(calm, 1):13.3f}")
    return "            ".join(cells)


def cross_validate(data: Sequence[Example]) -> None:
    """Print the grid and the offsets table for the chosen setting."""
    print(f"{FOLDS}-fold cross-validation on {len(data)} tune messages")
    print("penalty   rounds  least  log-loss  auc")
    for penalty in GRID_PENALTY:
        for rounds in GRID_ROUNDS:
            for least in GRID_LEAST:
                logits = out_of_fold(data, penalty, rounds, least)
                print(f"{penalty:7.0e} {rounds:8} {least:6} {_log_loss(logits, data):9.3f} "
                      f"{_auc(logits, data):6.3f}", flush=True)  # fmt: skip
    print(f"chosen: penalty {PENALTY:.0e}, {ROUNDS} rounds, least {LEAST}")
    print("\n".join(offsets_table(out_of_fold(data, PENALTY, ROUNDS, LEAST), data)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="compare, do not write")
    mode.add_argument("--cv", action="store_true", help="cross-validate, do not write")
    args = parser.parse_args(argv)
    data = examples()
    if args.cv:
        cross_validate(data)
        return 0
    model = fit(data, PENALTY, ROUNDS, MIN_COUNT, LEAST)
    text = json.dumps(document(model, len(data)), ensure_ascii=False, indent=0) + "\n"
    if args.check:
        shipped = json.loads(TARGET.read_text(encoding="utf-8")) if TARGET.exists() else {}
        problems = stale(shipped, document(model, len(data)))
        for problem in problems:
            print(f"train_voice_model: {TARGET.relative_to(REPO)}: {problem}", file=sys.stderr)
        return 1 if problems else 0
    TARGET.parent.mkdir(exist_ok=True)
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(REPO)}: {len(model.weights)} weights, {len(data)} messages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
