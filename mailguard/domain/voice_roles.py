"""A request for a person by role ("put me through to a case worker"), in seven languages.

Customers rarely say "a human": they ask for the role they imagine behind the robot, a case
worker or clerk ("Sachbearbeiter", "gestionnaire", "tramitador", "funzionario",
"dossierbehandelaar"), a manager, supervisor or team leader, "someone responsible", or for
someone to call them, look at their case, take it over. Each language's term
``asks_for_role_<lang>`` is built from the same grammar over its own word lists, so the
languages stay alike and a new word goes into one list:

1. a request word, then within the clause a role ("I would like this escalated to a
   supervisor", "bitte an die zuständige Sachbearbeiterin weitergeben", "passez-moi un
   technicien de niveau 2", "solicito que me asignen un tramitador");
2. a request word, then a person or someone, then what they should do ("I need someone from
   your technical team to look at our workspace", "ik wil dat een medewerker dit bekijkt",
   "quiero que una persona mire mi caso");
3. someone and a call or contact for the writer, in either order ("can someone ring me",
   "que alguien me llame", "me puede llamar alguien", "qu'une personne me téléphone");
4. a case to be handled by a role ("valutato da un supervisore", "seja visto por um
   supervisor", "reviewed by a manager");
5. a request word, then a call or contact ("vi prego di telefonare a mia figlia").

Words of thanks or praise in the clause keep a sentence calm ("I'd like to thank your team
leader"), and so does a role the writer holds ("I'm the office manager").
The request is evidence ``asks_for_human`` like the plain request for a person (see
``frustration``); the policy escalates at once.
"""

from __future__ import annotations

import re

from mailguard.domain.gate import top_level_branches
from mailguard.domain.rules import FrustrationTerm
from mailguard.domain.voice_lexicon import term

ASKS_FOR_ROLE = "asks_for_role"


def _any(words: str) -> str:
    return f"(?:{words})"


# Roles in sales or purchasing are who one orders from, not whom one escalates to: "I'd
# like to speak to your sales manager about a large order" stays calm.
_TRADE = (
    r"(?:sales|account|accounts|finance|marketing|purchasing|Vertriebs|Einkaufs|commercial|"
    r"comercial|commerciale|commerciële)"
)
_TRADE_AFTER = (
    r"(?:of |de |du |des |di |della |van |da |do |für |des )?(?:sales|ventas|vendas|ventes|"
    r"vendite|verkoop|Vertrieb|compras|achats|acquisti|inkoop|Einkauf|marketing|comercial|"
    r"commercial\w*|commerciale|cuentas|comptes)"
)


# A call or a person from the sales side is whom one buys from: "Could someone from your
# business sales team give me a call about our 20 lines?", "¿Puede llamarme alguien del
# departamento comercial?" ask for a seller, not for help. A request for a person in a
# sentence that names the sales department does not count.
_SALES_DEPARTMENT = re.compile(
    r"\b(?:sales|vertrieb\w*|verkaufsabteilung|außendienst|comercial|commercial\w*|"
    r"commerciale|ufficio vendite|vendite|verkoop\w*|vendas|ventas)\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?\n]")


def for_sales(text: str, start: int, end: int) -> bool:
    """Whether the sentence holding ``text[start:end]`` (a request for a person) names the
    sales department."""
    begin = max((m.end() for m in _SENTENCE_END.finditer(text, 0, start)), default=0)
    stop = _SENTENCE_END.search(text, end)
    return _SALES_DEPARTMENT.search(text, begin, stop.start() if stop else len(text)) is not None


_GAP_NEGATION = (
    r"(?:not|never|nicht|nie|kein\w*|pas|jamais|no|nunca|non|mai|niet|nooit|geen|n[ãa]o)"
)


