"""The bench's mailbox generator: deterministic, readable by our readers, well formed."""

from __future__ import annotations

import importlib.util
import sys
from email import message_from_bytes, policy
from email.utils import parseaddr
from pathlib import Path
from types import ModuleType

import pytest

from mailguard.audit.sources import looks_like_sent_folder, scan_paths

BENCH = Path(__file__).resolve().parents[2] / "bench" / "gen_mailbox.py"


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_mailbox", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_mailbox"] = module
    spec.loader.exec_module(module)
    return module


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.mark.parametrize("fmt", ["mbox", "maildir"])
def test_same_seed_same_bytes_other_seed_other_bytes(
    gen: ModuleType, tmp_path: Path, fmt: str
) -> None:
    assert gen.generate(tmp_path / "a", 200, fmt, seed=3).messages == 200
    gen.generate(tmp_path / "b", 200, fmt, seed=3)
    gen.generate(tmp_path / "c", 200, fmt, seed=4)
    assert tree_bytes(tmp_path / "a") == tree_bytes(tmp_path / "b")
    assert tree_bytes(tmp_path / "a") != tree_bytes(tmp_path / "c")


@pytest.mark.parametrize("fmt", ["mbox", "maildir"])
def test_generated_mailbox_reads_back_completely(gen: ModuleType, tmp_path: Path, fmt: str) -> None:
    gen.generate(tmp_path / "box", 500, fmt, seed=11)
    index = scan_paths([tmp_path / "box"])
    assert len(index) == 500
    assert index.skipped_count == 0
    senders_by_folder: dict[bool, set[str]] = {True: set(), False: set()}
    automated = 0
    previous = None
    for message in index:
        msg = message_from_bytes(message.raw, policy=policy.default)
        assert not msg.defects, message.origin
        assert message.date is not None
        assert previous is None or previous <= message.date
        previous = message.date
        domain = parseaddr(str(msg["From"]))[1].rsplit("@", 1)[1]
        senders_by_folder[looks_like_sent_folder(message.folder)].add(domain)
        automated += msg["Auto-Submitted"] is not None
    # Sent holds only our own mail, the inbox never does.
    assert senders_by_folder[True] == {"example.com"}
    assert "example.com" not in senders_by_folder[False]
    assert 0.2 < automated / 500 < 0.7
