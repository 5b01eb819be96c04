"""Money taken without the goods, in seven languages.

A customer who paid and got nothing rarely needs an angry word: "Paid on 6 February.
Nothing received." says enough. The signals:

- ``money_without_goods`` (0.6): paid, charged or debited, and within a few lines nothing
  came, it never arrived, it is still not shipped ("Sie haben mir 249 € abgebucht, nichts
  gekommen", "j'ai payé ... je n'ai rien reçu", "pagué ... y no ha llegado"), or the company
  keeps charging after a cancellation ("still being charged", "er wordt nog steeds
  afgeschreven", "me siguen cobrando"). A missing confirmation e-mail or receipt is not
  missing goods.
- ``money_back`` (0.5): the goods or the money, as a demand ("I want my parcel or my
  money", "IK WIL MIJN GELD TERUG", "o me devuelven el dinero", "wo mein Geld ist").
- ``double_charge`` (0.35): charged twice ("doppelt abgebucht", "cobrado dos veces"); a
  person who booked twice by mistake says so calmly, so this needs company.
- ``refusal_to_pay`` (0.5): "I will not pay this", "Je ne paierai pas", "no pienso pagar".

The scan between the payment and the missing goods may cross a sentence or a line break,
never a blank line (a new paragraph is a new matter).
"""

from __future__ import annotations

from mailguard.domain.gate import top_level_branches
from mailguard.domain.rules import FrustrationTerm
from mailguard.domain.voice_lexicon import term

# Up to this many characters of the same paragraph: sentences and single line breaks.
_NEAR = r"(?:[^\n]|\n(?![ \t]*\n)){0,160}?"
_NOT_PAPERWORK = (
    r"(?! (?:a |an |the |any |my |your )?(?:confirmation|e-?mail|receipt|invoice|"
    r"tracking|code|link|reply|answer|response))"
)


def _both(paid: str, missing: str) -> str:
    """A payment and missing goods in the same paragraph, in either order.

    Missing-goods-first is one branch per wording, so that each has a literal gate of its
    own (all wordings together have too many prefixes for one).
    """
    first = [rf"\b(?:{paid})\b{_NEAR}\b(?:{missing})"]
    first += [rf"\b(?:{m}){_NEAR}\b(?:{paid})\b" for m in top_level_branches(missing)]
    return "|".join(first)


