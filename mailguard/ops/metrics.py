"""mailguard's metrics across its adapters: every message, whichever way it came.

The adapters keep their own (``mailguard_imap_*``, ``mailguard_smtp_*``,
``mailguard_relay_*``); these count what the engine made of each message, by source, so a
dashboard needs one query for "messages by kind" rather than one per adapter. The gauges of
open escalations and held mail are set from the database by the daemon
(``app/gauges.py``): every replica reports the same shared figure.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter, Gauge, Histogram

MESSAGES = Counter(
    "mailguard_messages",
    "Messages the engine handled, by source (imap, smtp) and kind (human, auto_reply, ...)",
    ["source", "kind"],
)
DECISIONS = Counter(
    "mailguard_decisions",
    "Rule hits in the decisions taken, by rule (automated_streak, frustration, ...)",
    ["rule"],
)
PROCESSING_SECONDS = Histogram(
    "mailguard_processing_seconds",
    "From a message's raw bytes to its committed decision, by source",
    ["source"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ESCALATIONS_OPEN = Gauge(
    "mailguard_escalations_open", "Escalations waiting for a person (all replicas)"
)
HELD_MESSAGES = Gauge(
    "mailguard_held_messages", "Messages the proxy holds and nobody released or dropped yet"
)
DEFERRED_MESSAGES = Gauge(
    "mailguard_deferred_messages",
    "Robot replies the proxy stored until the message they answer is seen (all replicas)",
)

OLDEST_HELD = Gauge(
    "mailguard_oldest_held_age_seconds",
    "Age of the oldest held message nobody released or dropped yet (0: none; all replicas)",
)
OLDEST_DEFERRED = Gauge(
    "mailguard_oldest_deferred_age_seconds",
    "Age of the oldest deferred robot reply still waiting (0: none; all replicas)",
)
OLDEST_ESCALATION = Gauge(
    "mailguard_oldest_escalation_age_seconds",
    "Age of the oldest escalation still waiting for a person (0: none; all replicas)",
)
CERTIFICATE_EXPIRY = Gauge(
    "mailguard_tls_certificate_expiry_timestamp_seconds",
    "When the TLS certificate the SMTP proxy serves expires (Unix time), by file",
    ["file"],
)
CONFIG_RELOADS = Counter(
    "mailguard_config_reloads",
    "Reloads on SIGHUP, by outcome (applied, failed: the running configuration stays)",
    ["outcome"],
)


def observe_message(source: str, kind: str | None, rules: Iterable[str], seconds: float) -> None:
    """Count one handled message; ``kind`` is None when it could not be classified."""
    MESSAGES.labels(source, kind or "unclassified").inc()
    for rule in rules:
        DECISIONS.labels(rule).inc()
    PROCESSING_SECONDS.labels(source).observe(seconds)
