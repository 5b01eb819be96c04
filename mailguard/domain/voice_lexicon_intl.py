"""What a customer says when they need a person: French, Dutch, Spanish and Italian.

The same signals as ``voice_lexicon`` (see its docstring), fewer of the rare ones. Words
are matched by stems where the language inflects ("d[ée]çu" for déçu, déçue, déçus;
"teleurgesteld"; "decepcionad[oa]s?"; "delus[oa]").
"""

from __future__ import annotations

from mailguard.domain.rules import FrustrationTerm
from mailguard.domain.voice_lexicon import ASKS_FOR_HUMAN, term

FRENCH: tuple[FrustrationTerm, ...] = (
    term(
        ASKS_FOR_HUMAN,
        "fr",
        r"\b(?:parler|discuter|échanger|avoir affaire|être en contact) (?:à|avec) (?:un|une|"
        r"quelqu'un|l'un|votre|vos)(?: \w+)? (?:vraie? |véritable |réel(?:le)? )?(?:personne|"
        r"humain|être humain|conseill[eè]re?|agent|interlocut\w*|responsable|employée?|"
        r"collaborat\w*|collègue|technicien\w*|de vos)\b|\bquelqu'un (?:de réel|en chair)\b|"
        r"\b(?:vraie|véritable|réelle) personne\b|\bun (?:être )?humain\b|"
        r"\bpas (?:à |avec )?(?:un|une|le|votre) (?:robot|machine|répondeur|bot|chatbot|"
        r"ordinateur|réponse automatique|message automatique)\b|"
        r"\b(?:transmettre|transférer|passer|remonter|confier|orienter)\w* (?:mon |ma |le |la |"
        r"cette |ce )?(?:\w+ )?(?:à|vers|avec) (?:un|une)(?: \w+)? (?:conseill\w*|personne|humain|"
        r"responsable|agent|interlocut\w*|technicien\w*|superviseur)\b|\bau lieu d'un "
        r"(?:robot|bot|chatbot|ordinateur|répondeur)\b|"
        r"\b(?:rappelez|appelez|contactez)-moi\b|\bme (?:rappeler|téléphoner|contacter par "
        r"téléphone)\b|\bêtre rappelée?\b|\bun rappel téléphonique\b",
    ),
    term(
        "anger",
        "fr",
        r"\b(?:inadmissible|inacceptable|scandal\w*|honteu\w*|une honte|c'est honteux|arnaque\w*|"
        r"escro\w*|voleurs?|furieu(?:x|se)|en colère|ras[- ]le[- ]bol|j'en ai marre|marre|"
        r"exaspér\w*|incompéten\w*|lamentable|se moque\w* de|vous vous moquez|foutez|"
        r"inadmissibles|révoltant\w*|à bout|indigne|n'importe quoi|catastroph\w*|un comble)\b",
    ),
    term(
        "dissatisfaction",
        "fr",
        r"\b(?:mécontent\w*|d[ée]çu\w*|décevant\w*|déception|insatisfait\w*|pas (?:du tout )?"
        r"(?:satisfait|contente?|normal|acceptable)\w*|agacé\w*|frustr\w*|déplorable\w*|"
        r"mauvais service|très mauvais\w*|énervé\w*|irrité\w*)\b",
    ),
    term(
        "fed_up_automation",
        "fr",
        r"\b(?:encore|toujours|que des|uniquement|seulement|même|une autre|une nouvelle) "
        r"(?:une |la |des |les )?(?:même )?(?:réponses?|messages?|mails?|e-mails?) "
        r"(?:automatiques?|types?|standards?|génériques?|pré-?rédigée?s?)\b|"
        r"\b(?:réponses?|messages?) (?:types?|toute faites?|standard|copiée?s?[- ]coll\w*)\b|"
        r"\bcopier[- ]coller\b|\bla même réponse\b|"
        r"\b(?:est-ce que )?quelqu'un (?:lit|va lire|a lu)\b|\bpersonne ne (?:lit|lira|a lu)\b|"
        r"\b(?:parler|écrire) à un (?:robot|mur|ordinateur|machine)\b|"
        r"\bvotre (?:robot|chatbot|bot|répondeur)\b",
    ),
    term("complaint", "fr", r"\b(?:plainte|me plaindre|réclamation officielle|plaindrai)\b"),
    term(
        "consequence",
        "fr",
        r"\b(?:mon|notre|un|à un|d'un) avocat\b|\b(?:action en justice|justice|tribunal|"
        r"poursuites|mise en demeure|"
        r"association de consommateurs|ufc[- ]que[- ]choisir|dgccrf|médiat(?:eur|ion)|"
        r"opposition (?:bancaire|sur (?:ma|la) carte|auprès de ma banque)|rétrofacturation|"
        r"chargeback|porter plainte|avis (?:négatifs?|très négatifs?)|mauvais avis|"
        r"réseaux sociaux|trustpilot|rendre public|la presse|je ne commanderai plus|"
        r"plus jamais (?:chez vous|de commande))\b",
    ),
    term("cancel", "fr", r"\b(?:résili\w*|annul\w*|rétract\w*)"),
    term(
        "repeat_contact",
        "fr",
        r"\b(?:deuxième|troisième|quatrième|cinquième|énième) (?:fois|mail|e-mail|message|"
        r"relance|demande)\b|\bplusieurs (?:mails|e-mails|messages|relances|fois)\b|"
        r"\bcombien de fois\b|\bje vous relance\b|\bénième\b|\bà maintes reprises\b|"
        r"\bdéjà (?:écrit|contacté|relancé)\w* (?:deux|trois|quatre|plusieurs) fois\b",
    ),
    term(
        "waiting",
        "fr",
        r"\bdepuis (?:deux|trois|quatre|cinq|plusieurs|des|\d+) (?:jours|semaines|mois)\b|"
        r"\b(?:cela|ça) fait (?:un|une|deux|trois|quatre|plusieurs|des|\d+) (?:jours?|"
        r"semaines?|mois) que\b|"
        r"\bj'attends (?:toujours|depuis|encore)\b",
    ),
    term(
        "no_answer",
        "fr",
        r"\btoujours (?:pas|rien|aucune?|sans)\b|\bsans (?:aucune )?(?:réponse|nouvelles)\b|"
        r"\baucune (?:réponse|nouvelle|réaction)\b|\bpersonne ne (?:répond|me répond|m'a "
        r"répondu)\b",
    ),
    term("again", "fr", r"\b(?:encore une fois|de nouveau|à nouveau)\b"),
    term("refund", "fr", r"\b(?:rembours\w*)"),
)

