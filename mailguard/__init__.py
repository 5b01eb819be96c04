"""mailguard: makes sure no support customer gets stuck talking to robots."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    # The one place the version is written is pyproject.toml; an installed package (pip,
    # the Docker image, an editable install) carries it in its metadata.
    __version__ = version("mailguard")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"
