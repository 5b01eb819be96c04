"""Agents release or drop held replies from their mail client: the mailbox side.

A held robot reply has a copy in the held folder (:mod:`mailguard.imap.actions`). An agent
sends it by moving the copy into the release folder, or by setting the release keyword on
it in the held folder; moving it into the drop folder, or the drop keyword, discards it.
Each poll of the watcher's folders connection reads the copies there (headers only) and
hands each one's stamp to the settler (:mod:`mailguard.app.held_commands`), which decides
and acts; then the copy shows the agent what happened:

- released: ``\\Seen`` and the released keyword, moved into the released folder;
- dropped (by this command, or before by someone else): ``\\Seen`` and the dropped keyword,
  moved into the dropped folder;
- the relay refused it for good, or a process died while relaying it (it may or may not
  have gone out): ``\\Flagged`` and back into the held folder; the log says why;
- the relay is unreachable for now, or another process is relaying it: left where it is,
  looked at again next poll;
- not a copy mailguard may act on (no stamp, or one that names no waiting row of this
  mailbox with this Message-ID and digest): left alone, logged once.

The command keyword is removed once the command was carried out. Two replicas filing the
same copy at once (MOVE is a copy and an expunge) can leave it twice in the target folder:
after each poll, all but the lowest UID of identical copies are removed (both replicas
remove the same ones, so one copy always stays). Keywords are used only
where the server stores them (no ``\\*`` in PERMANENTFLAGS, as on Exchange: the folders
alone work, :mod:`mailguard.imap.capabilities`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Protocol

import structlog
from prometheus_client import Counter

from mailguard.config.model import MailboxConfig
from mailguard.domain.heldcopy import HELD_HEADER, Command, Outcome, Stamp, Verdict, parse_stamp
from mailguard.imap.connection import ImapCommandError, ImapConnection
from mailguard.imap.parse import quote, uid_set

log = structlog.get_logger("mailguard.imap.held_folders")

HEADER_ITEM = "BODY.PEEK[HEADER]"

AGENT_COMMANDS = Counter(
    "mailguard_held_agent_commands",
    "Agents' release and drop commands on held copies in their mail client, by outcome",
    ["mailbox", "command", "outcome"],
)


class Settler(Protocol):
    """Decides and carries out one command (``mailguard.app.held_commands.HeldSettler``)."""

    async def settle(self, mailbox: str, stamp: Stamp | None, command: Command) -> Verdict: ...


class HeldCommands:
    """Reads one mailbox's release and drop commands and files their copies afterwards."""

    def __init__(self, mailbox: MailboxConfig, settler: Settler) -> None:
        self._config = mailbox
        self._settler = settler
        self.name = mailbox.name
        # Copies left alone: logged once each, not every poll.
        self._refused: set[tuple[str, int, int]] = set()
        # Copies filed this poll, by target folder: checked for doubles at its end.
        self._filed: dict[str, list[Stamp]] = {}

    async def prepare(self, conn: ImapConnection) -> None:
        """Create the command and result folders agents need (subscribed)."""
        folders = self._config.folders
        for folder in dict.fromkeys(
            (folders.release, folders.drop, folders.released, folders.dropped)
        ):
            await conn.ensure_folder(folder)

    async def poll(self, conn: ImapConnection) -> int:
        """Carry out every command waiting now; returns how many copies were looked at."""
        folders, keywords = self._config.folders, self._config.keywords
        self._filed = {}
        count = 0
        for folder, command in ((folders.release, Command.RELEASE), (folders.drop, Command.DROP)):
            uids = await self._uids(conn, folder, ("ALL",))
            count += await self._settle(conn, folder, command, uids, None)
        # Where no keywords are stored, no agent can have set one.
        if await self._select(conn, folders.held) and conn.keywords_allowed(folders.held):
            for command, keyword in (
                (Command.RELEASE, keywords.release),
                (Command.DROP, keywords.drop),
            ):
                uids = await conn.search("KEYWORD", keyword)
                count += await self._settle(conn, folders.held, command, uids, keyword)
        for folder, stamps in self._filed.items():
            await self._single(conn, folder, stamps)
        return count

    async def _single(self, conn: ImapConnection, folder: str, stamps: list[Stamp]) -> None:
        """Remove doubles of these copies from ``folder``: all but the lowest UID of each."""
        if not await self._select(conn, folder):
            return
        for stamp in stamps:
            uids = await conn.search("HEADER", HELD_HEADER, quote(stamp.message_id))
            same: list[int] = []
            async for batch in conn.fetch(uids, HEADER_ITEM):
                same += [uid for uid, head in batch if parse_stamp(head) == stamp]
            doubles = sorted(same)[1:]
            if doubles:
                log.info(
                    "held_copy_doubles_removed", mailbox=self.name, folder=folder, uids=doubles
                )
                with contextlib.suppress(ImapCommandError):  # the other replica was faster
                    await conn.delete(doubles)

    async def _select(self, conn: ImapConnection, folder: str) -> bool:
        try:
            await conn.select(folder)
        except ImapCommandError as exc:
            # Typically: the folder does not exist (yet). Agents cannot use it then either.
            log.info("folder_unavailable", mailbox=self.name, folder=folder, error=str(exc))
            return False
        return True

    async def _uids(self, conn: ImapConnection, folder: str, criteria: Sequence[str]) -> list[int]:
        if not await self._select(conn, folder):
            return []
        return await conn.search(*criteria)

    async def _settle(
        self,
        conn: ImapConnection,
        folder: str,
        command: Command,
        uids: list[int],
        keyword: str | None,
    ) -> int:
        if not uids:
            return 0
        uidvalidity = conn.state.uidvalidity if conn.state is not None else 0
        count = 0
        async for batch in conn.fetch(uids, HEADER_ITEM):
            for uid, head in batch:
                count += 1
                stamp = parse_stamp(head)
                verdict = await self._settler.settle(self.name, stamp, command)
                AGENT_COMMANDS.labels(self.name, command.value, verdict.outcome.value).inc()
                self._log(folder, uidvalidity, uid, stamp, command, verdict)
                try:
                    target = await self._file(conn, folder, uid, verdict.outcome, keyword)
                    if target is not None and stamp is not None:
                        self._filed.setdefault(target, []).append(stamp)
                except ImapCommandError as exc:
                    if "EXPUNGEISSUED" not in exc.text.upper():
                        raise
                    # Moved meanwhile by another session: an agent, or another replica
                    # filing the same copy after settling the same command.
                    log.info("held_copy_moved_meanwhile", mailbox=self.name, folder=folder, uid=uid)
        return count

    async def _file(
        self, conn: ImapConnection, folder: str, uid: int, outcome: Outcome, keyword: str | None
    ) -> str | None:
        """Show the agent what became of the command (see the module docstring); returns the
        folder the copy was moved into, if it was."""
        folders, keywords = self._config.folders, self._config.keywords
        if outcome is Outcome.RELEASED:
            target, flags = folders.released, ["\\Seen", keywords.released]
        elif outcome is Outcome.DROPPED:
            target, flags = folders.dropped, ["\\Seen", keywords.dropped]
        elif outcome in (Outcome.FAILED, Outcome.UNCERTAIN):
            target, flags = folders.held, ["\\Flagged"]
        else:
            return None  # retry, busy or refused: the copy stays as the agent left it
        await conn.add_flags([uid], flags)
        if keyword is not None:
            await conn.uid("STORE", uid_set([uid]), "-FLAGS.SILENT", f"({keyword})")
        if target == folder:
            return None
        await conn.move([uid], target)
        return target

    def _log(
        self,
        folder: str,
        uidvalidity: int,
        uid: int,
        stamp: Stamp | None,
        command: Command,
        verdict: Verdict,
    ) -> None:
        fields = {
            "mailbox": self.name,
            "folder": folder,
            "uid": uid,
            "command": command.value,
            "outcome": verdict.outcome.value,
            "held_id": stamp.held_id if stamp is not None else None,
            "message_id": stamp.message_id if stamp is not None else None,
            "why": verdict.why,
        }
        if verdict.outcome is Outcome.REFUSED:
            key = (folder, uidvalidity, uid)
            if key not in self._refused:
                self._refused.add(key)
                log.warning("held_command_refused", **fields)
        elif verdict.outcome in (Outcome.FAILED, Outcome.UNCERTAIN):
            log.error("held_command_failed", **fields)
        elif verdict.outcome in (Outcome.RETRY, Outcome.BUSY):
            log.info("held_command_postponed", **fields)
        else:
            log.info("held_command_done", **fields)