# Per language: words for a payment taken, and for goods that never came. A missing
# confirmation, receipt or invoice is paperwork, not goods.
_PAID_MISSING = {
    "en": (
        r"paid|charged|debited|billed|took (?:my|the) money|taken (?:my|the) money|"
        r"payment (?:went|was) (?:through|taken)",
        r"nothing (?:has )?(?:arrived|come|came|turned up|been (?:sent|delivered|shipped))|"
        r"nothing to show|never (?:arrived|came|turned up|got (?:it|them|anything))|"
        r"(?:not|haven't|have not|hasn't|has not|didn't|did not) (?:yet |even |actually )?"
        r"(?:received|arrived|come|turned up|got (?:it|anything|the|my)|been (?:shipped|"
        r"delivered|sent)|shipped|delivered)" + _NOT_PAPERWORK + r"|"
        r"still (?:not|hasn't|has not|haven't) (?:been )?(?:shipped|delivered|arrived|received|"
        r"sent|here)|no (?:delivery|parcel|goods|product|item)s?\b",
    ),
    "de": (
        r"bezahlt|gezahlt|abgebucht|überwiesen|Vorkasse|Zahlung geleistet|belastet|eingezogen|"
        r"kassiert",
        r"nichts (?:bekommen|erhalten|geliefert|gekommen|angekommen)|nichts (?:ist )?"
        r"(?:gekommen|angekommen|passiert)|keine (?:Ware|Lieferung|Sendung)|kein (?:Paket|"
        r"Produkt)|nie (?:angekommen|geliefert|bekommen)|(?:nicht|noch nicht|bis heute nicht|"
        r"immer noch nicht|noch immer nicht) (?:\w+ )?(?:geliefert|angekommen|versandt|"
        r"verschickt|eingetroffen|erfolgt|gekommen)",
    ),
    "fr": (
        r"payée?s?|réglée?s?|débitée?s?|prélevée?s?|encaissée?s?|facturée?s?",
        r"rien re[çc]u|jamais (?:re[çc]u|livrée?|arrivée?|venue?)|toujours pas (?:re[çc]u|livré|"
        r"arrivé|expédié)|pas (?:été )?(?:livrée?|expédiée?)|aucune livraison|rien (?:n'est )?"
        r"(?:arrivé|venu)|(?:n'ai|n’ai) (?:rien|jamais) re[çc]u",
    ),
    "es": (
        r"pagado|pagué|pagamos|pagada|cobrado|cobraron|cargado|cargaron|abonado|abonamos",
        r"y nada\b(?! (?:más|de))|nada (?:ha llegado|llegó|me ha llegado)|nunca (?:llegó|ha "
        r"llegado)|no (?:me )?(?:ha|han)? ?(?:llegado|recibido|enviado|entregado)(?! (?:el |la |"
        r"ningún |ninguna )?(?:correo|e-?mail|confirmación|factura|recibo|justificante|código))|"
        r"no he recibido nada|sin (?:recibir|el (?:pedido|producto|paquete))|sigue sin (?:llegar|"
        r"enviarse)|no me dan (?:ninguna|ningún|las|los|el|la)",
    ),
    "it": (
        r"pagato|pagata|pagati|addebitat\w*|saldato|versato",
        r"non ho ricevuto (?:niente|nulla|nessun\w*|il|la|l')|e niente\b|ancora (?:niente|nulla)|"
        r"mai (?:arrivat|ricevut|consegnat)\w*|non (?:è|e') (?:mai |ancora )?(?:arrivat|"
        r"consegnat)\w*|ancora non (?:arrivat|spedit|consegnat)\w*|non (?:mi )?è arrivato "
        r"(?:niente|nulla)",
    ),
    "nl": (
        r"betaald|afgeschreven|overgemaakt|aanbetaling",
        r"niets (?:\w+ )?(?:ontvangen|geleverd|gekregen|binnen)|niks (?:\w+ )?(?:ontvangen|"
        r"gekregen|geleverd)|nog (?:steeds )?(?:niet|niets) (?:\w+ )?(?:ontvangen|geleverd|binnen|"
        r"verzonden)|niet (?:geleverd|ontvangen|aangekomen)|nooit (?:aangekomen|geleverd|"
        r"ontvangen)|(?:levering|bezorging) (?:heeft )?niet plaatsgevonden",
    ),
    "pt": (
        r"paguei|pagamos|pago|paga|cobrad[oa]s?|cobraram|debitad[oa]|descontad[oa]",
        r"e nada\b(?! (?:mais|a|de))|nada (?:chegou|veio|recebi|foi enviado)|n[ãa]o recebi "
        r"nada|n[ãa]o (?:recebi|chegou|foi enviad[oa]|veio|foi entregue)(?! (?:a |o )?(?:fatura|"
        r"e-?mail|confirma|c[óo]digo|boleto|nota))|nunca (?:chegou|recebi)|nem (?:o|a) \w+ nem|"
        r"aguardando envio|at[ée] (?:hoje|agora) nada|continua\w* (?:por|sem)",
    ),
}

