"""mailguard: makes sure no support customer gets stuck talking to robots."""

from __future__ import annotations

__version__ = "0.1.0"
