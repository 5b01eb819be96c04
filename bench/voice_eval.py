"""Does a customer's first message go to a person? ``python bench/voice_eval.py [DIR]``.

DIR (default ``tests/data/voice``) holds .eml files and a LABELS.tsv with the columns
``file``, ``language``, ``expect`` (``person`` or ``calm``), ``reason`` and ``split``
(``tune`` or ``test``; a row without one is ``tune``). Each message is classified and
decided as the first inbound message of a new customer under the default policy, exactly
as the engine would: it goes to a person when the decision escalates (``asks_for_human`` or
``frustration``). Every message in the set is a person's mail, so one called automated is
wrong whatever its label (a calm one from ``root@`` too).

The two halves are reported apart. The ``tune`` half is what rules may be written on: its
misses are printed with their evidence. The ``test`` half is never looked at while rules
are written: it is reported as figures per language only, and ``--show-test-misses``
prints its misses (a rule added after reading one moves that message to ``tune``, see
scripts/voice_split.py). Per language and in total: accuracy, the recall of the
must-escalate messages, the false-alarm rate (calm messages sent to a person) and the
person's mail called automated. Exits 1 when a half misses a target (accuracy >= 0.95,
recall >= 0.95, false alarms <= 5 % and no person's mail called automated, in every
language), 2 when DIR cannot be read. ``--model`` joins the learned voice model
(mailguard/domain/voice_model.py, off by default) to the lexicon, to see what it adds.
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from mailguard.domain.classify import Classifier
from mailguard.domain.facts import parse_facts
from mailguard.domain.model import Classification, Direction
from mailguard.domain.policy import Decision, Event, Policy, decide
from mailguard.domain.state import CustomerState

TARGET_ACCURACY = 0.95
TARGET_RECALL = 0.95
TARGET_FALSE_ALARMS = 0.05
SPLITS = ("tune", "test")
_NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@dataclass
class Tally:
    """Outcomes of one language (or of all)."""

    hit: int = 0  # person, escalated
    miss: int = 0  # person, not escalated
    calm: int = 0  # calm, not escalated
    alarm: int = 0  # calm, escalated
    robot: int = 0  # calm, called automated (a person's mail; counted in calm, not correct)

    @property
    def total(self) -> int:
        return self.hit + self.miss + self.calm + self.alarm

    @property
    def accuracy(self) -> float:
        return (self.hit + self.calm - self.robot) / self.total if self.total else 1.0

    @property
    def recall(self) -> float:
        must = self.hit + self.miss
        return self.hit / must if must else 1.0

    @property
    def false_alarms(self) -> float:
        quiet = self.calm + self.alarm
        return self.alarm / quiet if quiet else 0.0

    def add(self, other: Tally) -> None:
        self.hit += other.hit
        self.miss += other.miss
        self.calm += other.calm
        self.alarm += other.alarm
        self.robot += other.robot

    def met(self) -> bool:
        return (
            self.accuracy >= TARGET_ACCURACY
            and self.recall >= TARGET_RECALL
            and self.false_alarms <= TARGET_FALSE_ALARMS
            and self.robot == 0
        )


@dataclass
class Outcome:
    """The evaluation of one half: tallies per language and the misses, explained."""

    languages: dict[str, Tally] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)

    @property
    def total(self) -> Tally:
        all_ = Tally()
        for tally in self.languages.values():
            all_.add(tally)
        return all_

    def met(self) -> bool:
        return all(t.met() for t in self.languages.values()) and self.total.met()


def decision_for(result: Classification, message_id: str) -> Decision:
    """The policy's decision on ``result`` as a new customer's first inbound message."""
    event = Event(
        direction=Direction.INBOUND,
        automated=result.automated,
        at=_NOW,
        thread=message_id,
        message_id=message_id,
        counterpart="customer@example.org",
        kind=result.kind,
        frustration=result.frustration,
        frustration_evidence=result.frustration_evidence,
        evidence=result.evidence,
        mailbox="support",
    )
    return decide(CustomerState(), event, Policy(), _NOW)


def _why(result: Classification, decision: Decision) -> str:
    clues = [f"{e.rule}={e.matched!r}" for e in result.evidence if e.rule == "asks_for_human"]
    clues += [f"{e.rule.removeprefix('frustration:')}={e.matched!r}" for e in
              result.frustration_evidence]  # fmt: skip
    if result.automated:
        clues += [f"{e.rule}={e.matched!r}" for e in result.evidence]
    rules = ",".join(h.rule for h in decision.hits) or "no rule"
    lang = result.language or "?"
    return f"[{lang}; {rules}; score {result.frustration:.2f}] " + ("; ".join(clues) or "-")


def read_labels(folder: Path) -> list[dict[str, str]]:
    """The rows of ``folder``/LABELS.tsv, each with a ``split`` (``tune`` when absent)."""
    with (folder / "LABELS.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    for row in rows:
        split = row.get("split") or "tune"
        if split not in SPLITS:
            raise KeyError(f"{row['file']}: split {split!r} is not one of {SPLITS}")
        row["split"] = split
    return rows


def evaluate(
    folder: Path, *, learned: bool = False, batches: frozenset[str] | None = None
) -> dict[str, Outcome]:
    """Classify and decide every labeled message in ``folder``; an Outcome per half
    (``learned=True``: with the learned voice model; ``batches``: only those batches)."""
    classifier = Classifier(learned=learned)
    halves = {split: Outcome() for split in SPLITS}
    for row in read_labels(folder):
        if batches is not None and row.get("batch") not in batches:
            continue
        outcome = halves[row["split"]]
        result = classifier.classify(parse_facts((folder / row["file"]).read_bytes()))
        decision = decision_for(result, row["file"])
        tally = outcome.languages.setdefault(row["language"], Tally())
        person = row["expect"] == "person"
        why = _why(result, decision)
        if person and decision.escalated:
            tally.hit += 1
        elif person:
            tally.miss += 1
            outcome.misses.append(f"  MISSED  {row['file']} ({row['reason']}) {why}")
        elif decision.escalated:
            tally.alarm += 1
            outcome.misses.append(f"  ALARM   {row['file']} ({row['reason']}) {why}")
        else:
            tally.calm += 1
            if result.automated:
                tally.robot += 1
                outcome.misses.append(f"  ROBOT   {row['file']} ({row['reason']}) {why}")
    return halves


def _line(name: str, tally: Tally) -> str:
    return (
        f"{name:8} {tally.total:5} {tally.accuracy:9.3f} {tally.recall:7.3f} "
        f"{tally.false_alarms:13.3f} {tally.robot:10}  {'ok' if tally.met() else 'MISSED'}"
    )


def render(halves: dict[str, Outcome], *, show_test_misses: bool = False) -> str:
    """The report: per half a table per language, the total and the verdict; the tune
    half's misses (and the test half's only when asked for)."""
    lines: list[str] = []
    for split in SPLITS:
        outcome = halves[split]
        lines.append(f"== {split} half ==")
        lines.append("language     n  accuracy  recall  false alarms  automated  target")
        lines += [_line(lang, outcome.languages[lang]) for lang in sorted(outcome.languages)]
        lines.append(_line("all", outcome.total))
        if split == "tune" or show_test_misses:
            lines.append(f"misses ({len(outcome.misses)}):")
            lines += outcome.misses
        else:
            lines.append(f"misses: {len(outcome.misses)} (not shown: --show-test-misses)")
        lines.append(f"{split} half: {'met' if outcome.met() else 'MISSED'}")
        lines.append("")
    lines.append(
        f"targets (accuracy >= {TARGET_ACCURACY}, recall >= {TARGET_RECALL}, false alarms "
        f"<= {TARGET_FALSE_ALARMS:.0%}, no person's mail called automated, in every "
        f"language): {'met' if all(o.met() for o in halves.values()) else 'MISSED'}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("folder", nargs="?", default="tests/data/voice", type=Path)
    parser.add_argument(
        "--model",
        action="store_true",
        help="join the learned voice model (off by default) to the lexicon",
    )
    parser.add_argument(
        "--show-test-misses",
        action="store_true",
        help="also list the test half's misses (never while writing rules)",
    )
    args = parser.parse_args(argv)
    try:
        halves = evaluate(args.folder, learned=args.model)
    except (OSError, KeyError, csv.Error) as exc:
        print(f"voice_eval: cannot read {args.folder}: {exc}", file=sys.stderr)
        return 2
    print(render(halves, show_test_misses=args.show_test_misses))
    return 0 if all(outcome.met() for outcome in halves.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
