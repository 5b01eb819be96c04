"""Bulk, notification, challenge-response and human generators for gen_classify_set.py."""

from __future__ import annotations

from classify_set_auto import COMPANY, SUPPORT, Ctx, Made
from classify_set_mime import (
    addr,
    assemble,
    attachment,
    date_header,
    enc,
    html_of,
    msgid,
    multipart,
    text_part,
)


def newsletter(c: Ctx, variant: int) -> Made:
    body = c.fill(str(c.t["newsletter_body"]))
    sender = addr(f"Shop {c.domain.split('.')[0].title()}", f"news@news.{c.domain}")
    headers = c.base(sender, str(c.t["newsletter_subject"]))
    headers[0] = ("Return-Path", f"<bounce-mc.us5_{c.ticket}.{c.order}@mail{c.ticket}.mcsv.net>")
    systems = ["mailchimp", "cleverreach", "brevo", "html_only"]
    system = systems[variant % len(systems)]
    unsubscribe = f"<https://news.{c.domain}/unsubscribe?u={c.ticket}>, <mailto:unsub@{c.domain}>"
    headers += [
        ("List-Unsubscribe", unsubscribe),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    ]
    if system == "mailchimp":
        headers += [
            ("X-Mailer", "Mailchimp Mailer - **CID" + c.ticket + "**"),
            ("X-MC-User", "a1b2c3d4e5"),
            ("Feedback-ID", f"{c.ticket}:mailchimp"),
            ("Precedence", "bulk"),
        ]
    elif system == "cleverreach":
        headers += [
            ("X-Mailer", "CleverReach Mailer"),
            ("X-CSA-Complaints", "csa-complaints@eco.de"),
        ]
    elif system == "brevo":
        headers += [("X-Mailer", "Sendinblue"), ("Feedback-ID", f"42:{c.ticket}:Sendinblue")]
    if system == "html_only":
        entity = text_part(html_of(body), "quoted-printable", "text/html")
    else:
        entity = multipart(
            "alternative", [text_part(body), text_part(html_of(body), ctype="text/html")], c.rng
        )
    return assemble(headers, entity), system, "newsletter"


def list_post(c: Ctx, variant: int) -> Made:
    subject, text = c.rng.choice(c.t["questions"])  # type: ignore[arg-type]
    listname = f"users@lists.{c.domain}"
    headers = c.base(addr(c.name, c.address), f"[users] {c.fill(subject)}")
    headers[4] = ("To", listname)
    if variant % 2 == 0:
        headers += [
            ("List-Id", f"<users.lists.{c.domain}>"),
            ("List-Post", f"<mailto:{listname}>"),
            ("Precedence", "list"),
            ("Sender", f"users-bounces@lists.{c.domain}"),
            ("X-Mailman-Version", "2.1.39"),
        ]
        system = "mailman"
    else:
        headers += [
            ("Mailing-list", "list users@googlegroups.com; contact users+owners@googlegroups.com"),
            ("List-Id", "<users.googlegroups.com>"),
            ("Precedence", "list"),
        ]
        system = "google_groups"
    return assemble(headers, text_part(c.fill(text))), system, "person's post via a list"


def shipping(c: Ctx) -> Made:
    sender = addr(
        "Paketdienst" if c.lang == "de" else "Parcel service", f"noreply@track.{c.domain}"
    )
    headers = c.base(sender, c.fill(str(c.t["ship_subject"])))
    headers[4] = ("To", addr(c.name, c.address))
    body = c.fill(str(c.t["ship_body"]))
    entity = multipart(
        "alternative", [text_part(body), text_part(html_of(body), ctype="text/html")], c.rng
    )
    return assemble(headers, entity), "parcel", "shipping notice from no-reply"


