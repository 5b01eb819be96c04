"""One more thing on top, urgency, and a solution demanded now, in seven languages.

- ``on_top`` (0.4): one more thing went wrong on top of the rest ("y encima me cobraron la
  visita", "zu allem Überfluss", "pour couronner le tout", "per giunta", "ainda por cima").
- ``urgency`` (0.3): urgency in so many words ("dringend", "de inmediato", "hoje mesmo").
- more wording for ``demand`` (a solution demanded now), ``runaround`` (nobody able to
  give one), ``finality`` ("por última vez", "is this how you treat your customers") and
  ``money_without_goods`` (charged for a service already cancelled).

The weights in parentheses are the priors; ``voice_weights`` holds the learned ones.
"""

from __future__ import annotations

from mailguard.domain.rules import FrustrationTerm
from mailguard.domain.voice_lexicon import term

ESCALATION_TERMS: tuple[FrustrationTerm, ...] = (
    term(
        "on_top",
        "en",
        r"\bon top of (?:that|this|it all|everything)\b|\bto make matters worse\b|"
        r"\bto top it (?:all )?off\b|\binsult to injury\b|\band now (?:you|they)(?:'re| are)? "
        r"(?:\w+ )?(?:charging|asking|telling|sending)\b",
    ),
    term(
        "on_top",
        "de",
        r"\bzu allem Überfluss\b|\bobendrein\b|\bund (?:dann|jetzt|nun) (?:\w+ )?auch noch\b|"
        r"\bals (?:ob|wäre) das nicht (?:genug|schon genug)\b",
    ),
    term(
        "on_top",
        "fr",
        r"\ben plus de (?:ça|cela)\b|\bpour couronner le tout\b|\bet en plus\b|\bcomble\b|"
        r"\bcomme si (?:ça|cela) ne suffisait pas\b",
    ),
    term(
        "on_top",
        "es",
        r"\by encima\b|\bencima de (?:todo|eso)\b|\bpara colmo\b|\bpor si fuera poco\b|"
        r"\by ahora (?:encima|además|también)\b",
    ),
    term(
        "on_top",
        "it",
        r"\bper di più\b|\bper giunta\b|\bcome se non bastasse\b|\boltretutto\b|"
        r"\be (?:ora|adesso) (?:mi|ci) (?:\w+ )?anche\b",
    ),
    term(
        "on_top",
        "nl",
        r"\ben dan (?:ook )?nog\b|\btot overmaat van ramp\b|\balsof dat nog niet genoeg\b|"
        r"\ben nu (?:ook )?nog\b",
    ),
    term(
        "on_top",
        "pt",
        r"\b(?:e )?ainda por cima\b|\bpara piorar\b|\bcomo se n[ãa]o bastasse\b|"
        r"\be agora (?:ainda|também)\b",
    ),
    term(
        "urgency",
        "en",
        r"\burgent(?:ly)?\b|\bas a matter of urgency\b|\bimmediately\b|\bright away\b|\bat once\b",
    ),
    term(
        "urgency",
        "de",
        r"\bdringend\w*|\bsofort\b|\bumgehend\b|\bunverzüglich\b|\bheute noch\b(?! (?:ein)?mal)",
    ),
    term(
        "urgency",
        "fr",
        r"\burgen(?:t|te|ce)\b|\bimmédiatement\b|\bsans délai\b|\bdès aujourd'hui\b|"
        r"\bau plus vite\b",
    ),
    term(
        "urgency",
        "es",
        r"\burgente\w*|\bde inmediato\b|\binmediatamente\b|\bhoy mismo\b|\bcuanto antes\b",
    ),
    term(
        "urgency",
        "it",
        r"\burgente\w*|\bsubito\b|\bimmediatamente\b|\boggi stesso\b|\bal più presto\b",
    ),
    term(
        "urgency",
        "nl",
        r"\bdringend\b|\bspoed\w*|\bonmiddellijk\b|\bmeteen\b|\bvandaag nog\b",
    ),
    term(
        "urgency",
        "pt",
        r"\burgente\w*|\bimediatamente\b|\bhoje mesmo\b|\bcom urgência\b|\bo quanto antes\b",
    ),
    term(
        "demand",
        "en",
        r"\bi (?:need|want|expect) (?:a solution|this (?:fixed|sorted|resolved)|it (?:fixed|"
        r"sorted|resolved)) (?:now|today|immediately|urgently|this week)\b",
    ),
    term(
        "demand",
        "de",
        r"\b(?:ich|wir) (?:brauche|brauchen|will|wollen|erwarte|erwarten) (?:\w+ )?(?:eine "
        r"Lösung|das|es) (?:\w+ )?(?:sofort|heute|jetzt|umgehend|diese Woche)\b",
    ),
    term(
        "demand",
        "fr",
        r"\bje (?:veux|demande|attends) une solution (?:immédiate|rapide|aujourd'hui|maintenant)\b",
    ),
    term(
        "demand",
        "es",
        r"\b(?:necesito|quiero|queremos|necesitamos) una solución (?:ya|urgente|inmediata|hoy)\b",
    ),
    term(
        "demand",
        "it",
        r"\b(?:voglio|vogliamo) una soluzione (?:subito|immediata|oggi|adesso)\b",
    ),
    term("demand", "nl", r"\bik wil (?:nu|vandaag|direct) een oplossing\b"),
    term("demand", "pt", r"\b(?:quero|queremos) uma solu[çc][ãa]o (?:já|hoje|urgente|imediata)\b"),
    term(
        "runaround",
        "es",
        r"\bnadie (?:me )?(?:puede|pudo|ha podido|haya podido|sabe) (?:dar|darme|solucionar|"
        r"resolver|decir|decirme|explicar)\b|\bnadie me (?:ha dado|haya dado) (?:una )?solución\b",
    ),
    term(
        "finality",
        "es",
        r"\bpor última vez\b|\b(?:tratan|trate|tratar|tratáis) así a (?:sus|los|vuestros) "
        r"clientes\b",
    ),
    term(
        "finality",
        "en",
        r"\btreat (?:your|their) (?:\w+ )?customers like (?:this|that)\b|\bfor the last time\b",
    ),
    term(
        "money_without_goods",
        "es",
        r"\bcobr\w* (?:\w+ ){0,6}(?:di de baja|cancelé|anulé|ya no uso)\b",
    ),
)

