"""A customer's right of access and to erasure, against the real daemon (GDPR Art. 15, 17).

One `mailguard run` on Dovecot, the proxy and SQLite or PostgreSQL. Carl ends up with every
kind of data mailguard stores: messages by IMAP and by the proxy in two guarded mailboxes
(``support`` and ``sales``, written as Carl@, carl@ and carl+shop@), decisions with evidence,
a thread, an escalation with the agent's note in ``Escalated``, a held robot reply with its
copy in ``Held``, a deferred robot reply, a failed message (an injected classifier fault),
outbox actions and the agents' notification. Dora, another customer, gets the same.

* ``mailguard privacy export`` lists each of Carl's items, none of Dora's;
* ``erase`` refuses while Carl's held mail waits; with ``--drop-held --mailboxes`` a dump of
  every table holds no variant of Carl's address, nor do mailguard's copies in
  ``Escalated`` and ``Held``; Carl's own messages stay in the mailbox; every row and copy
  of Dora's is byte for byte what it was; a second erasure changes nothing;
* Carl's next message starts from nothing;
* the whole run's log (the daemon's and the commands') holds no subject, no body line and no
  address (pseudonymised by default, with a key generated into the data directory), and the
  erasure is logged by a keyed hash only.
"""

from __future__ import annotations

import base64
import json
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
import yaml

from mailguard.ops.logsetup import KEY_FILE
from tests.dovecot.fixture import SUPPORT, Dovecot
from tests.integration.daemon_support import Daemon, daemon_config, wait_for
from tests.integration.faulty_mailguard import FAULT
from tests.integration.imap_support import OWN_DOMAIN, customer_mail, mid
from tests.integration.privacy_support import dump, folder, mentions, rows_mentioning
from tests.integration.robots import CompanyMx, HelpdeskRobot, Internet, Ledger, Traffic

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp, pytest.mark.slow]

AGENTS = "agents@example.test"
SALES = f"sales@{OWN_DOMAIN}"
CUSTOMER_DOMAIN = "customer.example"
# Tables the daemon writes while it runs without any customer (the IMAP checkpoints move
# with every poll); they hold no personal data and are left out of "byte for byte".
MOVING = {"sync_checkpoints"}


class Person:
    """One customer of the story: the mail they sent and what it said."""

    def __init__(self, local: str, topic: str) -> None:
        self.local = local
        self.address = f"{local}@{CUSTOMER_DOMAIN}"
        self.topic = topic
        self.sent: list[EmailMessage] = []
        self.texts: list[str] = []  # every subject and body line, never to be logged

    def mail(self, subject: str, body: str, **kw: Any) -> EmailMessage:
        msg = customer_mail(kw.pop("sender", self.address), subject, body, **kw)
        self.sent.append(msg)
        self.texts += [subject, *(line for line in body.splitlines() if line.strip())]
        return msg

    def names(self, value: Any) -> bool:
        return mentions(value, self.local, CUSTOMER_DOMAIN)


async def _proxy(daemon: Daemon, msg: EmailMessage, sender: str) -> str:
    _, reply = await aiosmtplib.send(
        msg, hostname="127.0.0.1", port=daemon.smtp_port, sender=sender, timeout=30
    )
    return reply


