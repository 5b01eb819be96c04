"""The note mailguard files beside escalated mail: templates per language (DE and EN built in).

A template is a ``str.format`` string; its placeholders are :data:`NOTE_FIELDS`. A template
with an unknown placeholder is a configuration error, not a failure at the first escalation.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator, model_validator

from mailguard.config.values import Section

DEFAULT_NOTE_TEMPLATES: dict[str, str] = {
    "en": (
        "mailguard escalated this conversation to a person.\n\n"
        "Customer: {customer}\n"
        "Subject: {subject}\n"
        "Rule: {rule} - {rule_description}\n"
        "Evidence:\n{evidence}\n\n"
        "Timeline:\n{timeline}\n\n"
        "To resolve: reply to the customer, or move the customer's message to the folder "
        '"{handled_folder}" (or set the keyword {handled_keyword}).\n\n'
        "{held_how}\n"
    ),
    "de": (
        "mailguard hat dieses Gespr\u00e4ch an einen Menschen eskaliert.\n\n"
        "Kunde: {customer}\n"
        "Betreff: {subject}\n"
        "Regel: {rule} - {rule_description}\n"
        "Belege:\n{evidence}\n\n"
        "Verlauf:\n{timeline}\n\n"
        "Erledigen: dem Kunden antworten, oder seine Nachricht in den Ordner "
        '"{handled_folder}" verschieben (oder das Schlagwort {handled_keyword} setzen).\n\n'
        "{held_how}\n"
    ),
}
NOTE_FIELDS = (
    "customer",
    "subject",
    "rule",
    "rule_description",
    "evidence",
    "timeline",
    "handled_folder",
    "handled_keyword",
    "held_how",
)


class NoteConfig(Section):
    """The note mailguard files beside escalated mail, in the customer's language."""

    enabled: bool = True
    default_language: str = "en"
    # Empty means the built-in DE and EN templates; given languages replace or add to them.
    templates: Annotated[dict[str, str], Field(validate_default=True)] = {}

    @field_validator("templates")
    @classmethod
    def _with_builtin_languages(cls, templates: dict[str, str]) -> dict[str, str]:
        # The built-in DE and EN templates stay unless a language is given a template.
        return {**DEFAULT_NOTE_TEMPLATES, **templates}

    @model_validator(mode="after")
    def _templates_format(self) -> NoteConfig:
        if self.default_language not in self.templates:
            raise ValueError(f"no template for default_language {self.default_language!r}")
        for language, template in self.templates.items():
            try:
                template.format(**dict.fromkeys(NOTE_FIELDS, ""))
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(
                    f"template {language!r}: {exc!r}; placeholders: {', '.join(NOTE_FIELDS)}"
                ) from None
        return self