def read_receipt(c: Ctx) -> Made:
    prefix = {
        "de": "Gelesen",
        "fr": "Lu",
        "es": "Leído",
        "it": "Letto",
        "nl": "Gelezen",
        "pt": "Lida",
    }.get(c.lang, "Read")
    headers = c.base(addr(c.name, c.address), f"{prefix}: {c.orig}", "outlook")
    human = text_part(
        f"Your message\n\n  To: {c.address}\n  Subject: {c.orig}\n\nwas read on "
        f"{date_header(c.moment)}."
    )
    disposition = (
        b"Content-Type: message/disposition-notification\r\n\r\nReporting-UA: "
        b"Microsoft Outlook\r\nFinal-Recipient: rfc822;"
        + c.address.encode()
        + b"\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n"
    )
    entity = multipart(
        "report", [human, disposition], c.rng, "; report-type=disposition-notification"
    )
    return assemble(headers, entity), "outlook_mdn", "RFC 8098 read receipt"


def cron_report(c: Ctx) -> Made:
    host = f"db1.{c.domain}"
    headers = c.base(f"root@{host} (Cron Daemon)", f"Cron <root@{host}> /usr/local/bin/backup.sh")
    headers += [("X-Cron-Env", "<SHELL=/bin/sh>"), ("X-Cron-Env", "<HOME=/root>")]
    text = "backup: 14 tables dumped, 0 errors\nrsync: sent 1.2G bytes  received 35 bytes"
    return assemble(headers, text_part(text, "7bit")), "cron", "cron job output"


def account_notice(c: Ctx) -> Made:
    headers = c.base(
        addr(f"{COMPANY} Cloud", f"no-reply@accounts.{c.domain}"),
        "Security alert: new sign-in" if c.lang == "en" else "Sicherheitswarnung",
    )
    headers += [("Auto-Submitted", "auto-generated"), ("Feedback-ID", "security:accounts")]
    text = "We noticed a new sign-in attempt to your account from Firefox on Windows."
    return assemble(headers, text_part(text)), "saas", "account security notice"


def challenge(c: Ctx, variant: int) -> Made:
    body = c.fill(str(c.t["challenge_body"]))
    subject = c.fill(str(c.t["challenge_subject"]))
    headers = c.base(addr(c.name, c.address), subject)
    system = "spamarrest"
    if variant == 1:
        headers[5] = ("Subject", f"Your email requires verification verify#{c.values['token']}")
        headers += [("X-Boxtrapper", c.values["token"]), ("Auto-Submitted", "auto-replied")]
        system = "boxtrapper"
    elif variant == 2:
        headers.append(("Precedence", "bulk"))
    return assemble(headers, text_part(body)), system, "challenge-response"


def _quote_block(c: Ctx, quoted: str, outlook: bool, subject: str) -> str:
    if outlook:
        frm, sent, to, subj = c.t["outlook"]  # type: ignore[misc]
        head = (
            f"\n\n________________________________\n{frm}: {COMPANY} Support <{SUPPORT}>\n"
            f"{sent}: {date_header(c.moment)}\n{to}: {c.name} <{c.address}>\n"
            f"{subj}: {subject}\n\n"
        )
        return head + quoted
    attribution = str(c.t["attribution"]).format(
        date=date_header(c.moment), sender=f"{COMPANY} Support <{SUPPORT}>"
    )
    return "\n\n" + attribution + "\n" + "\n".join("> " + line for line in quoted.split("\n"))