# The company turned the customer down: a claim, refund or request rejected, refused or
# denied, or a voucher offered instead of the money ("Ihr Antrag wurde abgelehnt",
# "remboursement refusé", "me han denegado", "respinta due volte", "afgewezen zonder
# uitleg", "voucher instead of a refund"): ``rejected`` (0.5).
_REFUSED = {
    "en": (
        r"refund|claim|request|complaint|application|compensation",
        r"refused|rejected|denied|declined|turned down",
    ),
    "de": (
        r"Erstattung|Rückerstattung|Antrag|Reklamation|Beschwerde|Anspruch|Schadenmeldung|"
        r"Garantie|Gewährleistung|Widerruf",
        r"abgelehnt|verweigert|zurückgewiesen|abgewiesen",
    ),
    "fr": (
        r"remboursement|réclamation|demande|dossier|indemnisation|garantie",
        r"refusée?s?|rejetée?s?|déclinée?s?|refuse|rejette",
    ),
    "es": (
        r"reembolso|reclamación|solicitud|devolución|garantía|indemnización",
        r"rechazad[oa]s?|denegad[oa]s?|negad[oa]s?|rechazan|deniegan|niegan",
    ),
    "it": (
        r"rimborso|richiesta|reclamo|pratica|domanda|garanzia|risarcimento",
        r"respint[oa]|rifiutat[oa]|negat[oa]|rigettat[oa]|rifiutano|negano",
    ),
    "nl": (
        r"terugbetaling|claim|aanvraag|klacht|verzoek|garantie|declaratie|vergoeding",
        r"afgewezen|geweigerd|niet toegekend|weigeren|weigert",
    ),
    "pt": (
        r"reembolso|reclama[çc][ãa]o|pedido|garantia|indeniza[çc][ãa]o|devolu[çc][ãa]o",
        r"recusad[oa]s?|negad[oa]s?|rejeitad[oa]s?|indeferid[oa]s?|recusam|negam",
    ),
}
_INSTEAD = {
    "en": r"\b(?:voucher|credit note|store credit)s? instead of (?:a |my |the )?(?:refund|money)\b",
    "de": r"\bGutschein\w* (?:statt|anstatt|anstelle) (?:einer |der )?(?:Erstattung|Geld)\w*",
    "fr": r"\b(?:bon d'achat|avoir|bon)s? au lieu d'un remboursement\b",
    "es": r"\b(?:vale|bono)s? en (?:lugar|vez) del? (?:reembolso|dinero)\b",
    "it": r"\b(?:voucher|buono) (?:invece del|al posto del) (?:rimborso|denaro)\b",
    "nl": r"\b(?:tegoedbon|voucher|waardebon) in plaats van (?:terugbetaling|geld|mijn geld)\b",
    "pt": r"\b(?:vale|voucher|cr[ée]dito) em vez d[eo] (?:reembolso|dinheiro)\b",
}