async def _every_kind_of_data(
    person: Person, daemon: Daemon, mx: CompanyMx, robot: HelpdeskRobot, traffic: Traffic
) -> dict[str, str]:
    """Give ``person`` every kind of stored data; returns the Message-IDs by what they are."""
    ids: dict[str, str] = {}
    first = person.mail(f"{person.topic} does not work", f"My {person.topic} fails.\n")
    await mx.deliver(first)
    await traffic.idle()
    again = person.mail(
        f"Re: {robot.sent[-1]['Subject']}",
        f"Hello? The {person.topic} still fails, I wrote yesterday.\n",
        in_reply_to=mid(robot.sent[-1]),
    )
    await mx.deliver(again)
    await traffic.idle()
    ids |= {"first": mid(first), "again": mid(again), "held": mid(robot.sent[-1])}
    assert "held by mailguard" in robot.replies[ids["held"]]
    # The sales mailbox (proxy only) writes to the person's plus-tagged address, upper case.
    offer = customer_mail(
        SALES,
        f"Your {person.topic} offer",
        f"Dear customer, our {person.topic} offer for you.\n",
        to=f"{person.local.upper()}+Shop@Customer.Example",
        headers=[("Auto-Submitted", "auto-generated")],
        domain=OWN_DOMAIN,
    )
    person.texts += [str(offer["Subject"]), f"Dear customer, our {person.topic} offer for you."]
    assert "relayed" in await _proxy(daemon, offer, SALES)
    ids["sales"] = mid(offer)
    # A robot reply to a message the watcher never sees: deferred (proxy.defer_unseen 1h).
    late = customer_mail(
        SUPPORT,
        f"Automatic reply: {person.topic} question",
        f"We received your {person.topic} question and answer within two days.\n",
        to=person.address.capitalize(),
        in_reply_to=f"never-seen-{person.local}@{CUSTOMER_DOMAIN}",
        headers=[("Auto-Submitted", "auto-replied")],
        domain=OWN_DOMAIN,
    )
    person.texts += [str(late["Subject"]), f"We received your {person.topic} question and"]
    assert "queued by mailguard" in await _proxy(daemon, late, SUPPORT)
    ids["deferred"] = mid(late)
    # A message whose processing fails (the injected classifier fault): kept as failed.
    broken = person.mail(f"{FAULT} {person.topic} refund", f"Refund the {person.topic} now.\n")
    await mx.dovecot.deliver_async(broken, mail_from=person.address, rcpt=SUPPORT)
    ids["failed"] = mid(broken)
    return ids


