"""What one mailbox's server can do, learned from the server and shared by its connections.

Servers differ in ways that change what mailguard may send:

- **Keywords.** Exchange Online answers ``PERMANENTFLAGS`` without ``\\*`` and refuses a
  STORE that carries a keyword (``BAD Command Argument Error. 11``), even together with
  ``\\Flagged``. Every SELECT tells this object what the folder allows; the connection then
  never sends a keyword there (escalation is shown by the folder and ``\\Flagged``, and
  mailguard's own marks live in its database). A server that refuses a keyword STORE
  without having said so is believed too: the STORE is not sent again.
- **IDLE, MOVE**, and where Sent is (RFC 6154 ``\\Sent``): recorded for ``mailguard status``.

What is unavailable is logged once per mailbox (``imap_server_limits``) and kept for
``mailguard status`` (:meth:`MailboxCapabilities.limits`). Other parts ask
:meth:`MailboxCapabilities.keywords` (per folder) or :attr:`keywords_available` (the whole
mailbox), e.g. to decide whether a keyword can be an agent's signal.
"""

from __future__ import annotations

import structlog

from mailguard.imap.parse import FolderState

log = structlog.get_logger("mailguard.imap.capabilities")

FINDINGS = frozenset({"sent"})
KEYWORDS_EFFECT = (
    "escalation is shown by the folder and \\Flagged; mailguard's marks live in its database"
)


class MailboxCapabilities:
    """Keyword support per folder and the server's other limits, for one mailbox."""

    def __init__(self, mailbox: str) -> None:
        self.mailbox = mailbox
        self._keywords: dict[str, bool] = {}
        self._why: dict[str, str] = {}
        self._notes: dict[str, str] = {}
        self._logged: set[str] = set()
        self.changed = False

    # -- keywords ------------------------------------------------------------------------

    def selected(self, folder: str, state: FolderState) -> None:
        """A SELECT of ``folder`` answered ``state`` (its PERMANENTFLAGS)."""
        if self._why.get(folder, "").startswith("refused"):
            return  # the server refused a keyword STORE here: that outweighs what it says
        allowed = state.keywords
        if self._keywords.get(folder) is allowed:
            return
        self._keywords[folder] = allowed
        if not allowed:
            flags = " ".join(sorted(state.permanent_flags or ()))
            self._why[folder] = f"PERMANENTFLAGS ({flags}) without \\*"
        else:
            self._why.pop(folder, None)
        self._update()

    def refused(self, folder: str, text: str) -> None:
        """The server refused a STORE with a keyword in ``folder``: never again."""
        if self._keywords.get(folder) is False:
            return
        self._keywords[folder] = False
        self._why[folder] = f"refused a keyword STORE: {text[:120]}"
        self._update()

    def keywords(self, folder: str) -> bool | None:
        """Whether keywords can be stored in ``folder``; None until it was selected."""
        return self._keywords.get(folder)

    @property
    def keywords_available(self) -> bool | None:
        """False once any folder refuses keywords, True once folders were seen and all
        allow them, None before any was selected."""
        if not self._keywords:
            return None
        return all(self._keywords.values())

    # -- other facts ---------------------------------------------------------------------

    def note(self, feature: str, detail: str | None) -> None:
        """Record (or, with None, clear) a limit or finding such as ``idle`` or ``sent``."""
        if self._notes.get(feature) == detail:
            return
        if detail is None:
            self._notes.pop(feature, None)
        else:
            self._notes[feature] = detail
        self._update()

    def limits(self) -> dict[str, str]:
        """Feature -> what it means here, for ``mailguard status`` (empty: nothing to say)."""
        found = dict(self._notes)
        by_reason: dict[str, list[str]] = {}
        for folder, ok in sorted(self._keywords.items()):
            if not ok:
                by_reason.setdefault(self._why.get(folder, ""), []).append(folder)
        if by_reason:
            reasons = "; ".join(f"{', '.join(f)}: {why}" for why, f in by_reason.items())
            found["keywords"] = f"not stored ({reasons}); {KEYWORDS_EFFECT}"
        return found

    def _update(self) -> None:
        self.changed = True
        limits = self.limits()
        for feature in sorted(set(limits) - self._logged):
            # Once per mailbox and feature: a reconnect or a second connection that finds the
            # same again says nothing new.
            self._logged.add(feature)
            # Where Sent is is a finding, not something the server lacks.
            emit = log.info if feature in FINDINGS else log.warning
            emit(
                "imap_server_limits", mailbox=self.mailbox, feature=feature, detail=limits[feature]
            )
