"""How a customer says "enough" without an angry word, in seven languages.

- ``finality`` (0.6): leaving or cancelling with finality, or patience at its end: "Für
  mich ist das Thema erledigt", "I'm done with you", "this cannot go on", "la mia pazienza
  è finita", "ik kan dit niet blijven uitleggen", "Isso não pode continuar assim", "do not
  call me to change my mind". A plain cancellation is ``cancel`` (0.3) and stays calm.
- ``sarcasm`` (0.6): thanks that mean the opposite, on their own ("thanks for nothing",
  "Danke für nichts", "bedankt voor niks", "grazie per avermi fatto prendere tre
  permessi per niente").
- ``ironic_praise`` (0.6): thanks or praise ("thanks for all the help", "Super Service",
  "Nota dez", "wat fijn dat") that count only in company of a complaint and near the
  start: the scorer keeps this clue only when a complaint signal fired too (see
  ``frustration.COMPLAINTS``) and it opens the message (sarcasm sets the tone; a
  compliment deep in a long text is a compliment), so sincere thanks stay calm. A plain
  "thanks for your help" is no such clue.
- ``broken_promise`` (0.4): the company did not turn up or did not do what it said
  ("the engineer visit did not happen", "passiert ist nichts", "non si è presentato",
  "faltou a duas marcações", "sin avisar").
- ``ultimatum`` (0.6): a formal demand with a deadline: "letzte Frist", "mise en demeure",
  "diffida", "ingebrekestelling", "burofax", "final deadline".
"""

from __future__ import annotations

from mailguard.domain.rules import FrustrationTerm
from mailguard.domain.voice_lexicon import term

