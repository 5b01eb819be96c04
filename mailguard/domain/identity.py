"""Who a message is about and which conversation it belongs to.

Pure helpers for the engine: subject normalisation (the fallback thread key), customer
identification from an address, the ids that chain a message into a thread, and a stable
Message-ID for messages that lack one.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from mailguard.domain.model import Direction

# Reply/forward prefixes in the languages our customers write in. Mail clients stack them
# ("AW: RE: Fwd: ...") and some number them ("RE[2]:", "Re(3):", "Re^2:"), so the pattern is
# applied repeatedly. Longer alternatives come first so "Antw" wins over "An" style overlaps.
_REPLY_WORDS = (
    r"antwort|antw|doorst|enc|fwd|fw|réf|ref|rif|res|aw|wg|tr|sv|vs|vl|rv|re|r|odp|pd|ynt|ilt"
)
# Auto-responders prepend their own marker to the subject they answer; a human who answers the
# auto-reply keeps it ("AW: Automatische Antwort: Gutschein"), so it is stripped as well to find
# the original conversation.
_AUTO_WORDS = (
    r"automatische antwort|automatic reply|auto(?:matic)?[- ]?reply|autoreply|"
    r"abwesend|out of (?:the )?office|abwesenheitsnotiz|réponse automatique|"
    r"respuesta automática|risposta automatica|automatisch antwoord|"
    r"undeliverable|unzustellbar"
)
_PREFIX = re.compile(
    rf"^\s*(?:(?:{_REPLY_WORDS})\s*\.?\s*(?:\[\d+\]|\(\d+\)|\^\d+)?|{_AUTO_WORDS})\s*[:：]\s*",
    re.IGNORECASE,
)
# Ticket tags helpdesks insert: "[#1234]", "[Ticket#123]", "(#123)", "[Ticket #123]",
# "[Case: 00012345]". They differ between the customer's copy and the helpdesk's, so they never
# belong in the thread key. A bare "[2]" is not a tag (it may be part of the subject).
_TICKET_TAG = re.compile(
    r"[\[(]\s*(?:#\s*\d+|[a-z][\w-]{0,15}\s*(?:#|:|no\.?|nr\.?)?\s*#?\s*\d{2,})\s*[\])]",
    re.IGNORECASE,
)
_SPACE = re.compile(r"\s+")
_EDGE_PUNCT = " \t-–—:;,.!?|"


def normalize_subject(subject: str) -> str:
    """Return the subject without reply/forward/auto-reply prefixes and ticket tags.

    The result is case-folded, NFC-normalised and whitespace-collapsed, so that
    ``"AW: WG: [Ticket#123] Gutschein  ungültig"`` and ``"gutschein ungültig"`` are equal.
    """
    text = unicodedata.normalize("NFC", subject)
    text = _SPACE.sub(" ", text).strip()
    while True:
        stripped = _TICKET_TAG.sub(" ", text)
        stripped = _SPACE.sub(" ", stripped).strip(_EDGE_PUNCT)
        stripped = _PREFIX.sub("", stripped, count=1)
        if stripped == text:
            break
        text = stripped
    return text.casefold()


def split_address(address: str) -> tuple[str, str] | None:
    """Split a normalised address into (local part, domain), or None if it is not one."""
    local, sep, domain = address.rpartition("@")
    if not sep or not local or not domain or " " in address:
        return None
    return local, domain


def fold_plus_tag(address: str) -> str:
    """Remove a "+tag" from the local part: ``jo+shop@x.org`` -> ``jo@x.org``."""
    parts = split_address(address)
    if parts is None:
        return address
    local, domain = parts
    base = local.split("+", 1)[0]
    return f"{base or local}@{domain}"


def is_own(address: str, own_domains: Iterable[str], own_addresses: Iterable[str]) -> bool:
    """True if the address belongs to the company: an own address or (a subdomain of) an own domain.

    Both sides are compared case-insensitively; plus-tags are folded for the address check
    so ``support+billing@example.com`` is the company even if only ``support@`` is listed.
    """
    addr = address.strip().lower()
    parts = split_address(addr)
    if parts is None:
        return False
    domain = parts[1].rstrip(".")
    for own in own_domains:
        own_domain = own.strip().lower().lstrip("@").rstrip(".")
        if own_domain and (domain == own_domain or domain.endswith("." + own_domain)):
            return True
    listed = {a.strip().lower() for a in own_addresses}
    return addr in listed or fold_plus_tag(addr) in listed


def customer_of(
    address: str | None,
    own_domains: Iterable[str],
    own_addresses: Iterable[str],
    fold_plus_tags: bool,
) -> str | None:
    """Return the customer identity for a normalised address, or None.

    None for a missing or unparseable address, the null sender, and the company's own side
    (own addresses, own domains and their subdomains). Otherwise the lower-cased address, with
    the plus-tag folded when ``fold_plus_tags`` (one person writing from ``jo+a@`` and ``jo+b@``
    is one customer).
    """
    if not address:
        return None
    addr = address.strip().lower()
    if split_address(addr) is None or is_own(addr, own_domains, own_addresses):
        return None
    return fold_plus_tag(addr) if fold_plus_tags else addr


def infer_direction(
    sender: str | None, own_domains: Iterable[str], own_addresses: Iterable[str]
) -> Direction:
    """Outbound when the company's side sent the message, inbound otherwise."""
    if sender and is_own(sender, own_domains, own_addresses):
        return Direction.OUTBOUND
    return Direction.INBOUND


