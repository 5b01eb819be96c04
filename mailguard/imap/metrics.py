"""mailguard's own Prometheus metrics for the IMAP side (``mailguard_imap_*``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

CONNECTED = Gauge(
    "mailguard_imap_connected",
    "1 while the watcher's connection of this role is up",
    ["mailbox", "role"],
)
MESSAGES = Counter(
    "mailguard_imap_messages",
    "Messages read from a folder and handed to the engine, by outcome",
    ["mailbox", "folder", "status"],
)
RECONNECTS = Counter(
    "mailguard_imap_reconnects",
    "Connection failures after which the watcher reconnects",
    ["mailbox", "role"],
)
UIDVALIDITY_CHANGES = Counter(
    "mailguard_imap_uidvalidity_changes",
    "Folders rescanned because the server reported a new UIDVALIDITY",
    ["mailbox", "folder"],
)
AGENT_SIGNALS = Counter(
    "mailguard_imap_agent_signals",
    "Agent feedback seen (handled folder, handled keyword)",
    ["mailbox", "signal"],
)
ACTIONS = Counter(
    "mailguard_imap_actions",
    "Outbox actions the executor finished, by kind and outcome",
    ["kind", "outcome"],
)
ACTIONS_PENDING = Gauge(
    "mailguard_imap_actions_pending",
    "Outbox actions waiting, by kind (kinds without a handler stay here, visible)",
    ["kind"],
)
PROCESS_SECONDS = Histogram(
    "mailguard_imap_process_seconds",
    "Time from fetching a message to its committed decision",
    ["mailbox"],
)
LOGIN_REFUSED = Gauge(
    "mailguard_imap_login_refused",
    "1 while the IMAP server refuses the mailbox's login (password or token)",
    ["mailbox"],
)
LAST_SYNC = Gauge(
    "mailguard_imap_last_sync_timestamp_seconds",
    "When a folder was last read up to its end (Unix time): every message in it decided",
    ["mailbox", "folder"],
)
