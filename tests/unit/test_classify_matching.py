"""How the classifier matches, made cheaper in issue 23, finds what plain matching finds.

Body rules and voice terms are searched in lower case in a lower-cased copy of the text
instead of with re.IGNORECASE, and many gates are tested through one index. These tests
hold both to the plain way on real texts (the voice set and the labeled set, each also in
capitals and with "İ", "ı", "ſ" in it); tests/unit/test_classifier_reference.py holds the
whole classifier to the outputs recorded before.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mailguard.domain.facts import parse_facts
from mailguard.domain.frustration import SHIPPED_TERMS
from mailguard.domain.gate import Gate, GateText, folded_twin, lowered_in_place, top_level_branches
from mailguard.domain.gate_segments import GateIndex, distributed, gate_of
from mailguard.domain.lexicon_body import BODY_RULES

DATA = Path(__file__).resolve().parents[1] / "data"


def _texts() -> list[str]:
    texts: list[str] = []
    for group, step in (("voice", 90), ("classify", 45)):
        for path in sorted((DATA / group).glob("*.eml"))[::step]:
            # The first lines say most; all of every text would take minutes here.
            text = parse_facts(path.read_bytes()).full_text()[:600]
            texts += [text, text.upper(), "İ " + text, text.replace("i", "ı").replace("s", "ſ")]
    return texts


TEXTS = _texts()
BRANCHES = sorted(
    {rule.pattern for rule in BODY_RULES}
    | {
        branch
        for term in SHIPPED_TERMS
        for outer in top_level_branches(term.pattern)
        for branch in distributed(outer)
    }
)


@pytest.mark.parametrize(
    ("pattern", "folds"),
    [
        (r"\bich bin\b", True),
        (r"[A-Z]{3}-\d+", True),  # \d is a lower-case escape
        (r"ÄRGER|Übel", True),
        (r"[^A-Z]x", True),
        (r"\W", False),  # lower-cased it would be \w
        (r"\Bx", False),
        (r"[A-z]", False),  # [a-z] would drop the characters between Z and a
        (r"[À-Þ]", False),  # [à-þ] holds ÷ where [À-Þ] holds ×
        (r"\x41", False),  # "A" by number: never in a lower-cased text
        (r"(?-i:ABC)", False),
        (r"(?P<name>x)", False),
        (r"σ", False),  # IGNORECASE equates σ and ς, lower() keeps them apart
        (r"µ", False),
    ],
)
def test_folded_twin_only_where_lower_case_matches_alike(pattern: str, folds: bool) -> None:
    assert (folded_twin(pattern) is not None) is folds


def test_lowered_in_place_keeps_every_position() -> None:
    for text in TEXTS:
        lowered = lowered_in_place(text)
        assert len(lowered) == len(text)
        assert "ı" not in lowered and "ſ" not in lowered


@pytest.mark.slow
def test_folded_twins_and_gates_find_what_ignorecase_finds() -> None:
    """Every shipped pattern and branch, on every text: the twin finds the same spans in
    the lower-case copy, and the gate opens wherever the pattern matches."""
    folded = {p: folded_twin(p) for p in BRANCHES}
    assert sum(twin is not None for twin in folded.values()) > 0.9 * len(BRANCHES)
    for text in TEXTS:
        lowered = lowered_in_place(text)
        prepared = GateText.of(text)
        for pattern, twin in folded.items():
            plain = [m.span() for m in re.finditer(pattern, text, re.IGNORECASE)]
            if twin is not None:
                assert [m.span() for m in twin.finditer(lowered)] == plain, (pattern, text)
            if plain:
                assert prepared.opens(gate_of(pattern)), (pattern, text)


def test_gate_index_names_exactly_the_gates_that_open() -> None:
    gates: list[Gate | None] = [gate_of(branch) for branch in BRANCHES]
    index = GateIndex.of(gates)
    for text in TEXTS:
        prepared = GateText.of(text)
        expected = {i for i, gate in enumerate(gates) if prepared.opens(gate)}
        assert index.candidates(prepared) == expected, text[:80]
