"""A bounded cache of parsed customer states for the engine (see :class:`StateCache`)."""

from __future__ import annotations

from collections import OrderedDict

from mailguard.domain.policy import Decision
from mailguard.domain.state import CustomerState
from mailguard.engine.ports import EventWrite, JsonDict


class StateCache:
    """Parsed customer states, reused while the store hands back the very JSON we saved.

    A batch keeps the dicts the engine wrote and returns the same objects on the next
    ``lock_customers``; re-parsing them for every message would cost more than deciding.
    The identity check makes a hit exact: any other dict (a unit of work reading the
    database, another process's write) is parsed afresh. Bounded, least recently used out.
    """

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._items: OrderedDict[tuple[str, str], tuple[JsonDict, CustomerState]] = OrderedDict()

    def load(self, mailbox: str, address: str, data: JsonDict | None) -> CustomerState:
        """The state for ``data`` as loaded from the store."""
        hit = self._items.get((mailbox, address))
        if hit is not None and data is not None and hit[0] is data:
            self._items.move_to_end((mailbox, address))
            return hit[1]
        return CustomerState.from_dict(data)

    def remember(self, write: EventWrite, decision: Decision, mailbox: str) -> None:
        """Keep the states just written, keyed by the dicts handed to the store."""
        for saved in write.states:
            box = saved.customer.mailbox
            state = decision.state if box == mailbox else decision.peer_states.get(box)
            if state is None:
                continue
            key = (box, saved.customer.address)
            self._items[key] = (saved.state, state)
            self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)