TONE_TERMS: tuple[FrustrationTerm, ...] = (
    term(
        "finality",
        "en",
        r"\b(?:i'm|i’m|i am|we're|we are) (?:done|finished|through) with (?:you|your|this)\b|"
        r"\b(?:i'm|i’m|i am) leaving (?:you|your company|for)\b|"
        r"\bthis is the last time (?:i|we)(?:'ll| will)? (?:ask|write|contact|tell|explain|"
        r"chase|call)\b|\b(?:reached|at) the end of my (?:patience|tether)\b|"
        r"\bmy patience (?:has (?:run out|gone)|is (?:exhausted|gone|at an end|wearing thin))\b|"
        r"\b(?:lost (?:all )?(?:my )?patience|out of patience)\b|"
        r"\b(?:this|it) (?:cannot|can't|can not) go on\b|\bnot prepared to accept another\b|"
        r"\bwill not (?:accept|tolerate) (?:another|any more|any further)\b|"
        r"\b(?:with immediate effect|effective immediately)\b|"
        r"\b(?:do not|don't|please don't|please do not) (?:call|contact|ring) me to "
        r"(?:change my mind|keep me|retain me|persuade)|\bno (?:retention|win-?back) offers?\b|"
        r"\bcan(?:'t|not|’t) keep (?:explaining|chasing|calling|writing|reliving)\b",
    ),
    term(
        "finality",
        "de",
        r"\bfür (?:mich|uns) ist (?:das|die Sache|das Thema|die Angelegenheit|der Vertrag) "
        r"(?:\w+ )?(?:erledigt|beendet|durch)\b|\b(?:ich bin|wir sind) (?:fertig|durch) mit "
        r"Ihnen\b|\bmit sofortiger Wirkung\b|\bdas letzte Mal,? dass ich\b|"
        r"\bmeine Geduld ist (?:\w+ )?(?:am Ende|erschöpft|zu Ende|vorbei|aufgebraucht)\b|"
        r"\bso kann (?:es|das) nicht weiter\w*|\b(?:jetzt|nun) ist Schluss\b|\bSchluss damit\b|"
        r"\bnicht (?:länger|mehr) (?:hinnehmen|bieten lassen|gefallen lassen)\b|"
        r"\bum mich umzustimmen\b|\bkeine (?:Rückgewinnungs\w*|Halteangebote|Angebote mehr)\b|"
        r"\bendgültig (?:fertig|genug|erledigt|Schluss)\b",
    ),
    term(
        "finality",
        "fr",
        r"\b(?:c'est|j'en ai|c’est|j’en ai) fini avec vous\b|"
        r"\bje (?:m'en vais|pars) (?:chez|à) la concurrence\b|\bavec effet immédiat\b|"
        r"\b(?:c'est|c’est) la dernière fois que je\b|"
        r"\bma patience (?:a des limites|est à bout|est épuisée|a atteint)\b|"
        r"\b(?:ça|cela) ne peut (?:plus )?(?:pas )?(?:durer|continuer)\b|"
        r"\binutile de me (?:rappeler|proposer|relancer) pour\b|\bj'en ai assez\b",
    ),
    term(
        "finality",
        "es",
        r"\bme voy (?:a|con) (?:la competencia|otra compañía)\b|"
        r"\bcon efecto inmediato\b|\b(?:es la )?última vez que (?:les |os )?(?:escribo|pido|"
        r"llamo|reclamo)\b|\b(?:se me (?:ha )?(?:acabado|acabó|agotado|agota)|he perdido) la "
        r"paciencia\b|\besto no puede seguir(?: así)?\b|\bno (?:me vale|acepto|quiero) (?:otra|"
        r"más|ninguna) (?:disculpa|excusa)s?\b|\bme estoy cansando\b|"
        r"\bno puedo seguir (?:así|reviviendo|explicando|esperando)\b",
    ),
    term(
        "finality",
        "it",
        r"\bho chiuso con voi\b|\b(?:ora|adesso) basta\b|\bbasta così\b|"
        r"\bcon effetto immediato\b|\b(?:è |e' )?l'ultima volta che (?:vi )?(?:scrivo|chiedo|"
        r"chiamo)\b|\bla mia pazienza (?:è|e') (?:\w+ )?(?:finita|esaurita|al limite)\b|"
        r"\bho perso la pazienza\b|\bnon può (?:più )?continuare\b|\bnon ne posso più\b",
    ),
    term(
        "finality",
        "nl",
        r"\bik ben (?:er )?klaar (?:mee|met jullie|met u)\b|\bmet onmiddellijke ingang\b|"
        r"\b(?:de )?laatste keer dat ik\b|\bmijn geduld is op\b|"
        r"\bdit kan zo niet (?:langer|doorgaan|verder)\b|\bik kan dit niet (?:blijven|langer)\b|"
        r"\bhet is (?:nu )?genoeg geweest\b",
    ),
    term(
        "finality",
        "pt",
        r"\b(?:isso|isto) n[ãa]o pode continuar\b|\bcom efeito imediato\b|"
        r"\b(?:é a )?última vez que (?:escrevo|peço|ligo|reclamo)\b|"
        r"\b(?:a )?minha paci[êe]ncia (?:acabou|esgotou|chegou ao fim|tem limites)\b|"
        r"\bperdi a paci[êe]ncia\b|\bvou (?:mudar|trocar) de (?:operadora|empresa|fornecedor|"
        r"loja|banco)\b|\bn[ãa]o posso continuar (?:assim|a explicar|explicando)\b",
    ),
    term(
        "sarcasm",
        "en",
        r"\bthanks? (?:you )?for nothing\b|\bthanks? (?:you )?(?:so much |a lot )?for "
        r"(?:wasting|making me|letting me|leaving me|keeping me)\b",
    ),
    term(
        "sarcasm",
        "de",
        r"\bdanke für nichts\b|\bdanke(?: auch)?,? dass (?:ich|wir) (?:\w+ ){0,5}(?:durfte|"
        r"durften|darf)\b",
    ),
    term(
        "sarcasm",
        "fr",
        r"\bmerci pour rien\b|\bmerci du cadeau\b|\bmerci de m'avoir (?:fait|laissée?)\b",
    ),
    term(
        "sarcasm",
        "es",
        r"\bgracias por nada\b|\bgracias por (?:hacerme|dejarme|tenerme)\b",
    ),
    term(
        "sarcasm",
        "it",
        r"\bgrazie (?:tante |mille )?per (?:niente|nulla)\b|"
        r"\bgrazie (?:davvero |tante |mille )?per (?:avermi|averci) (?:fatto|fatta|lasciato|"
        r"lasciata|fatto perdere)\b",
    ),
    term(
        "sarcasm",
        "nl",
        r"\bbedankt voor (?:niks|niets)\b|\bdank je (?:de )?koekoek\b|"
        r"\bbedankt dat ik (?:\w+ ){0,5}mocht\b",
    ),
    term(
        "sarcasm",
        "pt",
        r"\bobrigad[oa] por nada\b|\bvaleu por nada\b|\bobrigad[oa] por me (?:fazer|deixar)\b",
    ),
    # A plain "thanks for your help" closes many calm messages: praise needs a superlative,
    # "all the help", or a word that is rarely sincere in a complaint.
    term(
        "ironic_praise",
        "en",
        r"\bthanks? (?:you )?(?:so much |a lot |very much )?for all (?:the|your) (?:help|support|"
        r"assistance)\b|\bthanks? (?:you )?(?:so much )?for (?:the|your) (?:great|wonderful|"
        r"amazing|excellent|fantastic|stellar|brilliant|incredible|outstanding) (?:help|support|"
        r"service|assistance)\b|\b(?:great|wonderful|fantastic|brilliant|excellent|amazing|"
        r"stellar) (?:service|job|work|support)\b|\bbravo\b|\bthanks a bunch\b",
    ),
    term(
        "ironic_praise",
        "de",
        r"\b(?:super|toller|klasse|hervorragender|großartiger|spitzen|erstklassiger) "
        r"(?:Service|Kundenservice|Leistung|Arbeit)\b|\bdanke für (?:die|Ihre) (?:tolle|"
        r"großartige|hervorragende|super) \w+|\bbravo\b",
    ),
    term(
        "ironic_praise",
        "fr",
        r"\bmerci (?:beaucoup |bien )?pour (?:votre|cette) (?:formidable|excellente?|super|"
        r"grande|magnifique) \w+|\bmerci (?:beaucoup )?pour toute votre aide\b|"
        r"\bmerci pour votre (?:efficacité|réactivité)\b|\bbravo\b|"
        r"\b(?:super|quel|excellent) service\b",
    ),
    term(
        "ironic_praise",
        "es",
        r"\bgracias por (?:tanta|toda la|su gran|vuestra gran) ayuda\b|\bgracias por (?:su|"
        r"vuestra) (?:eficacia|rapidez)\b|\benhorabuena\b|\bbravo\b|"
        r"\b(?:qué|menudo|vaya) servicio\b",
    ),
    term(
        "ironic_praise",
        "it",
        r"\bgrazie per le vostre\b|\bgrazie per l'ennesim\w*|\bcomplimenti\b|\bbravi\b|"
        r"\b(?:ottimo|eccellente|splendido) servizio\b",
    ),
    term(
        "ironic_praise",
        "nl",
        r"\bwat fijn dat\b|\btop ?service\b|\bbedankt voor (?:alle|de geweldige|de "
        r"fantastische|de super) (?:hulp|service)\b|\bgoed bezig\b|\bchapeau\b",
    ),
    term(
        "ironic_praise",
        "pt",
        r"\bobrigad[oa] pel[oa] (?:ajuda|aten[çc][ãa]o) (?:incr[íi]vel|maravilhosa|"
        r"fant[áa]stica|excelente)\b|\bobrigad[oa] pel[oa] (?:excelente|[óo]tim[oa]|"
        r"incr[íi]vel|maravilhos[oa]) \w+|\bnota dez\b|\bparab[ée]ns\b|"
        r"\b(?:excelente|[óo]timo) (?:servi[çc]o|atendimento)\b|\bque maravilha\b",
    ),
    term(
        "broken_promise",
        "en",
        r"\b(?:did not|didn't|never) (?:turn up|show up|showed up|happen|arrive as promised|"
        r"call (?:me )?back|phone (?:me )?back|ring (?:me )?back)\b|\bno-?show\b|"
        r"\bno(?: ?one|body) (?:came|turned up|showed up|told me|called (?:me )?back|phoned "
        r"(?:me )?back)\b|\bnaebody's phoned back\b|\bnothing (?:has )?(?:happened|changed)\b|"
        r"\b(?:promised|assured|told)\b[^.!?\n]{0,60}\bbut (?:nothing|never|still|no)\b",
    ),
    term(
        "broken_promise",
        "de",
        r"\b(?:ist|sind|war|waren) (?:\w+ )?nicht (?:erschienen|gekommen|aufgetaucht)\b|"
        r"\bpassiert ist nichts\b|\bnichts (?:ist )?passiert\b|"
        r"\b(?:zugesagt|versprochen)\b[^.!?\n]{0,60}\b(?:nichts|nicht eingehalten|nie)\b|"
        r"\bohne (?:Bescheid|abzusagen|Ankündigung|Vorwarnung)\b",
    ),
    term(
        "broken_promise",
        "fr",
        r"\b(?:n'est|ne sont|n’est) (?:jamais |pas )?(?:venue?s?|passée?s?)\b|\bjamais venue?\b|"
        r"\bpersonne n['’]est (?:venu|passé)\b|\bon ne me rappelle jamais\b|"
        r"\bon me rappelle jamais\b|\bsans (?:prévenir|avertir|me prévenir)\b|"
        r"\b(?:promis|annoncé)e?s?\b[^.!?\n]{0,60}\b(?:jamais|rien)\b",
    ),
    term(
        "broken_promise",
        "es",
        r"\bno (?:se )?(?:ha )?(?:presentó|presentaron|presentado|vino|vinieron|venido|apareció|"
        r"aparecieron)\b|\bnadie (?:vino|ha venido|apareció)\b|\bsin avisar\b|"
        r"\b(?:prometido|prometieron|promesas)\b[^.!?\n]{0,80}\b(?:nada|nunca|incumplid\w*|"
        r"lo único)\b",
    ),
    term(
        "broken_promise",
        "it",
        r"\bnon si (?:è|e'|sono) (?:mai )?presentat\w*|\bnessuno (?:è venuto|si è presentato|"
        r"sa dirmi)\b|\bsenza (?:avvisare|preavviso)\b|"
        r"\b(?:promesso|promess\w*)\b[^.!?\n]{0,60}\b(?:niente|nulla|mai)\b",
    ),
    term(
        "broken_promise",
        "nl",
        r"\b(?:is|zijn) (?:\w+ )?niet (?:gekomen|verschenen|langsgekomen|opgedaagd)\b|"
        r"\bniemand (?:is )?(?:gekomen|geweest|langsgekomen)\b|"
        r"\bzonder (?:bericht|te melden|af te melden|aankondiging)\b|"
        r"\b(?:beloofd|toegezegd)\b[^.!?\n]{0,60}\b(?:niets|niks|nooit)\b",
    ),
    term(
        "broken_promise",
        "pt",
        r"\b(?:faltou|faltaram) (?:a|à|às|ao|aos)\b|\bn[ãa]o (?:apareceu|compareceu|veio)\b|"
        r"\bningu[ée]m (?:veio|apareceu)\b|\bsem avisar\b|"
        r"\b(?:prometido|prometeram|prometida)\b[^.!?\n]{0,60}\b(?:nada|nunca)\b",
    ),
    term(
        "ultimatum",
        "en",
        r"\b(?:final|last) (?:deadline|warning)\b|"
        r"\bletter before (?:action|claim)\b|\bformal notice\b",
    ),
    term(
        "ultimatum",
        "de",
        r"\b(?:letzte|letztmalige) (?:Frist|Mahnung|Aufforderung)\b|\bFristsetzung\b|"
        r"\bNachfrist\b|\bsetze (?:ich )?Ihnen (?:hiermit )?(?:eine )?(?:letzte )?Frist\b|"
        r"\bMahnbescheid\b|\b(?:treten|trete) (?:wir|ich) (?:vom Vertrag )?zurück\b",
    ),
    term(
        "ultimatum",
        "fr",
        r"\bmise en demeure\b|\b(?:vous )?mets en demeure\b|\bdernier délai\b|"
        r"\bdernier avertissement\b",
    ),
    term(
        "ultimatum",
        "es",
        r"\bburofax\b|\búltimo (?:plazo|aviso)\b|\brequerimiento (?:formal|fehaciente)\b",
    ),
    term(
        "ultimatum",
        "it",
        r"\bdiffid\w*|\bmessa in mora\b|\bultimo (?:termine|avviso|sollecito)\b|\bCorecom\b",
    ),
    term(
        "ultimatum",
        "nl",
        r"\bin gebreke\b|\bingebrekestelling\b|\blaatste (?:termijn|kans|waarschuwing)\b|"
        r"\bsommatie\b",
    ),
    term(
        "ultimatum",
        "pt",
        r"\bnotifica[çc][ãa]o (?:extrajudicial|judicial)\b|\b(?:prazo final|último prazo)\b|"
        r"\búltimo aviso\b",
    ),
)

