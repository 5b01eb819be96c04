"""Long waits stated in days or weeks, and contacts counted, in seven languages.

These terms add wording to two signals of ``voice_lexicon`` (a signal counts once, whichever
of its terms matched): ``waiting`` (0.4) for time that has passed ("for nine days now",
"It is now 5 days", "seit 12 Tagen", "cinco semanas después", "sono passate sei
settimane", "Drie dagen nu", "Já são 20 dias") and ``repeat_contact`` (0.6) for contacts
counted ("Phoned twice", "chased this three times", "Drei Mails, null Antworten",
"J'ai appelé quatre fois", "vier mails, en", "Já enviei fotografias três vezes").

A duration on its own is not a wait: a delivery time ("Lieferzeit 2–3 Wochen", "3-4
settimane va benissimo"), an age ("kam vor zwei Wochen an") or a plan ("for two weeks in
August") stays quiet, so each pattern needs a word that the time has passed: now, since,
already, later, without, still.
"""

from __future__ import annotations

from mailguard.domain.gate import top_level_branches
from mailguard.domain.rules import FrustrationTerm
from mailguard.domain.voice_lexicon import term

_EN_N = (
    r"(?:a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|"
    r"several|a few|\d+)"
)
_DE_N = (
    r"(?:einen|einem|einer|eine|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf|"
    r"vierzehn|fünfzehn|zwanzig|mehreren|mehrere|vielen|etlichen|\d+)"
)
_FR_N = (
    r"(?:un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|quinze|vingt|"
    r"trente(?:-\w+)?|plusieurs|\d+)"
)
_ES_N = (
    r"(?:un|una|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|once|doce|quince|veinte|"
    r"varias|varios|muchas|muchos|\d+)"
)
_IT_N = (
    r"(?:un|una|due|tre|quattro|cinque|sei|sette|otto|nove|dieci|undici|dodici|quindici|"
    r"venti|diverse|diversi|molte|molti|\d+)"
)
_NL_N = (
    r"(?:een|één|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|veertien|vijftien|"
    r"twintig|een paar|meerdere|\d+)"
)
_PT_N = (
    r"(?:um|uma|dois|duas|três|tres|quatro|cinco|seis|sete|oito|nove|dez|onze|doze|quinze|"
    r"vinte|vários|várias|\d+)"
)
_CONTINUES = r"(?=\s*[,;.]|\s+(?:and|but|without|later|now|so far|already)\b)"