def _role(article: str, nouns: str, free: str = "") -> tuple[str, ...]:
    """A role after an article or the company's possessive ("a supervisor", "Ihre
    Teamleitung", "un tramitador"), never after the writer's ("my manager"), or a phrase
    that names the role by itself ("someone in charge"). Each is a branch of its own, so
    that the role's nouns gate the branch (see gate_segments)."""
    found = rf"(?:{article}) (?:(?!{_TRADE} )[\w'’-]+ )?(?:{nouns})\b(?! ?{_TRADE_AFTER})"
    return (found, free) if free else (found,)


def _grammar(
    request: str,
    modal: str,
    role: tuple[str, ...],
    person: str,
    act: str,
    contact: str,
    passive: str,
    praise: str,
) -> str:
    """The branches (see the module docstring) over one language's word lists.

    ``request``: words that ask or demand; ``modal``: polite forms of asking ("could",
    "können Sie"), which ask a person to act or to call but do not make a role a request
    ("could you tell me who the team leader is"); ``role``: roles that name who should take over;
    ``person``: a person, a human, someone, a member of staff; ``act``: what they should do;
    ``contact``: a call or contact for the writer; ``passive``: "handled by" and the like;
    ``praise``: thanks or praise, which keep a clause calm.
    """
    calm = rf"(?![^.!?\n]{{0,50}}\b{_any(praise)})"

    def gap(most: int) -> str:
        # Up to ``most`` characters of the clause, none of them a negation: "Sie müssen
        # mich nicht zurückrufen" asks for no call.
        return rf"(?:(?!\b{_GAP_NEGATION}\b)[^.!?\n]){{0,{most}}}?"

    branches = [rf"\b{_any(request)}\b{calm}{gap(70)}\b{named}\b" for named in role]
    branches += [
        rf"\b{_any(request + '|' + modal)}\b{calm}{gap(40)}\b{_any(person)}\b"
        rf"{gap(50)}\b{_any(act)}\b",
        rf"\b{_any(contact)}\b{gap(20)}\b{_any(person)}\b",
    ]
    # One branch per wording of the contact where it ends the branch, so that its verb,
    # not "mich" or "sie", gates it (see gate_segments).
    for call in top_level_branches(contact):
        branches += [
            rf"\b{_any(person)}\b{gap(30)}\b{call}\b",
            rf"\b{_any(request + '|' + modal)}\b{calm}{gap(30)}\b{call}\b",
        ]
    branches += [rf"\b{_any(passive)}\b{gap(25)}\b{named}\b" for named in role]
    return "|".join(branches)


_EN = _grammar(
    request=r"want|wants|would like|'d like|’d like|wish|need|needs|request|requesting|ask for|"
    r"asking for|insist|demand|expect|require|escalate|escalated|pass|forward|transfer|"
    r"refer|put me through|assign|appoint|give me|speak to|speak with|talk to|talk with",
    modal=r"can|could|would|please|kindly",
    role=_role(
        r"a|an|the|your|one of your|some|any|to a|to the|to your",
        r"supervisor|manager|team ?lead(?:er)?|line manager|senior (?:agent|colleague|member "
        r"of staff|person|manager|adviser|advisor)|case ?(?:worker|handler|manager|officer|"
        r"owner)|claims? (?:handler|manager)|clerk|director|head of (?:customer|support|"
        r"service|billing|complaints)\w*|complaints? (?:team|department|manager|handler)|"
        r"customer relations|person (?:responsible|in charge)|concerned person|"
        r"(?:direct|named|dedicated|personal|single) (?:point of )?contact",
        r"(?:someone|somebody) (?:senior|responsible|in charge|competent|qualified|with "
        r"authority)|(?:someone|somebody|a person) (?:who|that) (?:can|could|is able to) "
        r"(?:make a decision|decide|actually help|fix)",
    ),
    person=r"someone|somebody|a person|a real person|an actual person|a competent person|"
    r"a human|a real human|a human being|a member of (?:your )?staff|one of your (?:staff|team|"
    r"engineers|agents)|an agent|an engineer|a technician|a specialist",
    act=r"look at|look into|check (?:my|our|the|this)|call|ring|phone|contact|deal with|"
    r"handle|sort (?:this|it) out|take (?:this|it|my case) over|take over|get back|read|"
    r"review|investigate|explain|get in touch|make a decision|personally",
    contact=r"(?:call|ring|phone|contact) (?:me|us|her|him|my (?:mum|mom|mother|dad|father|wife|"
    r"husband|daughter|son))|give me a (?:call|ring)|tae phone me",
    passive=r"reviewed|looked at|handled|dealt with|seen|assessed|examined|escalated|passed|"
    r"forwarded|referred|transferred|taken over",
    praise=r"thank|thanks|grateful|praise|compliment|appreciat\w*",
)