async def test_export_and_erase_one_customer_of_a_running_daemon(
    db_url: str, dovecot: Dovecot, internet: Internet, traffic: Traffic, tmp_path: Path
) -> None:
    url = db_url
    config = daemon_config(
        tmp_path,
        dovecot,
        internet.address,
        postgres=True,  # the URL from ${MAILGUARD_DB_URL}, whichever backend it is
        extra={
            "notify": {"agents": AGENTS, "sender": f"mailguard@{OWN_DOMAIN}"},
            "proxy": {"defer_unseen": "1h"},
            "retention": {"deferred": "3h"},
        },
    )
    data = yaml.safe_load(config.read_text())
    data["mailboxes"].append({"name": "sales", "addresses": [SALES]})
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    daemon = Daemon(
        config,
        tmp_path / "daemon.log",
        postgres_url=url,
        module="tests.integration.faulty_mailguard",
    )
    ledger = Ledger(url)
    carl, dora = Person("carl", "voucher"), Person("dora", "parcel")
    commands_log: list[str] = []
    try:
        await daemon.healthy("/readyz")
        robot = HelpdeskRobot(daemon.smtp_port)
        mx = CompanyMx(dovecot, robot, traffic, ledger.seen)
        carl_ids = await _every_kind_of_data(carl, daemon, mx, robot, traffic)
        await _every_kind_of_data(dora, daemon, mx, robot, traffic)

        async def settled() -> bool:
            tables = await dump(url)
            failed = len(tables["failed_messages"]) == 2
            notes = [
                r for r in (await folder(dovecot, "Escalated")).values() if b"X-Mailguard-Note" in r
            ]
            copies = await folder(dovecot, "Held")
            return (
                failed
                and len(notes) == 2
                and len(copies) == 2
                and not await ledger.actions_not_done()
            )

        await wait_for("both customers' data, notes and copies", settled, within=60)
        assert len(internet.to(AGENTS)) == 2

        # -- export ---------------------------------------------------------------------------
        shown = await daemon.acli(
            "privacy",
            "export",
            "--customer",
            "Carl@Customer.Example",
            "--format",
            "json",
            "--mailboxes",
        )
        commands_log.append(shown.stderr)
        assert shown.returncode == 0, shown.stderr
        doc = json.loads(shown.stdout)
        _export_lists_each_item(doc, carl_ids)
        assert not dora.names(shown.stdout)
        empty = await daemon.acli("privacy", "export", "--customer", "nobody@customer.example")
        assert (
            empty.returncode == 0 and "stores nothing about nobody@customer.example" in empty.stdout
        )

        # -- erase ----------------------------------------------------------------------------
        before = await dump(url)
        escalated_before = await folder(dovecot, "Escalated")
        held_before = await folder(dovecot, "Held")
        refused = await daemon.acli("privacy", "erase", "--customer", "carl@customer.example")
        commands_log.append(refused.stderr)
        assert refused.returncode == 1 and "--drop-held" in refused.stderr, refused
        assert _without(await dump(url)) == _without(before)

        erased = await daemon.acli(
            "privacy",
            "erase",
            "--customer",
            "CARL+any@customer.example",
            "--drop-held",
            "--mailboxes",
        )
        commands_log.append(erased.stderr)
        assert erased.returncode == 0, erased.stderr
        assert (
            "erased customer p:" in erased.stdout and "held mail dropped unsent: 2" in erased.stdout
        )
        assert "removed 1 note(s), 1 held copy(ies)" in erased.stdout
        assert not carl.names(erased.stdout + erased.stderr)
        after = await dump(url)
        assert rows_mentioning(after, "carl", CUSTOMER_DOMAIN) == {}
        _others_untouched(before, after, carl, dora)
        escalated_after = await folder(dovecot, "Escalated")
        held_after = await folder(dovecot, "Held")
        _copies_gone(escalated_before, escalated_after, held_before, held_after, carl, carl_ids)

        again = await daemon.acli("privacy", "erase", "--customer", "carl@customer.example")
        commands_log.append(again.stderr)
        assert again.returncode == 0 and "nothing to erase" in again.stdout
        assert _without(await dump(url)) == _without(after)

        # -- a later message starts from nothing ------------------------------------------
        later = carl.mail("New order question", "Where is my new order?\n")
        await mx.deliver(later)
        await traffic.idle()
        assert "relayed" in robot.replies[mid(robot.sent[-1])]
        fresh = await daemon.acli(
            "privacy", "export", "--customer", carl.address, "--format", "json"
        )
        doc = json.loads(fresh.stdout)
        # A row per guarded mailbox (the referral ring looks across them), all fresh.
        counters = {
            c["mailbox"]: (c["human_in"], c["automated_out"], c["escalations"], c["state"])
            for c in doc["customers"]
        }
        assert counters == {"support": (1, 1, 0, "ok"), "sales": (0, 0, 0, "ok")}
        assert {m["message_id"] for m in doc["messages"]} == {mid(later), mid(robot.sent[-1])}
        assert doc["escalations"] == [] and doc["held_mail"] == [] and doc["failed_messages"] == []
        assert daemon.stop() == 0
    finally:
        daemon.kill()
        await ledger.close()
    _log_holds_nothing_personal(daemon.log.read_text(), commands_log, carl, dora, tmp_path)


def _export_lists_each_item(doc: dict[str, Any], ids: dict[str, str]) -> None:
    assert (doc["schema"], doc["schema_version"], doc["empty"]) == (
        "mailguard-privacy-export",
        1,
        False,
    )
    assert doc["customer"] == "carl@customer.example"
    assert {(c["mailbox"], c["address"]) for c in doc["customers"]} == {
        ("support", "carl@customer.example"),
        ("sales", "carl@customer.example"),
    }
    messages = {m["message_id"] for m in doc["messages"]}
    assert {ids["first"], ids["again"], ids["held"], ids["sales"]} <= messages
    assert {d["message_id"] for d in doc["decisions"]} >= {ids["first"], ids["again"], ids["held"]}
    assert any(d["rule_hits"] for d in doc["decisions"])
    [escalation] = doc["escalations"]
    assert escalation["rule"] == "automated_streak" and escalation["evidence"]
    assert doc["threads"] and doc["thread_message_ids"]
    [held] = doc["held_mail"]
    assert held["message_id"] == ids["held"] and held["state"] == "held"
    assert ids["held"].encode() in base64.b64decode(held["raw_base64"])
    [deferred] = doc["deferred_mail"]
    assert deferred["message_id"] == ids["deferred"] and deferred["state"] == "deferred"
    [failed] = doc["failed_messages"]
    assert failed["message_id"] == ids["failed"] and "injected fault" in failed["error"]
    assert FAULT.encode() in base64.b64decode(failed["raw_base64"])
    assert {a["kind"] for a in doc["outbox_actions"]} >= {"escalate", "hold_outbound"}
    assert [n["payload"]["customer"] for n in doc["notifications"]] == ["carl@customer.example"]
    [box] = doc["mailbox_copies"]
    assert box["error"] is None and sorted(c["kind"] for c in box["copies"]) == ["held", "note"]
    assert doc["counts"]["messages"] == len(doc["messages"])


