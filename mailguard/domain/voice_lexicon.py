"""What a customer says when they need a person: the signals, in English and German.

Each entry is a :class:`FrustrationTerm` named ``<signal>_<language>``; the signals and
their weights are listed in :data:`SIGNAL_WEIGHTS`. The patterns are written from how
customers phrase these things in general, never from one message: a request for a person
("talk to a real person", "mit einem Menschen sprechen"), anger and insult words,
dissatisfaction, being fed up with automated answers, a formal complaint, a consequence
(lawyer, chargeback, consumer protection, a public review), a cancellation, repeated
contact and long waiting. German words are matched by their stems, so every inflection
and compound counts ("beschwer" covers Beschwerde, beschweren, beschwert;
"unverschämt" covers Unverschämtheit). French, Dutch, Spanish and Italian live in
``voice_lexicon_intl``.
"""

from __future__ import annotations

from mailguard.domain.rules import FrustrationTerm
from mailguard.domain.voice_weights import LEARNED_WEIGHTS

ASKS_FOR_HUMAN = "asks_for_human"
# One plain sentence of a strong signal reaches the default threshold 0.6 on its own;
# the weaker ones need company (an intensifier, shouting, a second signal).
SIGNAL_WEIGHTS: dict[str, float] = {
    ASKS_FOR_HUMAN: 0.0,  # not scored: its own policy rule escalates
    "asks_for_role": 0.0,  # a request for a person by role (voice_roles): the same
    "anger": 0.6,
    "fed_up_automation": 0.6,
    "complaint": 0.6,
    "consequence": 0.65,
    "repeat_contact": 0.6,
    "dissatisfaction": 0.5,
    "waiting": 0.5,
    "no_answer": 0.4,
    "cancel": 0.3,
    "claim": 0.25,
    "refund": 0.2,
    "again": 0.15,
    # Signals of issue 24 (voice_money, voice_tone, voice_time add wording to waiting and
    # repeat_contact): see those modules.
    "finality": 0.6,
    "sarcasm": 0.6,
    "ironic_praise": 0.6,  # only in company of a complaint (frustration.COMPLAINTS)
    "ultimatum": 0.6,
    "money_without_goods": 0.6,
    "refusal_to_pay": 0.5,
    "money_back": 0.5,
    "broken_promise": 0.4,
    "double_charge": 0.35,
    "runaround": 0.6,  # voice_pressure
    "disbelief": 0.5,
    "ignored": 0.5,
    "business_loss": 0.35,
    "demand": 0.3,
    "compensation": 0.3,
    "on_top": 0.4,
    "urgency": 0.3,
    "rejected": 0.5,
    "unauthorised": 0.5,
    "danger": 0.4,
    # Not a weight: a message that says "no rush" has its score halved (frustration.py).
    "reassurance": 0.0,
}
INTENSIFIED = frozenset({"anger", "dissatisfaction"})
INTENSIFIER = "intensifier"
# Shouting and exclamation marks weigh what voice_marks.shouting gives them: not learned.
FIXED_SIGNALS = frozenset({"shouting", "exclamation"})
# The hand-set weights are the priors of the learned ones (scripts/train_voice_weights.py).
PRIOR_WEIGHTS: dict[str, float] = {
    signal: weight
    for signal, weight in SIGNAL_WEIGHTS.items()
    if weight > 0.0  # requests for a person and "no rush" are not weights
} | {INTENSIFIER: 0.25}
WEIGHTS: dict[str, float] = PRIOR_WEIGHTS | LEARNED_WEIGHTS
INTENSIFIER_WEIGHT = WEIGHTS[INTENSIFIER]


def term(signal: str, language: str, pattern: str) -> FrustrationTerm:
    """A shipped term of ``signal`` in ``language`` with the signal's (learned) weight."""
    weight = WEIGHTS.get(signal, SIGNAL_WEIGHTS[signal])
    return FrustrationTerm(f"{signal}_{language}", pattern, weight, language)