_DE = _grammar(
    request=r"bitte|bitten|möchte|möchten|will|wollen|verlange|verlangen|fordere|fordern|"
    r"wünsche|erwarte|erwarten|brauche|benötige|benötigen|bestehe|Nennung|nennen Sie|geben Sie|"
    r"leiten Sie|verbinden Sie|Weiterleitung",
    modal=r"können|könnte|könnten|kann|würden|lassen Sie|muss|müssen|soll|sollte",
    role=_role(
        r"die|den|der|dem|des|ein|eine[nmr]?|Ihre[nmrs]?|einen Ihrer|einem Ihrer|einer Ihrer",
        r"Sachbearbeiter\w*|Teamleit\w*|Vorgesetzte\w*|Abteilungsleit\w*|Geschäftsführ\w*|"
        r"Filialleit\w*|Verantwortliche\w*|Supervisor\w*|Beschwerdeabteilung|"
        r"Beschwerdestelle|Fachabteilung|Bearbeiter\w*",
        r"zuständige\w* (?:Person|Mitarbeiter\w*|Stelle|Abteilung|Kolleg\w*)|"
        r"(?:persönliche\w*|feste\w*|direkte\w*|eigene\w*|namentliche\w*) "
        r"(?:Ansprechpartner\w*|Ansprechperson\w*|Kontaktperson\w*|Betreuer\w*)",
    ),
    person=r"jemand|jemanden|jemandem|ein Mensch|einen Menschen|einem Menschen|eine Person|"
    r"einer Person|ein Mitarbeiter|eine Mitarbeiterin|einen Mitarbeiter|einem Mitarbeiter|"
    r"Ihre Mitarbeiter|Ihren Mitarbeiter|Ihrem Mitarbeiter|Ihrer Mitarbeiter|ein Techniker|"
    r"einen Techniker",
    act=r"anruft|anrufen|zurückruft|zurückrufen|kümmert|kümmern|ansieht|ansehen|anschaut|"
    r"anschauen|übernimmt|übernehmen|entscheidet|persönlich",
    contact=r"(?:mich|sie|ihn|uns) (?:(?!nicht |nie )\w+ )?(?:anruft|anrufen|zurückruft|"
    r"zurückrufen|kontaktiert|kontaktieren)|bei (?:mir|uns|ihr|ihm) (?:meldet|melden)",
    passive=r"bearbeitet von|geprüft von|angesehen von|übergeben an|weitergeleitet an|"
    r"weitergegeben an|eskaliert an",
    praise=r"dank\w*|bedank\w*|lob\w*|gelobt|gratulier\w*",
)

