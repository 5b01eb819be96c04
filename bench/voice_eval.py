"""Does a customer's first message go to a person? ``python bench/voice_eval.py [DIR]``.

DIR (default ``tests/data/voice``) holds .eml files and a LABELS.tsv with the columns
``file``, ``language``, ``expect`` (``person`` or ``calm``) and ``reason``. Each message is
classified and decided as the first inbound message of a new customer under the default
policy, exactly as the engine would: it goes to a person when the decision escalates
(``asks_for_human`` or ``frustration``). Prints per language and in total the accuracy,
the recall of the must-escalate messages and the false-alarm rate (calm messages sent to
a person), then every miss with its evidence. Exits 1 when a target is missed (accuracy
>= 0.95 and false alarms <= 5 % in every language), 2 when DIR cannot be read.
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
TARGET_FALSE_ALARMS = 0.05
_NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@dataclass
class Tally:
    """Outcomes of one language (or of all)."""

    hit: int = 0  # person, escalated
    miss: int = 0  # person, not escalated
    calm: int = 0  # calm, not escalated
    alarm: int = 0  # calm, escalated

    @property
    def total(self) -> int:
        return self.hit + self.miss + self.calm + self.alarm

    @property
    def accuracy(self) -> float:
        return (self.hit + self.calm) / self.total if self.total else 1.0

    @property
    def recall(self) -> float:
        must = self.hit + self.miss
        return self.hit / must if must else 1.0

    @property
    def false_alarms(self) -> float:
        quiet = self.calm + self.alarm
        return self.alarm / quiet if quiet else 0.0

    def met(self) -> bool:
        return self.accuracy >= TARGET_ACCURACY and self.false_alarms <= TARGET_FALSE_ALARMS


@dataclass
class Outcome:
    """The evaluation: tallies per language and the misses, explained."""

    languages: dict[str, Tally] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)

    @property
    def total(self) -> Tally:
        all_ = Tally()
        for tally in self.languages.values():
            all_.hit += tally.hit
            all_.miss += tally.miss
            all_.calm += tally.calm
            all_.alarm += tally.alarm
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
    rules = ",".join(h.rule for h in decision.hits) or "no rule"
    lang = result.language or "?"
    return f"[{lang}; {rules}; score {result.frustration:.2f}] " + ("; ".join(clues) or "-")


def evaluate(folder: Path) -> Outcome:
    """Classify and decide every labeled message in ``folder``."""
    classifier = Classifier()
    outcome = Outcome()
    with (folder / "LABELS.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    for row in rows:
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
    return outcome


def _line(name: str, tally: Tally) -> str:
    return (
        f"{name:8} {tally.total:5} {tally.accuracy:9.3f} {tally.recall:7.3f} "
        f"{tally.false_alarms:13.3f}  {'ok' if tally.met() else 'MISSED'}"
    )


def render(outcome: Outcome) -> str:
    """The report: a table per language, the total, every miss, the verdict."""
    lines = ["language     n  accuracy  recall  false alarms  target"]
    lines += [_line(lang, outcome.languages[lang]) for lang in sorted(outcome.languages)]
    lines.append(_line("all", outcome.total))
    lines.append("")
    lines.append(f"misses ({len(outcome.misses)}):")
    lines += outcome.misses
    lines.append("")
    verdict = "met" if outcome.met() else "MISSED"
    lines.append(
        f"targets (accuracy >= {TARGET_ACCURACY}, false alarms <= {TARGET_FALSE_ALARMS:.0%} "
        f"in every language): {verdict}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("folder", nargs="?", default="tests/data/voice", type=Path)
    args = parser.parse_args(argv)
    try:
        outcome = evaluate(args.folder)
    except (OSError, KeyError, csv.Error) as exc:
        print(f"voice_eval: cannot read {args.folder}: {exc}", file=sys.stderr)
        return 2
    print(render(outcome))
    return 0 if outcome.met() else 1


if __name__ == "__main__":
    sys.exit(main())
