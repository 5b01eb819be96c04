"""The milter's edits: what turns a message into the proxy's rewrite or divert, as Postfix edits."""

from __future__ import annotations

import pytest

from mailguard.milter import edits as ed
from mailguard.smtp.rewrite import divert, rewrite

RAW = (
    b"Received: from helpdesk\r\n\tby mail.example.test; Mon, 7 Dec 2026 08:00:00 +0000\r\n"
    b"From: Support <support@example.test>\r\n"
    b"To: carl@customer.example\r\n"
    b"Subject: Re: order\r\n"
    b"Message-ID: <ack@example.test>\r\n"
    b"Auto-Submitted: auto-replied\r\n"
    b"\r\n"
    b"We received your message.\r\n"
)


def apply(raw: bytes, edits: list[ed.Edit]) -> bytes:
    """What an MTA does with the header and body edits (the libmilter semantics)."""
    fields, body = ed.split_message(raw)
    for edit in edits:
        match edit:
            case ed.ChangeHeader(name, index, value):
                same = [i for i, (n, _) in enumerate(fields) if n.lower() == name.lower()]
                where = same[index - 1]
                if value:
                    fields[where] = (fields[where][0], f" {value}")
                else:
                    del fields[where]
            case ed.AddHeader(name, value):
                fields.append((name, f" {value}"))
            case ed.InsertHeader(index, name, value):
                fields.insert(index, (name, f" {value}"))
            case ed.ReplaceBody(new):
                body = new
    return ed.join_message(fields, body)


def test_split_and_join_keep_the_bytes() -> None:
    fields, body = ed.split_message(RAW)
    assert fields[0] == (
        "Received",
        " from helpdesk\r\n\tby mail.example.test; Mon, 7 Dec 2026 08:00:00 +0000",
    )
    assert body == b"We received your message.\r\n"
    assert ed.join_message(fields, body) == RAW


def test_a_message_without_a_body_is_all_header() -> None:
    assert ed.split_message(b"Subject: x\r\n") == ([("Subject", " x")], b"")


def test_rewrite_edits_make_the_proxys_rewrite() -> None:
    new = rewrite(
        RAW,
        sentence="A person will answer you.",
        subject_prefix="[Team] ",
        headers={"X-Mailguard-Handover": "yes", "X-Mailguard-Reason": "customer escalated"},
    )
    edits = ed.rewrite_edits(RAW, new)
    assert ed.ChangeHeader("Subject", 1, "[Team] Re: order") in edits
    assert ed.AddHeader("X-Mailguard-Handover", "yes") in edits
    assert isinstance(edits[-1], ed.ReplaceBody)
    after_fields, after_body = ed.split_message(apply(RAW, edits))
    want_fields, want_body = ed.split_message(new)
    assert after_body == want_body
    unfolded = sorted((n.lower(), ed.unfold(v)) for n, v in after_fields)
    assert unfolded == sorted((n.lower(), ed.unfold(v)) for n, v in want_fields)


def test_header_edits_change_remove_and_add_by_occurrence() -> None:
    before = [("A", " 1"), ("B", " x"), ("B", " y"), ("B", " z"), ("C", " c")]
    after = [("A", " 1"), ("B", " x"), ("C", " new"), ("D", " d")]
    assert ed.header_edits(before, after) == [
        ed.ChangeHeader("C", 1, "new"),
        # removals from the highest occurrence down: the lower indexes stay valid
        ed.ChangeHeader("B", 3, ""),
        ed.ChangeHeader("B", 2, ""),
        ed.AddHeader("D", "d"),
    ]
    assert apply(ed.join_message(before, b""), ed.header_edits(before, after)) == ed.join_message(
        [("A", " 1"), ("B", " x"), ("C", " new"), ("D", " d")], b""
    )


def test_refolding_alone_is_no_edit() -> None:
    before = [("To", " a@x.example,\r\n b@y.example")]
    after = [("To", " a@x.example, b@y.example")]
    assert ed.header_edits(before, after) == []


def test_divert_edits_replace_the_recipients_and_put_the_fields_on_top() -> None:
    diverted = divert(RAW, original_recipients=["carl@customer.example"], reason="escalated")
    edits = ed.divert_edits(["carl@customer.example"], "agents@example.test", diverted, RAW)
    assert edits[:2] == [
        ed.RemoveRecipient("carl@customer.example"),
        ed.AddRecipient("agents@example.test"),
    ]
    assert edits[2:] == [
        ed.InsertHeader(0, "X-Mailguard-Diverted-From", "carl@customer.example"),
        ed.InsertHeader(1, "X-Mailguard-Reason", "escalated"),
    ]
    assert apply(RAW, edits) == diverted


@pytest.mark.parametrize("value", [" plain", " caf\udce9 (Latin-1, not UTF-8)"])
def test_values_survive_bytes_that_are_not_utf8(value: str) -> None:
    raw = ed.join_message([("Subject", value)], b"x\r\n")
    assert ed.split_message(raw) == ([("Subject", value)], b"x\r\n")
