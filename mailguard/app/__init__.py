"""Entry points: the command line (``cli``), the daemon's wiring (``daemon``) and the
``explain`` command's output. Nothing else in the package imports from here."""

from __future__ import annotations