REJECTED_TERMS: tuple[FrustrationTerm, ...] = tuple(
    term(
        "rejected",
        language,
        rf"\b(?:{thing})\b[^.!?\n]{{0,50}}?\b(?:{verdict})\b|"
        rf"\b(?:{verdict})\b[^.!?\n]{{0,30}}?\b(?:{thing})\b|" + _INSTEAD[language],
    )
    for language, (thing, verdict) in _REFUSED.items()
)

# Something done without the customer's say: a renewal, a service or a charge they never
# agreed to, ordered or signed ("without my consent", "ohne meine Zustimmung", "una
# permanencia que nunca firmé", "servizi mai richiesti", "zonder mijn toestemming"):
# ``unauthorised`` (0.5).
UNAUTHORISED_TERMS: tuple[FrustrationTerm, ...] = (
    term(
        "unauthorised",
        "en",
        r"\bwithout (?:my|our) (?:consent|permission|agreement|authori[sz]ation|approval)\b|"
        r"\bwithout (?:asking|telling|informing) (?:me|us)\b|\b(?:i|we) (?:never|did not|didn't) "
        r"(?:agree|agreed|sign|signed|authori[sz]e|authori[sz]ed|consent|consented)\b|"
        r"\b(?:i|we) never (?:ordered|requested|asked for)\b",
    ),
    term(
        "unauthorised",
        "de",
        r"\bohne (?:meine|unsere|jede) (?:Zustimmung|Einwilligung|Erlaubnis|Genehmigung|"
        r"Rücksprache|Auftrag)\b|\bohne (?:mich|uns) zu (?:fragen|informieren)\b|"
        r"\b(?:nie|niemals|nicht) (?:\w+ )?(?:beauftragt|unterschrieben|zugestimmt|vereinbart)\b|"
        r"\bnie (?:\w+ )?(?:bestellt|angefordert)\b",
    ),
    term(
        "unauthorised",
        "fr",
        r"\bsans (?:mon|notre) (?:accord|consentement|autorisation)\b|\bsans (?:me|nous) "
        r"(?:demander|prévenir|consulter)\b|\b(?:jamais|pas) (?:\w+ )?(?:signée?s?|souscrite?s?|"
        r"autorisée?s?)\b|\bjamais (?:\w+ )?(?:commandée?s?|demandée?s?)\b",
    ),
    term(
        "unauthorised",
        "es",
        r"\bsin (?:mi|nuestro) (?:consentimiento|permiso|autorización)\b|"
        r"\bsin (?:avisarme|consultarme|preguntarme)\b|\bnunca (?:firmé|contraté|pedí|solicité|"
        r"autoricé|acepté)\b|\bque no (?:he )?(?:firmado|contratado|firmé|contraté)\b",
    ),
    term(
        "unauthorised",
        "it",
        r"\bsenza (?:il )?(?:mio|nostro) (?:consenso|permesso|autorizzazione)\b|"
        r"\bsenza (?:avvisarmi|chiedermi|informarmi)\b|\bmai (?:richiest|sottoscritt|firmat|"
        r"ordinat|autorizzat)\w*|\bnon (?:ho )?mai (?:richiesto|firmato|ordinato|sottoscritto|"
        r"autorizzato)\b",
    ),
    term(
        "unauthorised",
        "nl",
        r"\bzonder (?:mijn|onze) (?:toestemming|instemming|akkoord|goedkeuring)\b|"
        r"\bzonder (?:mij|ons) (?:te )?(?:vragen|informeren|in te lichten)\b|"
        r"\b(?:nooit|niet) (?:\w+ )?(?:getekend|afgesloten|akkoord gegeven)\b|"
        r"\bnooit (?:\w+ )?(?:besteld|aangevraagd)\b",
    ),
    term(
        "unauthorised",
        "pt",
        r"\bsem (?:a )?(?:minha|nossa) (?:autoriza[çc][ãa]o|permiss[ãa]o|concord[âa]ncia|"
        r"consentimento)\b|\bsem (?:me )?(?:avisar|consultar|perguntar)\b|"
        r"\bnunca (?:pedi|assinei|contratei|autorizei|solicitei)\b",
    ),
)

