"""Sentence shapes that say "enough", in seven languages.

Words alone miss these; the shape of the sentence carries them. Each term adds wording to a
signal of ``voice_tone``, ``voice_money`` or ``voice_lexicon`` (a signal counts once):

- ``broken_promise``: a promise, then "never" or "nothing" in the same sentence ("they
  promise an engineer who never comes", "versprochen ... nie", "promettono ... mai").
- ``finality``: "this is how you treat (your) customers" ("so werde ich behandelt",
  "voilà comment vous me traitez", "así me tratan", "mi trattate così", "zo word ik
  behandeld", "é assim que me tratam"); "that's it" / "enough" right before a cancellation
  ("Basta, disdico tutto"); "I'm not going to keep chasing this".
- ``ultimatum``: either ... or I will ...; otherwise I will ("Entweder ... oder ich",
  "sinon je", "altrimenti mi rivolgo", "anders stap ik", "senão vou").
- ``sarcasm``: thanks for the wonderful service followed by a colon or a dash and what
  went wrong ("Thanks for the wonderful service - two missed deliveries").
- ``fed_up_automation``: "not another link", "nicht wieder einen Link zu Ihren FAQ".
- ``double_charge``: "why was I charged", "warum wurde mir ... berechnet".
"""

from __future__ import annotations

from mailguard.domain.rules import FrustrationTerm
from mailguard.domain.voice_lexicon import term

_CLAUSE = r"[^.!?\n]{0,60}?"
_PRAISE_EN = (
    r"wonderful|great|excellent|fantastic|amazing|exceptional|brilliant|superb|marvellous|"
    r"marvelous|lovely|outstanding|stellar|first-class"
)


def _either(first: str, then: str) -> str:
    return rf"\b(?:{first})\b{_CLAUSE}\b(?:{then})\b"


def _praise_then_list(thanks: str, praise: str) -> str:
    """Thanks for praised service followed by a colon or a dash: what follows is the list of
    what went wrong. The praise is a segment of its own, so that it gates the pattern (see
    gate_segments) rather than the common "thanks"."""
    return rf"\b(?:{thanks})[^.!?\n]{{0,2}}\b(?:{praise})\s*(?:[:–—]|-\s)"


