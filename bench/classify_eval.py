"""Evaluate the classifier on a labeled folder: ``python bench/classify_eval.py DIR``.

DIR holds .eml files and a LABELS.tsv whose header row names at least the columns
``file``, ``automated`` (1/0) and ``kind``. Prints precision and recall for automated vs
human and per kind, the share of human mail called automated, and every miss. Exits 1
when a target is missed (automated precision >= 0.98, recall >= 0.95, < 1 % of human
mail called automated), 2 when DIR cannot be read or labels no message. A set without
both automated and human mail cannot meet the targets: precision, recall and the human
share would be vacuous there, so it is reported as not measurable and exits 1.

Kind mapping: labels outside mailguard's Kind enum are mapped onto it before scoring:
``dsn``, ``delay``, ``ndr`` -> bounce; ``list``, ``mailing_list``, ``newsletter``,
``marketing`` -> bulk; ``mdn``, ``receipt``, ``read_receipt``, ``system``, ``noreply``,
``no_reply``, ``transactional`` -> notification; ``vacation``, ``ooo`` ->
out_of_office; ``autoreply`` -> auto_reply; ``ack`` -> ticket_ack; ``challenge`` ->
challenge_response. Any other unknown label is kept as is and reported as a miss for
kind, never for automated-vs-human, which rests only on the ``automated`` column.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from mailguard.domain.classify import Classifier
from mailguard.domain.facts import parse_facts

TARGET_PRECISION = 0.98
TARGET_RECALL = 0.95
TARGET_HUMAN_AS_AUTOMATED = 0.01

KIND_ALIASES = {
    "dsn": "bounce",
    "delay": "bounce",
    "ndr": "bounce",
    "list": "bulk",
    "mailing_list": "bulk",
    "newsletter": "bulk",
    "marketing": "bulk",
    "mdn": "notification",
    "receipt": "notification",
    "read_receipt": "notification",
    "system": "notification",
    "noreply": "notification",
    "no_reply": "notification",
    "transactional": "notification",
    "vacation": "out_of_office",
    "ooo": "out_of_office",
    "autoreply": "auto_reply",
    "ack": "ticket_ack",
    "challenge": "challenge_response",
}


@dataclass
class Report:
    """Counts and misses of one evaluation run."""

    total: int = 0
    true_pos: int = 0
    false_pos: int = 0
    false_neg: int = 0
    true_neg: int = 0
    kind_expected: Counter[str] = field(default_factory=Counter)
    kind_predicted: Counter[str] = field(default_factory=Counter)
    kind_correct: Counter[str] = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        flagged = self.true_pos + self.false_pos
        return self.true_pos / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        actual = self.true_pos + self.false_neg
        return self.true_pos / actual if actual else 1.0

    @property
    def human_as_automated(self) -> float:
        humans = self.true_neg + self.false_pos
        return self.false_pos / humans if humans else 0.0

    def unmeasurable(self) -> str | None:
        """Why the targets cannot be judged on this set (None when they can)."""
        if self.total == 0:
            return "no labelled messages"
        if self.true_pos + self.false_neg == 0:
            return "no message labelled automated"
        if self.true_neg + self.false_pos == 0:
            return "no message labelled human"
        return None

    def meets_targets(self) -> bool:
        return (
            self.unmeasurable() is None
            and self.precision >= TARGET_PRECISION
            and self.recall >= TARGET_RECALL
            and self.human_as_automated < TARGET_HUMAN_AS_AUTOMATED
        )


def _label_kind(raw: str) -> str:
    label = raw.strip().lower()
    return KIND_ALIASES.get(label, label)


def evaluate(directory: Path, classifier: Classifier | None = None) -> Report:
    """Classify every labeled file in ``directory`` and count hits and misses."""
    classifier = classifier or Classifier()
    report = Report()
    with (directory / "LABELS.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    for row in rows:
        name = row["file"]
        expected_auto = row["automated"].strip() == "1"
        expected_kind = _label_kind(row.get("kind") or ("bulk" if expected_auto else "human"))
        result = classifier.classify(parse_facts((directory / name).read_bytes()))
        report.total += 1
        if result.automated and expected_auto:
            report.true_pos += 1
        elif result.automated:
            report.false_pos += 1
        elif expected_auto:
            report.false_neg += 1
        else:
            report.true_neg += 1
        got = str(result.kind)
        report.kind_expected[expected_kind] += 1
        report.kind_predicted[got] += 1
        if got == expected_kind:
            report.kind_correct[got] += 1
        if result.automated != expected_auto or got != expected_kind:
            rules = ", ".join(f"{e.rule}={e.weight:g}" for e in result.evidence) or "-"
            tag = "AUTO/HUMAN" if result.automated != expected_auto else "kind"
            report.misses.append(
                f"{tag:10} {name}: expected {expected_kind}, got {got} "
                f"(conf {result.confidence:.2f}; {rules})"
            )
    return report


def render(report: Report) -> str:
    """Human-readable summary, per-kind table and misses."""
    lines = [
        f"messages: {report.total}",
        f"automated vs human: precision {report.precision:.3f} recall {report.recall:.3f} "
        f"(tp {report.true_pos} fp {report.false_pos} fn {report.false_neg} "
        f"tn {report.true_neg})",
        f"human mail called automated: {report.human_as_automated:.2%}",
        "",
        f"{'kind':20} {'n':>4} {'precision':>9} {'recall':>7}",
    ]
    kinds = sorted(set(report.kind_expected) | set(report.kind_predicted))
    for kind in kinds:
        correct = report.kind_correct[kind]
        predicted = report.kind_predicted[kind]
        expected = report.kind_expected[kind]
        precision = correct / predicted if predicted else 0.0
        recall = correct / expected if expected else 0.0
        lines.append(f"{kind:20} {expected:>4} {precision:>9.3f} {recall:>7.3f}")
    lines.append("")
    lines.append(f"misses ({len(report.misses)}):")
    lines.extend("  " + miss for miss in report.misses)
    problem = report.unmeasurable()
    verdict = f"NOT MEASURABLE ({problem})" if problem else "met"
    verdict = verdict if problem or report.meets_targets() else "MISSED"
    lines.append("")
    lines.append(
        f"targets (precision >= {TARGET_PRECISION}, recall >= {TARGET_RECALL}, "
        f"human as automated < {TARGET_HUMAN_AS_AUTOMATED:.0%}): {verdict}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    args = parser.parse_args(argv)
    if not (args.directory / "LABELS.tsv").is_file():
        print(f"no LABELS.tsv in {args.directory}", file=sys.stderr)
        return 2
    report = evaluate(args.directory)
    if report.total == 0:
        print(
            f"LABELS.tsv in {args.directory} lists no messages: nothing to evaluate",
            file=sys.stderr,
        )
        return 2
    print(render(report))
    return 0 if report.meets_targets() else 1


if __name__ == "__main__":
    raise SystemExit(main())
