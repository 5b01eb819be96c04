"""Gates of a phrase's segments: what they split, and the promise that none hides a match."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mailguard.domain.frustration import FrustrationScorer, _compile
from mailguard.domain.gate import Gate, GateText
from mailguard.domain.gate_segments import (
    GateIndex,
    distributed,
    key_gate,
    segments,
    selectivity,
    union,
)
from mailguard.domain.voice_catalog import SHIPPED_TERMS

COMPILED = [_compile(term, True) for term in SHIPPED_TERMS]
STEPS = [(compiled, step) for compiled in COMPILED for step in compiled.plan]


def test_segments_are_the_stretches_between_gaps_and_their_atoms() -> None:
    pieces = segments(r"\bnicht (?:\w+ )?(?:geliefert|angekommen)\b")
    # The optional word is a gap; what follows it still follows a space: it begins a word.
    assert pieces[0] == r"\bnicht "
    assert r"\b(?:geliefert|angekommen)\b" in pieces
    assert all(r"\w+" not in piece for piece in pieces)
    # A literal stretch after a space begins a word.
    assert r"\bnicht weiter\w*" in segments(r"\bso kann (?:es|das) nicht weiter\w*")
    # An alternation at the top is one piece: its alternatives need not all be present.
    assert segments(r"\ba|\bb") == [r"\ba|\bb"]


def test_distributed_splits_one_group_of_alternatives() -> None:
    assert distributed(r"\b(?:a|b(?:c|d)|e)\b") == [r"\ba\b", r"\bb(?:c|d)\b", r"\be\b"]
    assert distributed(r"\b(?:a|b)\b(?:x)") == [r"\b(?:a|b)\b(?:x)"]
    assert distributed(r"(?:a|b) (?:c|d)") == [r"(?:a|b) (?:c|d)"]


def test_a_common_word_is_a_poor_key() -> None:
    common = Gate.of(r"\bnicht (?:zufrieden|ok)")
    rare = Gate.of(r"\b(?:sachbearbeiter|teamleitung)")
    assert common is not None and rare is not None
    assert selectivity(rare) > selectivity(common)
    key = key_gate(r"\bbitte\b[^.!?\n]{0,70}?\b(?:sachbearbeiter|teamleitung)\b")
    assert key is not None and "sachbearbeiter" in key.anchors


def test_union_opens_where_any_part_opens() -> None:
    gates = [Gate.of(r"\bkündig"), Gate.of(r"\bsachbearbeiter"), Gate.of(r"\bdie rechnung")]
    joined = union(gates)
    assert joined is not None
    for text in ("Ich kündige.", "Die Sachbearbeiterin", "die Rechnung fehlt"):
        assert GateText.of(text).opens(joined), text
    assert not GateText.of("Guten Tag, alles gut").opens(joined)
    assert union([Gate.of(r"\bx\w+"), None]) is None


def test_the_index_names_a_superset_of_the_gates_that_open() -> None:
    gates = [Gate.of(r"\bkündig"), Gate.of(r"\bsachbearbeiter"), None, Gate.of(r"kopiert")]
    index = GateIndex.of(gates)
    prepared = GateText.of("Die Sachbearbeiterin hat kopiert.")
    found = index.candidates(prepared)
    assert {1, 2, 3} <= found and 0 not in found


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), index=st.integers(0, len(STEPS) - 1))
def test_no_gate_of_a_branch_hides_its_match(data: st.DataObject, index: int) -> None:
    compiled, (source, _, checks) = STEPS[index]
    regex = re.compile(source, re.IGNORECASE)
    inner = data.draw(st.from_regex(regex, fullmatch=True))
    text = data.draw(st.text(max_size=12)) + inner + data.draw(st.text(max_size=12))
    assume(regex.search(text))
    prepared = GateText.of(text)
    assert prepared.opens(compiled.gate), (compiled.term.name, source, text)
    for check in checks:
        assert prepared.opens(check), (compiled.term.name, source, text)


@pytest.mark.parametrize("language", ["de", "en", "fr", "es", "it", "nl", "pt"])
def test_every_term_of_a_language_is_in_its_index(language: str) -> None:
    terms, index = FrustrationScorer()._applicable(language, frozenset({language}))
    assert index.size == len(terms)
    assert {t.term.language for t in terms} == {language}
