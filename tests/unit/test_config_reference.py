"""docs/configuration.md, config/mailguard.example.yaml and the models say the same."""

from __future__ import annotations

from pathlib import Path

from mailguard.config import load_config
from mailguard.config.reference import example_comments, keys, render

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "mailguard.example.yaml"


def test_every_key_of_the_models_is_in_the_example_with_a_comment() -> None:
    comments = example_comments(EXAMPLE.read_text(encoding="utf-8"))
    missing = [k.path for k in keys() if k.path not in comments]
    assert not missing, f"keys missing from {EXAMPLE.name}: {missing}"
    undocumented = [k.path for k in keys() if not k.section and not comments[k.path]]
    assert not undocumented, f"keys without a comment in {EXAMPLE.name}: {undocumented}"


def test_the_example_names_no_key_the_models_lack() -> None:
    known = {k.path for k in keys()}
    stray = sorted(set(example_comments(EXAMPLE.read_text(encoding="utf-8"))) - known)
    assert not stray, f"{EXAMPLE.name} documents keys that do not exist: {stray}"
    load_config(EXAMPLE)  # and it is valid


def test_the_committed_reference_is_generated_from_both() -> None:
    committed = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == render(EXAMPLE.read_text(encoding="utf-8")), (
        "docs/configuration.md is stale: run .venv/bin/python -m mailguard.config.reference"
    )


def test_the_parser_follows_nesting_and_lists() -> None:
    text = (
        "a: 1   # top\n"
        "b:\n"
        "  - name: x   # item key\n"
        "    inner:\n"
        "      deep: 2   # deep key\n"
        "c:           # a section\n"
        "  d: 3   # nested\n"
    )
    assert example_comments(text) == {
        "a": "top",
        "b": "",
        "b[].name": "item key",
        "b[].inner": "",
        "b[].inner.deep": "deep key",
        "c": "a section",
        "c.d": "nested",
    }
