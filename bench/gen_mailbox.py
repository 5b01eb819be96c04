"""Generate a realistic support mailbox export for the audit bench (deterministic by seed).

    python bench/gen_mailbox.py OUT --messages 100000 --format maildir --seed 7

Writes the support mailbox of a fictitious company (example.com, guarded mailbox
support@example.com) as an mbox pair (OUT/INBOX.mbox + OUT/Sent.mbox) or a Maildir with a
Maildir++ ".Sent" folder. Customers open conversations that mostly go well (an automated
acknowledgement, then a person answers), and a realistic minority get stuck: automated
streaks, repeat contacts, angry first messages, customer-side out-of-office loops, the
voucher-partner referral ring and replies that come too late. Newsletters and bounces
add non-customer noise, and a few messages carry attachments. The same seed always
gives the same bytes, so bench figures are comparable between runs.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any, BinaryIO

OUR_DOMAIN = "example.com"
SUPPORT = "support@example.com"
PARTNER = "service@voucher-partner.example.net"
CUSTOMER_DOMAINS = (
    "example.org",
    "example.net",
    "example.de",
    "mail.example.org",
    "kunden.example.de",
    "acme-retail.example.org",
)
FIRST = "anna ben clara david emma felix greta hannah jonas lena james olivia liam mia".split()
FIRST += "noah sofia lucas amelia mehmet yuki".split()
LAST = "mueller schmidt schneider fischer weber meyer wagner becker smith jones taylor".split()
LAST += "brown williams nguyen kowalski yilmaz".split()
AGENTS = ("Julia Becker", "Tom Richter", "Sarah Klein", "Mark Evans")

# Localised phrases, kept as data beside this script.
TEXTS: dict[str, dict[str, Any]] = json.loads(
    Path(__file__).with_name("mail_texts.json").read_text(encoding="utf-8")
)

# Conversation patterns and their weights: most customers are served well.
PATTERNS = (
    ("served", 60),
    ("served_late", 8),
    ("streak", 8),
    ("repeat", 4),
    ("angry", 4),
    ("ping_pong", 3),
    ("referral", 3),
    ("waiting", 5),
    ("noise", 5),
)


@dataclass(frozen=True, slots=True)
class Generated:
    """What :func:`generate` wrote: the message count and who was planted in which pattern.

    ``planted`` maps each conversation pattern (``PATTERNS``) to the customer addresses
    that had a conversation of that pattern written completely; a customer may appear
    under several patterns. ``cut`` is the pattern and customer of the conversation the
    message limit cut short, if any (``None`` as customer for noise).
    """

    messages: int
    planted: dict[str, frozenset[str]]
    cut: tuple[str, str | None] | None


@dataclass(frozen=True, slots=True)
class Mail:
    """One generated message: when, which folder, and its bytes."""

    at: datetime
    sent: bool
    raw: bytes


class Generator:
    """Produces messages conversation by conversation from one seeded RNG."""

    def __init__(self, seed: int, start: datetime, days: int, customers: int) -> None:
        self.rng = random.Random(seed)
        self.start = start
        self.span = timedelta(days=days)
        self.serial = 0
        self.ticket = 10000
        self.customers = [self._customer(i) for i in range(customers)]
        self.customer: str | None = None  # of the conversation being made

    def _customer(self, i: int) -> tuple[str, str, str]:
        first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
        domain = CUSTOMER_DOMAINS[i % len(CUSTOMER_DOMAINS)]
        lang = "de" if domain.endswith(".de") or self.rng.random() < 0.4 else "en"
        name = f"{first.title()} {last.title()}"
        return name, f"{first}.{last}{i}@{domain}", lang

    def _id(self, domain: str) -> str:
        self.serial += 1
        digest = hashlib.blake2b(str(self.serial).encode(), digest_size=8).hexdigest()
        return f"{digest}.{self.serial}@{domain}"

    def _mail(
        self,
        at: datetime,
        sender: tuple[str, str],
        to: tuple[str, str],
        subject: str,
        body: str,
        *,
        refs: list[str],
        headers: tuple[str, ...] = (),
        attachment: bool = False,
    ) -> tuple[Mail, str]:
        sent = sender[1].endswith("@" + OUR_DOMAIN)
        msg_id = self._id(sender[1].split("@")[1])
        lines = []
        if not sent:
            lines.append(f"Return-Path: <{sender[1]}>")
            lines.append(
                f"Received: from mail.{sender[1].split('@')[1]} by mx1.example.com (Postfix) "
                f"with ESMTPS id {self.serial:010X}\n for <{to[1]}>; {format_datetime(at)}"
            )
        lines += [
            f"Date: {format_datetime(at)}",
            f'From: "{sender[0]}" <{sender[1]}>',
            f'To: "{to[0]}" <{to[1]}>',
            f"Subject: {_encode_subject(subject)}",
            f"Message-ID: <{msg_id}>",
        ]
        if refs:
            lines.append(f"In-Reply-To: <{refs[-1]}>")
            lines.append("References: " + "\n ".join(f"<{r}>" for r in refs[-6:]))
        lines += ["MIME-Version: 1.0", *headers]
        if attachment:
            blob = base64.encodebytes(self.rng.randbytes(24_000)).decode()
            lines += [
                'Content-Type: multipart/mixed; boundary="=-b1"',
                "",
                "--=-b1",
                "Content-Type: text/plain; charset=utf-8",
                "Content-Transfer-Encoding: 8bit",
                "",
                body,
                "--=-b1",
                'Content-Type: application/pdf; name="beleg.pdf"',
                "Content-Transfer-Encoding: base64",
                'Content-Disposition: attachment; filename="beleg.pdf"',
                "",
                blob,
                "--=-b1--",
            ]
        else:
            lines += ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"]
            lines += ["", body]
        return Mail(at, sent, "\n".join(lines).encode()), msg_id

    def conversations(self) -> Iterator[tuple[str, str | None, list[Mail]]]:
        """Endless (pattern, customer address, messages) with start times over the span.

        The customer is None for noise, which no customer writes.
        """
        names = [p for p, _ in PATTERNS]
        weights = [w for _, w in PATTERNS]
        while True:
            at = self.start + self.span * self.rng.random()
            at = at.replace(microsecond=0)
            pattern = self.rng.choices(names, weights)[0]
            self.customer = None
            mails = getattr(self, "_" + pattern)(at)
            yield pattern, self.customer, mails

    def _opening(self, at: datetime, angry: bool = False) -> tuple[dict[str, object], str]:
        name, addr, lang = self.rng.choice(self.customers)
        self.customer = addr
        subject, line = self.rng.choice(TEXTS[lang]["topics"])
        fill = {
            "code": f"GS-{self.rng.randrange(1000, 9999)}",
            "order": f"{self.rng.randrange(10**6)}",
        }
        body = f"{TEXTS[lang]['greeting']},\n\n{line.format(**fill)}.\n"
        if angry:
            body += TEXTS[lang]["angry"] + "\n"
        body += self.rng.choice(TEXTS[lang]["filler"]) + "\n\n" + name + "\n"
        self.ticket += 1
        ctx: dict[str, object] = {
            "customer": (name, addr),
            "lang": lang,
            "subject": subject.format(**fill),
            "ticket": self.ticket,
            "refs": [],
        }
        return ctx, body

    def _say(self, ctx: dict[str, object], at: datetime, kind: str, text: str = "") -> Mail:
        customer = ctx["customer"]
        assert isinstance(customer, tuple)
        refs = ctx["refs"]
        assert isinstance(refs, list)
        lang, ticket, subject = ctx["lang"], ctx["ticket"], str(ctx["subject"])
        texts = TEXTS[str(lang)]
        support = (texts["support_name"], SUPPORT)
        headers: tuple[str, ...] = ()
        if kind == "customer":
            sender, to = customer, support
            subject = texts["reply_prefix"] + subject if refs else subject
        elif kind == "ooo":
            sender, to = customer, support
            subject = texts["ooo_prefix"] + subject
            headers = ("Auto-Submitted: auto-replied", "X-Auto-Response-Suppress: All")
            until = (at + timedelta(days=10)).strftime("%d.%m.%Y")
            text = texts["ooo"].format(until=until)
        elif kind == "ack":
            sender, to = support, customer
            subject = f"[Ticket#{ticket}] {subject}"
            headers = ("Auto-Submitted: auto-replied", "X-Mailer: Zammad Mail Service")
            text = text or texts["ack"].format(ticket=ticket)
        else:  # a person on our side
            agent = self.rng.choice(AGENTS)
            sender, to = (f"{agent}, {support[0]}", SUPPORT), customer
            subject = f"Re: [Ticket#{ticket}] {subject}"
            text = f"{texts['greeting']} {customer[0]},\n\n{text or texts['done']}\n\n{agent}\n"
        previous = ctx.get("last")
        if kind in ("customer", "agent") and isinstance(previous, str) and previous:
            # Replies quote what they answer, as mail clients do by default.
            text += "\n" + "\n".join("> " + ln for ln in previous.splitlines()[:12]) + "\n"
        ctx["last"] = text
        attach = kind == "customer" and self.rng.random() < 0.02
        mail, msg_id = self._mail(
            at, sender, to, subject, text, refs=refs, headers=headers, attachment=attach
        )
        refs.append(msg_id)
        return mail

    @staticmethod
    def _text(ctx: dict[str, object], name: str) -> str:
        """A localised phrase for this conversation's language."""
        text: str = TEXTS[str(ctx["lang"])][name]
        return text.format(partner=PARTNER, support=SUPPORT) + "\n"

    def _minutes(self, low: float, high: float) -> timedelta:
        return timedelta(minutes=self.rng.uniform(low, high))

    def _served(self, at: datetime, late: bool = False) -> list[Mail]:
        ctx, body = self._opening(at)
        out = [self._say(ctx, at, "customer", body)]
        out.append(self._say(ctx, at + self._minutes(0.5, 2), "ack"))
        reply_at = at + (self._minutes(9 * 60, 40 * 60) if late else self._minutes(20, 7 * 60))
        out.append(self._say(ctx, reply_at, "agent"))
        if self.rng.random() < 0.3:
            out.append(
                self._say(
                    ctx, reply_at + self._minutes(30, 600), "customer", self._text(ctx, "thanks")
                )
            )
        return out

    def _served_late(self, at: datetime) -> list[Mail]:
        return self._served(at, late=True)

    def _streak(self, at: datetime) -> list[Mail]:
        ctx, body = self._opening(at)
        out = []
        for _ in range(self.rng.randint(2, 4)):
            out.append(self._say(ctx, at, "customer", body))
            out.append(self._say(ctx, at + self._minutes(0.5, 2), "ack"))
            at += self._minutes(24 * 60, 4 * 24 * 60)
            body = self._text(ctx, "still_waiting")
        if self.rng.random() < 0.5:
            out.append(self._say(ctx, at, "agent"))
        return out

    def _repeat(self, at: datetime) -> list[Mail]:
        ctx, body = self._opening(at)
        out = [self._say(ctx, at, "customer", body)]
        for _ in range(self.rng.randint(2, 3)):
            at += self._minutes(60, 16 * 60)
            out.append(self._say(ctx, at, "customer", self._text(ctx, "nudge")))
        return out

    def _angry(self, at: datetime) -> list[Mail]:
        ctx, body = self._opening(at, angry=True)
        out = [
            self._say(ctx, at, "customer", body),
            self._say(ctx, at + self._minutes(1, 2), "ack"),
        ]
        out.append(self._say(ctx, at + self._minutes(60, 20 * 60), "agent"))
        return out

    def _ping_pong(self, at: datetime) -> list[Mail]:
        ctx, body = self._opening(at)
        out = [
            self._say(ctx, at, "customer", body),
            self._say(ctx, at + self._minutes(1, 2), "ack"),
        ]
        at += self._minutes(12 * 60, 20 * 60)
        for _ in range(self.rng.randint(2, 5)):
            out.append(self._say(ctx, at, "ooo"))
            out.append(self._say(ctx, at + self._minutes(0.2, 1), "ack"))
            at += self._minutes(2, 30)
        return out

    def _referral(self, at: datetime) -> list[Mail]:
        ctx, body = self._opening(at)
        refer = self._text(ctx, "refer")
        out = [self._say(ctx, at, "customer", body)]
        out.append(self._say(ctx, at + self._minutes(1, 2), "ack", refer))
        back = self._text(ctx, "came_back")
        at += self._minutes(120, 48 * 60)
        out.append(self._say(ctx, at, "customer", back))
        out.append(self._say(ctx, at + self._minutes(1, 2), "ack", refer))
        return out

    def _waiting(self, at: datetime) -> list[Mail]:
        ctx, body = self._opening(at)
        return [
            self._say(ctx, at, "customer", body),
            self._say(ctx, at + self._minutes(1, 2), "ack"),
        ]

    def _noise(self, at: datetime) -> list[Mail]:
        if self.rng.random() < 0.6:
            sender = ("Vendor News", "news@mailer.vendor.example")
            headers: tuple[str, ...] = (
                "Precedence: bulk",
                "List-Unsubscribe: <mailto:unsub@mailer.vendor.example>",
            )
            subject, text = "Unser Newsletter im " + at.strftime("%B"), "Neuigkeiten.\n"
        else:
            sender = ("Mail Delivery System", "MAILER-DAEMON@mx.example.net")
            headers = ("Auto-Submitted: auto-replied",)
            subject, text = "Undelivered Mail Returned to Sender", "Delivery failed: 550 5.1.1\n"
        mail, _ = self._mail(
            at, sender, ("Support", SUPPORT), subject, text, refs=[], headers=headers
        )
        return [mail]


