"""The README's first command: what mailguard is for, on a real Dovecot, in under a minute.

Started by ``scripts/demo`` (venv, Dovecot when missing). Plays four stories against the real
daemon (see demo_stage.py) and prints what mailguard did as an agent's IMAP client and its
operator commands see it:

1. Anna's voucher complaint is answered twice by the ticket robot (sent through the proxy).
2. The shop's robot and the voucher desk's robot refer Ben to each other (two mailboxes).
3. Carl's angry first message: escalated; support's Sieve vacation reply, sent to the proxy
   before mailguard could read Carl's message, is deferred, then held.
4. An agent replies to Carl through the proxy, which resolves his escalation.

Exit 0 only when every check held; 1 with the failing step otherwise; 130 on Ctrl-C.
"""

from __future__ import annotations

import functools
import json
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from demo_stage import AGENT, ANNA, BEN, CARL, DOMAIN, DemoFailed, Stage, mail, say, wait_for

ANGRY = (
    "This is the third time I am writing to you about this and nobody has bothered to answer.\n"
    "You charged my card twice after I had already cancelled. This is unacceptable. If I do\n"
    "not get my money back this week I will dispute the charges with my bank and report you.\n"
)


def title(text: str) -> None:
    say()
    say(f"== {text} " + "=" * max(0, 74 - len(text)))


def show_folder(stage: Stage, box: str, folder: str) -> list[tuple[str, str]]:
    messages = stage.folder(box, folder)
    say(f"  {box}@{DOMAIN} / {folder}: {len(messages)} message(s)")
    for subject, flags in messages:
        say(f"    - {subject}   [{flags}]")
    return messages


def escalated(stage: Stage, box: str, subject: str) -> list[tuple[str, str]] | None:
    found = stage.folder(box, "Escalated")
    hit = any(subject in s and "$MailguardEscalated" in f for s, f in found)
    return found if hit else None


def story_streak(stage: Stage) -> None:
    title("1. Anna's voucher complaint, answered twice by the ticket robot")
    first = mail(ANNA, f"vouchers@{DOMAIN}", "Voucher code does not work", "My code VX-1 fails.")
    stage.deliver_seen(first)
    say("  Anna -> vouchers@: 'Voucher code does not work'")
    ack = mail(
        f"vouchers@{DOMAIN}",
        ANNA,
        "[Ticket #101] Voucher code does not work",
        "Thank you. Your request has been received. Please do not reply.",
        reply_to=first,
        auto=True,
    )
    stage.send(ack)
    say("  ticket robot (through the proxy) -> Anna: '[Ticket #101] ...'")
    again = mail(
        ANNA,
        f"vouchers@{DOMAIN}",
        "Re: Voucher code does not work",
        "Hello? The code still fails, I wrote yesterday.",
        reply_to=ack,
    )
    stage.deliver_seen(again)
    say("  Anna -> vouchers@: 'Re: Voucher code does not work'")
    stage.send(
        mail(
            f"vouchers@{DOMAIN}",
            ANNA,
            "[Ticket #102] Re: Voucher code does not work",
            "Thank you. Your request has been received. Please do not reply.",
            reply_to=again,
            auto=True,
        )
    )
    say("  ticket robot (through the proxy) -> Anna: '[Ticket #102] ...'")
    wait_for(
        "Anna's thread in vouchers@'s Escalated folder",
        lambda: escalated(stage, "vouchers", "Voucher code"),
    )
    say("\n  What an agent's mail client shows now (the second acknowledgement was held):")
    show_folder(stage, "vouchers", "Escalated")
    wait_for(
        "the held acknowledgement in vouchers@'s Held folder",
        lambda: stage.folder("vouchers", "Held"),
    )
    show_folder(stage, "vouchers", "Held")
    note = stage.note_text("vouchers", "Voucher code does not work")
    if "automated" not in note.lower():
        raise DemoFailed(f"the agent's note does not say why Anna was escalated: {note!r}")
    say("\n  The note mailguard filed for the agent:")
    for line in note.strip().splitlines():
        say(f"    | {line}")
    say("\n  The held acknowledgement (mailguard held show 1):")
    for line in stage.mailguard("held", "show", "1").strip().splitlines():
        say(f"    {line}")


