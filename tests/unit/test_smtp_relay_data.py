"""The relay's piecewise DATA preparation equals aiosmtplib's whole-message one."""

from __future__ import annotations

from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings
from hypothesis import given
from hypothesis import strategies as st

from mailguard.smtp import relay

LINES = st.lists(
    st.sampled_from([b".", b"..x", b"hello", b"\r", b"\n", b"\r\n", b"a\rb", b"x" * 70, b""]),
    max_size=400,
)


def whole(raw: bytes) -> bytes:
    return PERIOD_REGEX.sub(b"..", normalize_message_line_endings(raw)) + b".\r\n"


def pieces(raw: bytes) -> bytes:
    out = b"".join(relay._prepared(c) for c in relay._chunks(raw))
    return out + (b".\r\n" if out.endswith(b"\r\n") else b"\r\n.\r\n")


@given(LINES)
def test_piecewise_preparation_matches_aiosmtplib(parts: list[bytes]) -> None:
    raw = b"\r\n".join(parts)
    original = relay._CHUNK
    relay._CHUNK = 16  # many pieces even for small inputs
    try:
        assert pieces(raw) == whole(raw)
    finally:
        relay._CHUNK = original
