"""``mailguard status`` as text: what an operator reads for each folder."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from mailguard.app.operator import print_status
from mailguard.store.overview import StatusView
from mailguard.store.records import Checkpoint

AT = datetime(2026, 3, 5, 9, 30, tzinfo=UTC)


def test_folders_and_keyword_scans_read_as_such() -> None:
    view = StatusView(
        open_escalations=(),
        held=0,
        deferred=0,
        outbox={},
        failed_actions=(),
        checkpoints=(
            Checkpoint("support", "INBOX", 17, 42, None, AT),
            Checkpoint("support", "keyword:$MailguardHandled:Escalated", 18, 0, 7, AT),
        ),
    )
    out = io.StringIO()
    print_status(view, None, out)
    lines = out.getvalue().splitlines()
    assert "  support/INBOX: UID 42 (UIDVALIDITY 17), 2026-03-05 09:30 UTC" in lines
    assert (
        "  support/Escalated: scanned for keyword $MailguardHandled, 2026-03-05 09:30 UTC" in lines
    )
    assert not any("keyword:" in line for line in lines)


def test_held_and_deferred_mail_are_counted_apart() -> None:
    view = StatusView(
        open_escalations=(), held=3, deferred=2, outbox={}, failed_actions=(), checkpoints=()
    )
    out = io.StringIO()
    print_status(view, None, out)
    lines = out.getvalue().splitlines()
    assert "held messages: 3  (mailguard held list)" in lines
    assert any(line.startswith("deferred replies: 2  (robot replies waiting") for line in lines)


def test_what_the_mail_server_lacks_is_listed() -> None:
    view = StatusView(
        open_escalations=(),
        held=0,
        deferred=0,
        outbox={},
        failed_actions=(),
        checkpoints=(),
        server_limits=(
            ("support", "keywords", "not stored (INBOX: PERMANENTFLAGS (\\Seen) without \\*)"),
            ("support", "sent", "Sent Items (marked \\Sent)"),
        ),
    )
    out = io.StringIO()
    print_status(view, None, out)
    lines = out.getvalue().splitlines()
    assert "mail servers (what they lack, where Sent is):" in lines
    assert "  support keywords: not stored (INBOX: PERMANENTFLAGS (\\Seen) without \\*)" in lines
    assert "  support sent: Sent Items (marked \\Sent)" in lines


def test_the_oldest_item_of_each_kind_is_shown_beside_its_bound() -> None:
    from datetime import timedelta

    from mailguard.app.operator import print_ages
    from mailguard.domain.retention import RetentionPolicy
    from mailguard.store.ages import KindAge

    ages = {
        "held": KindAge("held", "held robot replies waiting for a person", 2, AT),
        "failed_messages": KindAge("failed_messages", "failed messages", 0, None),
    }
    out = io.StringIO()
    print_ages(ages, RetentionPolicy(), AT + timedelta(days=3, hours=2), out)
    assert out.getvalue().splitlines() == [
        "stored data (count, oldest, retention):",
        "  held robot replies waiting for a person: 2, oldest 2026-03-05 09:30 UTC (3 d 2 h ago); "
        "dropped unsent after 30 d (retention.held)",
        "  failed messages: none; removed after 30 d (retention.failed)",
    ]
