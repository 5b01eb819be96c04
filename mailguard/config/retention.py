"""The ``retention:`` section: how long each kind of stored data is kept (docs/privacy.md).

Every table and every kind of stored mail has a bound (GDPR Art. 5(1)(e)); the meaning of
each key is in :mod:`mailguard.domain.retention`, which the daemon's maintenance applies.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import field_validator, model_validator

from mailguard.config.values import Duration, Section

_MIN = timedelta(hours=1)
_MAX = timedelta(days=36500)


class RetentionConfig(Section):
    """How long mailguard keeps each kind of data; see docs/privacy.md."""

    history: Duration = timedelta(days=90)
    held: Duration = timedelta(days=30)
    deferred: Duration = timedelta(days=1)
    failed: Duration = timedelta(days=30)
    escalations: Duration = timedelta(days=30)
    notice: Duration = timedelta(days=1)

    @field_validator("history", "held", "deferred", "failed", "escalations", "notice")
    @classmethod
    def _bounded(cls, value: timedelta) -> timedelta:
        if not _MIN <= value <= _MAX:
            raise ValueError("must be between 1h and 36500d")
        return value

    @model_validator(mode="after")
    def _notice_before_expiry(self) -> RetentionConfig:
        # The agents are told `notice` before held or failed mail goes: that must leave
        # some time between the notice and the item's first day.
        for name in ("held", "failed"):
            if self.notice >= getattr(self, name):
                raise ValueError(f"notice must be shorter than {name}")
        return self
