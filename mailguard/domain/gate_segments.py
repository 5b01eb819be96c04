"""Gates for every segment of a phrase pattern, not only its start.

A gate (see ``gate``) is derived from how a pattern begins. The voice signals are often a
common word, a gap, then a rare one: "bitte ... an die zuständige Sachbearbeiterin",
"nicht ... geliefert ... bezahlt". Gated by "bitte" or "nicht" alone, their regexes run on
nearly every German text. A gap (a character class or group repeated ``{0,N}`` times, or an
optional one such as a slot for an adjective) splits the pattern's top level into segments,
and every match of the pattern holds a match of each segment, so each segment's gate must
open too: a text without "Sachbearbeiter", "Teamleitung", ... never runs the regex.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from mailguard.domain.gate import HEAD, Gate, GateText, literal_prefixes, top_level_branches
from mailguard.domain.gate import _skip_class as skip_class
from mailguard.domain.gate import _skip_rest as skip_rest
from mailguard.domain.language import FUNCTION_WORDS

# A group or class that may match nothing: repeated {0,N} times, or optional.
_GAP_QUANTIFIER = re.compile(r"\{0,\d+\}\??|[?*]\??")


def _closing(pattern: str, index: int) -> int:
    """Index just past the group or class that starts at ``index``."""
    if pattern[index] == "[":
        return skip_class(pattern, index)
    i = index + 1
    while True:
        i = skip_rest(pattern, i)  # the end of one alternative of the group
        if i >= len(pattern) or pattern[i] == ")":
            return i + 1
        i += 1


def _atoms(run: str) -> list[str]:
    """The top-level atoms of a gap-free run: literal stretches and groups or classes with
    their quantifiers ("so kann ", "(?:es|das)", " nicht weiter", "\\w*")."""
    atoms: list[str] = []
    start = i = 0
    while i < len(run):
        char = run[i]
        if char == "\\":
            i += 2
            continue
        if char in "[(":
            if i > start:
                atoms.append(run[start:i])
            end = _closing(run, i)
            while end < len(run) and run[end] in "?*+{":
                end = run.index("}", end) + 1 if run[end] == "{" else end + 1
            atoms.append(run[i:end])
            start = i = end
            continue
        i += 1
    if start < len(run):
        atoms.append(run[start:])
    return atoms


def _starts_words(piece: str) -> bool:
    """Whether every match of ``piece`` begins with a letter (then, after a space, a word)."""
    prefixes = literal_prefixes(piece)
    return bool(prefixes) and all(p[:1].isalpha() for p in prefixes or ())


def _word_start(piece: str) -> str:
    """A literal stretch that begins after a space begins a word: key it by that word."""
    stripped = piece.lstrip(" ")
    if stripped != piece and stripped[:1].isalpha():
        return "\\b" + stripped
    return piece


def segments(branch: str) -> list[str]:
    """Pieces of ``branch`` that every match contains: the stretches between gaps
    (``[^.]{0,60}?``, ``(?:\\w+ )?``) and, within them, each literal stretch and group.

    A branch that is itself an alternation at its top level comes back whole.
    """
    runs: list[str] = []
    start = i = 0
    spaced = False
    while i < len(branch):
        char = branch[i]
        if char == "\\":
            i += 2
            continue
        if char == "|":
            return [branch]
        if char in "[(":
            end = _closing(branch, i)
            gap = _GAP_QUANTIFIER.match(branch, end)
            if gap:
                before = branch[start:i]
                runs.append(before)
                # After "nicht (?:\\w+ )?" the next stretch follows a space either way; so
                # after several optional words in a row ("nur (?:eine )?(?:gleiche )?").
                ends_spaced = before.endswith(" ") or (before == "" and spaced)
                spaced = ends_spaced and branch[:end].endswith(" )")
                start = i = gap.end()
                if spaced and branch[start : start + 2] != "\\b":
                    runs.append(" ")
                continue
            i = end
            continue
        i += 1
    runs.append(branch[start:])
    found: list[str] = []
    for before, run in zip(["", *runs], runs, strict=False):
        if not run.strip():
            continue
        if before == " " and _starts_words(run):
            run = "\\b" + run
        found.append(_word_start(run))
        found += _atom_pieces(run)
    return found


def _atom_pieces(run: str) -> list[str]:
    """The atoms of a run as pieces of their own (none for a run of one atom); a group after
    a space or a word boundary begins a word when all its literals begin with a letter."""
    atoms = _atoms(run)
    if len(atoms) < 2:
        return []
    pieces = []
    for previous, atom in zip(["", *atoms], atoms, strict=False):
        bounded = previous.endswith((" ", "\\b")) and atom[:1] == "("
        pieces.append("\\b" + atom if bounded and _starts_words(atom) else _word_start(atom))
    return pieces


@functools.lru_cache(maxsize=4096)
def gate_of(piece: str) -> Gate | None:
    """The gate of a pattern piece; one Gate object per distinct piece, so that branches
    sharing a piece share its gate and a scorer can remember per text whether it opened."""
    return Gate.of(piece)


# Words nearly every text of a language holds: the function words the language guess counts,
# and a few more that customers write in every message. A gate waiting for one of them
# waits for nothing.
_COMMON = FUNCTION_WORDS | frozenset(
    "kein keine keinen nichts noch schon heute mich mir uns bei als kann wie was wenn oder "
    "aber auch nur immer jetzt hier nach über not no any all can have has had been this that "
    "there here still just now pas plus rien tout très bien encore ne aussi mais ou si "
    "nada todo muy más pero ya aún también hay niente tutto molto più ma anche già ancora "
    "niets niks heel ook maar nog al wel nada tudo muito mais mas já ainda também".split()
)
_COMMON_HEADS = frozenset(word[:4] for word in _COMMON)


def selectivity(gate: Gate) -> tuple[bool, bool, int]:
    """How telling and how cheap a gate is: whether none of its keys is a common word (or
    the head of one), whether it needs no substring scan without a key, then the length of
    its shortest literal. "nicht " opens on nearly every German text, "(?:roboter|bot)" on
    few."""
    common = not gate.anchors.isdisjoint(_COMMON) or not gate.heads.isdisjoint(_COMMON_HEADS)
    common = common or any(text.split(" ")[0] in _COMMON for text in gate.loose)
    texts = [t for group in (*gate.anchored.values(), *gate.headed.values()) for t in group]
    shortest = min((len(t) for t in (*texts, *gate.loose)), default=0)
    return not common, not gate.loose, shortest


# Testing more than the two most telling pieces of a branch costs more than it saves.
_LATER = 2


def later_gates(branch: str) -> tuple[Gate, ...]:
    """Gates of the branch's most telling pieces (see ``segments``), the most telling first."""
    found = {id(g): g for piece in segments(branch)[1:] if (g := gate_of(piece)) is not None}
    return tuple(sorted(found.values(), key=selectivity, reverse=True)[:_LATER])


