"""What the loop policy remembers about one customer in one guarded mailbox.

``CustomerState`` is immutable and JSON-serialisable (``to_dict``/``from_dict``) so the store
keeps it in one JSON column. It is bounded: entries older than the policy's largest window are
pruned, and the history is capped, so a bot that mails a customer thousands of times cannot
grow a row without limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from mailguard.domain.model import Direction, Kind

# A cap on remembered events per customer. The rules need at most a few dozen recent events
# (thresholds are single digits); the cap only matters for runaway loops, where the newest
# events are the ones that count.
MAX_HISTORY = 200
MAX_SEEN = 400
STATE_VERSION = 2
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _iso(value: datetime) -> str:
    return value.isoformat()


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


# History and seen keys are the bulk of every state and are rewritten with every message of
# the customer, so their timestamps are integer microseconds since the epoch (exact, and a
# third of the size of an ISO string); the rare escalations and breakers stay readable.
def _us(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(microseconds=1)


def _from_us(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(value))


@dataclass(frozen=True, slots=True)
class Entry:
    """One message in the customer's conversation since the last reset.

    ``refs`` holds the relevant addresses the message named or was sent to: for an automated
    reply, addresses it refers the customer to (another guarded mailbox, a partner); for a
    customer's message, partner or own addresses it mentions or copies (evidence of a ring).
    """

    at: datetime
    direction: Direction
    automated: bool
    kind: Kind
    thread: str
    message_id: str
    counterpart: str
    refs: tuple[str, ...] = ()
    # The JSON form, computed once: a customer's entries are re-serialised with every message
    # of theirs, and a replay of 100,000 messages would otherwise spend its time formatting
    # the same timestamps again and again. Not part of equality.
    _json: list[Any] | None = field(default=None, compare=False, repr=False)

    @property
    def human_inbound(self) -> bool:
        """A message the customer wrote themselves."""
        return self.direction is Direction.INBOUND and not self.automated

    @property
    def auto_outbound(self) -> bool:
        """A reply written by the company's automation."""
        return self.direction is Direction.OUTBOUND and self.automated

    def to_json(self) -> list[Any]:
        """Compact JSON form, a list: [at (us), dir, automated, kind, thread, id, counterpart,
        refs]. Computed once and shared: do not mutate."""
        encoded = self._json
        if encoded is None:
            encoded = [
                _us(self.at),
                self.direction.value,
                self.automated,
                self.kind.value,
                self.thread,
                self.message_id,
                self.counterpart,
                list(self.refs),
            ]
            object.__setattr__(self, "_json", encoded)
        return encoded

    @classmethod
    def from_json(cls, data: list[Any]) -> Entry:
        """Inverse of :meth:`to_json`."""
        at, direction, automated, kind, thread, message_id, counterpart, refs = data
        return cls(
            at=_from_us(at),
            direction=Direction(direction),
            automated=bool(automated),
            kind=Kind(kind),
            thread=str(thread),
            message_id=str(message_id),
            counterpart=str(counterpart),
            refs=tuple(str(r) for r in refs),
            _json=data,
        )


@dataclass(frozen=True, slots=True)
class OpenEscalation:
    """An escalation waiting for a person.

    ``stage`` counts notifications: 0 = agents notified at opening, 1 = re-notified after the
    first SLA period, 2 = the secondary address notified after the second period.
    """

    rule: str
    reason: str
    opened_at: datetime
    thread: str
    stage: int = 0
    notified_at: datetime | None = None
    link_key: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "rule": self.rule,
            "reason": self.reason,
            "opened_at": _iso(self.opened_at),
            "thread": self.thread,
            "stage": self.stage,
            "notified_at": _iso(self.notified_at) if self.notified_at else None,
            "link_key": self.link_key,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OpenEscalation:
        """Inverse of :meth:`to_dict`."""
        notified = data.get("notified_at")
        return cls(
            rule=str(data["rule"]),
            reason=str(data["reason"]),
            opened_at=_dt(data["opened_at"]),
            thread=str(data["thread"]),
            stage=int(data.get("stage", 0)),
            notified_at=_dt(notified) if notified else None,
            link_key=data.get("link_key"),
        )


