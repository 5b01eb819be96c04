"""Which guarded mailboxes only decide and log: the top-level ``dry_run`` and each mailbox's.

A mailbox's own ``dry_run`` (``mailboxes[].dry_run``) overrides the top-level one, so a new
mailbox can be tried beside live ones, or one mailbox kept live while the rest are tried.
Mail that belongs to no configured mailbox follows the top-level value.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DryRun:
    """``dry_run(mailbox)``: True where nothing may change (no move, hold, note, notice)."""

    default: bool = False
    overrides: tuple[tuple[str, bool], ...] = ()
    """(mailbox name, its own value) for each mailbox that sets ``dry_run`` itself."""

    def __call__(self, mailbox: str | None) -> bool:
        for name, value in self.overrides:
            if name == mailbox:
                return value
        return self.default

    @property
    def anywhere(self) -> bool:
        """True if at least one mailbox (or the default) is in a dry run."""
        return self.default or any(value for _, value in self.overrides)

    def describe(self) -> str:
        """``yes``, ``no``, or the default with the exceptions, e.g. ``no (support: yes)``."""
        base = "yes" if self.default else "no"
        others = [f"{n}: {'yes' if v else 'no'}" for n, v in self.overrides if v != self.default]
        return f"{base} ({', '.join(others)})" if others else base

    @classmethod
    def of(cls, value: bool | DryRun) -> DryRun:
        """A plain bool means the same for every mailbox."""
        return value if isinstance(value, DryRun) else cls(default=bool(value))
