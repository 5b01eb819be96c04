"""bench/voice_eval.py meets its targets on tests/data/voice, and reports misses."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]
VOICE_SET = REPO / "tests" / "data" / "voice"


def _load_eval() -> ModuleType:
    spec = importlib.util.spec_from_file_location("voice_eval", REPO / "bench" / "voice_eval.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


EVAL = _load_eval()


def test_targets_are_met_in_every_language() -> None:
    outcome = EVAL.evaluate(VOICE_SET)
    assert set(outcome.languages) == {"de", "en", "fr", "nl", "es", "it"}
    for language, tally in outcome.languages.items():
        assert tally.met(), (language, EVAL.render(outcome))
    assert EVAL.main([str(VOICE_SET)]) == 0


def test_a_miss_is_reported_with_its_evidence(tmp_path: Path) -> None:
    # Relabel one calm message as must-escalate: the eval must list it with its clues.
    shutil.copy(VOICE_SET / "en-026-calm.eml", tmp_path / "en-026-calm.eml")
    (tmp_path / "LABELS.tsv").write_text(
        "file\tlanguage\texpect\tbatch\treason\nen-026-calm.eml\ten\tperson\t0\trelabelled\n",
        encoding="utf-8",
    )
    outcome = EVAL.evaluate(tmp_path)
    assert outcome.languages["en"].miss == 1
    (line,) = outcome.misses
    assert "MISSED" in line and "en-026-calm.eml" in line and "cancel_en" in line
    assert EVAL.main([str(tmp_path)]) == 1
