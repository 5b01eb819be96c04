"""Fixtures shared by all tests: a throw-away real Dovecot (`dovecot`, see tests/dovecot)."""

from __future__ import annotations

from tests.dovecot.fixture import dovecot

__all__ = ["dovecot"]
