"""Read YAML while remembering where each key stands, and expand ``${VAR}`` from the environment.

``${VAR:-default}`` falls back to ``default`` when VAR is unset; ``$$`` is a literal ``$``.

pydantic reports errors by key path; a person editing the file wants a line number. We
compose the YAML node graph once, build plain Python data from it, and keep a map from key
path to line so that every validation error can be located.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from mailguard.errors import ConfigProblem

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\$")

Path_ = tuple[str | int, ...]


@dataclass
class LocatedData:
    """Plain data from a YAML document plus the line of every key path in it."""

    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    problems: list[ConfigProblem] = field(default_factory=list)

    def line_of(self, path: Path_) -> int | None:
        """The line of ``path``, or of its closest located ancestor."""
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path[:-1]


def dotted(path: Path_) -> str:
    """``("mailboxes", 0, "imap")`` -> ``mailboxes[0].imap``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def load_yaml(text: str, env: Mapping[str, str]) -> LocatedData:
    """Parse ``text``; YAML syntax errors and missing variables become problems, not raises."""
    result = LocatedData(data=None)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        result.problems.append(ConfigProblem("", f"invalid YAML: {reason}", line))
        return result
    if node is None:
        result.data = {}
        return result
    result.data = _build(node, (), result, env)
    return result


def _build(node: yaml.Node, path: Path_, out: LocatedData, env: Mapping[str, str]) -> Any:
    out.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.safe_load(yaml.serialize(key_node))
            key_path = (*path, str(key))
            if key in mapping:
                out.problems.append(
                    ConfigProblem(dotted(key_path), "duplicate key", key_node.start_mark.line + 1)
                )
            out.lines[key_path] = key_node.start_mark.line + 1
            mapping[key] = _build(value_node, key_path, out, env)
        return mapping
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), out, env) for i, item in enumerate(node.value)]
    value = yaml.safe_load(yaml.serialize(node))
    if isinstance(value, str) and "$" in value:
        return _expand(value, path, node.start_mark.line + 1, out, env)
    return value


def _expand(value: str, path: Path_, line: int, out: LocatedData, env: Mapping[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "$"  # "$$" escapes a literal dollar sign.
        if name not in env:
            if match.group(2) is not None:
                return match.group(2)  # ${VAR:-default}, as in the shell.
            out.problems.append(
                ConfigProblem(dotted(path), f"environment variable {name} is not set", line)
            )
            return ""
        return env[name]

    return _ENV_REF.sub(substitute, value)