@dataclass(frozen=True, slots=True)
class Breaker:
    """An open circuit: automated mail to ``counterpart`` is held until ``until``."""

    counterpart: str
    until: datetime


@dataclass(frozen=True, slots=True)
class CustomerState:
    """The policy's memory of one customer (see the module docstring)."""

    history: tuple[Entry, ...] = ()
    seen: tuple[tuple[str, str, datetime], ...] = ()
    escalations: tuple[OpenEscalation, ...] = ()
    breakers: tuple[Breaker, ...] = ()
    last_human_reply: datetime | None = None

    def has_seen(self, message_id: str, direction: Direction) -> bool:
        """True if this message was already decided on (domain-level idempotency)."""
        return any(mid == message_id and d == direction.value for mid, d, _ in self.seen)

    def with_entry(self, entry: Entry) -> CustomerState:
        """Add a message in time order and remember its key."""
        if not self.history or self.history[-1].at <= entry.at:
            history = (*self.history, entry)[-MAX_HISTORY:]  # the usual case: in time order
        else:
            history = tuple(sorted((*self.history, entry), key=lambda e: e.at))[-MAX_HISTORY:]
        seen = (*self.seen, (entry.message_id, entry.direction.value, entry.at))[-MAX_SEEN:]
        return replace(self, history=history, seen=seen)

    def breaker_for(self, counterpart: str, now: datetime) -> Breaker | None:
        """The circuit open against ``counterpart`` at ``now``, if any."""
        for breaker in self.breakers:
            if breaker.counterpart == counterpart and breaker.until > now:
                return breaker
        return None

    def pruned(self, now: datetime, keep: timedelta) -> CustomerState:
        """Forget history, seen keys and breakers older than ``keep`` (the largest window)."""
        cutoff = now - keep
        # Most messages prune nothing; keep the same object then (cheaper, and equal anyway).
        if (
            (not self.history or self.history[0].at >= cutoff)
            and all(key[2] >= cutoff for key in self.seen)
            and all(b.until > now for b in self.breakers)
        ):
            return self
        return replace(
            self,
            history=tuple(e for e in self.history if e.at >= cutoff),
            seen=tuple(s for s in self.seen if s[2] >= cutoff),
            breakers=tuple(b for b in self.breakers if b.until > now),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form, stable across releases (``v`` is the format version)."""
        return {
            "v": STATE_VERSION,
            "history": [e.to_json() for e in self.history],
            "seen": [[mid, d, _us(at)] for mid, d, at in self.seen],
            "escalations": [e.to_dict() for e in self.escalations],
            "breakers": [{"cp": b.counterpart, "until": _iso(b.until)} for b in self.breakers],
            "last_human_reply": _iso(self.last_human_reply) if self.last_human_reply else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> CustomerState:
        """Inverse of :meth:`to_dict`; None (a new customer) gives the empty state."""
        if not data or data.get("v") != STATE_VERSION:
            # Only one format has ever been stored outside development; an unknown one is
            # started afresh rather than misread (the store keeps messages and escalations).
            return cls()
        last = data.get("last_human_reply")
        return cls(
            history=tuple(Entry.from_json(e) for e in data.get("history", ())),
            seen=tuple((str(s[0]), str(s[1]), _from_us(s[2])) for s in data.get("seen", ())),
            escalations=tuple(OpenEscalation.from_dict(e) for e in data.get("escalations", ())),
            breakers=tuple(
                Breaker(counterpart=str(b["cp"]), until=_dt(b["until"]))
                for b in data.get("breakers", ())
            ),
            last_human_reply=_dt(last) if last else None,
        )
