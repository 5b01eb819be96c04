"""The scenario mailboxes are well formed and the readers replay them in file order."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from mailguard.audit.report import KNOWN_RULES
from mailguard.audit.sources import header_date, scan_paths

SCENARIOS = Path(__file__).resolve().parents[1] / "data" / "scenarios"
FOLDERS = sorted(p for p in SCENARIOS.iterdir() if p.is_dir())


def test_every_pattern_has_a_german_and_an_english_scenario() -> None:
    rules = {}
    for folder in FOLDERS:
        heading = (folder / "README.md").read_text(encoding="utf-8").splitlines()[0]
        rule = heading.removeprefix("# ").split()[0]
        rules.setdefault(rule, set()).add(folder.name.rsplit("_", 1)[1])
    patterns = {"automated_streak", "referral_ring", "bot_ping_pong", "frustration", "sla"}
    assert rules == {rule: {"de", "en"} for rule in patterns}


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_scenario_is_well_formed_and_read_in_file_order(folder: Path) -> None:
    readme = (folder / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([a-z_]+)`", readme.split("Must fire:", 1)[1]))
    assert named and named <= set(KNOWN_RULES)
    files = sorted(folder.glob("*.eml"))
    assert [f.name[:3] for f in files] == [f"{i:02d}-" for i in range(1, len(files) + 1)]
    dates, ids = [], set()
    for path in files:
        raw = path.read_bytes()
        msg = message_from_bytes(raw, policy=policy.default)
        assert not msg.defects, path.name
        assert msg["Message-ID"] and msg["From"] and msg["To"] and msg["Subject"]
        ids.add(msg["Message-ID"])
        dates.append(header_date(raw.split(b"\n\n", 1)[0]))
    assert len(ids) == len(files)
    assert all(d is not None for d in dates)
    assert dates == sorted(dates) and len(set(dates)) == len(dates)
    assert [Path(m.origin).name for m in scan_paths([folder])] == [f.name for f in files]