def union(gates: list[Gate | None]) -> Gate | None:
    """A gate that opens when any of ``gates`` opens (None: one of them always opens)."""
    present = [gate for gate in gates if gate is not None]
    if not present or len(present) < len(gates):
        return None
    anchored: dict[str, set[str]] = {}
    headed: dict[str, set[str]] = {}
    loose: set[str] = set()
    for gate in present:
        for word, texts in gate.anchored.items():
            anchored.setdefault(word, set()).update(texts)
        for head, texts in gate.headed.items():
            headed.setdefault(head, set()).update(texts)
        loose.update(gate.loose)
    return Gate(
        {word: _shortest_first(texts) for word, texts in anchored.items()},
        frozenset(anchored),
        _shortest_first(loose),
        {head: _shortest_first(texts) for head, texts in headed.items()},
        frozenset(headed),
    )


def _shortest_first(texts: set[str]) -> tuple[str, ...]:
    """The texts that contain no other one (testing the shorter suffices), shortest first."""
    kept: list[str] = []
    for text in sorted(texts, key=lambda t: (len(t), t)):
        if not any(short in text for short in kept):
            kept.append(text)
    return tuple(kept)


def key_gate(branch: str) -> Gate | None:
    """The most telling gate of a branch's segments (its own gate covers the first)."""
    candidates = [gate for gate in (gate_of(branch), *later_gates(branch)) if gate is not None]
    return max(candidates, key=selectivity) if candidates else None


# A literal, the words and the heads a text must hold for it to occur there (see _literal),
# shared by every index that holds the literal ...
_Literal = tuple[str, frozenset[str], frozenset[str]]
# ... and per index, the literals and, in step with them, the positions of the gates each
# opens (two flat tuples, positions shared: the scorer keeps an index per set of languages,
# some three thousand literals each).
_Keyed = tuple[tuple[_Literal, ...], tuple[tuple[int, ...], ...]]


