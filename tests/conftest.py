"""Fixtures shared by all tests: throw-away real Dovecot instances (see tests/dovecot)."""

from __future__ import annotations

from tests.dovecot.fixture import dovecot, dovecot_factory

__all__ = ["dovecot", "dovecot_factory"]