_AUTO_EN = (
    r"(?:automatic|automated|auto-generated|computer-generated|canned|template|generic|"
    r"standard|copy-?paste|boilerplate)"
)
_AUTO_NOUN = r"(?:response|reply|replies|answer|answers|responses|e-?mails?|messages?|text)\b"
_AUTO_REPLY = r"(?:auto-?reply|auto-?replies|auto-?responder|autoresponse)"

ENGLISH: tuple[FrustrationTerm, ...] = (
    term(
        ASKS_FOR_HUMAN,
        "en",
        r"\b(?:talk|speak|chat|get through|be put through|be connected)(?:ing)? (?:to|with) "
        r"(?:a |an |one of your |some )?(?:real |actual |live |human |proper |competent )?"
        r"(?:person|human|human being|agent|representative|rep|someone|somebody|anyone|"
        r"employee|staff member|member of (?:your )?staff|supervisor|manager|team leader)\b|"
        r"\b(?:real|actual|live|actual living|breathing) (?:person|human|human being|people|"
        r"agent)\b|"
        r"\ba human being\b|\b(?:a|any|some) human (?:please|to|who|that|here)\b|"
        r"\bnot (?<!am not )(?<!'m not )(?<!’m not )(?:a|an|another|the|your|some|just a) "
        r"(?:robot|bot|"
        r"chatbot|machine|computer|algorithm|auto-?reply|automated|automatic|template|canned|"
        r"ai)\b(?! (?:problem|issue|error|question|expert|person|vacuum|mower|cleaner))|"
        r"\b(?:call|phone|ring) me(?: back)?\b|\ba call-?back\b|"
        r"\b(?:request|arrange|schedule|book|want|like|need|prefer) (?:a |an urgent )?"
        r"(?:phone )?call(?:-?back| back)?\b|\bgive me a (?:call|ring)\b|"
        r"\b(?:escalate|forward|pass|transfer|hand|refer) (?:this|me|it|my (?:case|request|"
        r"ticket|issue|complaint|e-?mail))(?: on| over)? to (?:a |an |your )?(?:real |actual )?"
        r"(?:human|person|colleague|supervisor|manager|team leader|someone|somebody|agent)\b|"
        r"\b(?:put|connect) me (?:through )?(?:to|with)\b|"
        r"\b(?:get|have|receive) a (?:phone )?call from (?:someone|somebody|a person|a human|"
        r"an agent|one of)\b|\binstead of (?:a|an|the|your) (?:robot|bot|chatbot|machine|"
        r"computer|auto-?reply|automated)\b|"
        r"\b(?:can|could|would|will) (?:a |an |some )?(?:real |actual )?(?:human|person) "
        r"(?:please )?(?:look|answer|reply|respond|help|get back|contact|read|call)\b",
    ),
    term(
        "anger",
        "en",
        r"\b(?:furious|livid|outraged|outrageous|infuriat\w*|enraged|angry|pissed|"
        r"unacceptable|ridiculous|disgrace(?:ful)?|disgusting|appalling|pathetic|shameful|"
        r"scandalous|shocking service|scam(?:mers?)?|fraud(?:ulent|sters?)?|rip-?off|"
        r"thie(?:f|ves)|incompetent|incompetence|idiots?|morons?|clowns|a joke|"
        r"fed up|sick (?:and tired )?of|had enough|enough is enough|beyond frustrat\w*|"
        r"worst (?:service|company|experience|customer service)|a nightmare|"
        r"wtf|bloody|damn|crap|shit\w*|f\*+k\w*|fuck\w*)\b",
    ),
    term(
        "dissatisfaction",
        "en",
        r"\b(?:unhappy|dissatisfied|disappoint(?:ed|ing|ment)|frustrat(?:ed|ing|ion)|"
        r"annoy(?:ed|ing)|upset|terrible|awful|horrible|dreadful|poor service|bad service|"
        r"lousy|not (?:happy|satisfied|pleased|ok|okay|good enough|acceptable)|let down|"
        r"fed-up|irritat(?:ed|ing))\b",
    ),
    term(
        "fed_up_automation",
        "en",
        rf"\b(?:only|just|another|more|again|same|yet another|nothing but|keep (?:getting|"
        rf"receiving)|stop sending(?: me)?|useless|pointless|meaningless|stupid) "
        rf"(?:an? |the )?(?:\w+ )?{_AUTO_EN}(?: \w+)?? {_AUTO_NOUN}|"
        rf"\b(?:another|more|only|just|useless|stupid|pointless) (?:an? )?{_AUTO_REPLY}\b|"
        r"\b(?:canned|copy-?pasted?|template|boilerplate|pre-?written|generic) "
        r"(?:response|reply|replies|answer|answers|responses|e-?mails?|messages?|text)\b|"
        r"\b(?:get|got|getting|receive|received|receiving|keep sending|keeps sending|sent|"
        r"sends|send)(?: me)? (?:exactly |always |again |only )?(?:the )?same (?:\w+ )?(?:answer|"
        r"reply|response|message|text|e-?mail)s?\b|"
        r"\b(?:is|does) (?:anyone|anybody|a human|a person|someone) (?:actually |even |ever )?"
        r"(?:read|reading|out there|looking at)\b|"
        r"\b(?:are|is) there (?:any )?(?:humans?|people|a (?:real )?person|anyone|anybody)"
        r" (?:there|out there|working|reading|at all)\b|"
        r"\b(?:talking|writing|speaking) to a (?:robot|bot|machine|wall|computer|brick wall)\b|"
        r"\byour (?:chat)?bot (?:keeps|is|just|only|sends|answers|replie[sd]|told|doesn't|does "
        r"not|can't|cannot)\b|"
        r"\b(?:auto-?reply|auto-?responder|automatic reply|automated reply|chatbot|bot)\b"
        r"[^.!?\n]{0,25}\b(?:useless|pointless|worthless|no help|nonsense|rubbish|garbage|"
        r"doesn't help|does not help|didn't help)\b|"
        r"\b(?:did|do|does) (?:anyone |anybody |you )?(?:even )?(?:read|look at) my "
        r"(?:e-?mail|message|question)\b",
    ),
    term(
        "complaint",
        "en",
        r"\b(?:complain(?:t|ts|ing|ed)?|grievance)\b",
    ),
    term(
        "consequence",
        "en",
        r"\b(?:my|our) (?:lawyers?|attorneys?|solicitors?)\b(?! (?:firm|office|chambers))|"
        r"\b(?:an?|to a|with a) (?<!am a )(?<!'m a )(?<!as a )(?:lawyer|attorney|solicitor)\b"
        r"(?! (?:firm|office|chambers))|"
        r"\b(?:legal (?:action|steps|advice|proceedings)|sue you|"
        r"suing|take you to court|court|small claims|ombudsman|consumer (?:protection|rights|"
        r"association|organi[sz]ation|council|advice|agency|watchdog)|better business bureau|"
        r"trading standards)\b|\b(?:charge-?back|charge back|disput\w* (?:the|this|my|a) "
        r"(?:charge|payment|"
        r"transaction|debit)|(?:contact|call|tell|ask) my (?:bank|credit card company)|"
        r"credit card (?:company|provider|issuer)|"
        r"report (?:you|this|your company) to|(?:negative|bad|one-star|1-star|1 star|one star|"
        r"scathing) (?:review|rating)|go(?:ing)? public|make (?:this|it) public|publicly|"
        r"the press|the media|journalists?|"
        r"warn (?:others|everyone|other customers|my friends)|take my business elsewhere|"
        r"never (?:order|buy|shop)\w* (?:from|with|here|again)|switch(?:ing)? to (?:a |your )?"
        r"competitors?)\b|"
        r"\b(?:post|posting|write|writing|share|sharing|publish|publishing|tell|telling|warn|"
        r"warning|review|report|reporting|put|putting|leave|leaving|complain|complaining)\b"
        r"(?:(?!great|good|positive|five|5|excellent|glowing|nice)[^.!?\n]){0,40}"
        r"\b(?:on|to|at|via) (?:trustpilot|facebook|twitter|instagram|tiktok|reddit|youtube|"
        r"social media|google(?: reviews?)?|yelp)\b",
    ),
    term(
        "cancel",
        "en",
        r"\b(?:cancel(?:l?ing|l?ed|lation|s)?|terminat(?:e|ing) (?:my|the|our) (?:contract|"
        r"account|subscription|membership)|close my account|end my (?:contract|subscription))\b",
    ),
    term(
        "repeat_contact",
        "en",
        r"\bfor the (?:second|third|fourth|fifth|sixth|umpteenth|\d+(?:st|nd|rd|th)) time\b|"
        r"\b(?:second|third|fourth|fifth|sixth|umpteenth) (?:e-?mail|"
        r"message|attempt|request|reminder|time (?:i|that i)(?:'m| am| have|'ve)? "
        r"(?:writ|ask|contact|email|call))\w*|"
        r"\bhow many (?:more )?times\b|\bagain and again\b|\bover and over\b|"
        r"\b(?:sent|send|sending|written|wrote|after|despite)(?: you)? (?:several|many|multiple|"
        r"numerous|countless|three|four|five) (?:e-?mails|messages|requests|reminders)\b|"
        r"\bi(?:'ve| have)? (?:already )?(?:written|wrote|e-?mailed|contacted|called|asked|"
        r"chased)\b[^.!?\n]{0,40}?\b(?:twice|three times|four times|several times|multiple "
        r"times|many times|\d+ times|repeatedly)\b|\bkeep (?:asking|writing|e-?mailing)\b",
    ),
    term(
        "waiting",
        "en",
        r"\b(?:been waiting|waited|waiting)\b[^.!?\n]{0,25}\b(?:days?|weeks?|months?|ages|"
        r"forever|so long)\b|\b(?:days|weeks|months) (?:now|later) (?:and|without|but)\b|"
        r"\bit(?:'s| has) been (?:over |more than |almost )?(?:a|two|three|four|five|six|"
        r"several|\d+) (?:weeks?|months?)\b",
    ),
    term(
        "no_answer",
        "en",
        r"\bstill (?:no|not|haven't|have not|hasn't|waiting|nothing|without)\b|"
        r"\bno(?: ?one|body) (?:has )?(?:answered|replied|responded|got back|gets back|"
        r"is answering|answers|replies|cares|bothered)\b|\b(?:never|not once) (?:got|"
        r"received|had) (?:an? |any )?(?:answer|reply|response)\b|"
        r"\bno (?:answer|reply|response) (?:yet|so far|in|for|after|since)\b",
    ),
    term("again", "en", r"\b(?:once again|yet again|again)\b"),
    term("refund", "en", r"\b(?:refund|money back|reimburse(?:ment)?)\b"),
)

