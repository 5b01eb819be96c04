"""More of the everyday words for the first signals, in seven languages.

``voice_lexicon`` and ``voice_lexicon_intl`` were written on the first batches of the voice
set; these terms add the ordinary wording they did not foresee, written from how each
language says these things in general, never from one message: anger and exasperation
("abysmal", "unprofessionell", "foutage de gueule", "un cachondeo", "allucinante",
"een aanfluiting"), dissatisfaction ("not good enough", "nicht nachvollziehbar"), nothing
heard ("radio silence", "Funkstille", "silence radio", "ni caso", "nessun riscontro",
"niks meer gehoord", "sem retorno"), only acknowledgements and voice menus ("only an
automated acknowledgement", "Sprachcomputer", "serveur vocal", "el mismo guion",
"risposta preregistrata", "keuzemenu"), a problem still unsolved, and the regulators and
switching to a competitor as a consequence. Each term belongs to its signal (``anger_en``
and this ``anger_en`` count once together).
"""

from __future__ import annotations

from mailguard.domain.rules import FrustrationTerm
from mailguard.domain.voice_lexicon import term

WORD_TERMS: tuple[FrustrationTerm, ...] = (
    term(
        "anger",
        "en",
        r"\b(?:disgusted|atrocious|abysmal|hopeless|unprofessional|inexcusable|unforgivable|"
        r"daylight robbery|taking the piss|cowboys|clueless|laughable|at my wits'? end|"
        r"sick to death|joke of a company)\b",
    ),
    term(
        "dissatisfaction",
        "en",
        r"\b(?:not good enough|not impressed|unimpressed|unhelpful|not helpful|no help at all|"
        r"poor (?:communication|customer service|support))\b",
    ),
    term(
        "no_answer",
        "en",
        r"\b(?:heard nothing|haven't heard (?:anything|back)|have not heard (?:anything|back)|"
        r"not heard back|radio silence|no updates?|no news|nothing back|yet to hear)\b|"
        r"\bstill (?:not|isn't|is not|hasn't been) (?:resolved|fixed|sorted|working|solved)\b",
    ),
    term(
        "fed_up_automation",
        "en",
        r"\b(?:only|just|nothing but|another|yet another|more) (?:an? )?(?:automated |automatic "
        r"|auto-generated )?(?:acknowledg\w*|confirmations?|holding repl\w*)|"
        r"\brecorded (?:voice|message)\b|"
        r"\bautomated (?:phone |telephone )?(?:system|line)s?\b|\bpress(?:ing)? (?:\w+ )?buttons\b|"
        r"\b(?:templated?|scripted) (?:reply|replies|answer|answers|response|responses)\b|"
        r"\bsame script\b|\blinks? to (?:the|your) (?:faq|help (?:centre|center))\b",
    ),
    term(
        "consequence",
        "en",
        r"\bswitch(?:ing)? (?:provider|supplier|to another|to a different)\b|"
        r"\b(?:go|going|take my custom) elsewhere\b|\banother (?:provider|supplier)\b|"
        r"\b(?:financial|energy|telecoms?) ombudsman\b|\bcitizens advice\b|\bofcom\b|\bofgem\b|"
        r"\bthe regulator\b",
    ),
    term(
        "anger",
        "de",
        r"\b(?:frech|veräppel\w*|kundenfeindlich\w*|unprofessionell\w*|unseriös\w*|"
        r"chaotisch\w*|Desaster|Trauerspiel|fassungslos|entsetzt|schockiert|"
        r"stinkt mir|auf die Palme)\b",
    ),
    term(
        "dissatisfaction",
        "de",
        r"\b(?:ungenügend|nicht hilfreich|wenig hilfreich|nicht nachvollziehbar|unverständlich|"
        r"keine Lösung)\b",
    ),
    term(
        "no_answer",
        "de",
        r"\b(?:nichts gehört|höre (?:ich )?nichts|Funkstille|keinerlei (?:Antwort|Reaktion|"
        r"Rückmeldung))\b|\bkeiner (?:meldet sich|antwortet|reagiert|ruft zurück)\b|"
        r"\b(?:immer noch|noch immer|nach wie vor) nicht (?:gelöst|behoben|repariert|erledigt|"
        r"korrigiert)\b",
    ),
    term(
        "fed_up_automation",
        "de",
        r"\b(?:nur|ausschließlich|lediglich|immer nur) (?:eine |die )?"
        r"(?:automatische\w* )?Eingangsbestätigung\w*|\bFormbrief\w*|\bSerienbrief\w*|"
        r"\bSprachcomputer\w*|\bBandansage\w*|\bWarteschleife\w*|"
        r"\bautomatische\w* (?:Mail|Antwort|Nachricht|E-Mail)\w* (?:helfen|hilft|bringen|bringt) "
        r"(?:mir )?nicht",
    ),
    term(
        "consequence",
        "de",
        r"\b(?:den |zum )?Anbieter (?:wechseln|wechsle)\b|\bzu einem anderen Anbieter\b|"
        r"\bBaFin\b|\bVersicherungsombudsmann\b|\bStiftung Warentest\b",
    ),
    term(
        "anger",
        "fr",
        r"\b(?:insupportable|intolérable|ridicule|foutage de gueule|vous vous foutez|outrée?s?|"
        r"excédée?s?|hors de moi|indignée?s?|écœurant|pitoyable|une blague)\b",
    ),
    term(
        "no_answer",
        "fr",
        r"\bpas de (?:réponse|retour|nouvelles)\b|\bsilence radio\b|\bpersonne ne (?:me )?"
        r"(?:rappelle|répond|contacte)\b|\btoujours (?:pas|rien) (?:résolu|réglé|réparé)\b",
    ),
    term(
        "fed_up_automation",
        "fr",
        r"\b(?:uniquement|seulement|que|juste) (?:des |un )?accusés? de réception\b|"
        r"\b(?:que|uniquement|seulement|toujours|juste) (?:des |un |le même )?(?:messages?|"
        r"réponses?) automatiques?\b|\bserveur vocal\b|"
        r"\b(?:un )?formulaire (?:en ligne )?(?:qui ne|sans)\b",
    ),
    term(
        "consequence",
        "fr",
        r"\bchanger (?:d'opérateur|de fournisseur|de banque|de prestataire)\b|"
        r"\b(?:aller|irai) (?:voir )?(?:ailleurs|chez la concurrence)\b|\bsignal ?conso\b|"
        r"\b60 millions de consommateurs\b|\barcep\b|\bconciliateur\b|\bhuissier\b",
    ),
    term(
        "anger",
        "es",
        r"\b(?:me tienen hart[oa]|desesperad[oa]|nefast[oa]|penos[oa]|deplorable|"
        r"un cachondeo|un caos|de pena)\b",
    ),
    term(
        "dissatisfaction",
        "es",
        r"\b(?:no me (?:ayudan|ayudáis|solucionan)|nada útil|inútil(?:es)?|decepcionante)\b",
    ),
    term(
        "no_answer",
        "es",
        r"\bnadie me (?:ha )?(?:respondido|contestado|llamado|dicho nada)\b|\bsin noticias\b|"
        r"\bno he tenido (?:ninguna )?(?:respuesta|noticia)\b|\bni una respuesta\b|\bni caso\b|"
        r"\bsigue sin (?:resolverse|solucionarse|funcionar|solución)\b",
    ),
    term(
        "fed_up_automation",
        "es",
        r"\b(?:solo|sólo|únicamente) (?:un |el )?acuse de recibo\b|"
        r"\b(?:con|solo|sólo|siempre) (?:un |el )?mensaje automático\b|"
        r"\b(?:el|un|mismo) guion\b|\bcontestador\b|"
        r"\bque no tiene nada que ver\b",
    ),
    term(
        "consequence",
        "es",
        r"\bcambiarme de (?:compañía|empresa|operador|banco|aseguradora)\b|"
        r"\birme (?:a|con) otra (?:compañía|empresa)\b|"
        r"\b(?:irme|me voy|pasarme|cambiarme) a la competencia\b|\bprofeco\b|"
        r"\bdenunci\w*|\bdefensor del (?:cliente|pueblo)\b",
    ),
    term(
        "anger",
        "it",
        r"\b(?:indegn[oa]|esasperat[oa]|una barzelletta|allucinante|incapaci|"
        r"non se ne può più|la misura è colma)\b",
    ),
    term(
        "no_answer",
        "it",
        r"\bnessun[ao]? (?:notizia|riscontro|risposta)\b|\bnon ho (?:più )?(?:avuto|ricevuto) "
        r"(?:nessuna |alcuna |nessun )?(?:risposta|notizia|riscontro)\b|\bnessuno mi ha "
        r"(?:risposto|richiamato|contattato)\b|\bancora non (?:risolto|funziona)\b",
    ),
    term(
        "fed_up_automation",
        "it",
        r"\b(?:solo|soltanto|sempre|ricevo|ancora) (?:la |una |il |un' ?)?(?:conferma|mail|"
        r"risposta|messaggio) automatic[ao]\b|"
        r"\bmessaggio preregistrato\b|\brisposta preregistrata\b|\brisponditore\b|"
        r"\b(?:il solito|i soliti) (?:messaggio|messaggi)\b|\ble solite risposte\b",
    ),
    term(
        "consequence",
        "it",
        r"\bcambiare (?:operatore|gestore|fornitore|compagnia)\b|\bpassare a un altro "
        r"(?:operatore|gestore|fornitore)\b|\bagcom\b|\bgiudice di pace\b",
    ),
    term(
        "anger",
        "nl",
        r"\b(?:onbeschoft|schaamteloos|een aanfluiting|een lachertje|flauwekul)\b",
    ),
    term(
        "no_answer",
        "nl",
        r"\b(?:niets|niks|niks meer|niets meer) gehoord\b|\bgeen bericht\b|"
        r"\bniemand (?:belt|neemt contact|laat iets)\b|\bnog steeds niet (?:opgelost|gerepareerd|"
        r"geregeld)\b",
    ),
    term(
        "fed_up_automation",
        "nl",
        r"\b(?:twee|drie|vier|vijf|alleen|slechts|steeds|telkens|weer|keer) (?:een )?"
        r"automatische? (?:antwoord|bevestiging|bericht|mailtje)\w*|"
        r"\bstandaardbrief\w*|\bbandje\b|\bkeuzemenu\b|\bjullie (?:chatbot|bot|robot)\b",
    ),
    term(
        "consequence",
        "nl",
        r"\boverstappen\b|\bnaar een andere (?:aanbieder|provider|leverancier|verzekeraar)\b|"
        r"\bkifid\b|\bjuridisch loket\b",
    ),
    term(
        "anger",
        "pt",
        r"\b(?:sem vergonha|esgotad[oa]|desesperad[oa]|irritante|patétic[oa]|um caos)\b",
    ),
    term(
        "no_answer",
        "pt",
        r"\b(?:nenhum retorno|sem retorno|sem not[íi]cias)\b|\bningu[ée]m me (?:dá|deu) "
        r"(?:retorno|resposta|satisfa[çc][ãa]o)\b|\bainda n[ãa]o (?:foi )?resolvid[oa]\b",
    ),
    term(
        "fed_up_automation",
        "pt",
        r"\bconfirma[çc][ãa]o autom[áa]tica\b|\b(?:recebo|recebi|mandam|enviam|respondem com) "
        r"(?:só |apenas |sempre )?(?:uma |a )?(?:mesma )?(?:respostas? autom[áa]ticas?|"
        r"mensage(?:m|ns) autom[áa]ticas?)\b|\bgrava[çc][ãa]o\b|\bo rob[ôo] d[oa]\b",
    ),
    term(
        "consequence",
        "pt",
        r"\banatel\b|\banacom\b|\berse\b|\bbanco central\b|\bbanco de portugal\b|"
        r"\bmudar de (?:operadora|empresa|banco|seguradora)\b",
    ),
)
