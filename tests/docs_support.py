"""What the docs show: their YAML snippets and their ``mailguard …`` command lines.

Used by tests/unit/test_docs_true.py, which checks each against the real configuration
loader and the CLI's real argument parser. Two conventions in the Markdown:

* An HTML comment right before a YAML block says what it is: ``<!-- config: invalid -->``
  for a snippet that shows a mistake (it must be rejected), ``<!-- config: at PATH -->``
  for a fragment that sits at PATH of the file (``mailboxes[0]`` is inside the first
  mailbox, ``mailboxes`` replaces the list). Without one, a snippet is a fragment of the
  whole file.
* A command line may be written as usage: ``[optional parts]``, ``a|b`` alternatives,
  ``PLACEHOLDERS`` in capitals and ``...`` repetition.
"""

from __future__ import annotations

import itertools
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCS = (REPO / "README.md", *sorted((REPO / "docs").glob("*.md")))

_FENCE = re.compile(r"^```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^```", re.S | re.M)
_MARKER = re.compile(r"<!--\s*config:\s*(?P<what>.+?)\s*-->\s*$")
_INLINE = re.compile(r"`([^`\n]+)`")
SHELL_LANGS = {"", "sh", "bash", "shell", "console", "text"}


@dataclass(frozen=True, slots=True)
class Snippet:
    """A fenced block: where it is, its language, its text and the marker before it."""

    where: str
    lang: str
    text: str
    marker: str | None


@dataclass(frozen=True, slots=True)
class CommandLine:
    """A ``mailguard …`` line; ``mention`` for inline code that only names a command."""

    where: str
    text: str
    mention: bool


def snippets(path: Path) -> Iterator[Snippet]:
    """Every fenced block of the file, with the ``<!-- config: … -->`` marker before it."""
    text = path.read_text(encoding="utf-8")
    for match in _FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = _MARKER.search(before)
        yield Snippet(
            f"{path.relative_to(REPO)}:{line}",
            match.group("lang"),
            match.group("body"),
            marker.group("what") if marker else None,
        )


def command_lines(path: Path) -> Iterator[CommandLine]:
    """Each ``mailguard`` command of the file's shell blocks and inline code."""
    text = path.read_text(encoding="utf-8")
    for snippet in snippets(path):
        if snippet.lang not in SHELL_LANGS:
            continue
        for offset, line in enumerate(snippet.text.splitlines(), start=1):
            for segment in re.split(r"\s(?:&&|\|\||;|\|)\s", _uncomment(line)):
                command = _command(segment)
                if command is not None:
                    where = f"{snippet.where.rsplit(':', 1)[0]}:{_line(snippet) + offset}"
                    yield CommandLine(where, command, mention=False)
    outside = _FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    for match in _INLINE.finditer(outside):
        code = match.group(1).replace("\\|", "|")
        command = _command(code)
        if command is not None:
            where = f"{path.relative_to(REPO)}:{outside.count(chr(10), 0, match.start()) + 1}"
            usage = bool(re.search(r"\[|\b[A-Z]+\b", command))
            yield CommandLine(where, command, mention=not usage)


def _line(snippet: Snippet) -> int:
    return int(snippet.where.rsplit(":", 1)[1])


def _uncomment(line: str) -> str:
    return re.split(r"\s#", line, maxsplit=1)[0].strip().removeprefix("$ ")


def _is_mailguard(token: str) -> bool:
    return token == "mailguard" or token.endswith("/mailguard")


def _command(text: str) -> str | None:
    """The part of a shell command from ``mailguard`` on, or None if it runs something else.

    ``sudo``, variable assignments and ``docker (compose) exec SERVICE`` may come first.
    """
    words = text.split()
    while words and (words[0] == "sudo" or re.fullmatch(r"[A-Z_]+=\S*", words[0])):
        words = words[1:]
    if words[:1] == ["docker"] and "exec" in words:
        start = next(
            (
                i
                for i, w in enumerate(words)
                if _is_mailguard(w) and (i + 1 == len(words) or not _is_mailguard(words[i + 1]))
            ),
            None,
        )
        words = words[start:] if start is not None else []
    if len(words) < 2 or not _is_mailguard(words[0]):
        return None
    words = list(itertools.takewhile(lambda w: not w.startswith(">"), words))
    return " ".join(words[1:])


# Sample values for the placeholders of usage lines.
SAMPLES = {
    "ID": "7",
    "REV": "head",
    "N": "1",
    "ADDR": "carl@customer.example",
    "ADDRESS": "carl@customer.example",
    "D": "example.com",
    "DOMAIN": "example.com",
}


def expansions(usage: str) -> list[tuple[list[str], frozenset[str]]]:
    """Every concrete argv a usage line stands for, each with the parts it chose
    (``opt:N`` for the N-th optional group included, ``alt:N=value`` for an alternative)."""
    tokens = shlex.split(usage.replace("[", " [ ").replace("]", " ] "))
    items, _ = _group(tokens, 0)
    return [(argv, frozenset(chosen)) for argv, chosen in _expand(items, [0])]


def _group(tokens: list[str], i: int) -> tuple[list[object], int]:
    items: list[object] = []
    while i < len(tokens):
        token = tokens[i]
        if token == "[":
            inner, i = _group(tokens, i + 1)
            items.append(inner)
        elif token == "]":
            return items, i + 1
        else:
            items.append(token)
            i += 1
    return items, i


def _expand(items: list[object], counter: list[int]) -> list[tuple[list[str], list[str]]]:
    results: list[tuple[list[str], list[str]]] = [([], [])]
    for item in items:
        counter[0] += 1
        label = counter[0]
        if isinstance(item, list):
            inner = _expand(item, counter)
            options = [([], [])] + [(argv, [f"opt:{label}", *c]) for argv, c in inner]
        else:
            word = str(item).removesuffix("...")
            choices = word.split("|") if "|" in word else [word]
            options = [([_sample(c)], [f"alt:{label}={c}"]) for c in choices]
        results = [(a + b, c + d) for a, c in results for b, d in options]
    return results


def _sample(word: str) -> str:
    if re.fullmatch(r"[A-Z][A-Z0-9_]*\.eml", word):
        return "message.eml"
    if re.fullmatch(r"[A-Z][A-Z0-9_]*", word):
        return SAMPLES.get(word, word.lower())
    return word
