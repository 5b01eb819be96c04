"""Column types shared by the models: timezone-aware UTC timestamps.

SQLite has no timestamp-with-time-zone type and hands back naive datetimes, while
PostgreSQL's ``timestamptz`` keeps the instant. Storing every instant as UTC and
returning aware UTC datetimes on both backends means the engine never compares a
naive value with an aware one (which raises ``TypeError`` at the worst moment).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Dialect
from sqlalchemy.types import DateTime, TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A ``DateTime(timezone=True)`` that accepts only aware values and returns aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            # A naive value has no defined instant; guessing "local" or "UTC" would
            # silently shift timestamps, so refuse it where the bug is made.
            raise ValueError(f"naive datetime {value!r} given where an aware UTC one is needed")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # SQLite's DATETIME storage drops the offset; store the UTC wall time.
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
