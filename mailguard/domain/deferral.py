"""When the robot answers before mailguard has seen the question: which reply to defer.

A mail server's own auto-responder (Sieve vacation, Exchange) answers during delivery: with
Dovecot the vacation reply's SMTP transaction runs inside the LMTP delivery of the customer's
message, and that message reaches INBOX (and the IMAP watcher) only after the transaction
ends. Deciding such a reply at once decides it without the message it answers: an angry first
message would get the robot's answer unchanged. Waiting for the watcher inside the SMTP
transaction would stall the delivery until the server gives up. So the proxy stores the reply,
answers 250, and decides once the watcher has recorded the message it answers (or a bounded
time has passed).

Pure: the engine asks :func:`awaited_message` which message, if any, an outbound message
waits for; the store answers whether that message has been recorded.
"""

from __future__ import annotations

from collections.abc import Sequence

from mailguard.domain.model import Direction


def answered_message(in_reply_to: Sequence[str], references: Sequence[str]) -> str | None:
    """The Message-ID a reply answers, or None for a message that answers nothing.

    RFC 5322 section 3.6.4: In-Reply-To holds the parent's msg-id (a single one in practice;
    several only when a reply answers several messages, of which the first is taken), and
    References ends with the parent's msg-id. In-Reply-To wins; References is the fallback
    for mailers that only set that one.
    """
    for ids in (in_reply_to, tuple(reversed(references))):
        for found in ids:
            if found.strip():
                return found.strip()
    return None


def awaited_message(
    direction: Direction,
    automated: bool,
    in_reply_to: Sequence[str],
    references: Sequence[str],
) -> str | None:
    """The message an outbound reply must wait for before it is decided, or None.

    Only automated outbound replies wait: a person's reply is never held back (mailguard never
    stands between an agent and a customer), and inbound mail is read from the mailbox, after
    delivery, so it never answers something the watcher has not had the chance to see.
    """
    if direction is not Direction.OUTBOUND or not automated:
        return None
    return answered_message(in_reply_to, references)
