"""Literal gates: derived prefixes, and the promise that a gate never hides a match."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mailguard.domain.frustration import SHIPPED_TERMS
from mailguard.domain.gate import Gate, GateText, literal_prefixes
from mailguard.domain.lexicon_body import BODY_RULES

PATTERNS = [rule.pattern for rule in BODY_RULES] + [term.pattern for term in SHIPPED_TERMS]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"(?:please )?do not", {"do not", "please do not"}),
        (r"ab?c", {"ac", "abc"}),
        (r"[ée]t[ée]", {"ete", "eté", "éte", "été"}),
        (r"foo(?=bar)", {"foo"}),
        (r"(?:xx|yy)?zz", {"zz", "xxzz", "yyzz"}),
        (r"a|b", None),
        (r"ab*c", None),
        (r"\d+ab", None),
        (r"(?:a|b+c)d", None),
        (r"(?i)abc", None),
    ],
)
def test_literal_prefixes(pattern: str, expected: set[str] | None) -> None:
    derived = literal_prefixes(pattern)
    if expected is None:
        assert derived is None
    else:
        assert derived is not None
        assert {prefix.replace("\x00", "") for prefix in derived} == expected


def test_every_shipped_phrase_pattern_has_a_gate() -> None:
    # Without a gate a phrase regex scans every text; that is what the budget cannot afford.
    assert [p for p in PATTERNS if Gate.of(p) is None] == []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), index=st.integers(0, len(PATTERNS) - 1))
def test_gate_never_hides_a_match(data: st.DataObject, index: int) -> None:
    pattern = PATTERNS[index]
    regex = re.compile(pattern, re.IGNORECASE)
    inner = data.draw(st.from_regex(regex, fullmatch=True))
    before = data.draw(st.text(max_size=20))
    after = data.draw(st.text(max_size=20))
    text = before + inner + after
    assume(regex.search(text))
    assert GateText.of(text).opens(Gate.of(pattern))


def test_letters_ignorecase_equates_with_i_and_s_are_stood_in_for() -> None:
    """İ lower-cases to two characters; ı and ſ stay themselves in lower case although
    re.IGNORECASE equates them with i and s: the lower-case copy holds i and s instead, so
    a gate still sees what the regex would match, at the same positions."""
    gate = Gate.of(r"\bunsubscribe\b")
    assert gate is not None
    assert re.compile(r"\bunsubscribe\b", re.IGNORECASE).search("unſubscrıbe")
    assert GateText.of("unſubscrıbe").opens(gate)
    assert GateText.of("İstanbul: UNSUBSCRİBE").opens(gate)
    assert not GateText.of("İstanbul").opens(gate)
    assert not GateText.of("nothing here").opens(gate)
    assert GateText.of("İstanbul").lowered == "istanbul"
    # The language guess counts the tokens of text.lower(), which the stand-in is not.
    assert GateText.of("İstanbul").words == frozenset()
    assert GateText.of("Istanbul").words == frozenset({"istanbul"})
