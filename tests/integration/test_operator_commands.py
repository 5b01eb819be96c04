"""``mailguard status``, ``threads`` and ``resolve`` on a database the real engine filled."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from mailguard.app.cli import main
from mailguard.store import tables as t
from tests.integration.engine_support import build_engine, migrated_store, rows
from tests.integration.test_engine import CUSTOMER, STREAK, feed


def config_file(tmp_path: Path, db_url: str) -> str:
    path = tmp_path / "mailguard.yaml"
    path.write_text(
        f"storage:\n  url: {db_url}\n"
        "http:\n  enabled: false\n"
        "company:\n  domains: [example.com]\n"
        "mailboxes:\n"
        "  - name: support\n    addresses: [support@example.com]\n"
        "  - name: vouchers\n    addresses: [vouchers@example.com]\n",
        encoding="utf-8",
    )
    return str(path)


def fill(db_url: str) -> int:
    """The automated streak of test_engine; returns the escalation's id."""

    async def go() -> int:
        async with migrated_store(db_url) as store:
            await feed(build_engine(store), STREAK)
            (esc,) = await rows(store, t.escalations)
            return int(esc.id)

    return asyncio.run(go())


def escalation_rows(db_url: str) -> list[object]:
    async def go() -> list[object]:
        async with migrated_store(db_url) as store:
            return await rows(store, t.escalations)

    return asyncio.run(go())


def test_status_lists_the_open_escalation_with_its_evidence(
    tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    esc_id = fill(db_url)
    assert main(["status", "-c", config_file(tmp_path, db_url)]) == 0
    out = capsys.readouterr().out
    assert "open escalations: 1" in out
    assert f"#{esc_id} support {CUSTOMER}  rule automated_streak" in out
    assert "why: 2 customer messages answered only by automation" in out
    assert "outbox: 2 pending" in out
    assert "daemon: not answering" in out
    # The oldest item of each kind, beside the bound that removes it (retention:).
    [line] = [x for x in out.splitlines() if x.startswith("  open escalations: ")]
    assert line.startswith("  open escalations: 1, oldest ")
    assert line.endswith("closed as stale after 30 d (retention.escalations)")
    assert "  held robot replies waiting for a person: none; dropped unsent after 30 d" in out


def test_threads_shows_the_customers_timeline_and_decision(
    tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(db_url)
    assert (
        main(["threads", "--customer", CUSTOMER.upper(), "-c", config_file(tmp_path, db_url)]) == 0
    )
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == f"{CUSTOMER} in support (state escalated)"
    timeline = [line for line in lines if " <- " in line or " -> " in line]
    # Who wrote what: the customer twice (human), the robot twice (automated).
    assert [("human" in line, " <- " in line) for line in timeline] == [
        (True, True),
        (False, False),
        (True, True),
        (False, False),
    ]
    assert any(line.strip().startswith("automated_streak: 2 customer messages") for line in lines)
    assert any("answered only by auto_reply" in line for line in lines)
    assert (
        main(["threads", "--customer", "nobody@else.example", "-c", config_file(tmp_path, db_url)])
        == 1
    )


def test_resolve_goes_through_the_engine_once(
    tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    esc_id = fill(db_url)
    config = config_file(tmp_path, db_url)
    assert main(["resolve", str(esc_id), "--by", "agent:anna", "-c", config]) == 0
    assert "resolved" in capsys.readouterr().out
    (esc,) = escalation_rows(db_url)
    assert esc.resolved_at is not None  # type: ignore[attr-defined]
    assert esc.resolved_by == "handled:agent:anna"  # type: ignore[attr-defined]
    assert main(["resolve", str(esc_id), "-c", config]) == 0
    assert "already resolved" in capsys.readouterr().out
    assert main(["status", "-c", config]) == 0
    assert "open escalations: 0" in capsys.readouterr().out
    assert main(["resolve", "999", "-c", config]) == 1
