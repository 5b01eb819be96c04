"""Language guess from function words (Latin scripts) and script ranges (others).

Short support mail rarely has enough text for statistical models; counting a few dozen
very frequent words per language is cheap and right on the kinds of text we see. Words
shared by several languages count for each of them; the winner needs a clear margin.
"""

from __future__ import annotations

import re

_WORDS: dict[str, tuple[str, ...]] = {
    "en": (
        "the",
        "and",
        "you",
        "your",
        "for",
        "with",
        "this",
        "that",
        "have",
        "are",
        "is",
        "will",
        "please",
        "thank",
        "not",
        "we",
        "our",
        "be",
        "of",
        "to",
        "from",
        "my",
        "me",
        "regards",
        "office",
        "would",
        "been",
        "i'm",
        "until",
        "hi",
        "dear",
        "it",
        "was",
    ),
    "de": (
        "der",
        "die",
        "das",
        "und",
        "ich",
        "sie",
        "ist",
        "nicht",
        "mit",
        "ein",
        "eine",
        "für",
        "ihre",
        "ihr",
        "wir",
        "bitte",
        "vielen",
        "dank",
        "auf",
        "zu",
        "im",
        "bin",
        "sehr",
        "geehrte",
        "geehrter",
        "grüße",
        "gruß",
        "von",
        "den",
        "dem",
        "des",
        "noch",
        "schon",
        "habe",
        "keine",
        "hallo",
        "mein",
        "meine",
        "ab",
        "wieder",
        "uns",
        "wird",
    ),
    "fr": (
        "le",
        "la",
        "les",
        "et",
        "je",
        "vous",
        "est",
        "pas",
        "pour",
        "avec",
        "une",
        "des",
        "du",
        "nous",
        "votre",
        "merci",
        "bonjour",
        "cordialement",
        "dans",
        "sur",
        "ce",
        "qui",
        "que",
        "suis",
        "mon",
        "ma",
        "mes",
        "au",
        "aux",
        "sera",
        "serai",
        "retour",
    ),
    "es": (
        "el",
        "la",
        "los",
        "las",
        "y",
        "que",
        "de",
        "en",
        "por",
        "para",
        "con",
        "su",
        "sus",
        "es",
        "no",
        "un",
        "una",
        "gracias",
        "hola",
        "saludos",
        "estoy",
        "mi",
        "lo",
        "del",
        "al",
        "usted",
        "estimado",
        "estimada",
        "hasta",
        "correo",
        "mensaje",
    ),
    "it": (
        "il",
        "di",
        "che",
        "e",
        "la",
        "per",
        "con",
        "non",
        "sono",
        "un",
        "una",
        "della",
        "del",
        "grazie",
        "buongiorno",
        "saluti",
        "cordiali",
        "mio",
        "mia",
        "è",
        "alla",
        "questo",
        "sua",
        "gentile",
        "ho",
        "fino",
        "sarò",
        "ufficio",
        "messaggio",
    ),
    "nl": (
        "de",
        "het",
        "een",
        "en",
        "van",
        "ik",
        "je",
        "u",
        "uw",
        "is",
        "niet",
        "met",
        "voor",
        "op",
        "dat",
        "wij",
        "we",
        "bedankt",
        "groeten",
        "vriendelijke",
        "ben",
        "naar",
        "zijn",
        "bericht",
        "tot",
        "geachte",
        "beste",
        "heb",
        "graag",
        "kantoor",
    ),
    "pt": (
        "o",
        "a",
        "os",
        "as",
        "e",
        "de",
        "do",
        "da",
        "que",
        "em",
        "para",
        "com",
        "não",
        "um",
        "uma",
        "obrigado",
        "obrigada",
        "olá",
        "seu",
        "sua",
        "estou",
        "meu",
        "minha",
        "no",
        "na",
        "você",
        "cumprimentos",
        "atenciosamente",
        "até",
        "mensagem",
        "estarei",
    ),
}

# Every language's function words: words nearly any text of that language holds.
FUNCTION_WORDS = frozenset(set().union(*_WORDS.values()))
_SHARED = frozenset(
    word
    for word in set().union(*_WORDS.values())
    if sum(word in words for words in _WORDS.values()) > 1
)
_EXCLUSIVE = {lang: frozenset(words) - _SHARED for lang, words in _WORDS.items()}
# Each function word's score for each language it belongs to: 1 if it is that language's
# alone, 0.5 if several languages share it.
_WEIGHTS = {
    word: tuple(
        (lang, 1.0 if word in _EXCLUSIVE[lang] else 0.5) for lang in _WORDS if word in _WORDS[lang]
    )
    for word in FUNCTION_WORDS
}
_WORD = re.compile(r"\w+")
_BEYOND_LATIN = re.compile("[\u0400-\U0010ffff]")
_SCRIPTS = (
    ("ja", re.compile(r"[\u3040-\u30ff]")),
    ("ko", re.compile(r"[\uac00-\ud7af]")),
    ("zh", re.compile(r"[\u4e00-\u9fff]")),
    ("ru", re.compile(r"[\u0400-\u04ff]")),
)
SAMPLE_CHARS = 1500


# Below this score the function words say too little to rule any language out.
PLAUSIBLE_MINIMUM = 3.0


def detect_language(text: str, words: frozenset[str] | None = None) -> str | None:
    """ISO 639-1 code of the dominant language of ``text``, or None when unclear.

    ``words`` may pass the lower-cased ``\\w+`` tokens of the text when the caller has
    them already. Distinct function words are counted with set intersections (C speed);
    a word several languages share counts half.
    """
    return detect_languages(text, words)[0]


def detect_languages(
    text: str, words: frozenset[str] | None = None
) -> tuple[str | None, frozenset[str]]:
    """The dominant language (as :func:`detect_language`) and the plausible ones.

    Plausible are the languages whose function words score at least half as well as the
    best one's: for a message of one or two sentences the best guess is often wrong
    (Italian taken for French) while the right language is close behind; a long text
    leaves only one. The set is empty, meaning "any", when the best language scores below
    PLAUSIBLE_MINIMUM (a line or two can hold a single function word, or none), and holds
    only the script's language for a non-Latin script.
    """
    sample = text[:SAMPLE_CHARS]
    # Latin scripts end below U+0400; one search that skips at C speed to the first later
    # character (none in an ASCII text) spares four regex scans for them.
    if not sample.isascii() and _BEYOND_LATIN.search(sample):
        for code, pattern in _SCRIPTS:
            if len(pattern.findall(sample)) >= 4:
                return code, frozenset({code})
    if words is None:
        words = frozenset(_WORD.findall(sample.lower()))
    # One intersection with every function word, then the few found: fourteen set
    # intersections per text cost more. The sums of 1 and 0.5 are exact in any order.
    scores = dict.fromkeys(_WORDS, 0.0)
    for word in words & FUNCTION_WORDS:
        for lang, weight in _WEIGHTS[word]:
            scores[lang] += weight
    ranked = sorted(scores.values(), reverse=True)
    best = max(scores, key=scores.__getitem__)
    top = ranked[0]
    plausible = (
        frozenset(lang for lang, score in scores.items() if score >= top / 2)
        if top >= PLAUSIBLE_MINIMUM
        else frozenset()
    )
    if top < 1.5 or top < ranked[1] * 1.2:
        return None, plausible
    return best, plausible
