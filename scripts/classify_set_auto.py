"""Automated-mail generators for scripts/gen_classify_set.py: OOO, auto-replies, acks, bounces."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from classify_set_mime import (
    addr,
    assemble,
    date_header,
    enc,
    html_of,
    msgid,
    multipart,
    received,
    text_part,
    when,
)
from classify_set_text import DOMAINS, NAMES, TEXTS

LANGS = ("en", "de", "fr", "es", "it", "nl", "pt")
SUPPORT = "support@support.example.com"
COMPANY = "Acme"


@dataclass
class Ctx:
    """Random but reproducible people, ids and dates for one message."""

    rng: random.Random
    lang: str

    def __post_init__(self) -> None:
        rng = self.rng
        self.t = TEXTS[self.lang]
        self.name = rng.choice(NAMES[self.lang])
        self.colleague = rng.choice([n for n in NAMES[self.lang] if n != self.name])
        self.domain = rng.choice(DOMAINS[self.lang]).encode("idna").decode()
        first = self.name.split()[0].lower().encode("ascii", "ignore").decode() or "kunde"
        self.address = f"{first}.{rng.randrange(10, 99)}@{self.domain}"
        self.moment = when(rng)
        self.order = f"{rng.choice('ABCRK')}{rng.randrange(100000, 999999)}"
        self.ticket = str(rng.randrange(10000, 99999))
        self.values = {
            "name": self.name,
            "first": self.name.split()[0],
            "colleague": self.colleague,
            "until": f"{rng.randrange(10, 28)}.0{rng.randrange(4, 8)}.2025",
            "order": self.order,
            "ticket": self.ticket,
            "company": COMPANY,
            "tracking": f"JJD{rng.randrange(10**12)}",
            "rcpt": f"info@{self.domain}",
            "domain": self.domain,
            "user": self.address,
            "token": f"{rng.randrange(16**10):010x}",
        }
        self.values["orig"] = "{orig}"
        self.orig = self.fill(rng.choice(self.t["questions"])[0])  # type: ignore[index]
        self.values["orig"] = self.orig

    def fill(self, text: str) -> str:
        return text.format(**self.values)

    def base(self, sender: str, subject: str, style: str = "plain") -> list[tuple[str, str]]:
        host = sender.rpartition("@")[2] or "mail.example.net"
        return [
            ("Return-Path", f"<{sender.split('<')[-1].strip('>')}>" if "@" in sender else "<>"),
            ("Received", received(self.rng, f"mail.{host}", self.moment)),
            ("Date", date_header(self.moment)),
            ("From", sender),
            ("To", addr(f"{COMPANY} Support", SUPPORT)),
            ("Subject", enc(subject)),
            ("Message-ID", msgid(self.rng, host, style)),
        ]


Made = tuple[bytes, str, str]  # raw message, system imitated, note


def _person(c: Ctx) -> str:
    return addr(c.name, c.address)


def ooo_exchange(c: Ctx, rfc3834: bool) -> Made:
    body = c.fill(c.rng.choice(c.t["ooo_body"]))  # type: ignore[arg-type]
    headers = c.base(_person(c), f"{c.t['ooo_prefix']}: {c.orig}", "outlook")
    headers += [
        ("Thread-Topic", enc(c.orig)),
        ("Thread-Index", "AQHZ5k3s0m3Th1nG=="),
        ("In-Reply-To", msgid(c.rng, "support.example.com")),
        ("X-MS-Has-Attach", ""),
        ("X-MS-TNEF-Correlator", ""),
        ("X-Auto-Response-Suppress", "All"),
        ("X-MS-Exchange-Organization-AuthAs", "Internal"),
    ]
    if rfc3834:
        headers.append(("Auto-Submitted", "auto-generated"))
    entity = multipart(
        "alternative", [text_part(body), text_part(html_of(body), ctype="text/html")], c.rng
    )
    note = "Exchange OOF" + ("" if rfc3834 else " without RFC 3834 header")
    return assemble(headers, entity), "exchange", note


def ooo_sieve(c: Ctx) -> Made:
    body = c.fill(c.rng.choice(c.t["ooo_body"]))  # type: ignore[arg-type]
    subject = c.rng.choice([f"Auto: {c.orig}", str(c.t["ooo_subject"])])
    headers = c.base(_person(c), subject)
    headers[0] = ("Return-Path", "<>")
    headers += [
        ("In-Reply-To", msgid(c.rng, "support.example.com")),
        ("Auto-Submitted", "auto-replied (vacation)"),
        ("X-Sieve", "Pigeonhole Sieve 0.5.19 (e5b8a5a7)"),
        ("Precedence", "bulk"),
    ]
    return assemble(headers, text_part(body, "8bit")), "sieve", "RFC 5230 vacation"


def ooo_gmail(c: Ctx) -> Made:
    body = c.fill(c.rng.choice(c.t["ooo_body"]))  # type: ignore[arg-type]
    headers = c.base(_person(c), f"Re: {c.orig}", "gmail")
    headers += [("Auto-Submitted", "auto-replied"), ("In-Reply-To", msgid(c.rng, "x.example"))]
    entity = multipart(
        "alternative", [text_part(body), text_part(html_of(body), ctype="text/html")], c.rng
    )
    return assemble(headers, entity), "gmail", "Gmail vacation responder, Re: subject"


def ooo_webmail(c: Ctx) -> Made:
    """A webmail absence note with no header and no subject marker: only the text tells."""
    body = c.fill(str(c.t["ooo_body"][0]))  # type: ignore[index]
    headers = c.base(_person(c), f"Re: {c.orig}")
    headers.append(("In-Reply-To", msgid(c.rng, "support.example.com")))
    return assemble(headers, text_part(body)), "webmail", "absence note, body only"


def ooo_notes(c: Ctx) -> Made:
    body = c.fill(c.rng.choice(c.t["ooo_body"]))  # type: ignore[arg-type]
    headers = c.base(_person(c), f"{c.t['ooo_subject']}: {c.orig}")
    headers += [
        ("X-Mailer", "Lotus Domino Release 9.0.1FP10"),
        ("Auto-Submitted", "auto-generated"),
        ("X-Notes-Item", "AutoSubmitted"),
    ]
    return assemble(headers, text_part(body, "base64")), "lotus_notes", "Notes absence agent"


def auto_reply(c: Ctx, variant: int) -> Made:
    body = c.fill(str(c.t["auto_body"]))
    sender = addr(f"{COMPANY} Shop", f"service@shop.{c.domain}")
    headers = c.base(sender, f"Re: {c.orig}")
    notes = [
        "null sender + Precedence: bulk only",
        "cPanel autoresponder",
        "X-Autoreply",
        "RFC 3834",
    ]
    if variant == 0:
        headers[0] = ("Return-Path", "<>")
        headers.append(("Precedence", "bulk"))
    elif variant == 1:
        headers += [("X-Autorespond", c.orig[:40]), ("Precedence", "auto_reply")]
    elif variant == 2:
        headers.append(("X-Autoreply", "yes"))
    else:
        headers.append(("Auto-Submitted", "auto-replied"))
    return assemble(headers, text_part(body)), "autoresponder", notes[variant]


def ticket_ack(c: Ctx, variant: int) -> Made:
    body = c.fill(str(c.t["ack_body"]))
    systems = ["zendesk", "freshdesk", "otrs", "zammad", "jira", "generic"]
    system = systems[variant % len(systems)]
    subject = c.fill(str(c.t["ack_subject"]))
    sender = addr(f"{COMPANY} Support", f"support@{COMPANY.lower()}.zendesk.com")
    headers = c.base(sender, subject)
    if system == "zendesk":
        headers += [
            ("X-Mailer", "Zendesk Mailer"),
            ("Auto-Submitted", "auto-generated"),
            ("X-Zendesk-From-Account-Id", "8f1a2b"),
        ]
    elif system == "freshdesk":
        headers[5] = ("Subject", enc(f"Ticket Received - {c.orig}"))
        headers.append(("X-Freshdesk-Ticket", c.ticket))
    elif system == "otrs":
        headers[5] = ("Subject", enc(f"[Ticket#2025030{c.ticket}] RE: {c.orig}"))
        headers += [
            ("X-Loop", "yes"),
            ("Precedence", "bulk"),
            ("Auto-Submitted", "auto-replied"),
            ("X-Mailer", "Znuny Mail Service (6.5.x)"),
        ]
    elif system == "zammad":
        headers[5] = ("Subject", enc(f"{c.orig} [Ticket#{c.ticket}]"))
        headers += [
            ("X-Loop", "yes"),
            ("Precedence", "bulk"),
            ("Auto-Submitted", "auto-generated"),
            ("X-Mailer", "Zammad Mail Service"),
        ]
    elif system == "jira":
        headers[5] = ("Subject", enc(f"SUP-{c.ticket} {c.orig}"))
        headers += [
            ("Auto-Submitted", "auto-generated"),
            ("Precedence", "bulk"),
            ("X-JIRA-FingerPrint", "a1b2c3d4"),
        ]
    return assemble(headers, text_part(body)), system, "helpdesk acknowledgement"


def bounce(c: Ctx, variant: int) -> Made:
    rcpt = f"info@{c.domain}"
    original = (
        f"From: {SUPPORT}\r\nTo: {rcpt}\r\nSubject: {enc(c.orig)}\r\n"
        f"Message-ID: {msgid(c.rng, 'support.example.com')}\r\n"
    ).encode()
    status = (
        f"Reporting-MTA: dns; mx.{c.domain}\r\n\r\nFinal-Recipient: rfc822; {rcpt}\r\n"
        "Action: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 User unknown"
        "\r\n"
    ).encode()
    report = [
        b"Content-Type: message/delivery-status\r\n\r\n" + status,
        b"Content-Type: text/rfc822-headers\r\n\r\n" + original,
    ]
    kinds = ["postfix", "exim", "qmail", "exchange", "gmail", "delay", "sendmail"]
    system = kinds[variant % len(kinds)]
    if system == "exchange":
        text = c.fill(str(c.t["bounce_body"]))
        headers = c.base(
            addr("Microsoft Outlook", f"postmaster@{c.domain}"),
            f"{c.t['bounce_subject']}: {c.orig}",
            "outlook",
        )
        headers += [("X-MS-Exchange-Message-Is-Ndr", ""), ("Auto-Submitted", "auto-replied")]
        entity = multipart(
            "report", [text_part(text)] + report, c.rng, "; report-type=delivery-status"
        )
        return assemble(headers, entity), system, "localized Exchange NDR"
    daemon = addr("Mail Delivery System", f"MAILER-DAEMON@mx.{c.domain}")
    if system in ("postfix", "delay"):
        subject = (
            "Undelivered Mail Returned to Sender"
            if system == "postfix"
            else "Delayed Mail (still being retried)"
        )
        text = (
            f"This is the mail system at host mx.{c.domain}.\n\nI'm sorry to have to inform "
            "you that your message could not\nbe delivered to one or more recipients.\n\n"
            f"<{rcpt}>: host mx.{c.domain} said: 550 5.1.1 User unknown"
        )
        if system == "delay":
            text = (
                f"This is the mail system at host mx.{c.domain}.\n\n####### THIS IS A "
                "WARNING ONLY. YOU DO NOT NEED TO RESEND YOUR MESSAGE. #######\n\nYour "
                "message could not be delivered for more than 4 hour(s)."
            )
            status = status.replace(b"failed", b"delayed").replace(b"5.1.1", b"4.4.1")
            report[0] = b"Content-Type: message/delivery-status\r\n\r\n" + status
        headers = c.base(daemon, subject)
        headers[0] = ("Return-Path", "<>")
        headers.append(("Auto-Submitted", "auto-replied"))
        entity = multipart(
            "report", [text_part(text, "7bit")] + report, c.rng, "; report-type=delivery-status"
        )
        return assemble(headers, entity), system, "RFC 3464 DSN"
    if system == "exim":
        headers = c.base(daemon, "Mail delivery failed: returning message to sender")
        headers += [("X-Failed-Recipients", rcpt), ("Auto-Submitted", "auto-replied")]
        text = (
            "This message was created automatically by mail delivery software.\n\nA message "
            f"that you sent could not be delivered to one or more of its\nrecipients.\n\n  "
            f"{rcpt}\n    SMTP error from remote mail server after RCPT TO:<{rcpt}>:\n    550 "
            "5.1.1 User unknown\n\n------ This is a copy of the message, including all the "
            "headers. ------\n" + original.decode()
        )
        return assemble(headers, text_part(text, "7bit")), system, "Exim plain bounce"
    if system == "qmail":
        headers = c.base(addr("", f"MAILER-DAEMON@{c.domain}"), "failure notice")
        text = (
            f"Hi. This is the qmail-send program at {c.domain}.\nI'm afraid I wasn't able to "
            f"deliver your message to the following addresses.\n\n<{rcpt}>:\nSorry, no "
            "mailbox here by that name. (#5.1.1)\n\n--- Below this line is a copy of the "
            "message.\n"
        )
        return assemble(headers, text_part(text, "7bit")), system, "qmail bounce"
    if system == "gmail":
        headers = c.base(
            addr("Mail Delivery Subsystem", "mailer-daemon@googlemail.com"),
            "Delivery Status Notification (Failure)",
            "gmail",
        )
        headers += [("X-Failed-Recipients", rcpt), ("Auto-Submitted", "auto-replied")]
        text = (
            f"Address not found\n\nYour message wasn't delivered to {rcpt} because the "
            "address couldn't be found, or is unable to receive mail."
        )
        entity = multipart(
            "report", [text_part(text)] + report, c.rng, "; report-type=delivery-status"
        )
        return assemble(headers, entity), system, "Gmail DSN"
    headers = c.base(
        addr("Mail Delivery Subsystem", f"MAILER-DAEMON@mx.{c.domain}"),
        "Returned mail: see transcript for details",
    )
    text = (
        "The original message was received at " + date_header(c.moment) + "\n\n   ----- "
        f"The following addresses had permanent fatal errors -----\n<{rcpt}>"
    )
    entity = multipart(
        "report", [text_part(text, "7bit")] + report, c.rng, "; report-type=delivery-status"
    )
    return assemble(headers, entity), system, "Sendmail DSN"


Generator = Callable[[Ctx], Made]
