"""Operations: the HTTP health and metrics endpoint, and logging set-up."""

from __future__ import annotations
