"""How a text looks, beside what it says: capitals, repeated marks, hard-wrapped lines.

``shouting`` (a dozen-plus letters of capital words, mostly capitals: 0.5; two different
capital words: 0.3) and ``exclamation`` (one "!!!" or "???": 0.3; two groups: 0.45; "???"
twice or more: 0.6) keep fixed weights: they are not learned (see
scripts/train_voice_weights.py). ``unwrapped`` joins the lines a mail program wrapped inside
a sentence, so that a phrase split by the wrap is heard.
"""

from __future__ import annotations

import re

from mailguard.domain.model import Evidence

_NOT_LETTER = re.compile(r"[\W\d_]+")
_NOT_UPPER = re.compile(r"[^A-ZÀ-ÖØ-Þ]+")
# A capital word of three letters or more: \b[A-ZÄÖÜ]{3,}\b, written to begin with the
# capital (the lookbehind stands for the \b before it) so that a search skips from capital to
# capital at C speed instead of testing a word boundary at every position.
_SHOUT_WORD = re.compile(r"[A-ZÄÖÜ](?<!\w[A-ZÄÖÜ])[A-ZÄÖÜ][A-ZÄÖÜ]+\b")
_MARKS = re.compile(r"[!?]{3,}|(?:!\s*){3,}")
# Every match of _MARKS holds three marks in a row or three "!": a search for a run, which
# starts at C speed from mark to mark, decides whether the slower alternation runs at all.
_MARK_RUN = re.compile(r"[!?][!?][!?]")
SHOUT_SAMPLE = 800


def shouting(text: str) -> list[Evidence]:
    found: list[Evidence] = []
    sample = text[:SHOUT_SAMPLE]
    words = _SHOUT_WORD.findall(sample)
    # Counting by deleting runs is a C-speed pass; a per-character loop is not. Shouting
    # needs a dozen letters in all-capital words, so acronyms ("PDF", "DHL") skip the count.
    shouted = sum(len(word) for word in words)
    letters = len(_NOT_LETTER.sub("", sample)) if shouted >= 12 else 0
    if letters >= 20:
        upper = len(_NOT_UPPER.sub("", sample))
        if upper / letters > 0.6:
            found.append(Evidence("frustration:shouting", f"{upper}/{letters} capitals", 0.5))
    elif len(set(words)) >= 2 and max(len(word) for word in words) >= 5:
        # Two different capital words, one longer than an acronym ("PDF", "RIB", "CNPJ").
        found.append(Evidence("frustration:shouting", " ".join(dict.fromkeys(words[:5])), 0.3))
    possible = sample.count("!") >= 3 or _MARK_RUN.search(sample) is not None
    marks = _MARKS.findall(sample) if possible else []
    if marks:
        # Repeated marks: one "!!!" may be glee, "???" again and again is exasperation.
        questions = sum("?" in mark for mark in marks)
        weight = 0.6 if questions >= 2 else 0.45 if len(marks) >= 2 else 0.3
        shown = " ".join(mark.strip() for mark in marks[:4])
        found.append(Evidence("frustration:exclamation", shown, weight))
    return found


_WRAP_LENGTH = 40
_SENTENCE_END = ".!?:;"
_LIST_START = "-*•>0123456789"


def unwrapped(text: str) -> str:
    """``text`` with hard-wrapped lines joined, so that a phrase split by the wrap matches:
    a line break inside a sentence, after a line long enough to have been wrapped by the
    mail program ("Is\nanyone actually looking at this?"), not before a list item. A line
    that ends a sentence is left alone: no phrase spans it, and most text needs no rewrite."""
    lines = text.split("\n")
    if not any(
        len(line) >= _WRAP_LENGTH and (line[-1].isalnum() or line[-1] in " \t")
        for line in lines[:-1]
    ):
        return text
    out = [lines[0]]
    for line in lines[1:]:
        before = out[-1].rstrip(" \t")
        if (
            len(before) >= _WRAP_LENGTH
            and before[-1] not in _SENTENCE_END
            and line[:1].strip()
            and line[0] not in _LIST_START
        ):
            out[-1] = before + " " + line
        else:
            out.append(line)
    return "\n".join(out)
