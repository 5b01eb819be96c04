"""The evaluation targets, on the project's own labeled set and on ../shared/corpus."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
OWN_SET = REPO / "tests" / "data" / "classify"
SHARED_CORPUS = REPO.parent / "shared" / "corpus"


def _load_eval() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "classify_eval", REPO / "bench" / "classify_eval.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


EVAL = _load_eval()


def test_own_set_covers_every_kind_and_language() -> None:
    rows = (OWN_SET / "LABELS.tsv").read_text(encoding="utf-8").splitlines()[1:]
    assert len(rows) >= 150
    kinds = {row.split("\t")[2] for row in rows}
    langs = {row.split("\t")[3] for row in rows}
    assert kinds == {
        "human",
        "auto_reply",
        "out_of_office",
        "bounce",
        "bulk",
        "ticket_ack",
        "notification",
        "challenge_response",
    }
    assert {"de", "en", "fr", "es", "it", "nl", "pt"} <= langs


@pytest.mark.parametrize(
    "directory",
    [
        OWN_SET,
        pytest.param(
            SHARED_CORPUS,
            marks=pytest.mark.skipif(
                not (SHARED_CORPUS / "LABELS.tsv").is_file(), reason="../shared/corpus absent"
            ),
        ),
    ],
    ids=["own_set", "shared_corpus"],
)
def test_targets_are_met(directory: Path) -> None:
    report = EVAL.evaluate(directory)
    assert report.meets_targets(), EVAL.render(report)


LABELS_HEAD = "file\tautomated\tkind\n"


def test_an_empty_set_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "LABELS.tsv").write_text(LABELS_HEAD, encoding="utf-8")
    report = EVAL.evaluate(tmp_path)
    assert not report.meets_targets()
    assert "NOT MEASURABLE (no labelled messages)" in EVAL.render(report)
    assert EVAL.main([str(tmp_path)]) == 2
    assert "lists no messages" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("automated", "missing"),
    [("1", "no message labelled human"), ("0", "no message labelled automated")],
)
def test_a_set_of_one_class_cannot_meet_the_targets(
    tmp_path: Path, automated: str, missing: str
) -> None:
    # Precision and recall would be 1.0 by default on such a set: vacuous, not met.
    # Correctly classified messages, so that only the missing class can fail the targets.
    name, kind = (
        ("001-out_of_office-en-exchange.eml", "out_of_office")
        if automated == "1"
        else ("019-human-en-apple.eml", "human")
    )
    (tmp_path / name).write_bytes((OWN_SET / name).read_bytes())
    (tmp_path / "LABELS.tsv").write_text(f"{LABELS_HEAD}{name}\t{automated}\t{kind}\n")
    report = EVAL.evaluate(tmp_path)
    assert report.unmeasurable() == missing
    assert not report.meets_targets()
    assert f"NOT MEASURABLE ({missing})" in EVAL.render(report)
    assert EVAL.main([str(tmp_path)]) == 1


def test_the_speed_bench_refuses_too_few_messages() -> None:
    spec = importlib.util.spec_from_file_location(
        "classify_bench", REPO / "bench" / "classify_bench.py"
    )
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    with pytest.raises(SystemExit) as refused:
        bench.main(["--count", "0"])
    assert refused.value.code == 2