def human(c: Ctx, variant: int) -> Made:
    """Ordinary and hard human mail; ``variant`` picks the case."""
    rng = c.rng
    client = rng.choice(["outlook", "gmail", "thunderbird", "apple", "webmail"])
    subject, text = rng.choice(c.t["questions"])  # type: ignore[arg-type]
    subject, text = c.fill(subject), c.fill(text)
    note = "question"
    html_only = False
    if variant == 1:
        subject, text = (c.fill(s) for s in rng.choice(c.t["angry"]))  # type: ignore[arg-type]
        note = "angry customer"
    elif variant == 2:
        ooo = c.fill(rng.choice(c.t["ooo_body"]))  # type: ignore[arg-type]
        auto_subject = f"{c.t['ooo_prefix']}: {subject}"
        subject = f"{c.t['reply_prefix']}: {auto_subject}"
        text = c.fill(str(c.t["human_reply_auto"])) + _quote_block(c, ooo, True, auto_subject)
        client, note = "outlook", "reply quoting an auto-reply (Outlook block)"
    elif variant == 3:
        ack = c.fill(str(c.t["ack_body"]))
        ack_subject = c.fill(str(c.t["ack_subject"]))
        subject = f"Re: {ack_subject}"
        text = c.fill(str(c.t["human_reply_auto"])) + _quote_block(c, ack, False, ack_subject)
        client, note = "gmail", "reply quoting a ticket acknowledgement"
    elif variant == 4:
        subject, text = (c.fill(s) for s in c.t["ooo_mention"])  # type: ignore[misc]
        note = "person mentioning own absence"
    elif variant == 5:
        bounce = (
            f"This is the mail system at host mx.{c.domain}.\nI'm sorry to have to inform "
            "you that your message could not be delivered.\n<info@partner.example>: 550 "
            "5.1.1 User unknown"
        )
        subject = f"{c.t['fwd_prefix']}: Undelivered Mail Returned to Sender"
        text = (
            "Hello, my mail to your partner bounced, see below. Which address is right?\n\n"
            f"{c.name}\n\n---------- Forwarded message ---------\nFrom: Mail Delivery System "
            f"<MAILER-DAEMON@mx.{c.domain}>\n\n{bounce}"
        )
        note = "forwarded bounce"
    elif variant == 6:
        html_only, note = True, "HTML-only mail with blockquote"
    elif variant == 7:
        subject = f"Antwort: {c.orig}"
        client, note = "notes", "Lotus Notes reply ('Antwort:')"
    elif variant == 8:
        return _agent_reply(c)
    return _human_message(c, subject, text, client, html_only, note)


def _agent_reply(c: Ctx) -> Made:
    """A support agent's personal answer sent through the helpdesk: robot-like phrases."""
    text = (
        f"Hello {c.values['first']},\n\nthank you for your message. I checked your ticket "
        f"#{c.ticket} and corrected the invoice; the new one is attached. We will get back "
        "to you if anything else is needed.\n\nBest regards\nMaria, Acme Support"
    )
    sender = addr("Maria (Acme Support)", f"support@{COMPANY.lower()}.zendesk.com")
    headers = c.base(sender, f"[Acme] Re: {c.orig}")
    headers += [("X-Mailer", "Zendesk Mailer"), ("In-Reply-To", msgid(c.rng, c.domain))]
    return assemble(headers, text_part(text)), "zendesk", "agent's personal reply via helpdesk"


def _human_message(
    c: Ctx, subject: str, text: str, client: str, html_only: bool, note: str
) -> Made:
    style = {"outlook": "outlook", "gmail": "gmail"}.get(client, "plain")
    headers = c.base(addr(c.name, c.address), subject, style)
    if client == "outlook":
        headers += [
            ("Thread-Topic", enc(subject)),
            ("Thread-Index", "AdmT0p1cThReAdInDeX=="),
            ("X-Mailer", "Microsoft Outlook 16.0"),
            ("X-MS-Has-Attach", ""),
            ("X-Auto-Response-Suppress", "All"),
            ("Content-Language", f"{c.lang}-XX"),
        ]
    elif client == "thunderbird":
        headers.append(("User-Agent", "Mozilla Thunderbird 128.3.1"))
    elif client == "apple":
        headers.append(("X-Mailer", "Apple Mail (2.3774.600.62)"))
        text += "\n\nVon meinem iPhone gesendet" if c.lang == "de" else "\n\nSent from my iPhone"
    elif client == "notes":
        headers.append(("X-Mailer", "Lotus Notes Release 9.0.1 October 14, 2013"))
    if c.rng.random() < 0.5:
        headers.append(("In-Reply-To", msgid(c.rng, "support.example.com")))
    if html_only:
        entity = text_part(
            html_of(text, quoted=f"<p>{COMPANY} Support: {c.orig}</p>"),
            "quoted-printable",
            "text/html",
        )
    elif client in ("gmail", "outlook"):
        entity = multipart(
            "alternative", [text_part(text), text_part(html_of(text), ctype="text/html")], c.rng
        )
    else:
        entity = text_part(text, c.rng.choice(["8bit", "quoted-printable", "base64"]))
    if c.rng.random() < 0.15:
        entity = multipart("mixed", [entity, attachment("scan.pdf", 2048, c.rng)], c.rng)
    return assemble(headers, entity), client, note
