"""The configuration reference (docs/configuration.md), made from the models and the example.

The pydantic models say which keys exist, their types and defaults; the example file
(config/mailguard.example.yaml) says in a comment what each key is for. Generating the
reference from both, and testing that the committed file is what this module generates,
keeps the reference, the example and the code from drifting apart.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from mailguard.config.model import Config

_KEY_LINE = re.compile(r"^(?P<indent>\s*)(?P<dash>- )?(?P<key>[A-Za-z_][\w]*):(?P<rest>.*)$")


@dataclass(frozen=True, slots=True)
class Key:
    """One configuration key: dotted path (``[]`` marks a list item), type, default."""

    path: str
    type: str
    default: str
    section: bool
    doc: str = ""


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds, directly, optionally, or as list items."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _is_list(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return any(_is_list(a) for a in typing.get_args(annotation))
    return origin is list


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _type_name(typing.get_args(annotation)[0])
    if origin is typing.Literal:
        return " | ".join(str(a) for a in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(annotation))
    if origin is not None:
        args = ", ".join(_type_name(a) for a in typing.get_args(annotation))
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    if annotation is type(None):
        return "null"
    if annotation is timedelta:
        return "duration"
    return getattr(annotation, "__name__", str(annotation))


def _show(value: Any) -> str:
    if value is PydanticUndefined:
        return "(required)"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, timedelta):
        seconds = int(value.total_seconds())
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
            if seconds and seconds % size == 0:
                return f"{seconds // size}{unit}"
        return f"{seconds}s"
    if isinstance(value, BaseModel):
        return "(section)"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{}" if not value else str(value)
    return str(value)


def keys(
    model: type[BaseModel] = Config,
    prefix: str = "",
    listed: dict[type[BaseModel], str] | None = None,
) -> Iterator[Key]:
    """Every key of ``model``, depth first, in declaration order.

    A section of a kind already listed (``relay.oauth2`` after ``mailboxes[].imap.oauth2``)
    is not expanded again: its entry says where its keys are.
    """
    listed = {} if listed is None else listed
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        sub = _model_of(field.annotation)
        if sub is not None:
            is_list = _is_list(field.annotation)
            shown = "[]" if is_list else "(section)"
            doc = (sub.__doc__ or "").strip().splitlines()[0] if sub.__doc__ else ""
            kind = "list of sections" if is_list else "section"
            if sub in listed:
                yield Key(path, f"{kind} (keys as `{listed[sub]}`)", shown, True, doc)
                continue
            listed[sub] = path
            yield Key(path, kind, shown, True, doc)
            yield from keys(sub, f"{path}{'[]' if is_list else ''}.", listed)
        else:
            yield Key(path, _type_name(field.annotation), _show(field.default), False)


def example_comments(text: str) -> dict[str, str]:
    """Dotted key -> the comment on its line in the example file."""
    stack: list[list[Any]] = []  # [column of the key, key, holds a list]
    found: dict[str, str] = {}
    for line in text.splitlines():
        match = _KEY_LINE.match(line)
        if match is None:
            continue
        column = len(match["indent"]) + (2 if match["dash"] else 0)
        while stack and stack[-1][0] >= column:
            stack.pop()
        if match["dash"] and stack:
            stack[-1][2] = True  # "- key: ..." starts an item of the enclosing list
        path = ".".join([*(k + ("[]" if is_list else "") for _, k, is_list in stack), match["key"]])
        rest = match["rest"].strip()
        value, _, comment = rest.partition("#") if rest.startswith("#") else rest.partition(" # ")
        found.setdefault(path, comment.strip())
        if not value.strip():
            stack.append([column, match["key"], False])
    return found


def render(example: str) -> str:
    """docs/configuration.md."""
    comments = example_comments(example)
    lines = [
        "# Configuration reference",
        "",
        "Generated by `python -m mailguard.config.reference` from the configuration models "
        "and the comments in",
        "[config/mailguard.example.yaml](../config/mailguard.example.yaml); a test keeps the "
        "three in step.",
        "Durations are written `90s`, `15m`, `8h`, `14d`; sizes `25MB`; secrets as `${VARIABLE}`.",
        "`[]` marks the items of a list (e.g. each entry of `mailboxes`).",
        "",
        "| key | type | default | meaning |",
        "|---|---|---|---|",
    ]
    for key in keys():
        meaning = (comments.get(key.path) or key.doc).replace("|", "\\|")
        kind = key.type.replace("|", "\\|")
        default = key.default.replace("|", "\\|")
        lines.append(f"| `{key.path}` | {kind} | `{default}` | {meaning} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    root = Path(__file__).resolve().parents[2]
    example = (root / "config" / "mailguard.example.yaml").read_text(encoding="utf-8")
    (root / "docs" / "configuration.md").write_text(render(example), encoding="utf-8")


if __name__ == "__main__":
    main()