# A writer who says there is no hurry is not at the end of their tether: "No rush at all,
# I just wanted to check", "kein Stress", "sin prisa". The scorer halves the score when one
# of these is present (see ``frustration.REASSURANCE``); a request for a person still counts.
REASSURANCE_TERMS: tuple[FrustrationTerm, ...] = (
    term(
        "reassurance",
        "en",
        r"\bno (?:rush|hurry)\b|\bnot (?:urgent|a big deal)\b|\bno big deal\b|"
        r"\bwhenever you (?:can|get a chance)\b|\bjust (?:wanted|want) to (?:check|ask)\b|"
        r"\bhappy to wait\b",
    ),
    term(
        "reassurance",
        "de",
        r"\bkein(?:en)? Stress\b|\bkeine Eile\b|\beilt nicht\b|\bnicht eilig\b|"
        r"\bwollte nur (?:kurz )?(?:nachfragen|wissen|fragen)\b",
    ),
    term(
        "reassurance",
        "fr",
        r"\brien d'urgent\b|\bpas d'urgence\b|\bpas pressée?\b|\bsans urgence\b|"
        r"\baucune urgence\b|\bje voulais (?:juste|simplement) (?:savoir|demander)\b|"
        r"\btout va bien\b",
    ),
    term(
        "reassurance",
        "es",
        r"\bsin prisa\b|\bno hay prisa\b|\bno corre prisa\b|\bno es urgente\b|"
        r"\bsolo quería (?:saber|preguntar)\b",
    ),
    term(
        "reassurance",
        "it",
        r"\bnessuna fretta\b|\bsenza fretta\b|\bnon è urgente\b|\bvolevo solo (?:sapere|"
        r"chiedere)\b|\bva benissimo\b",
    ),
    term(
        "reassurance",
        "nl",
        r"\bgeen haast\b|\bniet dringend\b|\bik wilde (?:even|alleen) (?:vragen|weten)\b|"
        r"\bdat is prima\b",
    ),
    term(
        "reassurance",
        "pt",
        r"\bsem pressa\b|\bn[ãa]o é urgente\b|\bs[óo] queria (?:saber|perguntar)\b",
    ),
)
