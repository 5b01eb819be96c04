"""Malformed input: never an exception, bounded time and memory, a "malformed" entry."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable

import pytest

from mailguard.domain.classify import Classifier
from mailguard.domain.facts import parse_facts
from mailguard.domain.model import Classification

CLASSIFIER = Classifier()
HEAD = b"From: a@example.org\r\nTo: s@example.com\r\nMessage-ID: <m@x>\r\nSubject: hi\r\n"


def nested_rfc822(depth: int) -> bytes:
    inner = HEAD + b"\r\nthe innermost text\r\n"
    for _ in range(depth):
        inner = HEAD + b"Content-Type: message/rfc822\r\n\r\n" + inner
    return inner


def nested_multipart(depth: int) -> bytes:
    body = b"Content-Type: text/plain\r\n\r\ndeep text\r\n"
    for level in range(depth):
        boundary = f"b{level}".encode()
        body = (
            b"Content-Type: multipart/mixed; boundary="
            + boundary
            + b"\r\n\r\n--"
            + boundary
            + b"\r\n"
            + body
            + b"\r\n--"
            + boundary
            + b"--\r\n"
        )
    return HEAD + body


CASES: dict[str, Callable[[], bytes]] = {
    "boundary_never_used": lambda: (
        HEAD
        + b'Content-Type: multipart/mixed; boundary="X"\r\n\r\n--Y\r\nContent-Type: text/plain\r\n'
        b"\r\nhello\r\n--Y--\r\n"
    ),
    "no_closing_boundary": lambda: (
        HEAD
        + b'Content-Type: multipart/mixed; boundary="X"\r\n\r\n--X\r\nContent-Type: image/png\r\n'
        b"\r\nPNG..."
    ),
    "multipart_without_boundary": lambda: HEAD + b"Content-Type: multipart/mixed\r\n\r\nhello",
    "undeclared_8bit": lambda: (
        HEAD.replace(b"Subject: hi", b"Subject: Gr\xfc\xdfe") + b"\r\nK\xf6ln ist sch\xf6n"
    ),
    "unknown_charset": lambda: (
        HEAD + b"Content-Type: text/plain; charset=x-klingon-42\r\n\r\nqapla"
    ),
    "lying_charset": lambda: HEAD + b"Content-Type: text/plain; charset=utf-8\r\n\r\nK\xf6ln \xff",
    "broken_base64": lambda: (
        HEAD + b"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n@@@@====!!!!"
    ),
    "nul_bytes": lambda: HEAD + b"\r\nhello\x00world\x00",
    "ten_thousand_headers": lambda: (
        b"".join(b"X-H%d: v\r\n" % i for i in range(10_000)) + HEAD + b"\r\nbody"
    ),
    "hundred_mb_single_line": lambda: b"X" * (100 * 1024 * 1024),
    "missing_from_and_message_id": lambda: b"To: s@example.com\r\nSubject: hi\r\n\r\nbody",
    "rfc822_fifty_deep": lambda: nested_rfc822(50),
    "multipart_fifty_deep": lambda: nested_multipart(50),
    "line_without_colon": lambda: b"this is not a header\r\n" + HEAD + b"\r\nbody",
    "empty": lambda: b"",
    "binary_garbage": lambda: bytes(range(256)) * 64,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_malformed_message_is_reported_within_bounds(name: str) -> None:
    raw = CASES[name]()
    tracemalloc.start()
    started = time.process_time()
    try:
        facts = parse_facts(raw)
        result: Classification = CLASSIFIER.classify(facts)
    finally:
        elapsed = time.process_time() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    del raw
    assert result.malformed, result.evidence
    assert "malformed" in {item.rule for item in result.evidence}
    assert elapsed < 5.0
    # Work memory stays small whatever the input size (the input itself is not traced here).
    assert peak < 24 * 1024 * 1024


def test_well_formed_message_is_not_malformed() -> None:
    raw = HEAD + b"Date: Mon, 03 Mar 2025 10:00:00 +0100\r\n\r\nHello there"
    result = CLASSIFIER.classify(parse_facts(raw))
    assert not result.malformed
    assert "malformed" not in {item.rule for item in result.evidence}


def test_deep_nesting_still_finds_no_text_from_attached_messages() -> None:
    facts = parse_facts(nested_rfc822(50))
    assert facts.body_text() == ""
    assert any("nesting" in defect for defect in facts.body_defects())
