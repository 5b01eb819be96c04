"""The proxy's SMTP replies, by name (RFC 5321 codes with RFC 3463 enhanced status codes).

The rule behind them: 250 only for mail the upstream accepted or mailguard durably holds
(held, or stored to be decided later: mailguard.smtp.deferred); anything that may succeed
later is 451 so the client's MTA keeps the message and retries.
"""

from __future__ import annotations

S250_HELD = "250 2.0.0 Ok: held by mailguard for a person"
S250_DEFERRED = "250 2.0.0 Ok: queued by mailguard until the message it answers is seen"
S421_TOO_MANY = "421 4.7.0 Too many connections, try again later"
S451_TRY_LATER = "451 4.3.0 Temporary failure, try again later"
S554_NOT_ALLOWED = "554 5.7.1 Relaying denied: client address not allowed"
S530_TLS_FIRST = "530 5.7.0 Must issue a STARTTLS command first"


def accepted(upstream_reply: str) -> str:
    """250 quoting the upstream's answer (its queue id helps tracing a message)."""
    text = " ".join(upstream_reply.split())
    return f"250 2.0.0 Ok: relayed ({text})" if text else "250 2.0.0 Ok: relayed"


def relayed_already(upstream_reply: str) -> str:
    """250 for a retry of a message relayed before, quoting the upstream's answer then."""
    text = " ".join(upstream_reply.split())
    return f"250 2.0.0 Ok: relayed already ({text})" if text else "250 2.0.0 Ok: relayed already"


def permanent(code: int, text: str) -> str:
    """The upstream's permanent refusal, passed on."""
    code = code if 500 <= code < 600 else 554
    return f"{code} {' '.join(text.split()) or '5.0.0 Refused by the upstream relay'}"
