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