TIME_TERMS: tuple[FrustrationTerm, ...] = (
    term(
        "waiting",
        "en",
        rf"\bfor (?:over |more than |nearly |almost |about )?{_EN_N} (?:days?|weeks?|months?) "
        rf"now\b|\b(?:days|weeks|months) (?:now|on|without|and (?:still|nothing|no))\b|"
        r"\b(?:days|weeks|months) later,? (?:and |but )?(?:still|nothing|no|i|we)\b|"
        rf"\bit(?:'s| is| has been) (?:now )?(?:over |more than |nearly |"
        rf"almost )?{_EN_N} (?:days?|weeks?|months?)\b",
    ),
    term(
        "repeat_contact",
        "en",
        r"\b(?:phoned|called|rang|chased|e-?mailed|wrote|written|asked|contacted|messaged|"
        r"reported)\b(?: (?:you|this|them|it|up|about it))? (?:twice|three times|four times|"
        r"five times|\d+ times|several times|multiple times|repeatedly)\b|"
        rf"\b(?:two|three|four|five|six|seven|several) (?:e-?mails|messages|calls|phone calls|"
        rf"tickets|chasers|reminders){_CONTINUES}",
    ),
    term(
        "waiting",
        "de",
        rf"\b(?:jetzt|nun|schon|bereits|inzwischen|mittlerweile) (?:seit )?(?:über |mehr als |"
        rf"fast |knapp )?{_DE_N} (?:Tage|Tagen|Wochen|Monate|Monaten)\b|"
        rf"\bseit (?:über |mehr als |fast |knapp )?{_DE_N} (?:Tagen|Wochen|Monaten)\b|"
        r"\b(?:Tage|Wochen|Monate) (?:später,? (?:immer noch|noch immer|und|nichts)|ohne|und "
        r"(?:immer noch|nichts|noch))\b|"
        r"\bseit Anfang (?:Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|"
        r"November|Dezember|des Monats|letzter Woche|des Jahres)\b",
    ),
    term(
        "repeat_contact",
        "de",
        r"\b(?:zweimal|dreimal|viermal|fünfmal|mehrmals|zwei Mal|drei Mal|vier Mal) "
        r"(?:\w+ )?(?:angerufen|geschrieben|nachgefragt|gemeldet|reklamiert|gemailt|erinnert|"
        r"angemahnt)\b|"
        r"\b(?:zwei|drei|vier|fünf|sechs|mehrere) (?:Mails|E-Mails|Nachrichten|Anrufe|Nachfragen|"
        r"Tickets|Erinnerungen)(?=\s*[,;.]|\s+(?:und|ohne|später|aber|bisher|schon)\b)|"
        r"\bauf (?:zwei|drei|vier|mehrere|meine) (?:schriftliche\w* )?Nachfragen\b",
    ),
    term(
        "waiting",
        "fr",
        rf"\bdepuis (?:plus de |près de )?{_FR_N} (?:jours|semaines|mois|heures)\b|"
        rf"\b(?:ça|cela|ca) fait (?:plus de |presque )?{_FR_N} (?:jours?|semaines?|mois|heures)"
        rf"\b|\b(?:jours|semaines|mois|heures) sans\b|\b(?:jours|semaines|mois) plus tard,? "
        rf"(?:toujours|rien|je|et)\b",
    ),
    term(
        "repeat_contact",
        "fr",
        r"\b(?:appelé|écrit|relancé|téléphoné|contacté|envoyé|signalé)e?s? (?:\w+ )?(?:deux|trois|"
        r"quatre|cinq|plusieurs|\d+) fois\b|"
        r"\b(?:deux|trois|quatre|cinq|six|plusieurs) (?:mails|e-mails|courriels|messages|appels|"
        r"relances)(?=\s*[,;.]|\s+(?:et|sans|plus tard|toujours|déjà)\b)",
    ),
    term(
        "waiting",
        "es",
        rf"\b(?:llevo|llevamos|ya van|ya son|van) (?:ya )?(?:más de )?{_ES_N} (?:días|semanas|"
        rf"meses|mes|semana)\b|\b(?:días|semanas|meses) (?:después|más tarde),? (?:sigo|"
        rf"seguimos|todavía|aún|nada|sin|y)\b|\b(?:días|semanas|meses) sin\b|"
        rf"\bdesde hace (?:más de )?{_ES_N} (?:días|semanas|meses|mes|semana)\b",
    ),
    term(
        "repeat_contact",
        "es",
        r"\b(?:llamado|escrito|enviado|reclamado|contactado|llamé|escribí|reclamé)\w* (?:\w+ )?"
        r"(?:dos|tres|cuatro|cinco|varias|\d+) veces\b|"
        r"\b(?:dos|tres|cuatro|cinco|seis|varios) (?:correos|mensajes|llamadas|emails|e-mails|"
        r"reclamaciones)(?=\s*[,;.]|\s+(?:y|sin|después|ya)\b)",
    ),
    term(
        "waiting",
        "it",
        rf"\bda (?:più di |oltre |quasi )?{_IT_N} (?:giorni|settimane|mesi|mese|settimana)\b|"
        rf"\bsono passat[ie] (?:più di |oltre )?{_IT_N} (?:giorni|settimane|mesi)\b|"
        rf"\bdopo (?:più di |oltre )?{_IT_N} (?:giorni|settimane|mesi)\b|"
        rf"\bsono {_IT_N} (?:giorni|settimane|mesi) che\b",
    ),
    term(
        "repeat_contact",
        "it",
        r"\b(?:scritto|chiamato|telefonato|sollecitato|contattato|inviato)\w* (?:\w+ )?(?:due|tre|"
        r"quattro|cinque|più|diverse|\d+) volte\b|\bscritto il \d+,? il \d+|"
        r"\b(?:due|tre|quattro|cinque|sei|diverse) (?:mail|email|e-mail|messaggi|telefonate|"
        r"chiamate|solleciti)(?=\s*[,;.]|\s+(?:e|senza|dopo|già)\b)",
    ),
    term(
        "waiting",
        "nl",
        rf"\bal (?:meer dan |bijna )?{_NL_N} (?:dagen|weken|maanden|maand|week)\b|"
        r"\b(?:dagen|weken|maanden) (?:nu|zonder|en nog)\b|"
        rf"\bsinds (?:meer dan )?{_NL_N} (?:dagen|weken|maanden)\b",
    ),
    term(
        "repeat_contact",
        "nl",
        r"\b(?:twee|drie|vier|vijf|zes|meerdere) keer (?:gebeld|gemaild|geschreven|gevraagd|"
        r"doorgegeven|gemeld|een ticket|contact|een klacht)\b|"
        r"\b(?:twee|drie|vier|vijf|zes|meerdere) (?:mails|e-mails|berichten|telefoontjes|tickets)"
        r"(?=\s*[,;.]|\s+(?:en|zonder|later|al)\b)",
    ),
    term(
        "waiting",
        "pt",
        r"\b(?:dias|semanas|meses|m[êe]s) (?:e nada|sem|depois)\b|"
        rf"\b(?:desde|há) (?:mais de )?{_PT_N} (?:dias|semanas|meses)\b",
    ),
    term(
        "repeat_contact",
        "pt",
        r"\b(?:liguei|escrevi|enviei|reclamei|mandei|contactei|contatei)\w* (?:\w+ )?(?:duas|"
        r"três|quatro|cinco|várias|\d+) vezes\b|"
        r"\b(?:dois|duas|três|quatro|cinco|seis|vários|várias) (?:e-?mails|mensagens|"
        r"liga[çc][õo]es|protocolos|chamados)(?=\s*[,;.]|\s+(?:e|sem|depois|já)\b)",
    ),
)