_AUTO_DE = (
    r"(?:automatisch\w*|automatisiert\w*|standard\w*|textbaustein\w*|vorgefertigt\w*|"
    r"generiert\w*|computergeneriert\w*|maschinell\w*|kopiert\w*|copy-?paste)"
)

GERMAN: tuple[FrustrationTerm, ...] = (
    term(
        ASKS_FOR_HUMAN,
        "de",
        r"\b(?:echte[nmrs]?|richtige[nmrs]?|lebendige[nmrs]?|reale[nmrs]?|menschliche[nmrs]?)"
        r" (?:Mensch|Person|Mitarbeiter|Ansprechpartner|Sachbearbeiter|Menschen)\w*|"
        r"\bMensch(?:en)? aus Fleisch und Blut\b|\bmit jemandem (?:\w+ ){0,3}?(?:sprechen|reden|"
        r"telefonieren)\b|"
        r"\b(?:mit|an) (?:(?:einem|einer|einen|eine|jemandem)(?: \w+)? (?:Menschen|Mensch|"
        r"Person|Mitarbeiter\w*|Sachbearbeiter\w*|Ansprechpartner\w*|Vorgesetzten|"
        r"Kundenbetreuer\w*|Verantwortlichen)|(?:Ihre[mnr]?|einen Ihrer|einem Ihrer|einer "
        r"Ihrer)(?: \w+)? (?:Mitarbeiter\w*|Kolleg\w*|Berater\w*|Vorgesetzten|Sachbearbeiter"
        r"\w*))\b[^.!?\n]{0,40}?\b(?:sprechen|reden|telefonieren|verbinden|verbunden|"
        r"weiterleiten|weitergeben|weiter|wenden|schreiben|kommunizieren|übergeben|"
        r"eskalieren)\b|\b(?:statt|anstatt|anstelle) (?:einem|einer|eines|dem|des) (?:Roboter|"
        r"Bot|Chatbot|Computer|Maschine|Automat)\w*|"
        r"\b(?:einen|einem) (?:echten )?Menschen\b[^.!?\n]{0,30}?\b(?:sprechen|erreichen|"
        r"kontaktieren|ans Telefon|lesen)\b|"
        r"\b(?:keinen|keine) (?:Roboter|Bot|Chatbot|KI|Textbaustein\w*|Standardantwort\w*|"
        r"automatische\w* (?:Antwort|Mail|E-Mail)\w*)\b|\bnicht (?:mit )?(?:einem|einer|einen|"
        r"dem|Ihrem) (?:Roboter|Bot|Chatbot|Computer|Maschine|Automat\w*|KI)\b|"
        r"\b(?:um|einen|baldigen|kurzen|telefonischen) R[üu]ckruf\b|\bR[üu]ckruf(?:bitte|"
        r"wunsch| bitte| erbeten)\b|\bzur[üu]ckrufen\b|\bruf(?:en)? Sie mich (?:bitte |doch |"
        r"kurz )*(?:zur[üu]ck|an)\b|\btelefonisch (?:kontaktieren|melden|erreichen)\b|"
        r"\bpers[öo]nliche[nmr]? (?:Ansprechpartner\w*|Gespr[äa]ch|Kontakt|Betreuung)\b|"
        r"\b(?:lassen|können|könnten|würden|möchten|wollen) Sie (?:mich|uns) (?:bitte |doch |gern |"
        r"gerne |heute |morgen |kurz |einmal |nochmal |umgehend |zeitnah |telefonisch |"
        r"von \w+ \w+ )*(?:anrufen|zur[üu]ckrufen)\b",
    ),
    term(
        "anger",
        "de",
        r"\b(?:unversch[äa]mt\w*|frechheit\w*|dreist\w*|skandal\w*|zumutung\w*|"
        r"inakzeptab\w*|unakzeptab\w*|unzumutbar\w*|betr[üu]ger\w*|betr[üu]gerisch\w*|"
        r"betrug(?!\s+(?:ca\.?|rund|etwa|nur|insgesamt)?\s*\d)\w*|abzock\w*|verarsch\w*|"
        r"saftladen|sauerei|schweinerei|l[äa]cherlich\w*|ein witz|wütend\w*|wut\b|"
        r"stinksauer|sauer|empör\w*|katastroph\w*|inkompeten\w*|idioten|armutszeugnis|"
        r"die nase voll|schnauze voll|es satt|es leid|reicht (?:mir|jetzt)|"
        r"mir reicht(?:'s| es)|unfassbar|unerh[öo]rt\w*|schande|beschissen\w*|mist|"
        r"schei(?:ß|ss)\w*|kundenverarsche|ein hohn|respektlos\w*)\b",
    ),
    term(
        "dissatisfaction",
        "de",
        r"\b(?:unzufrieden\w*|entt[äa]usch\w*|ver[äa]rger\w*|[äa]rgerlich\w*|[äa]rgert mich|"
        r"frustrier\w*|genervt|nervt|nervig\w*|mangelhaft\w*|miserabel\w*|schlecht(?:e|er|en|"
        r"em|es)? (?:service|kundenservice|erfahrung|erfahrungen|leistung)|nicht (?:zufrieden|"
        r"in ordnung|"
        r"okay|ok|akzeptabel|hinnehmbar)|(?:[üu]berhaupt|gar) nicht (?:zufrieden|gut)|"
        r"unm[öo]glich\w* (?:service|verhalten|zust[äa]nd\w*)|schlimm\w*|traurig)\b",
    ),
    term(
        "fed_up_automation",
        "de",
        r"\b(?:textbaustein\w*|standardantwort\w*|standardmail\w*|standardschreiben|"
        r"standardfloskel\w*|floskel\w*|nichtssagend\w*|copy ?(?:&|und) ?paste)|"
        rf"\b(?:nur|immer|schon wieder|wieder|erneut|lediglich|st[äa]ndig|bloß|noch eine|"
        rf"die gleiche|dieselbe|die selbe) (?:eine |die |nur |wieder |eine weitere )?"
        rf"(?:gleiche |selbe |weitere )?{_AUTO_DE} (?:Antwort|Mail|E-Mail|Nachricht|"
        r"Rückmeldung|Schreiben|Eingangsbestätigung)\w*|"
        r"\bkeine (?:weiteren )?(?:vorgefertigt\w*|automatisch\w*|standard\w*) (?:Antwort|Mail|"
        r"E-Mail|Nachricht|Schreiben)\w*|\bvorgefertigt\w* (?:Antwort|Text|Floskel|Mail)\w*|"
        r"\b(?:die gleiche|dieselbe|die selbe|immer die gleiche|immer dieselbe) "
        r"(?:Antwort|Mail|E-Mail|Nachricht)\b|"
        r"\bliest (?:das|hier|denn|dort|bei Ihnen|man)?\s?(?:eigentlich |überhaupt |auch |denn |"
        r"jemals |irgendwann )*(?:jemand|einer|irgendwer|irgendjemand|ein Mensch)\b|"
        r"\b(?:sitzt|gibt es) (?:da |dort |bei Ihnen |überhaupt |eigentlich |noch |auch )*"
        r"(?:ein(?:en)? (?:echte[nr] )?Mensch(?:en)?|überhaupt jemand)\b|"
        r"\b(?:Ihr|Ihre|dieser|diese|der|die) (?:Chatbot|Bot|Roboter|Autoresponder|"
        r"automatische Antwort|Automatik)\b[^.!?\n]{0,30}\b(?:nutzlos|sinnlos|hilft (?:nicht|"
        r"nichts|kein)|bringt nichts|unbrauchbar|nervt|ist ein Witz)\w*|"
        r"\b(?:gegen eine Wand|mit einer Wand|mit einer Maschine|mit einem Roboter)\b|"
        r"\bohne auf (?:mein\w*|die) (?:Frage|Anliegen|Problem|Mail|E-Mail|Nachricht)\w* "
        r"einzugehen\b|\b(?:haben|hat) Sie (?:\w+ ){0,4}?(?:nicht|gar nicht|nie|überhaupt "
        r"nicht) (?:richtig |einmal |mal )?gelesen\b",
    ),
    term("complaint", "de", r"\b(?:beschwer(?:de|den|en|e|t|te|ten|st)?\w*|beanstand\w*)"),
    term(
        "consequence",
        "de",
        r"\b(?:mein(?:en|em)?|unser(?:en|em)?|einen|einem|zum|den) (?:rechts|fach)?"
        r"anw[äa]lt(?:in)?\b|"
        r"\banwaltlich\w*|\b(?:verbraucherzentrale\w*|verbraucherschutz\w*|"
        r"schlichtungsstelle\w*|bundesnetzagentur|ombudsstelle|ombudsmann|rechtliche\w* "
        r"(?:schritte|konsequenzen|wege)|gerichtlich\w*|vor gericht|gerichtsverfahren|"
        r"verklag\w*|klage (?:einreichen|erheben)|mahnverfahren|r[üu]ckbuchung\w*|"
        r"(?:lastschrift|zahlung|abbuchung)(?:en)?\b[^.!?\n]{0,30}?\b(?:zur[üu]ckbuchen|"
        r"zur[üu]ckgebucht|zur[üu]ckgeben|zur[üu]ckholen|zur[üu]ckrufen|widerrufen|storniert|"
        r"stornieren)|"
        r"chargeback|kreditkartenfirma|kreditkartenunternehmen|(?:negative|schlechte|"
        r"vernichtende|ehrliche) (?:bewertung|rezension|kritik)\w*|"
        r"(?:öffentlich|publik) (?:machen|posten|berichten|bewerten)|an die presse|"
        r"presse (?:einschalten|informieren)|journalist\w*|"
        r"andere (?:kunden )?warnen|nie wieder (?:bei ihnen|bestell\w*|kauf\w*)|"
        r"zur konkurrenz)\b|"
        r"\b(?:auf|bei|in|über) (?:trustpilot|facebook|twitter|instagram|tiktok|youtube|"
        r"social media|den sozialen (?:medien|netzwerken)|google)\b"
        r"(?:(?!gute|positive|fünf|5|super|tolle)[^.!?\n]){0,40}\b(?:posten|veröffentlich\w*|"
        r"schreiben|berichten|bewerten|teilen|öffentlich machen|publik machen|warnen|"
        r"schildern|erzählen)\b",
    ),
    term(
        "cancel",
        "de",
        r"\b(?:k[üu]ndig(?:ung|e|en|t)|fristlos\w*|storn(?:o|ier)\w*|vertrag (?:aufl[öo]sen|"
        r"beenden)|widerruf\w*|abo (?:beenden|k[üu]ndigen))\w*",
    ),
    term(
        "repeat_contact",
        "de",
        r"\bzum (?:zweiten|dritten|vierten|f[üu]nften|sechsten|x-ten|zigsten|wiederholten|"
        r"\d+\.) ?mal\b|\b(?:zweite|dritte|vierte|f[üu]nfte|x-te) (?:E-Mail|Mail|"
        r"Nachricht|Anfrage|Erinnerung|Versuch|Mahnung)\b|"
        r"\bwie oft (?:noch|soll|muss|denn)\b|\b(?:mehrfach|mehrmals|wiederholt|x-mal|zigmal|"
        r"etliche male)\b|\b(?:schon|bereits) (?:zweimal|dreimal|viermal|\d+ ?mal|oft|"
        r"mehrere male)\b",
    ),
    term(
        "waiting",
        "de",
        r"\bseit (?:zwei|drei|vier|f[üu]nf|sechs|zehn|mehreren|vielen|etlichen|\d+|über \w+) "
        r"(?:tagen|wochen|monaten)\b|\bseit (?:einem|über einem) monat\b|"
        r"\bseit (?:einer|über einer) woche\b|\bseit (?:tagen|wochen|monaten)\b|"
        r"\b(?:warte|warten|wartet) (?:nun |jetzt |schon |bereits |inzwischen )*(?:seit|über|"
        r"mehr als|vergeblich)\b",
    ),
    term(
        "no_answer",
        "de",
        r"\b(?:immer noch|noch immer|bis heute|bis jetzt|nach wie vor) (?:keine?n?|nicht|"
        r"nichts|ohne)\b|\bkeine (?:antwort|reaktion|r[üu]ckmeldung)\b|"
        r"\bniemand (?:antwortet|meldet sich|reagiert|"
        r"k[üu]mmert sich|hat (?:geantwortet|reagiert))\b",
    ),
    term("again", "de", r"\b(?:schon wieder|erneut|wieder einmal|abermals)\b"),
    term("claim", "de", r"\b(?:reklamation\w*|reklamier\w*|mängelrüge)"),
    term("refund", "de", r"\b(?:r[üu]ckerstattung|erstattung|geld zur[üu]ck|gutschrift)\b"),
)

INTENSIFIERS_EN_DE = (
    r"very|extremely|really|so|totally|completely|absolutely|incredibly|deeply|utterly|"
    r"seriously|beyond|truly|highly|most|super|"
    r"äußerst|[äa]usserst|sehr|total|extrem|v[öo]llig|absolut|zutiefst|ma(?:ß|ss)los|richtig|"
    r"mega|echt|wirklich|unglaublich|h[öo]chst|ziemlich|so"
)
