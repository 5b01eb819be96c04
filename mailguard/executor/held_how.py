"""How agents release or drop a held robot reply, in the words of the note, the notification
and the retention notice (DE and EN; other languages get English).

Where the mailbox is watched over IMAP, by moving the held copy (docs/imap.md "Held mail");
elsewhere (a proxy-only mailbox) with ``mailguard held`` on the server.
"""

from __future__ import annotations

from mailguard.config.model import MailboxConfig

_FOLDERS = {
    "en": (
        'Robot replies held meanwhile have a copy in the folder "{held}": move one to '
        '"{release}" to send it, or to "{drop}" to discard it.'
    ),
    "de": (
        'Zurückgehaltene Robot-Antworten liegen als Kopie im Ordner "{held}": in den Ordner '
        '"{release}" verschieben, um eine zu senden, oder nach "{drop}", um sie zu verwerfen.'
    ),
}
_SHELL = {
    "en": (
        "Robot replies held meanwhile: mailguard held list, then mailguard held release ID "
        "(or drop ID) on the server."
    ),
    "de": (
        "Zurückgehaltene Robot-Antworten: mailguard held list, dann mailguard held release ID "
        "(oder drop ID) auf dem Server."
    ),
}


def held_how(mailbox: MailboxConfig | None, language: str) -> str:
    """One sentence: how an agent sends or discards a robot reply held in ``mailbox``."""
    if mailbox is None or mailbox.imap is None:
        return _SHELL.get(language, _SHELL["en"])
    folders = mailbox.folders
    text = _FOLDERS.get(language, _FOLDERS["en"])
    return text.format(held=folders.held, release=folders.release, drop=folders.drop)
