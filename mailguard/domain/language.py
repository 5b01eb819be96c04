"""Language guess from function words (Latin scripts) and script ranges (others).

Short support mail rarely has enough text for statistical models; counting a few dozen
very frequent words per language is cheap and right on the kinds of text we see. Words
shared by several languages count for each of them; the winner needs a clear margin.
"""

from __future__ import annotations

import re

_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("the", "and", "you", "your", "for", "with", "this", "that", "have", "are", "is",
           "will", "please", "thank", "not", "we", "our", "be", "of", "to", "from", "my", "me",
           "regards", "office", "would", "been", "i'm", "until", "hi", "dear", "it", "was"),
    "de": ("der", "die", "das", "und", "ich", "sie", "ist", "nicht", "mit", "ein", "eine",
           "für", "ihre", "ihr", "wir", "bitte", "vielen", "dank", "auf", "zu", "im", "bin",
           "sehr", "geehrte", "geehrter", "grüße", "gruß", "von", "den", "dem", "des", "noch",
           "schon", "habe", "keine", "hallo", "mein", "meine", "ab", "wieder", "uns", "wird"),
    "fr": ("le", "la", "les", "et", "je", "vous", "est", "pas", "pour", "avec", "une", "des",
           "du", "nous", "votre", "merci", "bonjour", "cordialement", "dans", "sur", "ce",
           "qui", "que", "suis", "mon", "ma", "mes", "au", "aux", "sera", "serai", "retour"),
    "es": ("el", "la", "los", "las", "y", "que", "de", "en", "por", "para", "con", "su",
           "sus", "es", "no", "un", "una", "gracias", "hola", "saludos", "estoy", "mi", "lo",
           "del", "al", "usted", "estimado", "estimada", "hasta", "correo", "mensaje"),
    "it": ("il", "di", "che", "e", "la", "per", "con", "non", "sono", "un", "una", "della",
           "del", "grazie", "buongiorno", "saluti", "cordiali", "mio", "mia", "è", "alla",
           "questo", "sua", "gentile", "ho", "fino", "sarò", "ufficio", "messaggio"),
    "nl": ("de", "het", "een", "en", "van", "ik", "je", "u", "uw", "is", "niet", "met", "voor",
           "op", "dat", "wij", "we", "bedankt", "groeten", "vriendelijke", "ben", "naar",
           "zijn", "bericht", "tot", "geachte", "beste", "heb", "graag", "kantoor"),
    "pt": ("o", "a", "os", "as", "e", "de", "do", "da", "que", "em", "para", "com", "não",
           "um", "uma", "obrigado", "obrigada", "olá", "seu", "sua", "estou", "meu", "minha",
           "no", "na", "você", "cumprimentos", "atenciosamente", "até", "mensagem", "estarei"),
}

_INDEX: dict[str, tuple[str, ...]] = {}
for _lang, _words in _WORDS.items():
    for _word in _words:
        _INDEX[_word] = (*_INDEX.get(_word, ()), _lang)

_SCRIPTS = (
    ("ja", re.compile(r"[\u3040-\u30ff]")),
    ("ko", re.compile(r"[\uac00-\ud7af]")),
    ("zh", re.compile(r"[\u4e00-\u9fff]")),
    ("ru", re.compile(r"[\u0400-\u04ff]")),
)
SAMPLE_CHARS = 600
_STRIP = ".,;:!?()\"'«»„“”¡¿"


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the dominant language of ``text``, or None when unclear."""
    sample = text[:SAMPLE_CHARS]
    if not sample.isascii():
        for code, pattern in _SCRIPTS:
            if len(pattern.findall(sample)) >= 4:
                return code
    counts: dict[str, float] = {}
    # str.split is far cheaper than a tokenizing regex; stripping punctuation recovers
    # the function words that end a clause.
    for word in sample.lower().split():
        langs = _INDEX.get(word) or _INDEX.get(word.strip(_STRIP))
        if langs:
            share = 1.0 / len(langs)
            for lang in langs:
                counts[lang] = counts.get(lang, 0.0) + share
    if not counts:
        return None
    ranked = sorted(counts.items(), key=lambda item: item[1], reverse=True)
    best, score = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if score < 1.5 or score < runner_up * 1.2:
        return None
    return best