_FR = _grammar(
    request=r"veux|voudrais|souhaite|souhaiterais|demande|demandons|exige|exigeons|aimerais|"
    r"besoin|passez-moi|mettez-moi en relation|transmettez|transférez|faites remonter|"
    r"merci de",
    modal=r"pouvez|pourriez|peut|pourrait|peux|puis|faut que|faudrait que",
    role=_role(
        r"un|une|le|la|l'|l’|au|à un|à une|votre|vos|du|des|d'un|d'une",
        r"responsable|superviseur\w*|chef (?:de service|d'équipe|du service|de rayon)|"
        r"manager|gestionnaire|interlocut(?:eur|rice)|direct(?:eur|rice)|supérieur\w*|"
        r"référent\w*|technicien\w* de niveau|service (?:des )?réclamations",
    ),
    person=r"quelqu'un|quelqu’un|une personne|un être humain|un humain|un conseiller|"
    r"une conseillère|un agent|un technicien|un employé|une employée",
    act=r"m'appelle|m'appeler|me rappelle|me rappeler|me téléphone|me téléphoner|"
    r"me contacte|me contacter|s'occupe|s'occuper|prenne en charge|regarde|examine|traite|"
    r"étudie|m'explique|me réponde|lise|qui sait|qui connaît|personnellement",
    contact=r"(?:m'|l'|m’|l’)appeler|(?:me|la|le) (?:rappeler|téléphoner|contacter)|"
    r"(?:m'|l'|m’|l’)appelle|(?:me|la|le) (?:rappelle|téléphone|contacte)",
    passive=r"traitée? par|examinée? par|étudiée? par|transmise? à|confiée? à|remontée? à|"
    r"transférée? à",
    praise=r"merci\w*|remerci\w*|félicit\w*|bravo",
)

_ES = _grammar(
    request=r"quiero|quisiera|querría|queremos|solicito|solicitamos|pido|pedimos|exijo|exigimos|"
    r"necesito|necesitamos|ruego|rogamos|deseo|me gustaría|pásenme|pónganme",
    modal=r"puede|pueden|podría|podrían",
    role=_role(
        r"un|una|el|la|al|del|su|sus|algún|alguna|con un|con una|con el|con la",
        r"supervisor\w*|gerente|encargad[oa]|responsable|jef[ea]|tramitador\w*|gestor\w*|"
        r"director\w*|coordinador\w*|superior\w*",
    ),
    person=r"alguien|una persona|un humano|un ser humano|un agente|un asesor|una asesora|"
    r"un operador|una operadora|un técnico|un empleado|una empleada",
    act=r"me llame|me llamen|llamarme|me atienda|me atiendan|atenderme|se encargue|"
    r"se haga cargo|mire|revise|lleve|me contacte|contactarme|me explique|me responda|"
    r"resuelva|lea|sepa|personalmente",
    contact=r"(?:me|la|lo|nos) (?:llame|llamen|atienda|atiendan|contacte|contacten)|"
    r"llamarme|contactarme|me (?:puede|pueden) llamar",
    passive=r"atienda|atiendan|revisad[oa] por|tramitad[oa] por|vist[oa] por|"
    r"gestionad[oa] por|llevad[oa] por",
    praise=r"gracias|agradec\w*|felicit\w*",
)

_IT = _grammar(
    request=r"voglio|vorrei|vorremmo|chiedo|chiediamo|desidero|desideriamo|pretendo|pretendiamo|"
    r"esigo|mi serve|ci serve|ho bisogno|abbiamo bisogno|vi prego|passatemi|mettetemi|"
    r"richiedo",
    modal=r"può|potete|potreste|potrebbe",
    role=_role(
        r"un|una|uno|il|la|lo|l'|l’|al|alla|del|della|dal|dalla|un vostro|una vostra|"
        r"il vostro|la vostra|vostro|vostra|con un|con una|con il|con la",
        r"supervisore|supervisor|responsabile|direttore|direttrice|funzionari[oa]|dirigente|"
        r"caporeparto|capoufficio|referente|incaricat[oa]|superiore|persona competente",
    ),
    person=r"qualcuno|una persona|un essere umano|un operatore|un'operatrice|un tecnico|"
    r"un addetto|un'addetta|un consulente",
    act=r"mi chiami|mi chiamasse|mi richiami|mi contatti|mi telefoni|chiamarmi|richiamarmi|"
    r"contattarmi|legga|occuparsene|se ne occupi|si occupi|valuti|esamini|guardi|"
    r"mi spieghi|si scusi|sappia|prenda in carico|personalmente",
    contact=r"(?:mi|la|lo|ci) (?:chiami|chiamasse|richiami|contatti|telefoni)|chiamarmi|"
    r"richiamarmi|contattarmi|telefonare a|chiamare a",
    passive=r"valutat[oa] da|esaminat[oa] da|gestit[oa] da|vist[oa] da|trattat[oa] da|"
    r"presa in carico da|spiegazione da|spiegazione dal|spiegazioni dal",
    praise=r"grazie|ringrazi\w*|complimenti",
)