DUTCH: tuple[FrustrationTerm, ...] = (
    term(
        ASKS_FOR_HUMAN,
        "nl",
        r"\b(?:spreken|praten|bellen|contact|chatten|in contact komen) met (?:een|iemand|uw|"
        r"jullie)(?: \w+)? (?:echte? |levende )?(?:mens|persoon|medewerker\w*|collega|"
        r"leidinggevende|manager|van jullie|van uw)\b|\b(?:een )?echte? (?:mens|persoon|"
        r"medewerker)\b|\bmens van vlees en bloed\b|"
        r"\bgeen (?:robot|bot|chatbot|computer|standaardantwoord|automatisch\w* \w+)\b|"
        r"\b(?:kan|mag|wil|zou|moet|kunnen) (?:er )?(?:alstublieft |aub |even |nu |eindelijk )?"
        r"(?:een|echt een) (?:mens|persoon|medewerker)\b|\bin plaats van een (?:robot|bot|"
        r"chatbot|computer|automaat)\b|"
        r"\bniet (?:met )?(?:een|de) (?:robot|bot|chatbot|computer)\b|"
        r"\bbel (?:me|mij)(?: (?:alstublieft|aub|even|graag|a\.u\.b\.))? (?:terug|op)\b|"
        r"\b(?:mij|me) (?:(?!niet\b)\w+ ){0,3}?(?:bellen|terugbellen|opbellen)\b|"
        r"\bterug (?:te )?bellen\b|\bterugbel\w*|\bteruggebeld\b|\bdoorverbinden\b",
    ),
    term(
        "anger",
        "nl",
        r"\b(?:schandalig\w*|schande|belachelijk\w*|onacceptabel|onaanvaardbaar|"
        r"oplicht\w*|bedrieg\w*|bedrog|boos|woedend|kwaad|ben het zat|ik ben het zat|"
        r"spuugzat|de neus uit|genoeg van|waardeloos|waardeloze|diefstal|dieven|incompetent\w*|"
        r"een grap|te gek voor woorden|schaam je|klantonvriendelijk\w*|bizar)\b",
    ),
    term(
        "dissatisfaction",
        "nl",
        r"\b(?:ontevreden|teleurgesteld|teleurstell\w*|(?:helemaal |totaal )?niet tevreden|"
        r"gefrustreerd|frustrerend|"
        r"geïrriteerd|geërgerd|ergerlijk|irritant|slechte service|slechte ervaring|"
        r"niet (?:oké|ok|acceptabel|normaal))\b",
    ),
    term(
        "fed_up_automation",
        "nl",
        r"\b(?:weer|alweer|opnieuw|alleen|steeds|telkens|nog een|hetzelfde) (?:een |het |de )?"
        r"(?:zelfde )?(?:automatisch\w*|standaard\w*) (?:antwoord\w*|bericht\w*|reactie\w*|"
        r"mail\w*|e-mail\w*)\b|\bstandaard ?(?:antwoord|mail|tekst|reactie)\w*\b|"
        r"\b(?:hetzelfde|zelfde) antwoord\b|\bleest (?:er )?(?:hier |daar )?(?:wel |eigenlijk |"
        r"überhaupt |ooit )*iemand\b|\bpraten tegen een (?:muur|robot|computer)\b|"
        r"\buw (?:robot|chatbot|bot)\b|\bknip[- ]en[- ]plak\w*",
    ),
    term("complaint", "nl", r"\b(?:klacht\w*|klagen|beklag\w*)"),
    term(
        "consequence",
        "nl",
        r"\b(?:mijn|onze|een) (?<!ben een )(?<!zijn een )advocaat\b|\b(?:juridische stappen|"
        r"rechter|rechtbank|rechtszaak|"
        r"consumentenbond|geschillencommissie|acm|ombudsman|terugboek\w*|chargeback|"
        r"storner\w*|(?:slechte|negatieve) (?:review|recensie|beoordeling)\w*|"
        r"sociale media|trustpilot|openbaar maken|de pers|nooit meer (?:bij jullie|bestellen))\b",
    ),
    term("cancel", "nl", r"\b(?:opzeg\w*|annuler\w*|zeg \w+ op|ontbind\w*)"),
    term(
        "repeat_contact",
        "nl",
        r"\b(?:tweede|derde|vierde|vijfde|zoveelste) (?:keer|mail|e-mail|bericht|poging)\b|"
        r"\bmeerdere (?:keren|mails|berichten)\b|\bhoe vaak (?:nog|moet)\b|"
        r"\bal (?:twee|drie|vier|vijf|\d+) keer\b|\bherhaaldelijk\b|\bzoveelste\b",
    ),
    term(
        "waiting",
        "nl",
        r"\bal (?:twee|drie|vier|vijf|\d+|een paar) (?:dagen|weken|maanden)\b|"
        r"\bal (?:dagen|weken|maanden)\b|\b(?:wacht|wachten) (?:al|nu al|inmiddels)\b|"
        r"\bsinds (?:dagen|weken|maanden)\b",
    ),
    term(
        "no_answer",
        "nl",
        r"\bnog steeds (?:geen|niet|niets)\b|\bgeen (?:antwoord|reactie)\b|"
        r"\bniemand (?:reageert|antwoordt|heeft gereageerd)\b",
    ),
    term("again", "nl", r"\b(?:alweer|opnieuw|wederom)\b"),
    term("refund", "nl", r"\b(?:terugbetal\w*|geld terug|restitutie)"),
)