def _ongoing(state: str, since: str) -> str:
    """A bad state and when it began, in one clause, in either order ("no heating since
    Friday", "seit Freitag keine Heizung", "depuis lundi je n'ai plus de ligne").

    Time-first is one branch per wording of the time, each with a literal gate of its own.
    """
    branches = [rf"(?:{state})[^.!?\n]{{0,50}}?\b(?:{since})\b"]
    branches += [
        rf"\b(?:{when})\b[^.!?\n]{{0,50}}?(?:{state})" for when in top_level_branches(since)
    ]
    return "|".join(branches)


_DAYS_EN = (
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|last (?:week|month|"
    r"\w+day)|the (?:\d+(?:st|nd|rd|th)?|start|beginning|middle|end) of|(?:early|mid|late) "
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*"
)
_MONTHS_DE = r"Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember"
_MONTHS_FR = r"janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre"
_MONTHS_ES = (
    r"enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre"
)
_MONTHS_IT = (
    r"gennaio|febbraio|marzo|aprile|maggio|giugno|luglio|agosto|settembre|ottobre|novembre|dicembre"
)
_MONTHS_NL = (
    r"januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december"
)
_MONTHS_PT = (
    r"janeiro|fevereiro|março|abril|maio|junho|julho|agosto|setembro|outubro|novembro|dezembro"
)

# A bad state that has lasted since a day or for a while: "no internet for ten days",
# "without heating since Friday". The state words make a date or a duration a wait.
ONGOING_TERMS: tuple[FrustrationTerm, ...] = (
    term(
        "waiting",
        "en",
        _ongoing(
            r"\b(?:no|not|without|unable|down|broken|stuck|offline|locked|waiting|cut off|dead)"
            r"\b|n't\b|n’t\b",
            rf"for (?:the (?:last|past) )?(?:over |more than |nearly |almost |about )?{_EN_N} "
            rf"(?:days?|weeks?|months?)|since (?:{_DAYS_EN})",
        ),
    ),
    term(
        "waiting",
        "de",
        _ongoing(
            r"\b(?:kein\w*|nicht|nichts|ohne|warte\w*|kaputt|defekt|gesperrt|tot|gestört)\b",
            rf"seit (?:Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag|"
            rf"letzte[rm]? (?:Woche|Monat|\w+tag)|dem \d+|Anfang|Mitte|Ende|"
            rf"{_MONTHS_DE})",
        ),
    ),
    term(
        "waiting",
        "fr",
        _ongoing(
            r"\b(?:pas|plus|sans|aucun\w*|rien|attends|en panne|bloquée?|coupée?)\b",
            rf"depuis (?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|"
            rf"la semaine dernière|le mois dernier|le \d+|début|mi-\w+|fin|{_MONTHS_FR})",
        ),
    ),
    term(
        "waiting",
        "es",
        _ongoing(
            r"\b(?:sin|no|nada|ningún|ninguna|esperando|bloquead[oa]|cortad[oa]|averiad[oa])\b",
            rf"desde (?:el )?(?:lunes|martes|miércoles|jueves|viernes|sábado|domingo|"
            rf"la semana pasada|el mes pasado|el día \d+|principios|mediados|finales|"
            rf"{_MONTHS_ES})",
        ),
    ),
    term(
        "waiting",
        "it",
        _ongoing(
            r"\b(?:senza|non|niente|nessun\w*|aspetto|bloccat[oa]|guast[oa])\b",
            rf"da (?:lunedì|martedì|mercoledì|giovedì|venerdì|sabato|domenica|"
            rf"la settimana scorsa|il mese scorso|inizio|metà|fine|{_MONTHS_IT})|dal \d+",
        ),
    ),
    term(
        "waiting",
        "nl",
        _ongoing(
            r"\b(?:geen|niet|zonder|niets|wacht\w*|kapot|geblokkeerd|storing)\b",
            rf"sinds (?:maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag|"
            rf"vorige (?:week|maand)|begin|half|eind|{_MONTHS_NL}|\d+)",
        ),
    ),
    term(
        "waiting",
        "pt",
        _ongoing(
            r"\b(?:sem|n[ãa]o|nada|nenhum\w*|esperando|à espera|bloquead[oa]|avariad[oa])\b",
            rf"desde (?:segunda|terça|quarta|quinta|sexta|sábado|domingo|a "
            rf"semana passada|o mês passado|o dia \d+|o início|o começo|o final|{_MONTHS_PT})",
        ),
    ),
)
