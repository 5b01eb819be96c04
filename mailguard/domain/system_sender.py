"""A person writing from a system-looking address: root@, admin@, postmaster@, noreply@.

Small companies write from the only mailbox they have (postmaster@ of a bakery, admin@ of
a practice); a colleague uses the server's root mailbox before their own is set up. The
sender clues (``system_account_sender``, ``postmaster_sender``, ``noreply_sender``,
``robot_sender``, a no-reply Return-Path) and Outlook's ``X-Auto-Response-Suppress`` then
add up to "automated", although the mail was written in Outlook, Thunderbird or Apple Mail
and reads like a person's.

``person_at_system_address`` answers them: when a known mail program of a person wrote the
message (``human_mail_client`` / ``human_mailer`` fired), no other clue of a robot weighs
0.5 or more (no RFC 3834 header, list header, DSN, robot phrase), and the text is written in
the first person ("I", "ich", "je", "yo", "io", "ik", "eu"), the rule weighs for a person
exactly what the address clues weighed for a robot, so the address alone decides nothing.
"""

from __future__ import annotations

import re

from mailguard.domain.model import Evidence, Kind

RULE = "person_at_system_address"
ADDRESS_CLUES = frozenset(
    {
        "system_account_sender",
        "postmaster_sender",
        "noreply_sender",
        "robot_sender",
        "noreply_return_path",
        "x_auto_response_suppress",
    }
)
MAIL_PROGRAMS = frozenset({"human_mail_client", "human_mailer"})
STRONG = 0.5
# A first-person word of one of the seven languages the classifier reads.
_FIRST_PERSON = re.compile(
    r"\b(?:i|i'm|i’m|my|ich|mein\w*|mir|mich|je|j'|j’|moi|mon|ma|mes|yo|mis?|io|mio|mia|"
    r"ik|mijn|eu|meu|minha)\b",
    re.IGNORECASE,
)


def person_at_system_address(
    evidence: list[Evidence],
    votes: list[tuple[Kind, float]],
    text: str,
    human_rules: frozenset[str],
) -> Evidence | None:
    """The human clue for a person at a system-looking address, or None (see module).

    ``human_rules`` names the rules of kind human: they are no robot clues.
    """
    rules = {item.rule for item in evidence}
    if rules.isdisjoint(ADDRESS_CLUES) or rules.isdisjoint(MAIL_PROGRAMS):
        return None
    others = ADDRESS_CLUES | human_rules
    if any(item.weight >= STRONG for item in evidence if item.rule not in others):
        return None
    if _FIRST_PERSON.search(text) is None:
        return None
    weight = sum(item.weight for item in evidence if item.rule in ADDRESS_CLUES)
    clues = ", ".join(sorted(rules & ADDRESS_CLUES))
    found = Evidence(RULE, f"{clues} answered by a mail program and first-person text", weight)
    votes.append((Kind.HUMAN, weight))
    return found
