"""Allow ``python -m mailguard``."""

from __future__ import annotations

from mailguard.app.cli import main

# Guarded: the audit's worker processes are spawned and re-import the main module.
if __name__ == "__main__":
    raise SystemExit(main())
