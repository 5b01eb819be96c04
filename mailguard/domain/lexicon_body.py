"""Shipped body rules: phrases robots write in seven languages, searched in the author's text.

Body phrases are weaker than headers (a person may write "I am on holiday until Monday"),
so most weigh less than 1.0: they decide the kind of a message already known to be
automated and only together decide that it is automated. Phrases in which a message
describes itself as automatic weigh more, because a person's own words (quotes removed)
rarely say so.
"""

from __future__ import annotations

from mailguard.domain.lexicon import AR, BO, BU, CR, NO, OOO, TA
from mailguard.domain.model import Kind
from mailguard.domain.rules import PatternRule


def _b(name: str, kind: Kind, pattern: str, weight: float, lang: str | None) -> PatternRule:
    return PatternRule(name, kind, "body", pattern, lang, weight)


BODY_RULES: tuple[PatternRule, ...] = (
    # Absence notes: "I am out of the office until ...", per language.
    _b(
        "absence_en",
        OOO,
        r"\b(?:i am|i'm|i will be|i'll be|i am currently|i'm currently)\s+(?:currently\s+)?"
        r"(?:out of (?:the )?office|away from (?:the |my )?(?:office|desk)|on (?:annual |parental "
        r"|maternity |paternity |sick )?(?:vacation|holiday|holidays|leave)|on a business trip|"
        r"travell?ing|absent|not in the office|out of town|away (?:until|till|from|on|and))\b",
        0.6,
        "en",
    ),
    _b(
        "absence_return_en",
        OOO,
        r"\b(?:limited|no|without) access to (?:my )?e-?mails?\b|\bunable to read your message\b|"
        r"\bupon my return\b|"
        r"\bwhen i (?:return|am back|get back)\b|\bi will (?:be )?(?:back|return(?:ing)?) "
        r"(?:on|to the office|in the office)\b|\bin (?:urgent cases|case of (?:an )?emergency|"
        r"urgent matters)\b",
        0.4,
        "en",
    ),
    _b(
        "absence_de",
        OOO,
        r"\bich bin\b.{0,60}?\b(?:nicht im (?:b[üu]ro|hause?)|abwesend|im urlaub|au[ßs]er haus|"
        r"nicht erreichbar|auf (?:dienst|gesch[äa]fts)reise|in elternzeit|nicht am arbeitsplatz)",
        0.6,
        "de",
    ),
    _b(
        "absence_return_de",
        OOO,
        r"\b(?:in dringenden f[äa]llen|bei dringenden anliegen)\b|\bwieder (?:im b[üu]ro|"
        r"erreichbar|f[üu]r sie da)\b|\bkeinen zugriff auf (?:meine )?e-?mails?\b|"
        r"\bnach meiner r[üu]ckkehr\b",
        0.4,
        "de",
    ),
    _b(
        "absence_fr",
        OOO,
        r"\bje (?:suis|serai) (?:actuellement )?(?:absente?|en cong[ée]s?|en vacances|"
        r"hors du bureau|en d[ée]placement)",
        0.6,
        "fr",
    ),
    _b(
        "absence_return_fr",
        OOO,
        r"\bde retour le\b|\ben cas d'urgence\b|\b[àa] mon retour\b",
        0.4,
        "fr",
    ),
    _b(
        "absence_es",
        OOO,
        r"\b(?:estoy|estar[ée]) (?:actualmente )?(?:fuera de la oficina|de vacaciones|ausente|"
        r"de viaje)",
        0.6,
        "es",
    ),
    _b(
        "absence_return_es",
        OOO,
        r"\ben caso de urgencia\b|\bestar[ée] de vuelta\b|\ba mi regreso\b|\bregresar[ée] el\b",
        0.4,
        "es",
    ),
    _b(
        "absence_it",
        OOO,
        r"\b(?:sono|sar[òo]) (?:attualmente )?(?:fuori (?:sede|ufficio)|in ferie|assente|"
        r"in vacanza)",
        0.6,
        "it",
    ),
    _b(
        "absence_return_it",
        OOO,
        r"\bin caso di urgenza\b|\brientrer[òo]\b|\bal mio rientro\b|\bsar[òo] di nuovo\b",
        0.4,
        "it",
    ),
    _b(
        "absence_nl",
        OOO,
        r"\bik ben\b.{0,40}?\b(?:afwezig|niet op kantoor|met vakantie|op vakantie|"
        r"buiten kantoor|niet bereikbaar)",
        0.6,
        "nl",
    ),
    _b(
        "absence_return_nl",
        OOO,
        r"\bin dringende gevallen\b|\bben ik (?:weer )?(?:terug|bereikbaar|aanwezig)\b|"
        r"\bna mijn terugkeer\b",
        0.4,
        "nl",
    ),
    _b(
        "absence_pt",
        OOO,
        r"\b(?:estou|estarei) (?:atualmente |actualmente )?(?:fora do escrit[óo]rio|de f[ée]rias|"
        r"ausente|em viagem)",
        0.6,
        "pt",
    ),
    _b(
        "absence_return_pt",
        OOO,
        r"\bem caso de urg[êe]ncia\b|\bestarei de volta\b|\bno meu regresso\b|\bao meu retorno\b",
        0.4,
        "pt",
    ),
    # The message says of itself that a machine wrote it.
    _b(
        "self_declared_auto",
        AR,
        r"\bthis is an? (?:automatic(?:ally generated)?|auto-?generated|automated|auto)[ -]?"
        r"(?:reply|response|message|e-?mail|notification|confirmation|acknowledge?ment)|"
        r"\b(?:please )?do not reply (?:to|directly to) this (?:e-?mail|message|address)|"
        r"\bthis (?:e-?mail|message|mailbox|address) is (?:not monitored|unattended|"
        r"automatically generated)|\bthis (?:e-?mail|message) (?:was|has been) "
        r"(?:sent|generated|created) automatically\b|"
        r"\bdies ist eine automatisch(?:e|generierte)? (?:antwort|nachricht|e-?mail|"
        r"benachrichtigung|abwesenheitsnotiz)|\b(?:diese|die) (?:e-?mail|nachricht) wurde "
        r"automatisch (?:erstellt|generiert|versendet|verschickt|erzeugt)|"
        r"\bbitte antworten sie nicht auf diese (?:e-?mail|nachricht)|"
        r"\b(?:ceci est|il s'agit d)'?\s?un (?:message|e-?mail|courriel) (?:automatique|"
        r"g[ée]n[ée]r[ée] automatiquement)|\bmerci de ne pas r[ée]pondre\b|"
        r"\b(?:este es|esto es) un (?:mensaje|correo(?: electr[óo]nico)?) (?:autom[áa]tico|"
        r"generado autom[áa]ticamente)|\bno responda a este (?:mensaje|correo)|"
        r"\bquesto [èe] un messaggio (?:automatico|generato automaticamente)|"
        r"\bsi prega di non rispondere\b|"
        r"\bdit is een automatisch(?: gegenereerd| verzonden)? (?:bericht|antwoord|e-?mail)|"
        r"\bgelieve niet te antwoorden\b|"
        r"\b(?:esta [ée] uma|este [ée] um) (?:mensagem|e-?mail|resposta) autom[áa]tic[ao]|"
        r"\bn[ãa]o responda (?:a )?(?:este|esta) (?:e-?mail|mensagem)",
        0.8,
        None,
    ),
    _b(
        "thanks_for_message",
        AR,
        r"\bthank(?:s| you) for (?:your (?:e-?mail|message|enquiry|inquiry|request|mail)|"
        r"contacting|reaching out)\b|\bvielen dank f[üu]r ihre (?:e-?mail|nachricht|anfrage)\b|"
        r"\bmerci (?:pour|de) votre (?:message|e-?mail|courriel|demande)\b|"
        r"\bgracias por (?:su|tu) (?:mensaje|correo|consulta)\b|"
        r"\bgrazie per (?:la sua|il suo|la tua|il tuo) (?:messaggio|e-?mail|richiesta)\b|"
        r"\bbedankt voor (?:uw|je) (?:bericht|e-?mail|vraag)\b|"
        r"\bobrigad[oa] (?:pela sua|pelo seu|pela) (?:mensagem|e-?mail|contato|contacto)\b",
        0.4,
        None,
    ),
    # Helpdesk acknowledgements.
    # "We received your message" is what every auto-responder says; only a ticket number
    # or a helpdesk's own marks make it a ticket acknowledgement.
    _b(
        "message_received",
        AR,
        r"\bwe(?:'ve| have)? (?:successfully )?received your (?:request|message|e-?mail|enquiry|"
        r"inquiry|ticket)|\byour (?:request|ticket|case|e-?mail|message)(?: with (?:the )?subject "
        r".{1,80}?)? (?:#?\s*[\w-]*\d+ )?has been (?:received|created|logged|opened)|"
        r"\bihre (?:anfrage|e-?mail|nachricht)(?: mit dem betreff .{1,80}?)? (?:ist (?:bei uns )?"
        r"eingegangen|wurde (?:erfolgreich )?(?:empfangen|erstellt|aufgenommen|registriert))|"
        r"\bwir haben ihre (?:anfrage|nachricht|e-?mail) erhalten|"
        r"\bnous avons (?:bien )?re[çc]u votre (?:demande|message|e-?mail|courriel)|"
        r"\bhemos recibido (?:su|tu) (?:solicitud|mensaje|correo|consulta)|"
        r"\babbiamo ricevuto (?:la sua|la tua|il suo|il tuo) (?:richiesta|e-?mail|messaggio)|"
        r"\bwij hebben (?:uw|je) (?:verzoek|vraag|bericht|e-?mail|aanvraag) ontvangen|"
        r"\brecebemos (?:a sua|sua|o seu|seu) (?:solicita[çc][ãa]o|pedido|mensagem|e-?mail)|"
        r"\b(?:la (?:sua|tua) richiesta|votre demande|su solicitud|(?:a sua|sua) solicita[çc][ãa]o|"
        r"(?:uw|je) (?:verzoek|aanvraag)) (?:[èe] stata|a [ée]t[ée]|ha sido|foi|is) (?:bien )?"
        r"(?:ricevuta|presa in carico|registrata|re[çc]ue|enregistr[ée]e|recibida|registrada|"
        r"recebida|ontvangen|geregistreerd)",
        0.45,
        None,
    ),
    _b(
        "ticket_reference",
        TA,
        r"\b(?:ticket|case|request|reference|anfrage|vorgang|ticketnummer|dossier|caso|"
        r"pratica|zaak|chamado)(?:[ -]?(?:number|nummer|no\.?|nr\.?|id|num[ée]ro|n[úu]mero))?"
        r"\s*(?:is\s*)?[:#]\s*#?\s*[A-Z0-9-]*\d{3,}",
        0.45,
        None,
    ),
    _b(
        "will_get_back",
        TA,
        r"\bwe will (?:get back to you|respond|reply|be in touch|contact you)\b|"
        r"\bwir (?:werden uns|melden uns) (?:so schnell wie m[öo]glich|schnellstm[öo]glich|"
        r"in k[üu]rze|innerhalb|bei ihnen)|\bnous vous r[ée]pondrons\b|"
        r"\ble responderemos\b|\bla ricontatteremo\b|\bwe nemen zo snel mogelijk contact\b|"
        r"\bentraremos em contato\b",
        0.25,
        None,
    ),
    # Non-delivery reports written in prose (the structured ones are caught by headers).
    _b(
        "bounce_prose",
        BO,
        r"\bthis is the mail system at host\b|\bthis is the qmail-send program\b|"
        r"\bmessage was created automatically by mail delivery software\b|"
        r"\bi'm sorry to have to inform you that your message could not\b|"
        r"\b(?:your|the) message (?:to .{1,80} )?(?:could not|couldn't|wasn't|was not) "
        r"(?:be )?delivered\b|\bdelivery (?:to the following recipients? )?(?:has )?failed\b|"
        r"\bpermanent fatal errors\b|\bcould not be delivered to one or more recipients\b|"
        r"\bdelivery has been delayed\b|\bhas not yet been delivered\b|"
        r"\b(?:user|recipient|mailbox) (?:unknown|not found|unavailable|full)\b|"
        r"\brecipient address rejected\b|\bhost or domain name not found\b|"
        r"\bdiagnostic-code\b|\bremote-mta\b|"
        r"\bihre nachricht (?:konnte|wurde) nicht zugestellt|\bkonnte nicht zugestellt werden\b|"
        r"\bvotre message n'a pas pu [êe]tre (?:remis|distribu)|\bno se ha podido entregar\b|"
        r"\bnon [èe] stato possibile recapitare\b|\bkon niet worden (?:bezorgd|afgeleverd)\b|"
        r"\bn[ãa]o p[ôo]de ser entregue\b",
        0.8,
        None,
    ),
    _b(
        "challenge_prose",
        CR,
        r"\bto (?:have|get) your (?:e-?mail|message) delivered\b|"
        r"\bplease (?:click|visit|follow|open) (?:on )?the (?:link|url|address) below to "
        r"(?:confirm|verify)\b|\b(?:i|we) (?:use|am using|are using) .{0,40}(?:spam|anti-?spam) "
        r"(?:filter|protection|system|software)\b|\byour (?:e-?mail|message) (?:is|has been) "
        r"(?:held|quarantined|being held) (?:until|pending)\b|\bverify that you are a (?:real )?"
        r"(?:person|human)\b|\b(?:approved senders?|whitelist) (?:list )?(?:request|confirmation)\b"
        r"|\b(?:has|have) been waitlisted\b|\badd yourself to my\b|\bto ensure delivery of your "
        r"(?:e-?mail|message)\b|\b(?:allowed|approved|guest|safe) (?:senders? )?list\b"
        r"|\bum ihre (?:nachricht|e-?mail) zuzustellen\b|\bbest[äa]tigen sie (?:bitte )?(?:ihre|"
        r"die) (?:absenderadresse|e-?mail-adresse)\b|\bboxtrapper\b|\bspam ?arrest\b",
        1.0,
        None,
    ),
    _b(
        "machine_notice",
        NO,
        r"\b(?:dear|valued) (?:customer|user|member|subscriber)\b|"
        r"\bsehr geehrte(?:r)? kund(?:e|in)\b|"
        r"\bcher client\b|\bestimado cliente\b|\bgentile cliente\b|\bbeste klant\b|"
        r"\bcar[oa] cliente\b|\b(?:you have|you've) (?:received|got) a new (?:fax|voicemail|"
        r"voice message)\b|\bnew fax (?:message )?(?:from|received)\b|\bsie haben (?:soeben )?"
        r"(?:ein )?(?:neues )?(?:fax|sprachnachricht|voicemail)\b",
        0.4,
        None,
    ),
    _b(
        "filter_report",
        NO,
        r"\bspam detection software\b|\bhas identified (?:this|the) incoming (?:e-?mail|message) "
        r"as possible\b|\bsoftware zur erkennung von \W?spam\b|"
        r"\bhat die eingegangene e-?mail als\b",
        1.0,
        None,
    ),
    _b("fax_notice", NO, r"\bneues fax\b|\bnew fax\b|\bfax (?:received|empfangen)\b", 0.6, None),
    # Newsletters and marketing.
    _b(
        "unsubscribe_link",
        BU,
        r"\bunsubscribe\b|\bnewsletter (?:abbestellen|abmelden)\b|\bse d[ée]sinscrire\b|"
        r"\bse d[ée]sabonner\b|\bdarse de baja\b|\bcancelar (?:la |a )?suscripci[óo]n\b|"
        r"\bdisiscriviti\b|\bannulla(?:re)? l'iscrizione\b|\buitschrijven\b|"
        r"\bcancelar (?:a )?inscri[çc][ãa]o\b|\bdescadastr",
        0.45,
        None,
    ),
    _b(
        "browser_view",
        BU,
        r"\b(?:view|read|open) (?:this (?:e-?mail|newsletter|message) )?(?:in|with) (?:your|a) "
        r"(?:web )?browser\b|\bim browser (?:ansehen|anzeigen|[öo]ffnen)\b|\bversion en ligne\b|"
        r"\byou (?:are receiving|received|receive) this (?:e-?mail|message|newsletter) because\b|"
        r"\bsie erhalten diese (?:e-?mail|nachricht|newsletter)\b|\bmanage (?:your )?(?:e-?mail )?"
        r"(?:preferences|subscription)",
        0.6,
        None,
    ),
    _b(
        "transactional_notice",
        NO,
        r"\byour (?:order|package|parcel|shipment)(?: #?\s*[\w-]+)? has (?:been )?(?:shipped|"
        r"dispatched|delivered)\b|\bihre (?:bestellung|sendung) (?:wurde|ist) (?:versandt|"
        r"verschickt|unterwegs|zugestellt)\b|\bvotre colis\b|\bsu pedido ha sido enviado\b|"
        r"\bil tuo ordine [èe] stato spedito\b|\buw pakket is\b|\bseu pedido foi enviado\b|"
        r"\b(?:reset your password|password reset request|your verification code)\b|"
        r"\bsign-?in attempt\b|\bsecurity alert\b|\bthank you for your (?:order|purchase)\b|"
        r"\bvielen dank f[üu]r ihre bestellung\b|\bmerci pour votre commande\b|"
        r"\bgracias por (?:su|tu) (?:pedido|compra)\b|"
        r"\bgrazie per il (?:tuo|suo) (?:ordine|acquisto)\b|"
        r"\bbedankt voor (?:je|uw) bestelling\b|\bobrigad[oa] pela (?:sua )?(?:encomenda|compra)\b",
        0.4,
        None,
    ),
)
