"""The other side of the loop-lag test, in its own process (its own GIL): the upstream sink
and the clients. Prints the sink's port, reads the proxy's port from stdin, sends one big
message while a stream of small ones flows, prints a JSON summary and exits.

Usage: python -m tests.integration.lag_peer BIG_BYTES SMALL_COUNT
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime

import aiosmtplib

from tests.integration.engine_support import mail
from tests.integration.smtp_support import Sink

LINE = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod te\r\n"


def message(n: int, body: bytes) -> bytes:
    head = mail(
        sender="support@example.com",
        to="carl@customer.example",
        subject=f"Re: order {n}",
        at=datetime(2026, 11, 30, tzinfo=UTC),
        message_id=f"lag-{n}@example.com",
        body="",
    )
    return head + body


async def send(port: int, raw: bytes) -> int:
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=120)
    await client.connect()
    errors, _ = await client.sendmail("support@example.com", ["carl@customer.example"], raw)
    await client.quit()
    return len(errors)


async def main(big_bytes: int, small: int) -> None:
    sink = Sink()
    await sink.start()
    print(sink.port, flush=True)
    loop = asyncio.get_running_loop()
    port = int(await loop.run_in_executor(None, sys.stdin.readline))
    big = message(0, LINE * (big_bytes // len(LINE)))

    async def stream() -> int:
        sent = 0
        await asyncio.sleep(0.2)  # let the big message get going
        for n in range(1, small + 1):
            sent += await send(port, message(n, b"Thanks, we shipped it.\r\n")) == 0
            await asyncio.sleep(0.02)
        return sent

    big_errors, sent = await asyncio.gather(send(port, big), stream())
    await sink.close()
    summary = {
        "big_refused": big_errors,
        "sent": sent,
        "received": len(sink.received),
        "largest": max(len(r.raw) for r in sink.received),
        "big": len(big),
    }
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