SPANISH: tuple[FrustrationTerm, ...] = (
    term(
        ASKS_FOR_HUMAN,
        "es",
        r"\b(?:hablar|comunicarme|contactar|tratar|chatear) con (?:una|un|alguien|su|sus|"
        r"alguno de)(?: \w+)? (?:persona|humano|ser humano|agente|asesor\w*|operador\w*|"
        r"responsable|empleado\w*|encargad\w*|supervisor\w*|técnico|real|de verdad)\b|"
        r"\bpersona (?:real|de verdad|de carne y hueso)\b|\bser humano\b|"
        r"\b(?:pás\w*|pasarme|pónga\w*|ponerme|comuníque\w*|transfiera\w*|derive\w*) con "
        r"(?:un|una|alguien)(?: \w+)? (?:agente|persona|asesor\w*|operador\w*|humano|"
        r"responsable|supervisor\w*|encargad\w*)\b|\ben (?:lugar|vez) de (?:un|una) (?:robot|"
        r"bot|chatbot|máquina|contestador)\b|"
        r"\bno (?:con )?(?:un|una) (?:robot|máquina|bot|chatbot|contestador|respuesta "
        r"automática)\b|\bllám(?:e|en)me\b|\bme (?:pueden|puede|podrían|podría) llamar\b|"
        r"\bdevolver(?:me)? la llamada\b|\bque me llamen?\b|\bllámame\b",
    ),
    term(
        "anger",
        "es",
        r"\b(?:inaceptable|indignante|indignad[oa]s?|vergonzos[oa]|vergüenza|estafa\w*|timo|"
        r"ladrones|furios[oa]|enfadad[oa]|enojad[oa]|hart[oa]s?|ridícul[oa]|incompetent\w*|"
        r"tomadura de pelo|una broma|un desastre|pésim[oa]|una vergüenza|un robo|"
        r"intolerable|impresentable|cabread[oa])\b",
    ),
    term(
        "dissatisfaction",
        "es",
        r"\b(?:insatisfech[oa]s?|descontent[oa]s?|decepcion\w*|no estoy (?:nada |para nada |"
        r"en absoluto )?(?:content[oa]|satisfech[oa])|molest[oa]s?|frustrad[oa]s?|frustrante|"
        r"mal servicio|muy mal|"
        r"disgustad[oa])\b",
    ),
    term(
        "fed_up_automation",
        "es",
        r"\b(?:otra|solo|sólo|siempre|la misma|únicamente|nuevamente) (?:una |la )?"
        r"(?:misma )?(?:respuestas?|mensajes?|correos?) (?:automátic[oa]s?|estándar|genéric[oa]s?|"
        r"predefinid[oa]s?|tipo)\b|\brespuestas? (?:estándar|genéricas?|predefinidas?|"
        r"enlatadas?|tipo)\b|\bcopiar y pegar\b|\bla misma respuesta\b|"
        r"\b(?:alguien|nadie) lee\b|\b¿?(?:hay|existe) (?:alguien|algún humano|una persona)"
        r" (?:ahí|que lea)\b|\bhablar con (?:un robot|una máquina|la pared)\b|"
        r"\bsu (?:robot|chatbot|bot)\b",
    ),
    term("complaint", "es", r"\b(?:queja\w*|quejarme|reclamación formal)\b"),
    term(
        "consequence",
        "es",
        r"\b(?:mi|mis|nuestro|nuestra|un|una) (?<!soy un )(?<!soy una )abogad[oa]s?\b|"
        r"\b(?:demanda\w*|acciones legales|medidas legales|vía judicial|"
        r"tribunal\w*|juzgado|la ocu|a la ocu|en la ocu|facua|a consumo|oficina (?:del|de) "
        r"consumidor\w*|"
        r"hoja de reclamaciones|devolución del cargo|contracargo|chargeback|redes sociales|"
        r"(?:mala|malas|pésima|negativa) (?:reseña|opinión|valoración)\w*|reseña negativa|"
        r"trustpilot|hacerlo público|nunca más (?:compraré|les compro|con ustedes))\b",
    ),
    term(
        "cancel",
        "es",
        r"\b(?:cancel\w*|anul\w*|baja (?:del|de mi) (?:contrato|servicio)|"
        r"darme de baja|dar de baja)",
    ),
    term(
        "repeat_contact",
        "es",
        r"\b(?:segunda|tercera|cuarta|quinta|enésima) vez\b|\b(?:segundo|tercer|tercero|"
        r"cuarto|quinto) (?:correo|mensaje|email|e-mail|intento)\b|\bvarias veces\b|"
        r"\bcuántas veces\b|\bya (?:les |os )?he (?:escrito|llamado|contactado) (?:dos|tres|"
        r"cuatro|varias|muchas) veces\b|\breiteradamente\b|\benésim[oa]\b",
    ),
    term(
        "waiting",
        "es",
        r"\bsigo esperando\b|\bhace (?:un|una|dos|tres|varias|\d+) (?:días?|semanas?|"
        r"mes|meses) que\b|\bdesde hace (?:dos|tres|cuatro|varias|muchas|\d+) "
        r"(?:días|semanas|meses)\b|\bllevo (?:dos|tres|cuatro|varias|muchas|\d+) "
        r"(?:días|semanas|meses)\b",
    ),
    term(
        "no_answer",
        "es",
        r"\b(?:todavía|aún) (?:no|nada|sin)\b|\bsigo sin\b|\bnadie (?:me )?(?:responde|"
        r"contesta|ha respondido|ha contestado)\b|\bsin (?:ninguna )?respuesta\b|"
        r"\bninguna respuesta\b",
    ),
    term("again", "es", r"\b(?:otra vez|de nuevo|nuevamente)\b"),
    term("refund", "es", r"\b(?:reembols\w*|devolución del dinero|devuelvan el dinero)"),
)