@dataclass(frozen=True, slots=True)
class GateIndex:
    """Many gates at once: exactly which of them open on a text.

    Testing fifty gates one by one costs fifty Python calls per text, most of which fail on
    their substring tests. The index maps each anchor word and head to the literals that
    hold it and each literal to the gates it opens, so one intersection with the text's
    words names the few literals worth a substring test, and a literal that several gates
    share is tested once. ``candidates`` gives the same positions as testing ``opens`` on
    each gate.
    """

    by_anchor: dict[str, _Keyed]
    anchors: frozenset[str]
    by_head: dict[str, _Keyed]
    heads: frozenset[str]
    loose: _Keyed
    always: frozenset[int]  # positions without a gate
    size: int

    @classmethod
    def of(cls, gates: list[Gate | None]) -> GateIndex:
        by_anchor: dict[str, dict[str, set[int]]] = {}
        by_head: dict[str, dict[str, set[int]]] = {}
        loose: dict[str, set[int]] = {}
        always = set()
        for position, gate in enumerate(gates):
            if gate is None:
                always.add(position)
                continue
            for word, texts in gate.anchored.items():
                for text in texts:
                    by_anchor.setdefault(word, {}).setdefault(text, set()).add(position)
            for head, texts in gate.headed.items():
                for text in texts:
                    by_head.setdefault(head, {}).setdefault(text, set()).add(position)
            for text in gate.loose:
                loose.setdefault(text, set()).add(position)
        shared: dict[tuple[int, ...], tuple[int, ...]] = {}
        return cls(
            {word: _keyed(texts, shared) for word, texts in by_anchor.items()},
            frozenset(by_anchor),
            {head: _keyed(texts, shared) for head, texts in by_head.items()},
            frozenset(by_head),
            _keyed(loose, shared),
            frozenset(always),
            len(gates),
        )

    def candidates(self, prepared: GateText) -> set[int]:
        """Positions whose gate opens on ``prepared`` (all of them when it has no lower-case
        copy, as ``opens`` says)."""
        lowered = prepared.lowered
        if lowered is None:
            return set(range(self.size))
        found = set(self.always)
        words, heads = prepared.keys, prepared.heads
        # Plain loops: a generator per word costs more than the substring scans it drives.
        # A literal's own words and heads rule most literals out before a substring scan.
        keyed = [self.by_anchor[word] for word in self.anchors & words]
        keyed += [self.by_head[head] for head in self.heads & heads]
        keyed.append(self.loose)
        for literals, opened in keyed:
            for (text, needs, starts), positions in zip(literals, opened, strict=True):
                if needs <= words and starts <= heads and text in lowered:
                    found.update(positions)
        return found


def _keyed(texts: dict[str, set[int]], shared: dict[tuple[int, ...], tuple[int, ...]]) -> _Keyed:
    literals = tuple(_literal(text) for text in texts)
    opened = tuple(shared.setdefault(key, key) for key in map(_sorted, texts.values()))
    return literals, opened


def _sorted(positions: set[int]) -> tuple[int, ...]:
    return tuple(sorted(positions))


@functools.lru_cache(maxsize=16384)
def _literal(text: str) -> _Literal:
    """``text`` with what a text holding it must hold: the words it holds whole (a non-word
    character on both sides within it), which are tokens of the text, and the first HEAD
    letters of the words that begin inside it and run to its end, which begin a token of
    the text."""
    whole: set[str] = set()
    starts: set[str] = set()
    for match in _TOKEN.finditer(text):
        begin, end = match.span()
        if begin == 0:
            continue  # the text's token may begin before the literal does
        if end < len(text):
            whole.add(match.group(0))
        elif end - begin >= HEAD:
            starts.add(match.group(0)[:HEAD])
    return text, (frozenset(whole) or _NONE), (frozenset(starts) or _NONE)


_NONE: frozenset[str] = frozenset()


_TOKEN = re.compile(r"\w+")


_WRAPPED_GROUP = re.compile(r"(\\b)?\(\?:(.*)\)(\\b)?")


def distributed(branch: str) -> list[str]:
    """``\\b(?:a|b|c)\\b`` as the branches ``\\ba\\b``, ``\\bb\\b``, ``\\bc\\b``.

    A term written as one group of alternatives matches where any of them does; searched
    one by one, each gets a gate of its own ("nicht zufrieden" is keyed by "zufrieden",
    not by "nicht" with every other alternative). Anything else comes back as it is.
    """
    whole = _WRAPPED_GROUP.fullmatch(branch)
    if whole is None or _closing(branch, whole.start(2) - 3) != whole.end(2) + 1:
        return [branch]
    before, inner, after = whole.group(1) or "", whole.group(2), whole.group(3) or ""
    alternatives = top_level_branches(inner)
    if len(alternatives) < 2:
        return [branch]
    # An alternative has no top-level "|" of its own, so it needs no group around it.
    return [f"{before}{alternative}{after}" for alternative in alternatives]