PHRASING_TERMS: tuple[FrustrationTerm, ...] = (
    term("broken_promise", "en", _either(r"promis\w*|assured|guaranteed", r"never|nothing")),
    term("broken_promise", "de", _either(r"versprochen|zugesagt|versprechen", r"nie|nichts")),
    term("broken_promise", "fr", _either(r"promis\w*|promet\w*|assuré", r"jamais|rien")),
    term("broken_promise", "es", _either(r"prometi\w*|prometen|aseguraron", r"nunca|nada")),
    term("broken_promise", "it", _either(r"promess\w*|promettono|promesso", r"mai|niente|nulla")),
    term(
        "broken_promise", "nl", _either(r"beloofd|beloven|belooft|toegezegd", r"nooit|niets|niks")
    ),
    term("broken_promise", "pt", _either(r"prometem|prometeram|prometid\w*", r"nunca|nada")),
    term(
        "finality",
        "en",
        r"\b(?:this|that) is how you treat\b|\bis this how you treat\b|"
        r"\b(?:not|never) (?:going to )?keep (?:chasing|calling|writing|asking|waiting)\b|"
        + _either(r"that's it|that’s it|enough is enough|i've had enough", r"cancel\w*|clos\w*"),
    ),
    term(
        "finality",
        "de",
        r"\bso (?:werde ich|wird man|behandeln Sie) (?:\w+ ){0,3}(?:behandelt|Kunden)\b|"
        + _either(r"das war'?s|es reicht|mir reicht'?s", r"kündig\w*|storn\w*"),
    ),
    term(
        "finality",
        "fr",
        r"\bvoilà comment vous (?:me )?traitez\b|\bc'est comme ça que vous traitez\b|"
        + _either(r"c'est fini|ça suffit|j'en ai assez", r"résili\w*|annul\w*|ferme\w*"),
    ),
    term(
        "finality",
        "es",
        r"\bas[íi] (?:me |nos )?tratan\b|\bas[íi] es como (?:me )?tratan\b|"
        + _either(r"se acabó|hasta aquí|basta ya", r"baja|cancel\w*|anul\w*"),
    ),
    term(
        "finality",
        "it",
        r"\b(?:mi|ci) trattate così\b|\bcosì trattate\b|\bè così che trattate\b|"
        + _either(r"basta", r"disdic\w*|disdett\w*|annull\w*|recedo|cancell\w*"),
    ),
    term(
        "finality",
        "nl",
        r"\bzo (?:word ik|worden wij|behandelen jullie|gaan jullie om met) (?:\w+ )?"
        r"(?:behandeld|klanten)\b|"
        + _either(r"het is genoeg|nu is het klaar|ik ben er klaar mee", r"opzeg\w*|zeg \w+ op"),
    ),
    term(
        "finality",
        "pt",
        r"\b(?:é )?assim que (?:me |nos )?tratam\b|"
        + _either(r"chega|basta", r"cancel\w*|rescind\w*|anul\w*"),
    ),
    term(
        "ultimatum",
        "en",
        r"\beither\b[^.!?\n]{0,80}\bor (?:i|i'll|i’ll|i will|i'm|i’m|we|we'll|we will)\b|"
        r"\b(?:otherwise|or else|failing (?:that|which)),? (?:i|we)(?:'ll|’ll| will| shall| am "
        r"going to| are going to)\b",
    ),
    term(
        "ultimatum",
        "de",
        r"\bentweder\b[^.!?\n]{0,80}\boder (?:ich|wir)\b|\b(?:andernfalls|ansonsten|sonst) "
        r"(?:werde|werden|gehe|gehen|schalte|schalten|wende|wenden) (?:ich|wir)\b",
    ),
    term(
        "ultimatum",
        "fr",
        r"\bsoit\b[^.!?\n]{0,80}\bsoit (?:je|nous)\b|\b(?:sinon|à défaut|faute de quoi),? "
        r"(?:je|nous) (?:\w+ )?(?:saisirai|saisirons|porterai|irai|engagerai|ferai|contacterai|"
        r"résilierai)\b",
    ),
    term(
        "ultimatum",
        "es",
        r"\b(?:de lo contrario|si no|en caso contrario),? (?:me veré obligad[oa] a|acudiré|"
        r"iré|pondré|presentaré|denunciaré|cancelaré|me daré de baja)\b",
    ),
    term(
        "ultimatum",
        "it",
        r"\b(?:altrimenti|in caso contrario|in mancanza),? (?:mi rivolgerò|mi vedrò costrett[oa]|"
        r"procederò|presenterò|andrò|disdirò|denuncerò)\b",
    ),
    term(
        "ultimatum",
        "nl",
        r"\banders (?:ga ik|stap ik|schakel ik|zeg ik|dien ik|neem ik)\b|"
        r"\bzo niet,? (?:dan )?(?:ga|stap|schakel|zeg|dien) ik\b",
    ),
    term(
        "ultimatum",
        "pt",
        r"\b(?:sen[ãa]o|caso contr[áa]rio),? (?:vou|irei|eu vou|terei de|terei que)\b",
    ),
    term(
        "sarcasm",
        "en",
        _praise_then_list(
            r"thanks?(?: you)?(?: so much| a lot)? for (?:the|this|your)",
            rf"(?:{_PRAISE_EN}) (?:service|help|support|customer service)",
        ),
    ),
    term(
        "sarcasm",
        "de",
        _praise_then_list(
            r"dank\w*(?: auch)? für (?:den|die|das|Ihren|Ihre)",
            r"(?:tolle[nr]?|super|großartige[nr]?|hervorragende[nr]?|exzellente[nr]?|"
            r"wunderbare[nr]?|erstklassige[nr]?) (?:Service|Hilfe|Support|Kundendienst|"
            r"Kundenservice)",
        ),
    ),
    term(
        "sarcasm",
        "fr",
        _praise_then_list(
            r"merci (?:beaucoup )?pour (?:ce|cet|cette|votre|le)",
            r"(?:service|accueil|aide|suivi) (?:exceptionnel|formidable|excellent|génial|"
            r"remarquable|impeccable)|(?:formidable|excellent|super|magnifique|génial) "
            r"(?:service|accueil|aide|suivi)",
        ),
    ),
    term(
        "sarcasm",
        "es",
        _praise_then_list(
            r"gracias por (?:el|su|este|vuestro|la)",
            r"(?:magnífic[oa]|excelente|estupend[oa]|fantástic[oa]|maravillos[oa]|gran) "
            r"(?:servicio|ayuda|atención)",
        ),
    ),
    term(
        "sarcasm",
        "it",
        _praise_then_list(
            r"grazie (?:mille )?per (?:il|lo|l'|l’)",
            r"(?:servizio|aiuto|assistenza) (?:eccezionale|eccellente|fantastic[oa]|splendid[oa]|"
            r"magnific[oa]|ottim[oa])|(?:ottim[oa]|eccellente|splendid[oa]|fantastic[oa]) "
            r"(?:servizio|aiuto|assistenza)",
        ),
    ),
    term(
        "sarcasm",
        "nl",
        _praise_then_list(
            r"bedankt voor de",
            r"(?:geweldige|fantastische|uitstekende|super|prima|top|voortreffelijke) "
            r"(?:service|hulp|klantenservice)",
        ),
    ),
    term(
        "sarcasm",
        "pt",
        _praise_then_list(
            r"obrigad[oa] pel[oa]",
            r"(?:servi[çc]o|atendimento|ajuda) (?:maravilhos[oa]|excelente|incr[íi]vel|"
            r"fant[áa]stic[oa]|[óo]tim[oa]|impec[áa]vel)",
        ),
    ),
    term(
        "fed_up_automation",
        "en",
        r"\bnot (?:another|yet another|just another|one more) (?:link|form|article|faq|template|"
        r"copy|survey)\b|\b(?:another|yet another) link to (?:the|your)\b",
    ),
    term(
        "fed_up_automation",
        "de",
        r"\bnicht (?:schon )?(?:wieder|noch) (?:einen|ein|eine) (?:Link|Formular|Textbaustein|"
        r"Standardantwort|Verweis)\w*",
    ),
    term(
        "fed_up_automation",
        "fr",
        r"\bpas (?:encore )?(?:un|une) (?:autre |nouve(?:l|au|lle) )?(?:lien|formulaire|article)\b",
    ),
    term(
        "fed_up_automation",
        "es",
        r"\bno (?:otro|otra|más|un nuevo) (?:enlace|formulario|artículo|link)\b",
    ),
    term(
        "fed_up_automation",
        "it",
        r"\bnon (?:un altro|un'altra|un’altra|l'ennesim[oa]|l’ennesim[oa]) (?:link|modulo|"
        r"articolo)\b",
    ),
    term(
        "fed_up_automation",
        "nl",
        r"\bniet (?:weer |nog )?(?:een|nog een) (?:link|formulier|artikel)\b",
    ),
    term(
        "fed_up_automation",
        "pt",
        r"\bn[ãa]o (?:me mandem |me enviem )?(?:mais )?(?:um|outro) (?:link|formul[áa]rio|"
        r"artigo)\b",
    ),
    term(
        "double_charge",
        "en",
        r"\bwhy (?:was|were|am|have|has) (?:i|we|my account) (?:been )?(?:charged|billed|debited)",
    ),
    term(
        "double_charge",
        "de",
        r"\bwarum (?:wurde|wird|haben Sie) (?:mir|uns) (?:\w+ ){0,4}(?:berechnet|abgebucht|"
        r"belastet|in Rechnung gestellt)",
    ),
    term(
        "double_charge",
        "fr",
        r"\bpourquoi (?:m'avez-vous|avez-vous|ai-je été) (?:\w+ ){0,2}(?:facturé|prélevé|débité)",
    ),
    term(
        "double_charge",
        "es",
        r"\bpor qué (?:me han|me habéis|me) (?:cobrado|cargado|cobran|cargan)\b",
    ),
    term("double_charge", "it", r"\bperché (?:mi avete|mi è stato|mi hanno) (?:\w+ )?addebitat\w*"),
    term(
        "double_charge",
        "nl",
        r"\bwaarom (?:is|wordt|heeft u|hebben jullie) (?:er )?(?:\w+ ){0,3}(?:afgeschreven|"
        r"in rekening gebracht|gefactureerd)",
    ),
    term("double_charge", "pt", r"\bpor ?que (?:me )?(?:cobraram|foi cobrad[oa]|estão a cobrar)"),
)

