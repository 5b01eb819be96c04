"""Record or check what the classifier says: ``python scripts/classifier_reference.py [--write]``.

The classifier's speed work (issue 23) must change how rules are matched, never what they
find. This script classifies a fixed set of messages and compares every output field (the
kind, automated or not, confidence, language, each piece of evidence with its rule, matched
text and weight, the frustration score and its evidence, the malformed flag) with the
outputs recorded in ``tests/data/classifier_reference.jsonl``. ``--write`` records them
anew; do that only for a change that is meant to change what the classifier says (a new
rule, a new weight), after reading the differences this script prints.

The messages: ``tests/data/classify``, ``tests/data/voice``, ``tests/data/scenarios``,
``../shared/corpus`` when present, and 300 of ``bench/classify_bench.py``'s messages. Each
message of the first two sets also comes in three variants: its text in capitals (so that
evidence must show the original letters at the right place while matching ignores case),
its text behind a dotted capital I ("İ", which lower-cases to two characters), and its text
with dotless i and long s ("ı", "ſ") for i and s, which IGNORECASE equates with them while
lower() does not.

The ``test`` half of the voice set is never read while rules are written (see
docs/classifier.md): its outputs are recorded as a digest only, and a difference there
names the file and nothing of its content.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from mailguard.domain.classify import Classifier
from mailguard.domain.facts import parse_facts
from mailguard.domain.model import Classification, Evidence

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "data" / "classifier_reference.jsonl"
SHARED_CORPUS = REPO.parent / "shared" / "corpus"
_BENCH_MESSAGES = 300
_VARIANT_HEADERS = ("from", "to", "subject", "date", "message-id", "return-path")


def _evidence(items: tuple[Evidence, ...]) -> list[list[object]]:
    return [[item.rule, item.matched, item.weight] for item in items]


def output_of(result: Classification) -> dict[str, object]:
    """Every field of a classification, in a form JSON keeps exactly."""
    return {
        "kind": result.kind.value,
        "automated": result.automated,
        "confidence": result.confidence,
        "language": result.language,
        "evidence": _evidence(result.evidence),
        "frustration": result.frustration,
        "frustration_evidence": _evidence(result.frustration_evidence),
        "malformed": result.malformed,
    }


def digest(output: dict[str, object]) -> str:
    """A stable digest of an output (for the messages whose output must not be shown)."""
    text = json.dumps(output, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _variant(raw: bytes, change: str) -> bytes:
    """The message with its text rewritten (``upper``, ``dotted`` or ``dotless``) as a plain
    UTF-8 part."""
    facts = parse_facts(raw)
    text = facts.full_text()
    if change == "upper":
        text = text.upper()
    elif change == "dotted":
        text = "İ " + text
    else:  # "dotless": letters IGNORECASE equates with "i" and "s"
        text = text.replace("i", "ı").replace("s", "ſ")
    head = "".join(
        f"{name.title()}: {value}\r\n"
        for name in _VARIANT_HEADERS
        if (value := facts.header(name)) is not None
    )
    return (
        head + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n" + text
    ).encode("utf-8")


def _hidden(directory: Path) -> frozenset[str]:
    """Files of a set's ``test`` split, whose outputs are recorded as digests only."""
    labels = directory / "LABELS.tsv"
    if not labels.is_file():
        return frozenset()
    with labels.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t")
        return frozenset(row["file"] for row in rows if row.get("split") == "test")


def messages() -> Iterator[tuple[str, bytes, bool]]:
    """(name, raw message, whether its output is hidden) for every message of the set."""
    data = REPO / "tests" / "data"
    for group in ("classify", "voice"):
        hidden = _hidden(data / group)
        for path in sorted((data / group).glob("*.eml")):
            raw = path.read_bytes()
            secret = path.name in hidden
            yield f"{group}/{path.name}", raw, secret
            for change in ("upper", "dotted", "dotless"):
                yield f"{group}/{path.name}#{change}", _variant(raw, change), secret
    for path in sorted((data / "scenarios").rglob("*.eml")):
        yield f"scenarios/{path.relative_to(data / 'scenarios')}", path.read_bytes(), False
    if (SHARED_CORPUS / "LABELS.tsv").is_file():
        for path in sorted(SHARED_CORPUS.glob("*.eml")):
            yield f"corpus/{path.name}", path.read_bytes(), False
    sys.path.insert(0, str(REPO / "bench"))
    from classify_bench import generate  # noqa: PLC0415 (a script, not a package)

    for index, raw in enumerate(generate(_BENCH_MESSAGES)[0]):
        yield f"bench/{index}", raw, False


def record(name: str, raw: bytes, secret: bool, classifier: Classifier) -> dict[str, object]:
    """The fixture line of one message."""
    output = output_of(classifier.classify(parse_facts(raw)))
    line: dict[str, object] = {"name": name, "input": hashlib.sha256(raw).hexdigest()[:16]}
    if secret:
        line["digest"] = digest(output)
    else:
        line["output"] = output
    return line


def differences(classifier: Classifier | None = None) -> list[str]:
    """What differs from the fixture, one line per message; empty when nothing does."""
    classifier = classifier or Classifier()
    expected: dict[str, dict[str, object]] = {}
    with FIXTURE.open(encoding="utf-8") as handle:
        for text in handle:
            line = json.loads(text)
            expected[line["name"]] = line
    found: list[str] = []
    seen: set[str] = set()
    for name, raw, secret in messages():
        seen.add(name)
        line = record(name, raw, secret, classifier)
        want = expected.get(name)
        if want is None:
            found.append(f"{name}: not in the fixture")
        elif want["input"] != line["input"]:
            found.append(f"{name}: the message itself changed")
        elif secret and want.get("digest") != line["digest"]:
            found.append(f"{name}: output differs (a test-half message: not shown)")
        elif not secret and want.get("output") != line["output"]:
            found.append(f"{name}: expected {want.get('output')}\n  got {line['output']}")
    corpus_absent = not (SHARED_CORPUS / "LABELS.tsv").is_file()
    for name in expected.keys() - seen:
        if not (corpus_absent and name.startswith("corpus/")):
            found.append(f"{name}: in the fixture, not among the messages")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="record or check the classifier's outputs")
    parser.add_argument("--write", action="store_true", help="record the outputs anew")
    args = parser.parse_args(argv)
    classifier = Classifier()
    if args.write:
        if not (SHARED_CORPUS / "LABELS.tsv").is_file():
            parser.error(f"{SHARED_CORPUS} is absent: the fixture would lose its corpus part")
        lines = [record(*message, classifier) for message in messages()]
        with FIXTURE.open("w", encoding="utf-8") as handle:
            for line in lines:
                handle.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
        print(f"recorded {len(lines)} messages in {FIXTURE.relative_to(REPO)}")
        return 0
    found = differences(classifier)
    for line in found:
        print(line)
    print(f"{len(found)} message(s) differ from {FIXTURE.relative_to(REPO)}")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
