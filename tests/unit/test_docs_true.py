"""The docs stay true: every YAML snippet of README.md and docs/*.md passes the configuration
loader that ``mailguard check-config`` uses (merged onto config/mailguard.example.yaml where
it is a fragment), a snippet marked invalid is rejected, and every ``mailguard …`` command
line is accepted by the CLI's own argument parser."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stderr, redirect_stdout
from typing import Any

import pytest
import yaml

from mailguard.app.cli import build_parser
from mailguard.config import parse_config
from mailguard.errors import ConfigError
from tests.docs_support import DOCS, REPO, CommandLine, Snippet, command_lines, expansions, snippets

EXAMPLE = REPO / "config" / "mailguard.example.yaml"
YAML_SNIPPETS = [s for path in DOCS for s in snippets(path) if s.lang in ("yaml", "yml")]
COMMANDS = [c for path in DOCS for c in command_lines(path)]


def merged(snippet: Snippet) -> str:
    """The example with the snippet put where its marker says, as YAML text."""
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    fragment = yaml.safe_load(_dedented(snippet.text))
    marker = snippet.marker or ""
    path = marker.removeprefix("at ").strip() if marker.startswith("at ") else ""
    if not path:
        return yaml.safe_dump(_merge(data, fragment), sort_keys=False, allow_unicode=True)
    parts = re.findall(r"([A-Za-z_]+)(?:\[(\d+)\])?", path)
    parent: Any = data
    for index, (key, item) in enumerate(parts):
        last = index == len(parts) - 1
        if last and not item:
            parent[key] = _merge(parent.get(key), fragment)
        elif last:
            parent[key][int(item)] = _merge(parent[key][int(item)], fragment)
        else:
            parent = parent[key][int(item)] if item else parent[key]
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _dedented(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    indent = min(len(line) - len(line.lstrip()) for line in lines)
    return "\n".join(line[indent:] for line in text.splitlines())


def _merge(base: Any, overlay: Any) -> Any:
    """Mappings merge key by key; anything else (a list too) is replaced."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        return {**base, **{k: _merge(base.get(k), v) for k, v in overlay.items()}}
    return overlay


def _validate(snippet: Snippet) -> None:
    text = merged(snippet)
    env = {name: "from-the-environment" for name in re.findall(r"\$\{(\w+)", text)}
    parse_config(text, snippet.where, env)


def test_the_docs_have_snippets_and_commands_to_check() -> None:
    assert len(YAML_SNIPPETS) >= 10
    assert any(s.marker == "invalid" for s in YAML_SNIPPETS)
    assert len(COMMANDS) >= 60


@pytest.mark.parametrize("snippet", YAML_SNIPPETS, ids=lambda s: s.where)
def test_each_yaml_snippet_is_what_check_config_accepts(snippet: Snippet) -> None:
    assert snippet.marker is None or re.fullmatch(r"invalid|at [\w.\[\]]+", snippet.marker), (
        f"{snippet.where}: unknown marker {snippet.marker!r} (invalid, or at PATH)"
    )
    if snippet.marker == "invalid":
        with pytest.raises(ConfigError):
            _validate(snippet)
        return
    if snippet.marker is None and snippet.text[:1].isspace():
        pytest.fail(f"{snippet.where}: an indented fragment needs <!-- config: at PATH -->")
    try:
        _validate(snippet)
    except ConfigError as exc:
        pytest.fail(f"{snippet.where}: the configuration loader rejects this snippet:\n{exc}")


def parse_error(argv: list[str]) -> str | None:
    """The argument parser's complaint about ``argv``, or None if it accepts it."""
    parser = build_parser()
    complaint = io.StringIO()
    with redirect_stderr(complaint), redirect_stdout(io.StringIO()):
        try:
            parser.parse_args(argv)
        except SystemExit as exc:
            return None if exc.code == 0 else complaint.getvalue().strip().splitlines()[-1]
    return None


INCOMPLETE = ("the following arguments are required", "expected one argument")


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: f"{c.where} {c.text}")
def test_each_command_line_is_what_the_cli_accepts(command: CommandLine) -> None:
    accepted: set[str] = set()
    errors: list[str] = []
    every: set[str] = set()
    for argv, chosen in expansions(command.text):
        every |= chosen
        error = parse_error(argv)
        if error is not None and command.mention and any(s in error for s in INCOMPLETE):
            error = None  # inline code naming a command, not a full command line
        if error is None:
            accepted |= chosen
        else:
            errors.append(f"mailguard {' '.join(argv)}: {error}")
    assert accepted, f"{command.where}: `mailguard {command.text}`:\n" + "\n".join(errors)
    rejected = sorted(every - accepted)
    assert not rejected, (
        f"{command.where}: `mailguard {command.text}`: no accepted form uses {rejected}:\n"
        + "\n".join(errors)
    )


@pytest.mark.parametrize(
    ("usage", "ok"),
    [
        ("held list|show|release|drop [ID] [-c FILE]", True),
        ("held list|show|relaese [ID]", False),
        ("explain FILE.eml [--json] [--colour]", False),
        ("audit PATH... [--format text|md|html|json|pdf]", False),
        ("db upgrade [-c FILE] [REV]", True),
    ],
)
def test_the_usage_check_can_fail(usage: str, ok: bool) -> None:
    command = CommandLine("here", usage, mention=False)
    if ok:
        test_each_command_line_is_what_the_cli_accepts(command)
    else:
        with pytest.raises(AssertionError):
            test_each_command_line_is_what_the_cli_accepts(command)


@pytest.mark.parametrize(
    ("marker", "text", "ok"),
    [
        (None, "policy:\n  frustration: {threshold: 0.5}\n", True),
        (None, "policy:\n  frustation: {threshold: 0.5}\n", False),
        ("invalid", "policy:\n  frustation: {threshold: 0.5}\n", True),
        ("invalid", "policy:\n  frustration: {threshold: 0.5}\n", False),
        ("at mailboxes[0]", "    dry_run: true\n    imap: {host: imap.example.org}\n", True),
        ("at mailboxes[0]", "    dryrun: true\n", False),
        (None, "    imap: {host: imap.example.org}\n", False),
        ("at mailboxes", "  - {name: s, addresses: [s@example.com]}\n", True),
    ],
)
def test_the_snippet_check_can_fail(marker: str | None, text: str, ok: bool) -> None:
    snippet = Snippet("here:1", "yaml", text, marker)
    if ok:
        test_each_yaml_snippet_is_what_check_config_accepts(snippet)
    else:
        with pytest.raises((AssertionError, pytest.fail.Exception)):
            test_each_yaml_snippet_is_what_check_config_accepts(snippet)