# A request to escalate, with no role named ("please escalate this complaint", "bitte
# eskalieren Sie", "escalar mi caso"): a request for a person like ``asks_for_role``.
ESCALATE_TERMS: tuple[FrustrationTerm, ...] = (
    term(
        "asks_for_role",
        "en",
        r"\b(?:please |i (?:would like|want|need|ask) (?:you )?to |kindly )escalate "
        r"(?:this|it|my (?:case|complaint|ticket|issue|request))\b",
    ),
    term("asks_for_role", "de", r"\beskalieren Sie\b|\bbitte (?:\w+ )?eskalieren\b"),
    term(
        "asks_for_role",
        "fr",
        r"\b(?:faites|faire|merci de faire) remonter (?:ma|mon|cette|ce) (?:demande|dossier|"
        r"réclamation|plainte)\b",
    ),
    term(
        "asks_for_role",
        "es",
        r"\bescal(?:ar|en|e) (?:mi|este|el) (?:caso|reclamación|incidencia)\b",
    ),
    term(
        "asks_for_role",
        "it",
        r"\b(?:scalate|inoltrate|inoltrare) (?:la mia|questa) (?:pratica|segnalazione|richiesta|"
        r"reclamo) (?:ai|a un|al) (?:responsabil|superior|livello)\w*",
    ),
    term("asks_for_role", "nl", r"\b(?:escaleer|escaleren) (?:dit|deze klacht|mijn zaak)\b"),
    term("asks_for_role", "pt", r"\bescal(?:ar|em|e) (?:o meu|este|o) (?:caso|pedido|processo)\b"),
)

# Harm or danger: a hazard, an injury, mould, a gas leak ("gefährlich", "dangereux",
# "moho", "muffa", "schimmel", "fuga de gás"): ``danger`` (0.4).
DANGER_TERMS: tuple[FrustrationTerm, ...] = (
    term(
        "danger",
        "en",
        r"\b(?:dangerous|unsafe|a (?:safety|fire) (?:hazard|risk)|injured|injury|electric shock|"
        r"gas leak|caught fire|mould|mold)\b",
    ),
    term(
        "danger",
        "de",
        r"\b(?:gefährlich\w*|lebensgefährlich\w*|verletzt|Stromschlag|Schimmel\w*|Gasleck|"
        r"Brandgefahr|in Brand)\b",
    ),
    term(
        "danger",
        "fr",
        r"\b(?:dangereu(?:x|se)|blessée?s?|électrocut\w*|moisissures?|fuite de gaz|a pris feu)\b",
    ),
    term(
        "danger",
        "es",
        r"\b(?:peligros[oa]s?|herid[oa]s?|descarga eléctrica|moho|fuga de gas|se incendió)\b",
    ),
    term(
        "danger",
        "it",
        r"\b(?:pericolos[oa]|ferit[oa]|scossa elettrica|muffa|fuga di gas|ha preso fuoco)\b",
    ),
    term(
        "danger",
        "nl",
        r"\b(?:gevaarlijk\w*|gewond|elektrische schok|schimmel\w*|gaslek|vlam gevat)\b",
    ),
    term(
        "danger",
        "pt",
        r"\b(?:perigos[oa]s?|ferid[oa]s?|choque elétrico|bolor|mofo|fuga de gás|vazamento de "
        r"gás|pegou fogo)\b",
    ),
)
