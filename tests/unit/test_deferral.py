"""The deferral's pure parts: which message a reply waits for, which replies wait, the key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mailguard.app.proxy import deferral_of
from mailguard.config import parse_config
from mailguard.domain.deferral import answered_message, awaited_message
from mailguard.domain.model import Direction
from mailguard.errors import ConfigError
from mailguard.smtp.held import summary
from mailguard.store.records import HeldMail

OUT, IN = Direction.OUTBOUND, Direction.INBOUND


@pytest.mark.parametrize(
    ("in_reply_to", "references", "expected"),
    [
        (("q@c.example",), ("root@c.example", "q@c.example"), "q@c.example"),
        # In-Reply-To names the parent; References is only the fallback.
        (("parent@c.example",), ("root@c.example", "other@c.example"), "parent@c.example"),
        ((), ("root@c.example", "mid@c.example", "parent@c.example"), "parent@c.example"),
        (("first@c.example", "second@c.example"), (), "first@c.example"),
        ((" ",), ("parent@c.example",), "parent@c.example"),
        ((), (), None),
    ],
)
def test_answered_message(
    in_reply_to: tuple[str, ...], references: tuple[str, ...], expected: str | None
) -> None:
    assert answered_message(in_reply_to, references) == expected


@pytest.mark.parametrize(
    ("direction", "automated", "in_reply_to", "expected"),
    [
        (OUT, True, ("q@c.example",), "q@c.example"),  # a robot's reply: waits
        (OUT, False, ("q@c.example",), None),  # a person's reply never waits
        (IN, True, ("q@c.example",), None),  # inbound mail is read after delivery
        (OUT, True, (), None),  # answers nothing: nothing to wait for
    ],
)
def test_awaited_message(
    direction: Direction, automated: bool, in_reply_to: tuple[str, ...], expected: str | None
) -> None:
    assert awaited_message(direction, automated, in_reply_to, ()) == expected


BOXES = """
mailboxes:
  - name: support
    addresses: [support@example.com]
    imap: {host: imap.example.com, user: support@example.com, password: pw}
  - name: shop
    addresses: [shop@example.com]
"""


def test_defer_unseen_defaults_to_a_minute_in_watched_mailboxes_only() -> None:
    deferral = deferral_of(parse_config(BOXES, "f.yaml", {}))
    assert deferral is not None
    assert deferral.within == timedelta(seconds=60)
    # shop@ has no watcher: a reply from it would only ever wait for the deadline.
    assert deferral.mailboxes == frozenset({"support"})


@pytest.mark.parametrize("text", ["proxy: {defer_unseen: 0}", "proxy: {defer_unseen: 0s}"])
def test_defer_unseen_zero_turns_it_off(text: str) -> None:
    assert deferral_of(parse_config(BOXES + text, "f.yaml", {})) is None


def test_no_watched_mailbox_means_no_deferral() -> None:
    assert deferral_of(parse_config("proxy: {defer_unseen: 30s}", "f.yaml", {})) is None


@pytest.mark.parametrize("value", ["-1s", "2h", "soon"])
def test_defer_unseen_out_of_range_names_the_key(value: str) -> None:
    with pytest.raises(ConfigError, match="proxy.defer_unseen"):
        parse_config(f"proxy: {{defer_unseen: {value}}}", "f.yaml", {})


def test_held_list_shows_a_deferred_reply_distinctly() -> None:
    at = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    common = {
        "mailbox": "support",
        "direction": OUT,
        "raw": b"",
        "envelope_sender": None,
        "envelope_recipients": ("carl@c.example",),
        "mail_options": (),
        "rcpt_options": (),
        "held_at": at,
    }
    waiting = HeldMail(
        id=1,
        message_id="v@example.com",
        reason="deferred: waiting for <q@c.example>",
        state="deferred",
        awaits="q@c.example",
        decide_by=at + timedelta(seconds=60),
        **common,  # type: ignore[arg-type]
    )
    held = HeldMail(
        id=2,
        message_id="h@example.com",
        reason="customer escalated",
        state="held",
        **common,  # type: ignore[arg-type]
    )
    first, second = summary([waiting, held])
    assert "  deferred  support" in first
    assert "waiting for <q@c.example> (decided by 09:01:00 UTC at the latest)" in first
    assert "  held      support" in second and "decided by" not in second
