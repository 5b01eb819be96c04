"""Allow ``python -m mailguard``."""

from __future__ import annotations

from mailguard.cli import main

raise SystemExit(main())
