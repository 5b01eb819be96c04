"""What a data-protection officer checks after an erasure: every table, every folder.

:func:`dump` reads every table the database has (found by reflection, so a table added
later is read too) with every column, as the database returns it. :func:`mentions` is the
test's own, deliberately simple check for an address and its plus-tag and case variants,
independent of the code under test. :func:`folder` reads a whole IMAP folder.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import inspect, text

from mailguard.store.engine import create_engine
from tests.dovecot.fixture import Dovecot
from tests.integration.imap_support import open_imap

Row = tuple[tuple[str, Any], ...]


async def dump(url: str) -> dict[str, list[Row]]:
    """Every row of every table: {table: sorted rows}, each row its (column, value) pairs."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: inspect(c).get_table_names())
            tables: dict[str, list[Row]] = {}
            for name in sorted(names):
                rows = await conn.execute(text(f'SELECT * FROM "{name}"'))  # noqa: S608
                tables[name] = sorted(
                    (tuple((k, _frozen(v)) for k, v in r._mapping.items()) for r in rows),
                    key=repr,
                )
            return tables
    finally:
        await engine.dispose()


def _frozen(value: Any) -> Any:
    """A cell as a hashable value: JSON (PostgreSQL hands it back decoded) as its text."""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, memoryview | bytearray):
        return bytes(value)
    return value


def cell_text(value: Any) -> str:
    """A cell as text to search: bytes decoded, JSON as stored."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("latin-1")
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def mentions(value: Any, local: str, domain: str) -> bool:
    """True when ``value`` holds local@domain or local+tag@domain, in any case."""
    pattern = rf"(?<![\w.+-]){re.escape(local)}(\+[^@\s\"<>]*)?@{re.escape(domain)}"
    return re.search(pattern, cell_text(value), re.IGNORECASE) is not None


def rows_mentioning(tables: dict[str, list[Row]], local: str, domain: str) -> dict[str, list[Row]]:
    """The rows with a cell that mentions the address (see :func:`mentions`)."""
    found = {
        name: [r for r in rows if any(mentions(v, local, domain) for _, v in r)]
        for name, rows in tables.items()
    }
    return {name: rows for name, rows in found.items() if rows}


async def folder(dovecot: Dovecot, name: str) -> dict[int, bytes]:
    """Every message of a folder of support@: UID -> raw bytes (nothing marked seen)."""
    conn = await open_imap(dovecot)
    try:
        await conn.select(name)
        found: dict[int, bytes] = {}
        async for batch in conn.fetch(await conn.search("ALL")):
            found.update(batch)
        return found
    finally:
        await conn.close()
