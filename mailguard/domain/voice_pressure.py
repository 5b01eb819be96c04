"""The runaround, disbelief and demands: a customer under pressure, in seven languages.

- ``runaround`` (0.6): passed from one department to the next, a different answer each
  time, nobody responsible, nobody who knows ("von einer Abteilung zur nächsten",
  "cada vez me dicen una cosa distinta", "van het kastje naar de muur").
- ``disbelief`` (0.5): "how is this possible", "I can't believe", "wie kann es sein",
  "c'est pas sérieux", "no hay derecho", "non è possibile", "dit slaat nergens op".
- ``ignored`` (0.5): "you keep ignoring my e-mails", "Sie ignorieren", "on m'ignore".
- ``demand`` (0.3): "I demand", "I insist", "ich verlange", "j'exige", "exijo", "esigo",
  "ik eis", "exijo que": firm, but a firm request alone is not a complaint.
- ``compensation`` (0.3): compensation or damages for the trouble.
- ``business_loss`` (0.35): the problem costs the customer money, work or customers.
"""

from __future__ import annotations

from mailguard.domain.rules import FrustrationTerm
from mailguard.domain.voice_lexicon import term

PRESSURE_TERMS: tuple[FrustrationTerm, ...] = (
    term(
        "runaround",
        "en",
        r"\b(?:passed|pushed|bounced|sent|transferred|shunted) (?:me )?(?:around|from one|back "
        r"and forth|between)\b|\b(?:round|around) in circles\b|\bthe runaround\b|"
        r"\bfrom pillar to post\b|\b(?:a|one) different (?:answer|story|person|excuse) "
        r"(?:each|every) time\b|\b(?:each|every) time (?:a |someone )?different\b|"
        r"\bno(?: ?one|body) (?:takes|will take|seems to take) (?:any )?responsibility\b|"
        r"\bno(?: ?one|body) (?:knows|can tell me|seems to know|is able to tell me)\b|"
        r"\bfobbed off\b",
    ),
    term(
        "runaround",
        "de",
        r"\bvon (?:einer|einem|Abteilung) (?:\w+ )?(?:zur|zum|zu) (?:nächsten|anderen|"
        r"Abteilung)\b|\bhin und her geschickt\b|\bim Kreis\b|"
        r"\b(?:jedes|jeder|jede) ?Mal (?:eine |ein |jemand )?(?:andere|anderer|neue) "
        r"(?:Auskunft|Antwort|Aussage|Person|Mitarbeiter\w*|Ausrede)\b|"
        r"\bniemand (?:fühlt sich|ist|scheint) (?:\w+ )?zuständig\b|"
        r"\bniemand (?:weiß|kann mir sagen|kann mir helfen)\b|\bvertröstet\b",
    ),
    term(
        "runaround",
        "fr",
        r"\bde service en service\b|\bd'un service à l'autre\b|\bon me renvoie\b|"
        r"\bon me balade\b|\b(?:à )?chaque (?:fois|appel) (?:une |un )?(?:autre|différente?|"
        r"nouvelle?) (?:réponse|personne|interlocuteur|version|excuse)\b|"
        r"\b(?:à )?chaque (?:fois|appel),? (?:on me dit|une réponse différente)\b|"
        r"\bpersonne ne (?:sait|peut me dire|se sent responsable|prend la responsabilité)\b|"
        r"\bvous vous renvoyez la balle\b",
    ),
    term(
        "runaround",
        "es",
        r"\bde un (?:departamento|sitio|lado) a otro\b|\bme (?:están mareando|marean)\b|"
        r"\b(?:cada vez|cada uno|cada agente) (?:me dice|me dicen|me da|dice) (?:una cosa|algo) "
        r"(?:distint|diferent)\w*|\bnadie (?:se hace responsable|sabe|me sabe decir|"
        r"me da (?:una )?solución)\b|\bme (?:dan|están dando) largas\b|\bpeloteo\b",
    ),
    term(
        "runaround",
        "it",
        r"\bda un (?:ufficio|reparto) all'altro\b|\bmi (?:rimbalzano|rimpallano|palleggiano)\b|"
        r"\b(?:ognuno|ogni volta|ogni operatore) mi dic(?:e|ono) (?:una cosa|qualcosa) "
        r"(?:divers|different)\w*|\bnessuno (?:sa|si prende la responsabilità|è in grado)\b|"
        r"\bscaricabarile\b",
    ),
    term(
        "runaround",
        "nl",
        r"\bvan het kastje naar de muur\b|\bvan de ene (?:afdeling|medewerker) naar de andere\b|"
        r"\b(?:elke|iedere) keer (?:een )?(?:ander|andere|nieuw|nieuwe) (?:antwoord|verhaal|"
        r"medewerker|persoon|smoes)\b|\b(?:elke|iedere) keer (?:iemand )?anders\b|"
        r"\bniemand (?:voelt zich|is) verantwoordelijk\b|\bniemand (?:weet|kan mij vertellen)\b|"
        r"\bafgescheept\b",
    ),
    term(
        "runaround",
        "pt",
        r"\bde um (?:setor|departamento|lado) para o(?:utro)?\b|\bme (?:jogam|empurram)\b|"
        r"\b(?:cada vez|cada um|cada atendente) (?:me )?(?:diz|dá|fala) (?:uma coisa|algo|uma "
        r"resposta) diferente\b|\bningu[ée]m (?:sabe|se responsabiliza|resolve|me diz)\b|"
        r"\bempurr[ao]m? com a barriga\b",
    ),
    term(
        "disbelief",
        "en",
        r"\bhow (?:is|can) (?:this|that|it) (?:be )?(?:possible|acceptable|allowed|happen)\b|"
        r"\bi (?:can't|cannot|can not) believe\b|\bunbelievable\b|\babsurd\b|\bbeyond a joke\b|"
        r"\bshambles\b|\bfarce\b|\bappalled\b|\bfuming\b|\binsulting\b",
    ),
    term(
        "disbelief",
        "de",
        r"\bwie kann (?:es|das) sein\b|\bdas (?:kann|darf) (?:doch )?nicht (?:wahr )?sein\b|"
        r"\bnicht zu fassen\b|\babsurd\w*|\bunterirdisch\w*|\bpeinlich\w*|\bunglaublich\b"
        r"(?! (?:schnell|gut|freundlich|nett|hilfsbereit))|\bSauladen\b",
    ),
    term(
        "disbelief",
        "fr",
        r"\bcomment (?:est-ce|c'est|cela est|ça peut être) possible\b|"
        r"\b(?:c'est |ce n'est )?pas sérieux\b|\babsurde\b|\bincroyable\b(?! (?:service|"
        r"rapidité|accueil))|\bje n'en reviens pas\b|\bécœuré\w*|\bdégoûté\w*|\bfou de rage\b",
    ),
    term(
        "disbelief",
        "es",
        r"\bc[óo]mo (?:es|puede ser) posible\b|\bno hay derecho\b|\bes de risa\b|"
        r"\bun abuso\b|\babusiv[oa]\b|\binadmisible\b|\blamentable\b|\babsurd[oa]\b|"
        r"\buna falta de respeto\b|\bno es (?:normal|de recibo|serio)\b|\bincreíble\b"
        r"(?! (?:servicio|atención|rapidez))",
    ),
    term(
        "disbelief",
        "it",
        r"\bcom'è possibile\b|\bcome è possibile\b|\bnon è possibile\b|\bnon è (?:normale|"
        r"serio)\b|\bincredibile\b(?! (?:servizio|gentilezza|rapidità))|\binammissibil\w*|"
        r"\bpazzesc[oa]\b|\buna follia\b|\bmi sembra (?:assurdo|incredibile)\b",
    ),
    term(
        "disbelief",
        "nl",
        r"\bhoe kan (?:het|dit|dat)\b|\bdit slaat nergens op\b|\babsurd\w*|\bonbegrijpelijk\b|"
        r"\bniet normaal\b|\bbespottelijk\b|\bongehoord\b|\bonvoorstelbaar\b",
    ),
    term(
        "disbelief",
        "pt",
        r"\bcomo (?:é|pode ser) poss[íi]vel\b|\bn[ãa]o (?:é|pode ser) (?:normal|s[ée]rio)\b|"
        r"\bn[ãa]o acredito\b|\binacredit[áa]vel\b|\bum abuso\b|\babusiv[oa]\b",
    ),
    term(
        "ignored",
        "en",
        r"\b(?:you|you've|you have|your team|everyone)(?: (?:just|simply|completely|keep|kept))? "
        r"ignor(?:e|ed|ing)\b|\bbeing ignored\b|\b(?:has|have) been ignored\b",
    ),
    term(
        "ignored",
        "de",
        r"\b(?:Sie )?ignorier(?:en|t) (?:\w+ )?(?:mich|meine|meinen|mein|uns|unsere)\b|"
        r"\bwurde\w* (?:\w+ )?ignoriert\b",
    ),
    term(
        "ignored",
        "fr",
        r"\bon m'ignore\b|\bvous (?:m'ignorez|ignorez)\b|\b(?:été|sont|est) ignorée?s?\b",
    ),
    term(
        "ignored",
        "es",
        r"\bme (?:ignoran|ignoráis|han ignorado)\b|\b(?:ignoran|ignoráis) (?:mis|mi|nuestros)\b|"
        r"\bno me hacen (?:ni )?caso\b",
    ),
    term(
        "ignored",
        "it",
        r"\bmi (?:ignorate|ignorano|avete ignorat\w*)\b|\bignorat[oaie] (?:le mie|i miei|la mia)\b|"
        r"\bnon mi (?:ascolta|considera) nessuno\b",
    ),
    term(
        "ignored",
        "nl",
        r"\b(?:jullie|u) (?:negeert|negeren|hebt|heeft|hebben)(?: \w+){0,3} genegeerd\b|"
        r"\b(?:jullie|u) (?:negeert|negeren)\b|\bgenegeerd\b",
    ),
    term(
        "ignored",
        "pt",
        r"\b(?:me )?ignor(?:am|aram|aram-me)\b|\bfui ignorad[oa]\b|\bignorad[oa]s?\b",
    ),
    term(
        "demand",
        "en",
        r"\bi (?:demand|insist)\b|\bwe (?:demand|insist)\b|\bi expect (?:a|an|my|the) "
        r"(?:answer|reply|solution|refund|resolution|response|apology|explanation)\b",
    ),
    term(
        "demand",
        "de",
        r"\b(?:ich|wir) (?:verlange|verlangen|fordere|fordern|bestehe|bestehen) (?:\w+ )?"
        r"(?:Sie|umgehend|sofort|eine|einen|die|den|das|auf)\b|\bich erwarte (?:\w+ )?"
        r"(?:umgehend|sofort|eine (?:Antwort|Lösung|Erklärung|Entschuldigung|Stellungnahme)|"
        r"Ihre (?:Antwort|Rückmeldung|Stellungnahme))\b",
    ),
    term(
        "demand",
        "fr",
        r"\bj'exige\b|\bnous exigeons\b|\bj’exige\b|\bje vous somme de\b",
    ),
    term(
        "demand",
        "es",
        r"\bexij(?:o|imos)\b|\bles exijo\b|\bpido que (?:me )?(?:solucionen|resuelvan)\b",
    ),
    term("demand", "it", r"\b(?:esig|pretend)(?:o|iamo)\b|\bvi intimo di\b"),
    term("demand", "nl", r"\b(?:ik|wij|we) (?:eis|eisen)\b|\bik verlang\b|\bik sta erop\b"),
    term("demand", "pt", r"\bexij(?:o|imos)\b|\bexijo que\b"),
    term(
        "compensation",
        "en",
        r"\bcompensat(?:e|ion)\b|\b(?:goodwill|gesture of) (?:payment|gesture)\b|\bdamages\b",
    ),
    term(
        "compensation",
        "de",
        r"\b(?:Entschädigung|Schadenersatz|Schadensersatz|Kulanz|Ausgleichszahlung|"
        r"Entschädigen)\w*",
    ),
    term("compensation", "fr", r"\b(?:dédommag|indemnis|indemnit|compensation)\w*"),
    term("compensation", "es", r"\b(?:compensaci[óo]n|indemnizaci[óo]n|indemnic|compens)\w*"),
    term("compensation", "it", r"\b(?:risarci|indennizz|compensazion)\w*"),
    term("compensation", "nl", r"\b(?:compensatie|schadevergoeding|tegemoetkoming)\w*"),
    term("compensation", "pt", r"\b(?:indeniza|indemniza|compensa[çc][ãa]o)\w*"),
    term(
        "business_loss",
        "en",
        r"\b(?:costing|losing|lost) (?:us |me )?(?:real )?(?:money|business|customers|clients|"
        r"sales|work|income|orders)\b",
    ),
    term(
        "business_loss",
        "de",
        r"\b(?:Verdienstausfall|Umsatzausfall|Umsatzeinbußen|Einnahmeausfall)\w*|"
        r"\b(?:verlieren|verliere) (?:\w+ )?(?:Kunden|Geld|Aufträge|Umsatz)\b",
    ),
    term(
        "business_loss",
        "fr",
        r"\bje perds (?:\w+ )?(?:du travail|de l'argent|des clients|des ventes)\b|"
        r"\b(?:perte|pertes) (?:de chiffre|d'exploitation|de clients)\b|\bsans (?:vente|chiffre)\b",
    ),
    term(
        "business_loss",
        "es",
        r"\b(?:estoy|estamos) perdiendo (?:\w+ )?(?:dinero|clientes|ventas|trabajo)\b|"
        r"\bpérdidas\b",
    ),
    term(
        "business_loss",
        "it",
        r"\b(?:sto|stiamo) perdendo (?:\w+ )?(?:soldi|clienti|vendite|lavoro)\b|"
        r"\bmancato guadagno\b",
    ),
    term(
        "business_loss",
        "nl",
        r"\bklanten (?:lopen weg|haken af)\b|\b(?:loop|lopen) (?:\w+ )?(?:omzet|inkomsten|klanten) "
        r"mis\b|\bomzetverlies\b",
    ),
    term(
        "business_loss",
        "pt",
        r"\b(?:estou|estamos) (?:a )?perde?(?:ndo|r) (?:\w+ )?(?:dinheiro|clientes|vendas|"
        r"trabalho)\b|\bsem poder faturar\b|\bprejuízo\b",
    ),
)
