"""The pure domain: facts parsed from mail, classification, conversation state, loop policy.

Nothing in this package performs I/O, reads the clock or imports asyncio, SQLAlchemy,
aiosmtpd, aioimaplib or structlog; callers pass time and data in.
"""
