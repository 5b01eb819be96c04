"""``audit_main``/``run_audit`` end to end through a stand-in engine (no database).

The stand-in derives each record from headers only, so these tests pin down the audit's
own behaviour: date order, folder hints, failure isolation, duplicates, exit codes and
output files. The real engine is plugged in by the policy side through the same port.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.parser import BytesHeaderParser
from email.utils import parseaddr
from pathlib import Path

import pytest

from mailguard.audit.main import EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE, audit_main, run_audit
from mailguard.audit.records import AuditRecord, RuleHit
from mailguard.audit.replay import AuditEngine, OneByOne
from mailguard.audit.sources import RawMessage, looks_like_sent_folder
from mailguard.domain.model import Direction, Kind


class HeaderEngine(OneByOne):
    """Records from headers: Sent folder or our domain = outbound; Auto-Submitted = robot."""

    def __init__(self) -> None:
        self.seen: set[tuple[str, Direction]] = set()
        self.order: list[str] = []

    async def replay(self, message: RawMessage) -> AuditRecord | None:
        headers = BytesHeaderParser().parsebytes(message.raw)
        if "X-Test-Crash" in headers:
            raise RuntimeError("engine cannot cope")
        sender = parseaddr(headers["From"] or "")[1].lower()
        outbound = looks_like_sent_folder(message.folder) or sender.endswith("@example.com")
        direction = Direction.OUTBOUND if outbound else Direction.INBOUND
        key = (headers["Message-ID"] or "", direction)
        if key in self.seen:
            return None
        self.seen.add(key)
        self.order.append(headers["Subject"] or "")
        automated = (headers["Auto-Submitted"] or "no").lower() != "no"
        customer = parseaddr(headers["To"] or "")[1] if outbound else sender
        escalate = headers["X-Test-Escalate"]
        assert message.date is not None
        return AuditRecord(
            mailbox="support",
            customer=customer,
            direction=direction,
            at=message.date,
            kind=Kind.AUTO_REPLY if automated else Kind.HUMAN,
            automated=automated,
            sender=sender,
            subject=headers["Subject"] or "",
            thread_id=None,
            message_id=key[0],
            rule_hits=(RuleHit(escalate, "stand-in"),) if escalate else (),
            escalated=escalate,
            resolved=outbound and not automated,
            origin=message.origin,
        )


def eml(msg_id: str, sender: str, to: str, subject: str, date: str, *extra: str) -> bytes:
    lines = [f"Message-ID: <{msg_id}>", f"From: {sender}", f"To: {to}", f"Subject: {subject}"]
    lines += [f"Date: {date}", *extra, "", "Body."]
    return "\n".join(lines).encode() + b"\n"


@pytest.fixture
def export(tmp_path: Path) -> Path:
    root = tmp_path / "export"
    (root / "INBOX").mkdir(parents=True)
    (root / "Sent").mkdir()
    customer = "kunde@example.org"
    (root / "INBOX" / "1.eml").write_bytes(
        eml("a@x", customer, "support@example.com", "Gutschein", "Mon, 2 Nov 2026 09:00 +0100")
    )
    (root / "INBOX" / "2.eml").write_bytes(
        eml(
            "b@x",
            customer,
            "support@example.com",
            "AW: Gutschein",
            "Tue, 3 Nov 2026 09:00 +0100",
            "X-Test-Escalate: automated_streak",
        )  # fmt: skip
    )
    # Our auto-reply, exported from Sent: the folder hint makes it outbound.
    (root / "Sent" / "1.eml").write_bytes(
        eml(
            "c@x",
            "noreply@helpdesk.example.net",
            customer,
            "Ticket #1",
            "Mon, 2 Nov 2026 09:01 +0100",
            "Auto-Submitted: auto-replied",
        )  # fmt: skip
    )
    (root / "Sent" / "2.eml").write_bytes(
        eml("d@x", "agent@example.com", customer, "Re: Gutschein", "Wed, 4 Nov 2026 10:00 +0100")
    )
    return root


@asynccontextmanager
async def factory_for(engine: HeaderEngine) -> AsyncIterator[AuditEngine]:
    yield engine


async def test_run_audit_replays_in_date_order_across_folders(export: Path) -> None:
    engine = HeaderEngine()
    totals: list[int] = []
    done: list[int] = []
    report = await run_audit(
        [str(export)],
        engine_factory=lambda: factory_for(engine),
        on_total=totals.append,
        on_progress=done.append,
    )
    assert engine.order == ["Gutschein", "Ticket #1", "AW: Gutschein", "Re: Gutschein"]
    assert totals == [4] and sum(done) == 4
    (trap,) = report.trapped["automated_streak"]
    assert trap.customer == "kunde@example.org"
    assert trap.resolved_at is not None
    assert (report.inbound, report.outbound, report.waits.answered) == (2, 2, 1)


@pytest.mark.parametrize("fmt", ["text", "md", "html", "json"])
def test_audit_main_writes_each_format_to_a_file(export: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"report.{fmt}"
    err = io.StringIO()
    code = audit_main(
        [str(export)],
        fmt=fmt,
        output=str(out),
        engine_factory=lambda: factory_for(HeaderEngine()),
        stderr=err,
    )
    assert code == EXIT_OK, err.getvalue()
    text = out.read_text(encoding="utf-8")
    assert "kunde@example.org" in text
    # stderr is not a terminal here, so no progress bar was drawn.
    assert err.getvalue() == ""
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".report")] == []


def test_engine_failures_and_unreadable_entries_give_exit_1(export: Path) -> None:
    (export / "INBOX" / "3.eml").write_bytes(
        eml(
            "e@x",
            "x@example.org",
            "support@example.com",
            "boom",
            "Thu, 5 Nov 2026 10:00 +0100",
            "X-Test-Crash: yes",
        )  # fmt: skip
    )
    (export / "INBOX" / "4.eml").write_bytes(b"")
    out, err = io.StringIO(), io.StringIO()
    code = audit_main(
        [str(export)],
        fmt="json",
        output=None,
        engine_factory=lambda: factory_for(HeaderEngine()),
        stdout=out,
        stderr=err,
    )
    assert code == EXIT_INCOMPLETE
    data = json.loads(out.getvalue())
    assert data["summary"]["messages"] == 4
    assert data["failures"]["entries"][0]["origin"].endswith("3.eml")
    assert data["failures"]["entries"][0]["error"] == "RuntimeError: engine cannot cope"
    assert data["skipped"]["entries"][0]["reason"] == "empty file"
    assert "1 message(s) failed" in err.getvalue()


def test_files_that_are_not_mail_are_ignored_without_failing_the_audit(export: Path) -> None:
    (export / "README.txt").write_text("Exported with Thunderbird.\n")
    out = io.StringIO()
    code = audit_main(
        [str(export)],
        fmt="json",
        engine_factory=lambda: factory_for(HeaderEngine()),
        stdout=out,
        stderr=io.StringIO(),
    )
    assert code == EXIT_OK
    data = json.loads(out.getvalue())
    assert (data["summary"]["ignored"], data["summary"]["skipped"]) == (1, 0)
    assert data["ignored"]["entries"][0]["name"].endswith("README.txt")


def test_the_same_message_twice_is_a_duplicate(export: Path, tmp_path: Path) -> None:
    copy = tmp_path / "archive"
    copy.mkdir()
    (copy / "again.eml").write_bytes((export / "INBOX" / "1.eml").read_bytes())
    out = io.StringIO()
    code = audit_main(
        [str(export), str(copy)],
        fmt="json",
        engine_factory=lambda: factory_for(HeaderEngine()),
        stdout=out,
        stderr=io.StringIO(),
    )
    assert code == EXIT_OK
    summary = json.loads(out.getvalue())["summary"]
    assert (summary["messages"], summary["duplicates"]) == (4, 1)


@pytest.mark.parametrize(
    ("paths", "fmt", "message"),
    [
        (["{export}"], "pdf", "unknown format 'pdf'"),
        (["{tmp}/nope"], "text", "no such path"),
        ([], "text", "no such path"),
    ],
)
def test_usage_errors_give_exit_2(
    export: Path, tmp_path: Path, paths: list[str], fmt: str, message: str
) -> None:
    err = io.StringIO()
    code = audit_main(
        [p.format(export=export, tmp=tmp_path) for p in paths],
        fmt=fmt,
        engine_factory=lambda: factory_for(HeaderEngine()),
        stderr=err,
    )
    assert code == EXIT_USAGE
    assert message in err.getvalue()


def test_unwritable_output_gives_exit_2(export: Path, tmp_path: Path) -> None:
    err = io.StringIO()
    code = audit_main(
        [str(export)],
        fmt="text",
        output=str(tmp_path / "no" / "such" / "dir" / "r.txt"),
        engine_factory=lambda: factory_for(HeaderEngine()),
        stderr=err,
    )
    assert code == EXIT_USAGE
    assert "cannot write" in err.getvalue()


def test_progress_bar_goes_to_stderr_when_asked(export: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = audit_main(
        [str(export)],
        fmt="text",
        engine_factory=lambda: factory_for(HeaderEngine()),
        progress=True,
        stdout=out,
        stderr=err,
    )
    assert code == EXIT_OK
    assert "replaying" in err.getvalue()
    assert "replaying" not in out.getvalue()


def test_report_file_gets_the_umask_permissions(export: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.txt"
    code = audit_main(
        [str(export)],
        output=str(out),
        engine_factory=lambda: factory_for(HeaderEngine()),
        stderr=io.StringIO(),
    )
    assert code == EXIT_OK
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask


def test_a_reader_that_goes_away_is_not_an_error(export: Path) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # Like `mailguard audit ... | head` after head has exited.
    err = io.StringIO()
    with open(write_end, "w", encoding="utf-8") as stdout:
        code = audit_main(
            [str(export)],
            fmt="json",
            engine_factory=lambda: factory_for(HeaderEngine()),
            stdout=stdout,
            stderr=err,
        )
    assert code == EXIT_OK
    assert err.getvalue() == ""


def test_a_fifo_or_device_is_written_in_place_not_replaced(export: Path, tmp_path: Path) -> None:
    # Renaming a temporary file over /dev/null once replaced the device node itself; a
    # FIFO shows the same without touching the machine's /dev.
    import stat
    import threading

    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(
        target=lambda: received.append(fifo.read_text(encoding="utf-8")), daemon=True
    )
    reader.start()
    code = audit_main(
        [str(export)],
        fmt="json",
        output=str(fifo),
        engine_factory=lambda: factory_for(HeaderEngine()),
        stderr=io.StringIO(),
    )
    reader.join(timeout=10)
    assert code == EXIT_OK
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert json.loads(received[0])["summary"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".report")) == []
