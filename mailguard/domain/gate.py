"""Cheap literal gates in front of regular expressions.

Python's ``re`` walks every start position of a text for every pattern; forty phrase
patterns over a few KB of body cost milliseconds per message. Most phrase patterns can only
match where one of a few literal strings starts ("i am", "ich bin", "unsubscribe").
:func:`literal_prefixes` derives that set from the pattern text, and a substring test on
the lower-cased text (a C-speed scan) decides whether the regex needs to run at all.

The derivation is deliberately conservative: it understands literals, escapes, groups,
alternation, small character classes and quantifiers, and gives up (returns None, meaning
"always run the regex") on anything else. A gate may let a non-matching text through; it
must never hold back a text the pattern would match, so every branch of an alternation
has to yield a prefix or the whole gate is dropped.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass, field

_MAX_PREFIXES = 64
_MIN_LENGTH = 2
_LONG_ENOUGH = 14
_MIN_ANCHOR = 1
_ZERO_WIDTH_ESCAPES = frozenset("BAZ")
# Stands for a \b word boundary inside a derived prefix; no pattern literal can be NUL
# because the marker is stripped before any substring test.
_BOUNDARY = "\x00"
_LITERAL_ESCAPES = frozenset(".-'\"/:()[]{}?*+|\\ #&!,;<>=@%")


class _Stop(Exception):
    """The pattern uses syntax this module does not reason about."""


def _skip_class(pattern: str, index: int) -> int:
    """Index just past the character class starting at ``pattern[index] == '['``."""
    i = index + 1
    if i < len(pattern) and pattern[i] == "^":
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    if i >= len(pattern):
        raise _Stop
    return i + 1


def _class_chars(body: str) -> set[str] | None:
    """The characters of a simple class body like ``àa`` (no ranges, escapes, negation)."""
    if not body or body.startswith("^") or "\\" in body or "-" in body[1:-1] or len(body) > 4:
        return None
    return set(body)


def _quantifier(pattern: str, index: int) -> tuple[int, bool, int]:
    """(minimum count, whether more than one is allowed, index after) at ``index``."""
    if index >= len(pattern):
        return 1, False, index
    char = pattern[index]
    if char in "?*+":
        end = index + 1
        if end < len(pattern) and pattern[end] in "?+":
            end += 1
        return (1 if char == "+" else 0), char != "?", end
    if char == "{":
        close = pattern.find("}", index)
        if close < 0:
            raise _Stop
        bounds = pattern[index + 1 : close].split(",", 1)
        low = bounds[0].strip() or "0"
        if not low.isdigit():
            raise _Stop
        end = close + 1
        if end < len(pattern) and pattern[end] in "?+":
            end += 1
        return int(low), len(bounds) > 1 or int(low) > 1, end
    return 1, False, index


def _skip_rest(pattern: str, index: int) -> int:
    """Advance to the ``|`` or ``)`` that ends the current branch (or the end)."""
    depth = 0
    i = index
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":
            i = _skip_class(pattern, i)
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                return i
            depth -= 1
        elif char == "|" and depth == 0:
            return i
        i += 1
    return i


def _atom(pattern: str, i: int) -> tuple[set[str] | None, int, bool]:
    """Literal options of the atom at ``i``, the index after it, and whether the options
    are the whole text the atom can match (False: only its beginnings)."""
    char = pattern[i]
    if char == "\\":
        escaped = pattern[i + 1 : i + 2]
        if escaped == "b":
            return {_BOUNDARY}, i + 2, True
        if escaped in _ZERO_WIDTH_ESCAPES:
            return {""}, i + 2, True
        return ({escaped} if escaped in _LITERAL_ESCAPES else None), i + 2, True
    if char == "(":
        if pattern.startswith("(?:", i):
            start = i + 3
        elif pattern.startswith("(?", i):
            return None, i, False
        else:
            start = i + 1
        options, close, complete = _alternation(pattern, start)
        if close >= len(pattern) or pattern[close] != ")":
            raise _Stop
        return options, close + 1, complete
    if char == "[":
        end = _skip_class(pattern, i)
        return _class_chars(pattern[i + 1 : end - 1]), end, True
    if char in ".$":
        return None, i + 1, False
    return {char}, i + 1, True


def _branch(pattern: str, index: int) -> tuple[set[str], int, bool]:
    """Prefixes of one branch from ``index``: (prefixes, branch end, whether complete)."""
    current = {""}
    i = index
    while i < len(pattern) and pattern[i] not in "|)":
        if _shortest(current) >= _LONG_ENOUGH:
            # Selective enough; longer prefixes would only multiply the substring tests.
            return current, _skip_rest(pattern, i), False
        if pattern[i] == "^":
            i += 1
            continue
        options, after, whole = _atom(pattern, i)
        if options is None:
            return current, _skip_rest(pattern, i), False
        minimum, repeats, after_q = _quantifier(pattern, after)
        if minimum == 0 and repeats:
            return current, _skip_rest(pattern, i), False
        grown = {head + tail for head in current for tail in options}
        # An optional atom may be absent from the match, so both continuations count.
        extended = current | grown if minimum == 0 else grown
        if len(extended) > _MAX_PREFIXES:
            if _shortest(current) > _MIN_LENGTH:
                # Enough already: stop here rather than test dozens of substrings.
                return current, _skip_rest(pattern, i), False
            raise _Stop
        current = extended
        if repeats or not whole:
            # What follows is not adjacent to these prefixes in every match.
            return current, _skip_rest(pattern, i), False
        i = after_q
    return current, i, True


def _alternation(pattern: str, index: int) -> tuple[set[str], int, bool]:
    """Union of the prefixes of all branches from ``index`` up to ``)`` or the end."""
    result: set[str] = set()
    complete = True
    i = index
    while True:
        prefixes, end, whole = _branch(pattern, i)
        result |= prefixes
        complete = complete and whole
        if end >= len(pattern) or pattern[end] == ")":
            return result, end, complete
        i = end + 1


def _shortest(prefixes: set[str]) -> int:
    return min(len(prefix.replace(_BOUNDARY, "")) for prefix in prefixes)


def _minimal(prefixes: frozenset[str]) -> frozenset[str]:
    """Drop strings that contain another member: testing the shorter one suffices."""
    ordered = sorted(prefixes, key=len)
    kept: list[str] = []
    for prefix in ordered:
        if not any(short in prefix for short in kept):
            kept.append(prefix)
    return frozenset(kept)


def top_level_branches(pattern: str) -> list[str]:
    """The branches of the pattern's outermost alternation (``a|b(c|d)`` -> a, b(c|d)).

    Searching each branch on its own finds what the whole pattern finds; with a gate per
    branch, a text that opens one branch's gate pays for that branch only. A pattern this
    module cannot walk comes back whole.
    """
    branches: list[str] = []
    depth = 0
    begin = i = 0
    try:
        while i < len(pattern):
            char = pattern[i]
            if char == "\\":
                i += 2
                continue
            if char == "[":
                i = _skip_class(pattern, i)
                continue
            if char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
            elif char == "|" and depth == 0:
                branches.append(pattern[begin:i])
                begin = i + 1
            i += 1
    except _Stop:
        return [pattern]
    if depth != 0:
        return [pattern]
    branches.append(pattern[begin:])
    return branches


def literal_prefixes(pattern: str) -> frozenset[str] | None:
    """Lower-case strings one of which occurs in every match of ``pattern``; None if unknown.

    A string may start with a word-boundary marker; see :class:`Gate`.
    """
    try:
        prefixes, end, _ = _alternation(pattern, 0)
    except (_Stop, IndexError):
        return None
    if end != len(pattern) or not prefixes or _shortest(prefixes) < _MIN_LENGTH:
        return None
    return frozenset(prefix.lower() for prefix in prefixes)


# Letters that re.IGNORECASE equates with a letter lower() does not map onto them (dotless
# i, long s, micro sign, Greek and Cyrillic variants; Python's re._casefix). "i" and "s"
# are left out: GateText.of refuses a text holding their partners "ı" and "ſ". A pattern
# holding any other of them matches differently in lower case; see folded_twin.
_CASE_TRAPS = frozenset(
    "µıſ\u0345ΐΰβεθικμπρςσφϐϑϕϖϰϱϵвдостъѣ\u1c80\u1c81\u1c82\u1c83\u1c84\u1c85\u1c86"
    "\u1c87\u1c88ṡẛ\u1fbe\u1fd3\u1fe3ꙋﬅﬆ"
)
# Upper-case escapes (\\W, \\B, \\N{...}), escapes naming a character by number (\\x41 is
# "A" in any case), and inline flags ("(?-i:...)", "(?P<name>" would lower-case into nonsense).
_UPPER_ESCAPE = re.compile(r"\\[A-Zxu0-9]|\(\?[a-zA-Z-]")
_ODD_RANGE = re.compile(r"[^\x00-\x7f]-|-[^\x00-\x7f]|[A-Z]-[^A-Z]|[^A-Z\\]-[A-Z]")


def folded_twin(pattern: str) -> re.Pattern[str] | None:
    """``pattern`` in lower case, compiled for a case-sensitive search of ``text.lower()``
    that finds what an IGNORECASE search of ``text`` finds at the same positions; None
    when lower-casing could change what it matches.

    That holds when the text lower-cases in place (see :func:`lowered_in_place`) and the
    pattern has no upper-case escape (``\\W``, ``\\B``, ``\\N{...}``), no character
    escape by number, no inline flag, no letter of ``_CASE_TRAPS``, no letter that
    lower-cases to more than one, and no range whose ends lower-case into another range
    ("[A-z]", "[À-Þ]").
    A search without IGNORECASE can use the pattern's literal prefix, which ``re`` cannot
    under IGNORECASE: the twin is several times faster on a long text.
    """
    lowered = pattern.lower()
    if (
        len(lowered) != len(pattern)
        or _UPPER_ESCAPE.search(pattern)
        or _ODD_RANGE.search(pattern)
        or not _CASE_TRAPS.isdisjoint(lowered)
    ):
        return None
    return re.compile(lowered)


_WORD = re.compile(r"\w+")
# Letters of a word-initial prefix that key it (see Gate.headed): long enough to be
# selective, short enough for stems ("beschwer", "kündig") to have them.
HEAD = 4
_HEAD_OF = operator.itemgetter(slice(HEAD))


@dataclass(frozen=True, slots=True)
class Gate:
    """What must be present in a text for a pattern to possibly match it.

    ``anchored`` maps a whole word (a ``\\w+`` token) to the prefixes that start with it:
    a set intersection with the text's words rules most of them out at once, and only the
    prefixes of words that are present get a substring test. ``headed`` does the same for
    prefixes that start a word but may end inside it (a stem such as "unverschämt"): they
    are keyed by their first ``HEAD`` letters, which must begin one of the text's words.
    ``loose`` holds the rest, tested as substrings.
    """

    anchored: dict[str, tuple[str, ...]]
    anchors: frozenset[str]
    loose: tuple[str, ...]
    headed: dict[str, tuple[str, ...]] = field(default_factory=dict)
    heads: frozenset[str] = frozenset()

    @classmethod
    def of(cls, pattern: str) -> Gate | None:
        prefixes = literal_prefixes(pattern)
        if prefixes is None:
            return None
        anchored: dict[str, set[str]] = {}
        headed: dict[str, set[str]] = {}
        loose: set[str] = set()
        for prefix in prefixes:
            anchor = _anchor_word(prefix)
            plain = prefix.replace(_BOUNDARY, "")
            head = _head(prefix)
            if anchor:
                anchored.setdefault(anchor, set()).add(plain)
            elif head:
                headed.setdefault(head, set()).add(plain)
            else:
                loose.add(plain)
        frozen = {word: tuple(_minimal(frozenset(texts))) for word, texts in anchored.items()}
        by_head = {head: tuple(_minimal(frozenset(texts))) for head, texts in headed.items()}
        return cls(
            frozen,
            frozenset(frozen),
            tuple(_minimal(frozenset(loose))),
            by_head,
            frozenset(by_head),
        )


def _head(prefix: str) -> str | None:
    """The first HEAD letters of a prefix that starts at a word boundary, if all are word
    characters: every match then starts a ``\\w+`` token of the text with them."""
    if not prefix.startswith(_BOUNDARY):
        return None
    body = prefix.lstrip(_BOUNDARY)[:HEAD]
    return body if len(body) == HEAD and _WORD.fullmatch(body) else None


def _anchor_word(prefix: str) -> str | None:
    """The longest word of a prefix that is a whole ``\\w+`` token of every match.

    The first word counts when the prefix starts at a word boundary, a later one when a
    non-word character precedes it; either must be followed by a non-word character or a
    boundary inside the prefix (else the text's word may be longer). The longest such word
    is the rarest in a text as a rule ("chatbot" rather than "die" in "die chatbot").
    """
    body = prefix.lstrip(_BOUNDARY)
    best: str | None = None
    for match in _WORD.finditer(body):
        start, end = match.span()
        if start == 0:
            if not prefix.startswith(_BOUNDARY):
                continue
        elif body[start - 1].isalnum() or body[start - 1] == "_":
            continue  # cannot happen for \w+ runs; kept for clarity
        if end >= len(body):
            break
        follower = body[end]
        if follower != _BOUNDARY and (follower.isalnum() or follower == "_"):
            continue
        word = match.group(0)
        if len(word) >= _MIN_ANCHOR and (best is None or len(word) > len(best)):
            best = word
    return best


# Letters re.IGNORECASE matches by an ASCII letter that lower() keeps apart from it: the dotted
# capital I (whose lower() is two characters, "i" and a combining dot), dotless i, long s.
_STAND_INS = str.maketrans({"İ": "i", "ı": "i", "ſ": "s"})


def lowered_in_place(text: str) -> str:
    """``text`` in lower case, one character for one, matched by a lower-case pattern where
    an IGNORECASE search of ``text`` matches (see :func:`folded_twin`).

    That is ``text.lower()``, except where lower-casing would change the length (U+0130
    becomes two characters) or keep apart letters that IGNORECASE equates with an ASCII
    one (dotless i, long s): those become the ASCII letter, "i" or "s", before lower().
    """
    return _lower(text)[0]


def _lower(text: str) -> tuple[str, bool]:
    """:func:`lowered_in_place` of ``text``, and whether it is ``text.lower()`` itself."""
    lowered = text.lower()
    if len(lowered) != len(text) or "ı" in lowered or "ſ" in lowered:
        return text.translate(_STAND_INS).lower(), False
    return lowered, True


@dataclass(frozen=True, slots=True)
class GateText:
    """A text prepared once for many gate tests.

    ``lowered`` is the text in lower case with every position kept (see
    :func:`lowered_in_place`), or None (then every gate opens); ``keys`` are its ``\\w+``
    tokens and ``heads`` their first HEAD letters, which gates test. ``words`` are the
    tokens of ``text.lower()`` (what the language guess counts): ``keys`` themselves, or
    empty when the lower-case copy had to stand ASCII letters in for "İ", "ı" or "ſ".
    """

    lowered: str | None
    words: frozenset[str]
    heads: frozenset[str] = frozenset()
    keys: frozenset[str] = frozenset()

    @classmethod
    def of(cls, text: str) -> GateText:
        lowered, faithful = _lower(text)
        keys = frozenset(_WORD.findall(lowered))
        # A boundary-anchored prefix can only begin where a \w+ token begins, so the first
        # letters of the tokens are all a headed gate needs.
        heads = frozenset(map(_HEAD_OF, keys))
        return cls(lowered, keys if faithful else frozenset(), heads, keys)

    def opens(self, gate: Gate | None) -> bool:
        """Whether the pattern behind ``gate`` could match this text."""
        if gate is None or self.lowered is None:
            return True
        return self._test(gate, self.lowered)

    def _test(self, gate: Gate, lowered: str) -> bool:
        # Plain loops: a generator per test costs more than the substring scans it drives.
        if not gate.anchors.isdisjoint(self.keys):
            anchored = gate.anchored
            for word in gate.anchors & self.keys:
                for text in anchored[word]:
                    if text in lowered:
                        return True
        if gate.heads and not gate.heads.isdisjoint(self.heads):
            headed = gate.headed
            for head in gate.heads & self.heads:
                for text in headed[head]:
                    if text in lowered:
                        return True
        for text in gate.loose:
            if text in lowered:
                return True
        return False