def story_ring(stage: Stage) -> None:
    title("2. Two robots referring Ben to each other")
    to_shop = mail(BEN, f"shop@{DOMAIN}", "Gift voucher not accepted", "Checkout refuses it.")
    stage.deliver_seen(to_shop)
    stage.send(
        mail(
            f"shop@{DOMAIN}",
            BEN,
            "Automatic reply: Gift voucher not accepted",
            f"For vouchers please contact vouchers@{DOMAIN}.",
            reply_to=to_shop,
            auto=True,
        )
    )
    say(f"  Ben -> shop@; shop's robot: 'please contact vouchers@{DOMAIN}'")
    to_vouchers = mail(
        BEN,
        f"vouchers@{DOMAIN}",
        "Gift voucher not accepted at checkout",
        "The shop sent me to you.",
    )
    stage.deliver_seen(to_vouchers)
    stage.send(
        mail(
            f"vouchers@{DOMAIN}",
            BEN,
            "Automatic reply: Gift voucher",
            f"For orders please contact shop@{DOMAIN}.",
            reply_to=to_vouchers,
            auto=True,
        )
    )
    say(f"  Ben -> vouchers@; voucher desk's robot: 'please contact shop@{DOMAIN}'")
    for box in ("shop", "vouchers"):
        wait_for(
            f"Ben's message in {box}@'s Escalated folder",
            functools.partial(escalated, stage, box, "Gift voucher"),
        )
    say("\n  Both desks now have Ben's thread, each with a note for the agent:")
    for box in ("shop", "vouchers"):
        show_folder(stage, box, "Escalated")


def story_angry(stage: Stage) -> tuple[str, str]:
    title("3. Carl's angry first message, and support's vacation auto-reply")
    angry = mail(CARL, f"support@{DOMAIN}", "Charged twice - cancel NOW", ANGRY)
    before = len(stage.sink.envelopes)
    stage.deliver(angry)
    say("  Carl -> support@. support@ has a Sieve vacation auto-reply: Dovecot sends it to")
    say("  the proxy while it is still delivering Carl's message, before mailguard can have")
    say("  read it. The proxy stores the reply, answers 250 at once, and decides it once the")
    say("  watcher has read the message it answers.")
    wait_for(
        "Carl's message in support@'s Escalated folder",
        lambda: escalated(stage, "support", "Charged twice"),
    )
    line = wait_for("the vacation reply to be held", lambda: _held_vacation(stage))
    relayed = [s for s in stage.sink.subjects()[before:] if "Auto-Reply" in s]
    if relayed:
        raise DemoFailed(f"the vacation reply reached the upstream relay: {relayed}")
    waited = stage.log_event("deferral_ended", "awaits", str(angry["Message-ID"]).strip("<>"))
    if waited is None:
        raise DemoFailed("the daemon's log has no deferral_ended for Carl's message")
    seconds = float(str(waited["waited_s"]))
    say(f"\n  The vacation reply waited {seconds:.1f} s for the watcher, was then decided like any")
    say("  robot reply to an escalated customer, and HELD: Carl does not get a robot's answer.")
    say("  mailguard held list:")
    for held_line in stage.mailguard("held", "list").strip().splitlines():
        say(f"    {held_line.strip()}")
    held_id = line.split()[0]
    shown = stage.mailguard("held", "show", held_id)
    if "Auto-Reply" not in shown:
        raise DemoFailed(f"held message {held_id} is not the vacation reply:\n{shown}")
    say(f"  mailguard held show {held_id}:")
    for shown_line in shown.strip().splitlines():
        say(f"    {shown_line}")
    show_folder(stage, "support", "Escalated")
    wait_for(
        "the held vacation reply in support@'s Held folder",
        lambda: any("Auto-Reply" in s for s, _ in stage.folder("support", "Held")),
    )
    show_folder(stage, "support", "Held")
    return str(angry["Message-ID"]), str(angry["Subject"])


def _held_vacation(stage: Stage) -> str | None:
    """The `mailguard held list` line of a reply to Carl that is held (not deferred)."""
    for line in stage.mailguard("held", "list").splitlines():
        fields = line.split()
        if len(fields) > 3 and fields[3] == "held" and f"-> {CARL}" in line:
            return line.strip()
    return None


