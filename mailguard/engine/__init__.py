"""The engine: one raw message in, one committed decision and its outbox actions out.

``service`` runs a message through facts -> classification -> customer and thread ->
``decide`` -> one transaction (``writes`` shapes what is written, ``state_cache`` keeps hot
customer state), against the storage port in ``ports``. ``analysis`` is the pure
parse-and-classify step that the audit runs in worker processes; ``factory`` builds the
engine the same way for the daemon, the audit and the tests.
"""

from __future__ import annotations
