"""When the real-Dovecot fixture cannot run, it says why (the reason shown for skipped tests)."""

from __future__ import annotations

import os
import pwd

import pytest

from tests.dovecot import fixture


def test_missing_binary_is_named_with_the_packages_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fixture, "find_dovecot", lambda: None)
    reason = fixture.unusable_reason()
    assert reason is not None
    assert "Dovecot is not installed" in reason
    assert "dovecot-sieve" in reason


@pytest.mark.skipif(os.geteuid() != 0, reason="only root has to drop to another user")
def test_root_without_the_unprivileged_user_is_explained(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fixture, "find_dovecot", lambda: "/usr/sbin/dovecot")
    monkeypatch.setenv("DOVECOT_RUN_USER", "no-such-user-for-mailguard-tests")
    reason = fixture.unusable_reason()
    assert reason == (
        "running as root needs the unprivileged user 'no-such-user-for-mailguard-tests' "
        "to run Dovecot as"
    )


def test_an_installed_dovecot_is_usable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fixture, "find_dovecot", lambda: "/usr/sbin/dovecot")
    monkeypatch.delenv("DOVECOT_RUN_USER", raising=False)
    if os.geteuid() == 0 and not _has_user("dovecot"):
        pytest.skip("root without a dovecot user: covered by the test above")
    assert fixture.unusable_reason() is None


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