def _encode_subject(subject: str) -> str:
    if subject.isascii():
        return subject
    return "=?utf-8?b?" + base64.b64encode(subject.encode()).decode() + "?="


def generate(out: Path, messages: int, fmt: str, seed: int, days: int = 180) -> Generated:
    """Write ``messages`` messages under ``out``; returns how many and who was planted."""
    # About six messages per customer over the period, as in a real support mailbox where
    # most people write once or twice and a few come back again and again.
    gen = Generator(seed, datetime(2026, 1, 5, tzinfo=UTC), days, max(64, messages // 6))
    writer = _MboxWriter(out) if fmt == "mbox" else _MaildirWriter(out)
    written = 0
    planted: dict[str, set[str]] = {pattern: set() for pattern, _ in PATTERNS}

    def result(cut: tuple[str, str | None] | None) -> Generated:
        frozen = {pattern: frozenset(customers) for pattern, customers in planted.items()}
        return Generated(written, frozen, cut)

    try:
        for pattern, customer, conversation in gen.conversations():
            for mail in conversation:
                if written >= messages:
                    return result((pattern, customer))
                writer.write(mail)
                written += 1
            if customer is not None:
                planted[pattern].add(customer)
            if written >= messages:
                return result(None)
    finally:
        writer.close()
    raise AssertionError("unreachable: conversations() never ends")  # pragma: no cover


class _MboxWriter:
    def __init__(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        self.files: dict[bool, BinaryIO] = {
            False: open(out / "INBOX.mbox", "wb"),
            True: open(out / "Sent.mbox", "wb"),
        }

    def write(self, mail: Mail) -> None:
        stamp = mail.at.strftime("%a %b %d %H:%M:%S %Y")
        body = _quote_from(mail.raw)
        self.files[mail.sent].write(
            b"From MAILER-DAEMON " + stamp.encode() + b"\n" + body + b"\n\n"
        )

    def close(self) -> None:
        for handle in self.files.values():
            handle.close()


class _MaildirWriter:
    def __init__(self, out: Path) -> None:
        for folder in (out, out / ".Sent"):
            for sub in ("cur", "new", "tmp"):
                (folder / sub).mkdir(parents=True, exist_ok=True)
        self.out = out
        self.count = 0

    def write(self, mail: Mail) -> None:
        self.count += 1
        folder = self.out / ".Sent" if mail.sent else self.out
        name = f"{int(mail.at.timestamp())}.M{self.count}P1.bench:2,S"
        (folder / "cur" / name).write_bytes(mail.raw)

    def close(self) -> None:
        """Nothing stays open between messages."""


def _quote_from(raw: bytes) -> bytes:
    """mboxrd quoting, so body lines starting with "From " survive the round trip."""
    if b"\nFrom " not in raw and b"\n>From " not in raw:
        return raw
    lines = raw.split(b"\n")
    return b"\n".join(b">" + ln if ln.lstrip(b">").startswith(b"From ") else ln for ln in lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--format", choices=("mbox", "maildir"), default="mbox")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--days", type=int, default=180)
    args = parser.parse_args(argv)
    n = generate(args.out, args.messages, args.format, args.seed, args.days).messages
    print(f"wrote {n} messages to {args.out} ({args.format})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
