"""Draw the voice set's honest split: ``python scripts/voice_split.py [--write] [DIR]``.

DIR (default ``tests/data/voice``) holds LABELS.tsv with the columns ``file``, ``language``,
``expect``, ``batch``, ``reason`` and ``split``. The messages of a drawn batch (``--batch``,
default ``DRAWN_BATCHES``: 4 and 5) go to the ``test`` or the ``tune`` half by a seeded random
draw, 50/50 within each language and label: a stratum's files are sorted and shuffled by a
generator seeded with ``SEED``, the batch, the language and the label; the first half is
``test``; an odd stratum's last message is given to either half by the same generator. Rows of
the other batches are ``tune``: the rules were written while looking at them.

Without ``--write`` the script checks LABELS.tsv against the draw and prints the counts per
language, label and split; it exits 1 when a message is in ``test`` that the draw did not
put there, or a row has no valid split. A message the draw put in ``test`` may be moved to
``tune`` by hand (a rule was added after looking at its miss): such moves are listed, and
are not errors. ``--write`` fills in the drawn split of every row that has none and keeps
the split of the rows that have one, so moves survive a re-run.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from collections import Counter, defaultdict
from pathlib import Path

SEED = 24
DRAWN_BATCHES = ("4", "5")
COLUMNS = ("file", "language", "expect", "batch", "reason", "split")
SPLITS = ("test", "tune")


def draw(rows: list[dict[str, str]], batches: tuple[str, ...]) -> dict[str, str]:
    """The split of every row's file: drawn for ``batches``, ``tune`` for the others."""
    strata: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    drawn = {row["file"]: "tune" for row in rows}
    for row in rows:
        if row["batch"] in batches:
            strata[(row["batch"], row["language"], row["expect"])].append(row["file"])
    for (batch, language, expect), files in sorted(strata.items()):
        # Reproducibility, not secrecy: a seeded generator is what the draw needs.
        rng = random.Random(f"{SEED}:{batch}:{language}:{expect}")  # noqa: S311
        order = sorted(files)
        rng.shuffle(order)
        half = len(order) // 2
        if len(order) % 2 and rng.random() < 0.5:
            half += 1
        for position, name in enumerate(order):
            drawn[name] = "test" if position < half else "tune"
    return drawn


def read(path: Path) -> list[dict[str, str]]:
    """The rows of LABELS.tsv at ``path``."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def write(path: Path, rows: list[dict[str, str]]) -> None:
    """Write ``rows`` back to LABELS.tsv with the columns in ``COLUMNS`` order."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.DictWriter(handle, COLUMNS, delimiter="\t", lineterminator="\n")
        out.writeheader()
        out.writerows({column: row.get(column) or "" for column in COLUMNS} for row in rows)


def check(rows: list[dict[str, str]], drawn: dict[str, str]) -> list[str]:
    """Problems of the stored split against the draw; prints moves and counts."""
    problems = []
    counts: Counter[tuple[str, str, str]] = Counter()
    for row in rows:
        split = row.get("split") or ""
        if split not in SPLITS:
            problems.append(f"{row['file']}: split {split!r} is not one of {SPLITS}")
            continue
        counts[(row["language"], row["expect"], split)] += 1
        if split == "test" and drawn[row["file"]] != "test":
            problems.append(f"{row['file']}: in test, but the draw put it in tune")
        elif split != drawn[row["file"]]:
            print(f"moved to tune: {row['file']} ({row['reason']})")
    print("language  expect  test  tune")
    for language, expect in sorted({(lang, exp) for lang, exp, _ in counts}):
        test, tune = (counts[(language, expect, split)] for split in SPLITS)
        print(f"{language:9} {expect:7} {test:4} {tune:5}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("folder", nargs="?", default="tests/data/voice", type=Path)
    parser.add_argument("--batch", action="append", help="a batch to draw (repeatable)")
    parser.add_argument("--write", action="store_true", help="fill in missing splits")
    args = parser.parse_args(argv)
    labels = args.folder / "LABELS.tsv"
    try:
        rows = read(labels)
    except (OSError, csv.Error) as exc:
        print(f"voice_split: cannot read {labels}: {exc}", file=sys.stderr)
        return 2
    missing = [c for c in COLUMNS if c != "split" and rows and c not in rows[0]]
    if missing:
        print(f"voice_split: {labels} lacks the columns {missing}", file=sys.stderr)
        return 2
    drawn = draw(rows, tuple(args.batch) if args.batch else DRAWN_BATCHES)
    if args.write:
        for row in rows:
            row["split"] = row.get("split") or drawn[row["file"]]
        write(labels, rows)
    problems = check(rows, drawn)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
