"""Where escalations are announced: the agents' addresses and the mail's templates.

The notification mailguard sends to the agents when an escalation opens and on each SLA
breach is written in the language of the customer's message, like the note beside the
escalated mail (DE and EN built in). A template is a ``str.format`` string whose
placeholders are :data:`NOTIFY_FIELDS`; an unknown placeholder is a configuration error,
not a failure at the first escalation.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator, model_validator

from mailguard.config.values import Address, Section

DEFAULT_NOTIFY_TEMPLATES: dict[str, str] = {
    "en": (
        "{headline}\n\n"
        "Customer: {customer}\n"
        "Subject: {subject}\n"
        "Mailbox: {mailbox}\n"
        "Where: {where}\n"
        "Rule: {rule} - {rule_description}\n"
        "Why now: {reason}\n"
        "Evidence:\n{evidence}\n\n"
        "Timeline:\n{timeline}\n\n"
        "To resolve: reply to the customer yourself, or mark the thread as handled "
        "(mailguard resolve).\n\n"
        "{held_how}\n"
    ),
    "de": (
        "{headline}\n\n"
        "Kunde: {customer}\n"
        "Betreff: {subject}\n"
        "Postfach: {mailbox}\n"
        "Wo: {where}\n"
        "Regel: {rule} - {rule_description}\n"
        "Anlass: {reason}\n"
        "Belege:\n{evidence}\n\n"
        "Verlauf:\n{timeline}\n\n"
        "Erledigen: dem Kunden selbst antworten, oder den Vorgang als erledigt markieren "
        "(mailguard resolve).\n\n"
        "{held_how}\n"
    ),
}
NOTIFY_FIELDS = (
    "headline",
    "customer",
    "subject",
    "mailbox",
    "folder",
    "where",
    "rule",
    "rule_description",
    "reason",
    "evidence",
    "timeline",
    "level",
    "held_how",
)


class NotifyConfig(Section):
    """Where escalations are announced (through the top-level relay), and in which words."""

    # Without agents, notify actions are marked done as skipped (logged): nothing is sent.
    agents: Address | None = None
    # The secondary level (a later SLA breach) goes here; without it, to the agents too.
    secondary: Address | None = None
    sender: Address = "mailguard@localhost.localdomain"
    default_language: str = "en"
    # Empty means the built-in DE and EN templates; given languages replace or add to them.
    templates: Annotated[dict[str, str], Field(validate_default=True)] = {}

    @field_validator("templates")
    @classmethod
    def _with_builtin_languages(cls, templates: dict[str, str]) -> dict[str, str]:
        # The built-in DE and EN templates stay unless a language is given a template.
        return {**DEFAULT_NOTIFY_TEMPLATES, **templates}

    @model_validator(mode="after")
    def _templates_format(self) -> NotifyConfig:
        if self.default_language not in self.templates:
            raise ValueError(f"no template for default_language {self.default_language!r}")
        for language, template in self.templates.items():
            try:
                template.format(**dict.fromkeys(NOTIFY_FIELDS, ""))
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(
                    f"template {language!r}: {exc!r}; placeholders: {', '.join(NOTIFY_FIELDS)}"
                ) from None
        return self
