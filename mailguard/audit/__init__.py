"""Offline audit of an exported mailbox: read mbox/Maildir/.eml, replay, report.

``sources`` reads raw messages in date order, ``replay`` defines the engine port the
audit drives, ``report`` aggregates ``AuditRecord``s with bounded memory, and
``render``/``html`` turn the result into text, Markdown, JSON or one HTML file.
"""

from __future__ import annotations