# A cancellation made final: at once, everything, for good, no longer a customer, do not
# contact me again ("ich kündige alles fristlos", "résilier tout avec effet immédiat",
# "no quiero seguir siendo cliente", "non voglio più essere vostro cliente"). A plain
# cancellation at the end of the term stays ``cancel``.
_CANCEL_WORDS = {
    "en": r"cancel\w*|terminat\w*|close (?:my|our|the) accounts?|end (?:my|our) (?:contract|"
    r"subscription|membership)",
    "de": r"kündig\w*|storn\w*|beende\w*|Vertrag auflösen",
    "fr": r"résili\w*|annul\w*|ferme\w* (?:mon|mes|le) compte",
    "es": r"cancel\w*|baja|anul\w*|rescind\w*",
    "it": r"disdic\w*|disdett\w*|disdir\w*|annull\w*|recedo|recesso|chiud\w* (?:il|i) (?:mio|miei) "
    r"(?:conto|contratt\w*)",
    "nl": r"opzeg\w*|zeg \w+ op|annuleer\w*|beëindig\w*",
    "pt": r"cancel\w*|rescind\w*|rescis[ãa]o|encerr\w*",
}
_FINAL_WORDS = {
    "en": (
        r"with immediate effect|effective (?:immediately|today)|all (?:my|our|of my) "
        r"(?:services|contracts|subscriptions|accounts)|for good|permanently|"
        r"no longer (?:want|wish) to be|never (?:again|use)"
    ),
    "de": r"fristlos|mit sofortiger Wirkung|alle[ns]? (?:meine[n]? )?(?:Verträge|"
    r"Dienste|Abos|Konten)|endgültig|nicht (?:mehr|länger) (?:Kunde|Kundin)",
    "fr": r"avec effet immédiat|tous mes (?:contrats|abonnements|services)|"
    r"définitivement|ne (?:plus|veux plus) être (?:votre )?client\w*",
    "es": r"con efecto inmediato|todos mis (?:contratos|servicios)|"
    r"definitiv\w*|no quiero seguir siendo (?:su |vuestro )?cliente",
    "it": r"con effetto immediato|tutti i (?:miei )?(?:contratti|servizi)|"
    r"definitiv\w*|non voglio più essere (?:vostr[oa] )?client[ei]",
    "nl": r"per direct|met onmiddellijke ingang|al mijn (?:contracten|"
    r"abonnementen|diensten)|definitief|geen klant meer",
    "pt": r"com efeito imediato|todos os (?:meus )?(?:contratos|"
    r"servi[çc]os)|definitivamente|n[ãa]o quero (?:mais )?ser (?:vosso |seu )?cliente",
}
_NO_CONTACT = {
    "en": r"\b(?:do not|don't) (?:contact|call|email|e-mail) me (?:again|any more|anymore)\b|"
    r"\bno longer (?:want|wish) to be (?:a |your )?customer\b",
    "de": r"\b(?:kontaktieren|rufen|schreiben) Sie mich (?:bitte )?nicht (?:mehr|wieder)\b|"
    r"\bnicht (?:mehr|länger) Ihr(?:e)? Kund(?:e|in) sein\b",
    "fr": r"\bne me (?:contactez|rappelez|recontactez) plus\b|\bne plus être (?:votre )?client\w*",
    "es": r"\bno me (?:vuelvan a )?(?:contacten|llamen|escriban) (?:más|nunca)\b|"
    r"\bno quiero seguir siendo (?:su |vuestro )?cliente\b",
    "it": r"\bnon (?:contattatemi|chiamatemi|scrivetemi) più\b|\bnon voglio più essere "
    r"(?:vostr[oa] )?client[ei]\b",
    "nl": r"\b(?:neem|bel|mail) (?:geen contact )?(?:meer )?(?:met )?mij (?:niet )?meer\b|"
    r"\bgeen klant meer\b|\bzeg (?:\w+ )?(?:per direct|met onmiddellijke ingang) op\b",
    "pt": r"\bn[ãa]o me (?:contactem|liguem|contatem) mais\b|\bn[ãa]o quero (?:mais )?ser "
    r"(?:vosso |seu )?cliente\b",
}

FINAL_CANCEL_TERMS: tuple[FrustrationTerm, ...] = tuple(
    term(
        "finality",
        language,
        rf"\b(?:{_CANCEL_WORDS[language]})\b[^.!?\n]{{0,40}}?\b(?:{_FINAL_WORDS[language]})\b|"
        rf"\b(?:{_FINAL_WORDS[language]})\b[^.!?\n]{{0,40}}?\b(?:{_CANCEL_WORDS[language]})\b|"
        + _NO_CONTACT[language],
    )
    for language in _CANCEL_WORDS
)
