"""The one switch between "skip loudly" and "fail" for tests that need a real server.

Tests against real PostgreSQL, Dovecot and SMTP peers must not vanish from a green run.
Every fixture (or test) that finds its server missing calls :func:`require_or_skip`:

- on a developer's machine the test is skipped, with ``!!!`` and the reason in the skip
  message, and the run summary lists it under "real servers SKIPPED";
- in CI (``MAILGUARD_REQUIRE_SERVERS=1``, which ``.ci/run`` sets, or ``CI=true`` unless
  ``MAILGUARD_REQUIRE_SERVERS=0``) the test fails instead, so a missing server fails the run.

A fixture that did reach its server calls :func:`exercised`; the terminal summary (see
``tests/conftest.py``) then prints how many tests really ran against each server, e.g.
``real servers exercised: postgresql 61 tests, dovecot 12 tests, smtp (aiosmtpd) 1 test``.

Each server has a pytest marker of the same name (``postgres``, ``dovecot``, ``smtp``) that a
test using it must carry, so ``-m "not postgres"`` can leave such tests out on purpose;
:func:`require_marker` enforces that.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

# Marker name -> how the summary names the server.
SERVERS: dict[str, str] = {
    "postgres": "postgresql",
    "dovecot": "dovecot",
    "smtp": "smtp (aiosmtpd)",
}

REQUIRE_VARIABLE = "MAILGUARD_REQUIRE_SERVERS"

# Which servers each test reached, filled by exercised(); read by the hooks in conftest.
USED_BY: pytest.StashKey[set[str]] = pytest.StashKey()


def servers_required() -> bool:
    """True when a missing real server must fail the run (CI) rather than skip tests."""
    explicit = os.environ.get(REQUIRE_VARIABLE, "").strip().lower()
    if explicit:
        return explicit not in ("0", "false", "no")
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def require_or_skip(server: str, reason: str) -> NoReturn:
    """Skip the current test loudly, or fail it when real servers are required.

    ``server`` is a key of :data:`SERVERS`; ``reason`` says what is missing and, where
    possible, how to get it (the package to install, the variable to set).
    """
    name = SERVERS[server]
    if servers_required():
        pytest.fail(
            f"{name} is required ({REQUIRE_VARIABLE}=1 or CI=true) but unavailable: {reason}",
            pytrace=False,
        )
    pytest.skip(f"!!! real server {name} unavailable, test SKIPPED: {reason} !!!")


def require_marker(node: pytest.Item, server: str) -> None:
    """Fail a test that reaches a real server without carrying the server's marker.

    The marker is what lets ``-m "not <server>"`` deselect these tests deliberately and
    what the run summary counts skips by.
    """
    if node.get_closest_marker(server) is None:
        pytest.fail(
            f"tests that use the {SERVERS[server]} fixtures must be marked @pytest.mark.{server}",
            pytrace=False,
        )


def exercised(node: pytest.Item, server: str) -> None:
    """Record that ``node`` really talked to ``server`` (counted in the run summary)."""
    if server not in SERVERS:
        raise ValueError(f"unknown real server {server!r}; known: {sorted(SERVERS)}")
    node.stash.setdefault(USED_BY, set()).add(server)