ITALIAN: tuple[FrustrationTerm, ...] = (
    term(
        ASKS_FOR_HUMAN,
        "it",
        r"\b(?:parlare|comunicare|essere messo in contatto|interloquire) con (?:una|un|uno|"
        r"qualcuno|il|la|un vostro|una vostra|il vostro)(?: \w+)? (?:persona|operat\w*|essere "
        r"umano|umano|addett\w*|responsabile|consulent\w*|tecnico|dipendente|collega|"
        r"reale|in carne)\b|\bpersona (?:reale|vera|in carne ed ossa)\b|\bessere umano\b|"
        r"\b(?:passatemi|passarmi|mettetemi in contatto con|mettermi in contatto con|"
        r"voglio|vorrei|desidero|chiedo)(?: di parlare con)? (?:un|una|con un|con una)"
        r"(?: \w+)? (?:operat\w*|persona|umano|responsabile|addett\w*)\b|\binvece (?:di|che "
        r"con) (?:un|una) (?:robot|bot|chatbot|macchina|risponditore)\b|"
        r"\bnon (?:con )?(?:un|una|il) (?:robot|bot|chatbot|macchina|risponditore|"
        r"computer|risposta automatica)\b|\brichiam\w*mi\b|\bmi (?:richiami|richiamate|"
        r"chiami|chiamate|potete chiamare|può chiamare|telefoni)\b|\bchiamatemi\b",
    ),
    term(
        "anger",
        "it",
        r"\b(?:inaccettabil\w*|vergogn\w*|scandalos\w*|scandalo|truff\w*|ladri|furios[oa]|"
        r"arrabbiat\w*|stufo|stufa|ne ho abbastanza|ridicol\w*|una presa in giro|"
        r"incompetent\w*|pessim[oa]|assurd[oa]|indecente|intollerabil\w*|vergognoso|"
        r"uno schifo|schifos[oa]|indignat[oa])\b",
    ),
    term(
        "dissatisfaction",
        "it",
        r"\b(?:insoddisfatt[oa]|scontent[oa]|delus[oa]|deludente|delusione|non sono (?:per "
        r"niente |per nulla |affatto |minimamente )?(?:soddisfatt[oa]|content[oa])|"
        r"frustrat[oa]|frustrante|infastidit[oa]|servizio "
        r"scadente|irritat[oa]|seccat[oa])\b",
    ),
    term(
        "fed_up_automation",
        "it",
        r"\b(?:un'altra|solo|sempre|la stessa|ancora una|soltanto) (?:una |la )?(?:stessa )?"
        r"(?:rispost[ae]|messaggi?o?|mail|e-mail) (?:automatic[ahe]|standard|preconfezionat[ae]|"
        r"generic[ahe]|predefinit[ae])\b|\brispost[ae] (?:standard|preconfezionat[ae]|"
        r"generic[ahe]|fotocopia)\b|\bcopia e incolla\b|\bla stessa risposta\b|"
        r"\b(?:qualcuno|nessuno) (?:legge|ha letto)\b|\bparlare con (?:un robot|una macchina|"
        r"un muro)\b|\bil vostro (?:robot|chatbot|bot)\b",
    ),
    term("complaint", "it", r"\b(?:reclam\w*|lamentel\w*|lamentarmi)"),
    term(
        "consequence",
        "it",
        r"\b(?:mio|mia|nostro|un|al|all'|il mio|al mio|a un|dall') ?(?<!sono un )avvocat[oaie]\b|"
        r"\b(?:vie legali|azioni legali|azione legale|tribunale|denunc\w*|"
        r"associazion\w* (?:dei |di )?consumatori|altroconsumo|codacons|storno|chargeback|"
        r"contestare l'addebito|recension\w* negativ\w*|social network|sui social|"
        r"trustpilot|rendere pubblico|mai più (?:da voi|un ordine|acquist\w*))\b",
    ),
    term("cancel", "it", r"\b(?:disdett\w*|disdir\w*|annull\w*|recesso|recedere|cancellare)"),
    term(
        "repeat_contact",
        "it",
        r"\b(?:seconda|terza|quarta|quinta|ennesima) volta\b|\b(?:secondo|terzo|quarto|"
        r"quinto|ennesimo) (?:messaggio|mail|email|e-mail|sollecito|tentativo)\b|"
        r"\b(?:più|diverse|molte|tante) volte\b|\bquante volte\b|\bennesim[oa]\b|"
        r"\bripetutamente\b",
    ),
    term(
        "waiting",
        "it",
        r"\bda (?:due|tre|quattro|diverse|molte|\d+) (?:giorni|settimane|mesi)\b|"
        r"\bsto ancora aspettando\b|\bda (?:un|una) (?:mese|settimana)\b|\baspetto da\b|"
        r"\bsollecit\w*",
    ),
    term(
        "no_answer",
        "it",
        r"\bancora (?:nessun\w*|niente|non)\b|\bnessuno (?:mi )?(?:risponde|ha risposto)\b|"
        r"\bnessuna risposta\b|\bsenza (?:alcuna )?risposta\b",
    ),
    term("again", "it", r"\b(?:di nuovo|ancora una volta|nuovamente)\b"),
    term("refund", "it", r"\b(?:rimbors\w*|soldi indietro)"),
)

INTENSIFIERS_INTL = (
    r"très|vraiment|extrêmement|totalement|complètement|profondément|tellement|si|trop|"
    r"zeer|erg|echt|ontzettend|enorm|heel|super|uiterst|diep|"
    r"muy|realmente|totalmente|extremadamente|sumamente|tan|profundamente|"
    r"molto|davvero|estremamente|veramente|profondamente|assolutamente|proprio|così"
)
