"""pytest fixtures for the OAuth2 tests: a test CA and the local HTTPS token endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.oauth.endpoint import LocalCA, TokenEndpoint


@pytest.fixture
def test_ca(tmp_path: Path) -> LocalCA:
    return LocalCA(tmp_path / "ca")


@pytest.fixture
def token_endpoint(test_ca: LocalCA) -> Iterator[TokenEndpoint]:
    """An endpoint minting tokens with a throw-away key (tests that log in replace it)."""
    endpoint = TokenEndpoint(test_ca, key=b"k" * 32).start()
    try:
        yield endpoint
    finally:
        endpoint.stop()