MONEY_TERMS: tuple[FrustrationTerm, ...] = tuple(
    term("money_without_goods", language, _both(paid, missing))
    for language, (paid, missing) in _PAID_MISSING.items()
) + (
    # The goods went back and the money did not come: still no refund.
    term(
        "money_without_goods",
        "en",
        r"\bstill (?:have |got )?no refund\b|"
        r"\brefund (?:has )?(?:still )?(?:not|never) (?:arrived|come|been (?:paid|issued|"
        r"processed))\b|\b(?:haven't|have not|still not|never) (?:received|got|had|seen) (?:my|"
        r"a|the|any) (?:refund|money back)\b",
    ),
    term(
        "money_without_goods",
        "de",
        r"\b(?:bis heute|bis jetzt|immer noch|noch immer|nach wie vor) (?:keine|kein|nicht) "
        r"(?:\w+ )?(?:Erstattung|Rückerstattung|Geld|Gutschrift|erstattet|zurückgezahlt)\b",
    ),
    term(
        "money_without_goods",
        "fr",
        r"\btoujours pas (?:de |été |reçu (?:le |mon )?)?rembours\w*|\b(?:aucun|pas de) "
        r"remboursement (?:à ce jour|depuis)\b",
    ),
    term(
        "money_without_goods",
        "es",
        r"\b(?:todavía|aún|sigo sin que) (?:no )?(?:me han |me hayan )?(?:devuelto el dinero|"
        r"reembolsado)\b|\b(?:sigo|seguimos) sin (?:el |mi )?(?:reembolso|dinero)\b",
    ),
    term(
        "money_without_goods",
        "it",
        r"\bancora (?:nessun|non) (?:\w+ )?rimbors\w*|\b(?:nessun|nessuno) rimborso\b",
    ),
    term(
        "money_without_goods",
        "nl",
        r"\b(?:nog steeds|nog altijd|nog) (?:geen|niet) (?:\w+ )?(?:terugbetaling|"
        r"terugbetaald|geld terug|restitutie|teruggestort)\b",
    ),
    term(
        "money_without_goods",
        "pt",
        r"\b(?:ainda|até agora|até hoje) (?:sem|não|nenhum) (?:\w+ )?(?:reembols\w*|estorno|"
        r"dinheiro)\b",
    ),
    # The company keeps charging after a cancellation.
    term(
        "money_without_goods",
        "en",
        r"\bstill (?:being |getting )?(?:charg|bill|debit)(?:ed|ing)\b|"
        r"\b(?:keep|keeps|kept|continue|continues) (?:on )?(?:charging|billing|debiting|taking "
        r"(?:my )?money)\b|\bstop taking my money\b|"
        r"\bcharg(?:ed|ing) (?:me )?for (?:\w+ ){0,3}(?:i|we) (?:never|did not|didn't|do not|"
        r"don't) (?:receive|get|order|use|request|sign)",
    ),
    term(
        "money_without_goods",
        "de",
        r"\b(?:weiterhin|immer noch|noch immer|trotzdem|nach wie vor|trotz (?:meiner |der )?"
        r"Kündigung) (?:\w+ )?(?:abgebucht|belastet|berechnet|kassiert|eingezogen|abbuchen)\b",
    ),
    term(
        "money_without_goods",
        "fr",
        r"\b(?:continuez|continue|continuent) (?:à|de) (?:me )?(?:prélever|facturer|débiter)\b|"
        r"\btoujours (?:prélevée?|facturée?|débitée?)\b",
    ),
    term(
        "money_without_goods",
        "es",
        r"\b(?:me |nos )?(?:siguen|continúan) (?:cobrando|cargando)\b",
    ),
    term(
        "money_without_goods",
        "it",
        r"\b(?:continuate|continuano) (?:ad|a) addebitar\w*|\baddebitat\w* comunque\b",
    ),
    term(
        "money_without_goods",
        "nl",
        r"\b(?:nog steeds|toch|blijft|blijven|nog altijd) (?:\w+ )?(?:afgeschreven|afschrijven|"
        r"incasseren|geïncasseerd)\b",
    ),
    term(
        "money_without_goods",
        "pt",
        r"\b(?:continuam|continuam a|seguem|ainda est[ãa]o a) (?:cobrar|cobrando|debitar)\b",
    ),
    term(
        "money_back",
        "en",
        r"\b(?:my|the) (?:\w+ )?or (?:my|the) money\b|\b(?:i|we) want (?:my|our) money\b|"
        r"\bgive (?:me|us) (?:my|our) money back\b|\bwhere (?:is|has) my money\b",
    ),
    term(
        "double_charge",
        "en",
        r"\b(?:charged|debited|billed|taken)\b(?: me| us)?(?: \w+){0,3} (?:twice|two times|"
        r"2 times|double)\b|\bdouble[- ](?:charged|billed|charge|debit)\b|"
        r"\b(?:debited|charged) (?:from my (?:card|account) )?(?:two|2) times\b|"
        r"\bboth times\b[^.!?\n]{0,40}\b(?:debited|charged|taken)\b",
    ),
    term(
        "refusal_to_pay",
        "en",
        r"\b(?:i|we) (?:will|shall|am|are) not (?:going to )?pay(?:ing)?\b|"
        r"\b(?:i|we) won['’]t (?:be )?pay(?:ing)?\b|\b(?:i'm|i’m|we're|we’re) not paying\b|"
        r"\brefuse to pay\b",
    ),
    term(
        "money_back",
        "de",
        r"\b(?:mein\w*|das|die|den) (?:\w+ )?oder (?:mein|das) Geld\b|\bmein Geld zur[üu]ck\b|"
        r"\bwo (?:ist )?mein Geld\b|\bwill (?:jetzt |endlich |sofort )*mein Geld\b|"
        r"\bGeld (?:ist )?weg\b",
    ),
    term(
        "double_charge",
        "de",
        r"\b(?:doppelt|zweimal|zwei ?mal) (?:\w+ )?(?:abgebucht|berechnet|belastet|kassiert|"
        r"eingezogen)\b|\bdoppelte (?:Abbuchung|Belastung|Rechnung)\b",
    ),
    term(
        "refusal_to_pay",
        "de",
        r"\b(?:ich|wir) (?:werde|werden) (?:\w+ ){0,3}nicht (?:be)?zahlen\b|"
        r"\b(?:werde|werden) (?:ich|wir) (?:\w+ ){0,3}nicht (?:be)?zahlen\b|"
        r"\b(?:ich|wir) (?:zahle|zahlen|bezahle|bezahlen) (?:\w+ ){0,3}nicht\b|"
        r"\bverweigere (?:die )?Zahlung\b",
    ),
    term(
        "money_back",
        "fr",
        r"\b(?:mon|ma|le|la|mes) (?:\w+ )?ou (?:mon|le) (?:argent|remboursement)\b|"
        r"\bremboursez[- ]moi\b|\brendez[- ]moi mon argent\b|\boù est (?:passé )?mon argent\b",
    ),
    term(
        "double_charge",
        "fr",
        r"\b(?:débité|prélevé|facturé|payé)e?s? (?:\w+ )?deux fois\b|"
        r"\bdouble (?:prélèvement|débit|facturation)\b",
    ),
    term(
        "refusal_to_pay",
        "fr",
        r"\b(?:je|nous) ne (?:\w+ )?(?:paierai|payerai|paierons|payerons|vais pas payer|"
        r"allons pas payer)\b|\b(?:je|nous) ne (?:\w+ )?(?:paie|paye|payons) pas\b|"
        r"\brefuse de payer\b",
    ),
    term(
        "money_back",
        "es",
        r"\bo (?:me |nos )?(?:devuelven|devuelvan|devuélvanme) (?:el|mi) dinero\b|"
        r"\b(?:mi|el) (?:\w+ )?o (?:mi|el) dinero\b|\bquiero (?:que me devuelvan )?mi dinero\b|"
        r"\bmi dinero de vuelta\b",
    ),
    term(
        "double_charge",
        "es",
        r"\b(?:cobrad[oa]|cargad[oa]|cobraron|cargaron)\w* (?:\w+ ){0,3}(?:dos veces|otra vez|"
        r"por duplicado)\b|\b(?:cargo|cobro) duplicado\b|\bdoble cobro\b",
    ),
    term(
        "refusal_to_pay",
        "es",
        r"\bno (?:pienso|voy a|vamos a|pensamos) pagar\b|\bno pagaré\b|\bno pagaremos\b|"
        r"\bme niego a pagar\b",
    ),
    term(
        "money_back",
        "it",
        r"\bo i (?:miei )?soldi\b|\brivoglio i (?:miei )?soldi\b|\bridatemi i (?:miei )?soldi\b|"
        r"\bi miei soldi indietro\b|\bdove sono i miei soldi\b",
    ),
    term(
        "double_charge",
        "it",
        r"\baddebitat\w* (?:\w+ ){0,3}due volte\b|\bdoppio addebito\b|\bpagato due volte\b",
    ),
    term(
        "refusal_to_pay",
        "it",
        r"\bnon (?:pagherò|pagheremo|intendo pagare|intendiamo pagare|ho intenzione di pagare)\b|"
        r"\bmi rifiuto di pagare\b",
    ),
    term(
        "money_back",
        "nl",
        r"\bof (?:mijn|het) geld terug\b|\bik wil (?:nu )?mijn geld\b|\bwaar is mijn geld\b",
    ),
    term(
        "double_charge",
        "nl",
        r"\b(?:dubbel|twee keer|tweemaal) (?:\w+ )?(?:afgeschreven|gefactureerd|"
        r"geïncasseerd|in rekening gebracht)\b",
    ),
    term(
        "refusal_to_pay",
        "nl",
        r"\b(?:ik|wij|we) (?:betaal|betalen|ga|gaan) (?:\w+ ){0,2}niet(?: betalen)?\b|"
        r"\bweiger (?:te|om te) betalen\b",
    ),
    term(
        "money_back",
        "pt",
        r"\bou (?:o )?(?:meu )?dinheiro de volta\b|\bou o meu dinheiro\b|"
        r"\bo \w+ ou o dinheiro\b|\bquero (?:o )?meu dinheiro\b|"
        r"\bcad[êe] (?:o )?meu dinheiro\b",
    ),
    term(
        "double_charge",
        "pt",
        r"\b(?:cobrad[oa]s?|cobraram|debitad[oa]s?|saiu|sa[íi]ram)\b(?: \w+){0,3} (?:duas "
        r"vezes|em dobro)\b|\bcobran[çc]a (?:em dobro|duplicada)\b",
    ),
    term(
        "refusal_to_pay",
        "pt",
        r"\bn[ãa]o (?:vou|vamos|irei|iremos) pagar\b|\bn[ãa]o pago\b|"
        r"\b(?:recuso-me|me recuso) a pagar\b",
    ),
)
