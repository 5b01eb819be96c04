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