def _without(tables: dict[str, list[Any]]) -> dict[str, list[Any]]:
    return {name: rows for name, rows in tables.items() if name not in MOVING}


def _others_untouched(
    before: dict[str, list[Any]], after: dict[str, list[Any]], carl: Person, dora: Person
) -> None:
    """Every row left is byte for byte a row from before, and every row that went was Carl's
    (it named him, or belonged to one of his customer rows or his messages)."""
    carls = rows_mentioning(before, carl.local, CUSTOMER_DOMAIN)
    customer_ids = {dict(r)["id"] for r in carls.get("customers", [])}
    message_ids = {
        v
        for rows in carls.values()
        for r in rows
        for k, v in r
        if k in ("message_id", "root_message_id") and v
    }
    # Messages linked to his customer rows are his too, and so are their relay receipts.
    message_ids |= {
        dict(r)["message_id"]
        for r in before.get("messages", [])
        if dict(r).get("customer_id") in customer_ids
    }
    for name in _without(before):
        left, was = set(after[name]), set(before[name])
        assert left <= was, f"{name}: rows changed or appeared: {left - was}"
        for row in was - left:
            values = dict(row)
            owned = any(carl.names(v) for v in values.values())
            owned = owned or values.get("customer_id") in customer_ids
            owned = owned or any(v in message_ids for v in values.values())
            assert owned, f"{name}: a row that was not Carl's went: {row}"
    assert rows_mentioning(before, dora.local, CUSTOMER_DOMAIN) == rows_mentioning(
        after, dora.local, CUSTOMER_DOMAIN
    )


def _copies_gone(
    escalated_before: dict[int, bytes],
    escalated_after: dict[int, bytes],
    held_before: dict[int, bytes],
    held_after: dict[int, bytes],
    carl: Person,
    ids: dict[str, str],
) -> None:
    for before, after in ((escalated_before, escalated_after), (held_before, held_after)):
        gone = {uid: raw for uid, raw in before.items() if uid not in after}
        assert all(raw == before[uid] for uid, raw in after.items())  # the rest byte for byte
        assert len(gone) == 1 and all(carl.names(raw) for raw in gone.values())
        assert not any(
            carl.names(raw) and (b"X-Mailguard-Note" in raw or raw.startswith(b"X-Mailguard-Held"))
            for raw in after.values()
        )
    # Carl's own messages belong to the mailbox: still there.
    for own in (ids["first"], ids["again"]):
        assert any(f"<{own}>".encode() in raw for raw in escalated_after.values()), own


def _log_holds_nothing_personal(
    daemon_log: str, commands_log: list[str], carl: Person, dora: Person, tmp_path: Path
) -> None:
    whole = daemon_log + "\n".join(commands_log)
    lines = [json.loads(x) for x in whole.splitlines() if x.startswith("{")]
    assert len(lines) > 20, whole[-2000:]
    for person in (carl, dora):
        assert not person.names(whole), f"{person.address} in the log"
        for piece in person.texts:
            assert piece not in whole, f"{piece!r} in the log"
    assert (tmp_path / "data" / KEY_FILE).exists()  # the key generated on first start
    # Both erasures are logged, by the keyed hash only; the second removed nothing.
    erased, again = [x for x in lines if x.get("event") == "customer_erased"]
    assert str(erased["customer"]).startswith("p:") and erased["removed"]["messages"] >= 4
    assert again["customer"] == erased["customer"] and again["removed"] == {}
    customers = {x["customer"] for x in lines if x.get("customer")}
    assert customers and all(str(c).startswith("p:") for c in customers)