_NL = _grammar(
    request=r"wil|willen|vraag|verzoek|eis|eisen|verlang|wens|zou graag|graag",
    modal=r"kan|kunt|kunnen|mag|laat",
    role=_role(
        r"een|de|het|uw|jullie|één|met een|met de",
        r"leidinggevende|manager|teamleider|teamleidster|supervisor|dossierbehandelaar|"
        r"behandelaar|afdelingshoofd|directeur|verantwoordelijke|vaste contactpersoon|"
        r"eigen contactpersoon|parkmanager|chef|klachtenafdeling",
    ),
    person=r"iemand|een mens|een persoon|een medewerker|een medewerkster|een monteur|"
    r"een technicus|één dossierbehandelaar",
    act=r"terugbelt|terugbellen|belt|bellen|opbelt|oppakt|oppakken|bekijkt|bekijken|"
    r"naar kijken|kijkt|regelt|regelen|behandelt|contact opneemt|beslist|leest|persoonlijk",
    contact=r"(?:mij|me|haar|hem|ons) (?:terug)?(?:belt|bellen)|met (?:mij|me|haar|hem) "
    r"opnemen|bel (?:haar|hem)",
    passive=r"bekeken door|behandeld door|beoordeeld door|doorgestuurd naar|"
    r"doorgezet naar|spreken met",
    praise=r"bedank\w*|dank\w*|compliment\w*|lof",
)

_PT = _grammar(
    request=r"quero|queremos|gostaria|gostaríamos|peço|pedimos|exijo|exigimos|preciso|"
    r"precisamos|solicito|desejo|necessito",
    modal=r"pode|podem|poderia|poderiam",
    role=_role(
        r"um|uma|o|a|ao|à|do|da|seu|sua|vosso|vossa|algum|alguma|com o|com a|com um|com uma",
        r"gerente|supervisor\w*|respons[áa]vel|chefe|coordenador\w*|diretor\w*|superior|"
        r"encarregad[oa]|gestor\w*|pessoa competente",
    ),
    person=r"alguém|algu[ée]m|uma pessoa|um humano|um ser humano|um atendente|uma atendente|"
    r"um técnico|um tecnico|um funcionário|um operador|um assistente",
    act=r"me ligue|me liguem|ligue|olhe|veja|trate|analise|resolva|acesse|aceda|leia|"
    r"me atenda|me contacte|me contate|me responda|cuide|se encarregue|fale comigo|"
    r"pessoalmente",
    contact=r"me (?:ligue|liguem|ligar|telefone|contacte|contate|atenda)|ligar-me|fale comigo|"
    r"ligue(?:m)? para (?:ela|ele|a minha|o meu)",
    passive=r"vist[oa] por|tratad[oa] por|analisad[oa] por|avaliad[oa] por|"
    r"encaminhad[oa] para|encaminhar para",
    praise=r"obrigad[oa]|agrade[çc]\w*|parab[ée]ns|elogi\w*",
)

ROLE_TERMS: tuple[FrustrationTerm, ...] = (
    term(ASKS_FOR_ROLE, "en", _EN),
    term(ASKS_FOR_ROLE, "de", _DE),
    term(ASKS_FOR_ROLE, "fr", _FR),
    term(ASKS_FOR_ROLE, "es", _ES),
    term(ASKS_FOR_ROLE, "it", _IT),
    term(ASKS_FOR_ROLE, "nl", _NL),
    term(ASKS_FOR_ROLE, "pt", _PT),
)