def story_agent(stage: Stage, angry_id: str, subject: str) -> None:
    title("4. The agents are told, and an agent answers Carl")
    actions = stage.notify_actions()
    say(f"  Notifications of the agents ({AGENT}) in mailguard's outbox:")
    for state, target, payload in actions:
        fields = json.loads(payload)
        say(f"    [{state}] {target} in {fields.get('mailbox', '?')}: {fields.get('reason', '')}")
    told = [c for c in (ANNA, BEN, CARL) if any(c in t + p for _, t, p in actions)]
    if told != [ANNA, BEN, CARL]:
        raise DemoFailed(f"expected a notification about Anna, Ben and Carl; found {actions}")
    if all(state == "pending" for state, _, _ in actions):
        say("  (pending: this version records them; `mailguard status` counts them under outbox)")
    mailed = [
        told_subject
        for envelope, told_subject in zip(stage.sink.envelopes, stage.sink.subjects(), strict=True)
        if AGENT in envelope.rcpt_tos
    ]
    say(f"  Notifications relayed to the agents so far: {len(mailed)}")
    for told_subject in mailed:
        say(f"    - {told_subject}")
    sent = sum(1 for state, _, _ in actions if state == "done")
    if len(mailed) < sent:
        raise DemoFailed(f"{sent} notify action(s) done but {len(mailed)} reached the relay")
    reply = mail(
        AGENT,
        CARL,
        f"Re: {subject}",
        "Dear Carl, I am sorry. I have refunded the second charge today. Maria",
    )
    reply["In-Reply-To"] = reply["References"] = angry_id
    before = len(stage.sink.envelopes)
    stage.send(reply)
    wait_for(
        "the agent's reply at the upstream relay",
        lambda: any("Re: Charged" in s for s in stage.sink.subjects()[before:]),
    )
    say("  Maria (agent) -> Carl through the proxy: relayed to the upstream.")
    wait_for(
        "Carl's escalation to be resolved",
        lambda: "resolved" in stage.mailguard("threads", "--customer", CARL),
    )

    def superseded() -> str:
        lines = stage.mailguard("held", "list", "--all").splitlines()
        return next((x for x in lines if CARL in x and "superseded" in x), "")

    wait_for("Carl's held vacation reply to be superseded by Maria's answer", superseded)
    say("  Carl's escalation is resolved, and the vacation reply held for him is now obsolete:")
    say("  discarded as superseded, never sent, still stored (mailguard held list --all):")
    say(f"    {superseded().strip()}")


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM ends the demo like Ctrl-C: through the clean-up in main's ``finally``."""
    raise KeyboardInterrupt


def main() -> int:
    started = time.monotonic()
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    work = Path(tempfile.mkdtemp(prefix="mailguard-demo-"))
    work.chmod(0o711)  # as root Dovecot runs as its own user and must reach work/dovecot
    stage = Stage(work)
    try:
        say("Starting a throw-away Dovecot, an upstream SMTP sink and `mailguard run` ...")
        stage.start_dovecot()
        stage.controller.start()
        stage.write_config()
        stage.start_daemon()
        say(
            f"  mailboxes support@, shop@, vouchers@{DOMAIN}; proxy on 127.0.0.1:"
            f"{stage.proxy_port}; relay -> sink on 127.0.0.1:{stage.controller.port}"
        )
        story_streak(stage)
        story_ring(stage)
        angry_id, subject = story_angry(stage)
        story_agent(stage, angry_id, subject)
        title("mailguard status")
        say(stage.mailguard("status"))
        title("mailguard threads")
        say(stage.mailguard("threads"))
        title("What the upstream relay received")
        for envelope in stage.sink.envelopes:
            say(f"  {envelope.mail_from or '<>'} -> {', '.join(envelope.rcpt_tos)}")
        say(f"\n(played in {time.monotonic() - started:.0f} s)")
        say("The story played as expected.")
        return 0
    except DemoFailed as exc:
        say(f"\ndemo FAILED: {exc}")
        say(f"--- last lines of the daemon's log ({stage.daemon_log}):")
        if stage.daemon_log.exists():
            say("\n".join(stage.daemon_log.read_text(errors="replace").splitlines()[-15:]))
        return 1
    except KeyboardInterrupt:
        say("\ninterrupted")
        return 130
    finally:
        stage.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
