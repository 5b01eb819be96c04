"""The require-or-skip switch: a missing real server skips on a laptop and fails in CI."""

from __future__ import annotations

import pytest

from tests.real_servers import REQUIRE_VARIABLE, require_or_skip, servers_required


@pytest.mark.parametrize(
    ("require", "ci", "required"),
    [
        (None, None, False),
        ("1", None, True),
        ("true", None, True),
        (None, "true", True),
        ("0", "true", False),  # an explicit "no" wins over CI=true
        (None, "false", False),
    ],
)
def test_when_servers_are_required(
    monkeypatch: pytest.MonkeyPatch, require: str | None, ci: str | None, required: bool
) -> None:
    for name, value in ((REQUIRE_VARIABLE, require), ("CI", ci)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert servers_required() is required


def test_a_missing_server_fails_where_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REQUIRE_VARIABLE, "1")
    with pytest.raises(pytest.fail.Exception, match="postgresql is required .* no answer"):
        require_or_skip("postgres", "no answer")


def test_a_missing_server_skips_loudly_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REQUIRE_VARIABLE, "0")
    with pytest.raises(pytest.skip.Exception, match="!!! real server dovecot unavailable"):
        require_or_skip("dovecot", "not installed")
