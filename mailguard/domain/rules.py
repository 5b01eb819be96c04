"""Rule and settings types of the classifier; the shipped data lives in ``lexicon``.

These are the shapes the YAML config is loaded into, so they stay small and frozen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailguard.domain.model import Kind

SUBJECT = "subject"
BODY = "body"
FROM = "from"
HEADER_PREFIX = "header:"


@dataclass(frozen=True)
class PatternRule:
    """A named regular expression on one part of a message that votes for a kind.

    ``target`` is "subject", "body" (the author's text, quotes removed), "from" (the
    normalised sender address) or "header:<Header-Name>" (the decoded first such field).
    ``pattern`` is searched case-insensitively. ``weight`` adds to the automated score
    (1.0 decides on its own) and to the vote for ``kind``; a rule of kind ``human``
    subtracts its weight instead. A rule with ``language`` set only applies when the
    message is in that language or its language is unknown.
    """

    name: str
    kind: Kind
    target: str
    pattern: str
    language: str | None = None
    weight: float = 1.0


@dataclass(frozen=True)
class FrustrationTerm:
    """A named pattern in a human's own words that signals frustration, with its weight."""

    name: str
    pattern: str
    weight: float
    language: str | None = None


@dataclass(frozen=True)
class ClassifierSettings:
    """Deployment-specific knowledge. The defaults mean "nothing configured".

    ``helpdesk_senders`` are normalised addresses of the company's robots (an entry
    starting with "@" covers a whole domain); mail from them is automated unless it comes
    from one of ``agent_addresses`` or carries one of ``human_markers`` (header name,
    regex on its value), which the helpdesk adds when a person wrote the reply.
    """

    helpdesk_senders: frozenset[str] = frozenset()
    agent_addresses: frozenset[str] = frozenset()
    human_markers: tuple[tuple[str, str], ...] = ()
    extra_rules: tuple[PatternRule, ...] = ()
    extra_frustration: tuple[FrustrationTerm, ...] = ()


def validate_target(target: str) -> bool:
    """Whether ``target`` names a part of a message a PatternRule can look at."""
    if target in (SUBJECT, BODY, FROM):
        return True
    return target.startswith(HEADER_PREFIX) and len(target) > len(HEADER_PREFIX)


def compile_pattern(pattern: str) -> re.Pattern[str] | None:
    """Compile a rule pattern case-insensitively; None when it is not a valid regex."""
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error:
        return None