def thread_ids(
    message_id: str | None, in_reply_to: Iterable[str], references: Iterable[str]
) -> tuple[str, ...]:
    """The ids that tie a message into a thread, without duplicates or empties.

    Order: the message's own id, In-Reply-To, then References from the newest (last) to the
    root (first), because the nearest ancestor is the likeliest to be known already.
    """
    ordered: list[str] = []
    seen: set[str] = set()
    for item in (message_id, *in_reply_to, *reversed(tuple(references))):
        if item:
            cleaned = item.strip().strip("<>").strip()
            if cleaned and cleaned not in seen:
                seen.add(cleaned)
                ordered.append(cleaned)
    return tuple(ordered)


# Headers that survive the trip from the SMTP proxy into the Sent folder unchanged. Received,
# X-* and transport headers differ between the two copies, so they are not hashed.
_STABLE_HEADERS = ("from", "to", "cc", "date", "subject", "in-reply-to", "references")
_HEADER_END = re.compile(rb"\r?\n\r?\n")


def derive_message_id(raw: bytes) -> str:
    """A stable substitute Message-ID for a message that has none: ``mg-<sha256>@derived``.

    It hashes the unfolded, whitespace-normalised values of a few stable headers, so the copy
    relayed by the proxy and the copy in Sent produce the same id. A header block without
    any of them is hashed whole.
    """
    match = _HEADER_END.search(raw)
    block = raw[: match.start()] if match else raw
    text = block.decode("utf-8", errors="replace").replace("\r\n", "\n")
    unfolded = re.sub(r"\n[ \t]+", " ", text)
    picked: list[str] = []
    for line in unfolded.split("\n"):
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() in _STABLE_HEADERS:
            picked.append(f"{name.strip().lower()}:{_SPACE.sub(' ', value).strip()}")
    material = "\n".join(sorted(picked)) if picked else _SPACE.sub(" ", unfolded).strip()
    digest = hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]
    return f"mg-{digest}@derived"


@dataclass(frozen=True, slots=True)
class CompanyIdentity:
    """Who the company is: never customers, and which guarded mailbox has which addresses.

    ``mailboxes`` pairs a guarded mailbox name with its addresses (normalised); the first
    mailbox is where mail goes that names none of them.
    """

    own_domains: frozenset[str]
    own_addresses: frozenset[str] = frozenset()
    mailboxes: tuple[tuple[str, frozenset[str]], ...] = ()

    @property
    def mailbox_names(self) -> tuple[str, ...]:
        """All guarded mailbox names, in configuration order."""
        return tuple(name for name, _ in self.mailboxes) or ("default",)

    def addresses_of(self, mailbox: str) -> frozenset[str]:
        """The addresses of one guarded mailbox (empty if unknown)."""
        return next((addrs for name, addrs in self.mailboxes if name == mailbox), frozenset())

    def mailbox_for(self, addresses: Sequence[str]) -> str:
        """The first guarded mailbox one of ``addresses`` belongs to, else the first one."""
        for address in addresses:
            for name, addrs in self.mailboxes:
                if address in addrs:
                    return name
        return self.mailbox_names[0]
