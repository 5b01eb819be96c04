"""The signals of issue 24, each in each of the seven languages, with sentences not in the set.

Every signal family that generalises beyond the first batches (money taken without the
goods, finality, sarcasm, broken promises, ultimatums, long waits and counted contacts,
the runaround, disbelief, demands, rejections, things done without consent, danger) and
Portuguese for the first signals. Calm sentences that use the same words stay calm.
"""

from __future__ import annotations

import pytest

from mailguard.domain.frustration import FrustrationScorer

SCORER = FrustrationScorer()
THRESHOLD = 0.6

# (language, sentence, signal)
FIRES = [
    # Money taken without the goods, in either order, across a sentence.
    ("en", "I paid £60 on Monday. Nothing has arrived.", "money_without_goods"),
    ("de", "Das Paket ist nie angekommen, abgebucht wurde trotzdem.", "money_without_goods"),
    ("fr", "J'ai payé la commande il y a dix jours, rien reçu.", "money_without_goods"),
    ("es", "Pagué el pedido el lunes y nada, ni rastro.", "money_without_goods"),
    ("it", "Ho pagato l'ordine e non ho ricevuto nulla.", "money_without_goods"),
    ("nl", "Ik heb betaald en niets ontvangen.", "money_without_goods"),
    ("pt", "Paguei a encomenda e nada chegou.", "money_without_goods"),
    ("en", "I returned it a month ago and I still have no refund.", "money_without_goods"),
    ("de", "Ich werde trotz Kündigung weiterhin belastet.", "money_without_goods"),
    ("nl", "Er wordt nog steeds afgeschreven.", "money_without_goods"),
    ("en", "Send the headphones or my money back.", "money_back"),
    ("de", "Entweder die Ware oder mein Geld zurück.", "money_back"),
    ("fr", "Je veux mon colis ou mon remboursement.", "money_back"),
    ("es", "Quiero el producto o mi dinero.", "money_back"),
    ("it", "Rivoglio i miei soldi.", "money_back"),
    ("nl", "Ik wil mijn geld.", "money_back"),
    ("pt", "Quero o meu dinheiro.", "money_back"),
    ("en", "You charged me twice for one order.", "double_charge"),
    ("de", "Sie haben doppelt abgebucht.", "double_charge"),
    ("fr", "J'ai été débité deux fois.", "double_charge"),
    ("es", "Me han cobrado dos veces.", "double_charge"),
    ("it", "Mi avete addebitato due volte l'abbonamento.", "double_charge"),
    ("nl", "Het bedrag is dubbel afgeschreven.", "double_charge"),
    ("pt", "Fui cobrado duas vezes.", "double_charge"),
    ("en", "I am not paying for a repair you never did.", "refusal_to_pay"),
    ("de", "Diese Rechnung werde ich nicht bezahlen.", "refusal_to_pay"),
    ("fr", "Je ne paierai pas cette facture.", "refusal_to_pay"),
    ("es", "No pienso pagar esa penalización.", "refusal_to_pay"),
    ("it", "Non pagherò questa fattura.", "refusal_to_pay"),
    ("nl", "Ik betaal deze factuur niet.", "refusal_to_pay"),
    ("pt", "Não vou pagar esta fatura.", "refusal_to_pay"),
    # Leaving or cancelling with finality.
    ("en", "I'm done with your company.", "finality"),
    ("de", "Ich kündige fristlos, für mich ist die Sache erledigt.", "finality"),
    ("fr", "Je résilie avec effet immédiat.", "finality"),
    ("es", "Se me ha agotado la paciencia.", "finality"),
    ("it", "Disdico con effetto immediato.", "finality"),
    ("nl", "Ik zeg per direct op.", "finality"),
    ("pt", "A minha paciência acabou.", "finality"),
    # Sarcasm: thanks that mean the opposite, or praise before what went wrong.
    ("en", "Thanks for nothing.", "sarcasm"),
    ("de", "Danke für nichts.", "sarcasm"),
    ("fr", "Merci pour rien.", "sarcasm"),
    ("es", "Gracias por nada.", "sarcasm"),
    ("it", "Grazie per niente.", "sarcasm"),
    ("nl", "Bedankt voor niks.", "sarcasm"),
    ("pt", "Obrigado por nada.", "sarcasm"),
    ("en", "Thanks for the wonderful service - the parcel went to Leeds.", "sarcasm"),
    ("de", "Danke für den tollen Service: das Paket liegt in Köln.", "sarcasm"),
    # Broken promises and ultimatums.
    ("en", "They promised a technician who never came.", "broken_promise"),
    ("de", "Der Monteur ist wieder nicht erschienen.", "broken_promise"),
    ("fr", "Le technicien n'est jamais venu.", "broken_promise"),
    ("es", "El técnico no se presentó.", "broken_promise"),
    ("it", "Il tecnico non si è presentato.", "broken_promise"),
    ("nl", "De monteur is niet gekomen.", "broken_promise"),
    ("pt", "O técnico não apareceu.", "broken_promise"),
    ("en", "Either you fix it this week or I will go to the small claims court.", "ultimatum"),
    ("de", "Ich setze Ihnen hiermit eine letzte Frist bis Freitag.", "ultimatum"),
    ("fr", "Ceci vaut mise en demeure.", "ultimatum"),
    ("es", "Les he enviado un burofax.", "ultimatum"),
    ("it", "Vi diffido formalmente.", "ultimatum"),
    ("nl", "Ik stel u hierbij in gebreke.", "ultimatum"),
    ("pt", "Este é o último aviso.", "ultimatum"),
    # Long waits stated in days or weeks, and contacts counted.
    ("en", "We have had no hot water for eight days now.", "waiting"),
    ("de", "Seit elf Tagen keine Rückmeldung.", "waiting"),
    ("fr", "Ça fait quinze jours que j'attends.", "waiting"),
    ("es", "Llevamos diez días sin luz.", "waiting"),
    ("it", "Sono passate tre settimane.", "waiting"),
    ("nl", "We zitten al drie weken zonder internet.", "waiting"),
    ("pt", "Estou sem telefone há dez dias.", "waiting"),
    ("en", "I've called four times.", "repeat_contact"),
    ("de", "Ich habe dreimal angerufen.", "repeat_contact"),
    ("fr", "J'ai appelé trois fois.", "repeat_contact"),
    ("es", "He llamado tres veces.", "repeat_contact"),
    ("it", "Vi ho scritto tre volte.", "repeat_contact"),
    ("nl", "Ik heb vier keer gebeld.", "repeat_contact"),
    ("pt", "Já liguei cinco vezes.", "repeat_contact"),
    # The runaround, disbelief, being ignored.
    ("en", "I keep getting passed from one department to another.", "runaround"),
    ("de", "Jedes Mal eine andere Auskunft.", "runaround"),
    ("fr", "On me renvoie de service en service.", "runaround"),
    ("es", "Cada vez me dicen una cosa distinta.", "runaround"),
    ("it", "Ogni operatore mi dice una cosa diversa.", "runaround"),
    ("nl", "Ik word van het kastje naar de muur gestuurd.", "runaround"),
    ("pt", "Cada atendente me diz uma coisa diferente.", "runaround"),
    ("en", "How is this possible?", "disbelief"),
    ("de", "Wie kann es sein, dass niemand Bescheid weiß?", "disbelief"),
    ("fr", "Comment est-ce possible ?", "disbelief"),
    ("es", "¿Cómo es posible?", "disbelief"),
    ("it", "Com'è possibile?", "disbelief"),
    ("nl", "Hoe kan het dat niemand dit oplost?", "disbelief"),
    ("pt", "Como é possível?", "disbelief"),
    ("en", "You keep ignoring my emails.", "ignored"),
    ("de", "Sie ignorieren meine Nachrichten.", "ignored"),
    ("fr", "Vous m'ignorez depuis le début.", "ignored"),
    ("es", "No me hacen ni caso.", "ignored"),
    ("it", "Mi ignorate da settimane.", "ignored"),
    ("nl", "Jullie negeren mijn berichten.", "ignored"),
    ("pt", "Fui ignorada pelo atendimento.", "ignored"),
    # A claim rejected, something done without consent, harm.
    ("en", "My refund request was rejected without a reason.", "rejected"),
    ("de", "Meine Reklamation wurde abgelehnt.", "rejected"),
    ("fr", "Ma demande de remboursement a été refusée.", "rejected"),
    ("es", "Mi reclamación fue rechazada.", "rejected"),
    ("it", "La mia richiesta è stata respinta.", "rejected"),
    ("nl", "Mijn claim is afgewezen.", "rejected"),
    ("pt", "O meu pedido foi recusado.", "rejected"),
    ("en", "You renewed it without my consent.", "unauthorised"),
    ("de", "Der Vertrag wurde ohne meine Zustimmung verlängert.", "unauthorised"),
    ("fr", "Prolongé sans mon accord.", "unauthorised"),
    ("es", "Lo renovaron sin mi consentimiento.", "unauthorised"),
    ("it", "Rinnovato senza il mio consenso.", "unauthorised"),
    ("nl", "Verlengd zonder mijn toestemming.", "unauthorised"),
    ("pt", "Renovaram sem a minha autorização.", "unauthorised"),
    ("en", "The heater is dangerous, it sparks.", "danger"),
    ("de", "Das Gerät ist gefährlich.", "danger"),
    ("fr", "Le radiateur est dangereux.", "danger"),
    ("es", "El enchufe es peligroso.", "danger"),
    ("it", "La stufa è pericolosa.", "danger"),
    ("nl", "De kachel is gevaarlijk.", "danger"),
    ("pt", "O aquecedor é perigoso.", "danger"),
    # One more thing on top, urgency, a solution demanded now.
    ("en", "On top of that, you charged a late fee.", "on_top"),
    ("de", "Zu allem Überfluss kam eine Mahnung.", "on_top"),
    ("fr", "Pour couronner le tout, une pénalité.", "on_top"),
    ("es", "Y encima me cobraron la visita.", "on_top"),
    ("it", "Per giunta mi avete addebitato la penale.", "on_top"),
    ("nl", "En dan ook nog een boete.", "on_top"),
    ("pt", "E ainda por cima cobraram a visita.", "on_top"),
    ("en", "I need this resolved urgently.", "urgency"),
    ("de", "Das ist dringend.", "urgency"),
    ("fr", "C'est urgent.", "urgency"),
    ("es", "Es urgente.", "urgency"),
    ("it", "È urgente.", "urgency"),
    ("nl", "Het is dringend.", "urgency"),
    ("pt", "É urgente.", "urgency"),
    ("en", "I demand an explanation.", "demand"),
    ("de", "Ich verlange eine Erklärung.", "demand"),
    ("fr", "J'exige une explication.", "demand"),
    ("es", "Exijo una explicación.", "demand"),
    ("it", "Pretendo una spiegazione.", "demand"),
    ("nl", "Ik eis een verklaring.", "demand"),
    ("pt", "Exijo uma explicação.", "demand"),
    # The first signals in Portuguese.
    ("pt", "Isto é inadmissível.", "anger"),
    ("pt", "Estou muito decepcionada.", "dissatisfaction"),
    ("pt", "Sempre a mesma resposta automática.", "fed_up_automation"),
    ("pt", "Quero fazer uma reclamação.", "complaint"),
    ("pt", "Vou falar com o meu advogado.", "consequence"),
    ("pt", "Quero cancelar a assinatura.", "cancel"),
    ("pt", "É a terceira vez que escrevo.", "repeat_contact"),
    ("pt", "Ninguém me responde.", "no_answer"),
]

# (language, sentence): a request for a person by role, or for a call.
ROLE_REQUESTS = [
    ("en", "Please escalate this to a team leader."),
    ("en", "I would like my case reviewed by a supervisor."),
    ("en", "Someone needs to call my mother today."),
    ("de", "Bitte geben Sie das an die zuständige Sachbearbeiterin weiter."),
    ("de", "Ich möchte, dass sich ein Vorgesetzter meinen Fall ansieht."),
    ("fr", "Je demande qu'un responsable traite mon dossier."),
    ("fr", "Quelqu'un peut-il m'appeler ?"),
    ("es", "Solicito que me asignen un gestor."),
    ("es", "Quiero que una persona revise mi caso."),
    ("it", "Chiedo di parlare con un funzionario."),
    ("it", "Desidero che la pratica venga valutata da un supervisore."),
    ("nl", "Ik wil dat een leidinggevende hiernaar kijkt."),
    ("nl", "Ik wil dat iemand mij terugbelt."),
    ("pt", "Peço que o caso seja visto por um supervisor."),
    ("pt", "Quero falar com um atendente de verdade."),
]

# (language, sentence): calm, though the words of a new signal are in it.
CALM = [
    ("en", "I paid by card but haven't received a confirmation email yet."),
    ("en", "I'd like to send a thank-you to the manager of your Bristol branch."),
    ("en", "Could you pass the invoice to your accounts team, please?"),
    ("en", "Thanks for your help!"),
    ("en", "We'll be away for two weeks in August."),
    ("en", "I ordered twice by mistake, please cancel one order."),
    ("de", "Ich möchte mich bei Ihrem Mitarbeiter für die Beratung bedanken."),
    ("de", "Die Lieferzeit von zwei bis drei Wochen ist in Ordnung."),
    ("de", "Sie müssen mich nicht zurückrufen."),
    ("fr", "Merci beaucoup pour votre aide, tout est réglé !"),
    ("fr", "Je souhaite savoir si je suis responsable des frais de retour."),
    ("es", "Quisiera hablar con el responsable de ventas para un pedido grande."),
    ("es", "Gracias por su ayuda, todo perfecto."),
    ("it", "La consegna in 3-4 settimane va benissimo."),
    ("it", "Grazie davvero, il tecnico è stato gentilissimo."),
    ("nl", "Kunt u mij laten weten wie de contactpersoon is voor facturen?"),
    ("nl", "Wat fijn dat jullie zo snel reageerden, bedankt!"),
    ("pt", "Posso pagar com cartão ou dinheiro na entrega?"),
    ("pt", "Oi, tudo bem? Queria mudar o endereço de entrega."),
    ("pt", "Não é reclamação, é só uma dúvida."),
]


@pytest.mark.parametrize(("lang", "text", "signal"), FIRES)
def test_signal_fires(lang: str, text: str, signal: str) -> None:
    heard = SCORER.hear(text, lang)
    assert f"frustration:{signal}_{lang}" in {e.rule for e in heard.evidence}, heard


@pytest.mark.parametrize(("lang", "text"), ROLE_REQUESTS)
def test_a_request_for_a_person_by_role(lang: str, text: str) -> None:
    heard = SCORER.hear(text, lang)
    assert heard.asks_for_human is not None, heard
    assert heard.asks_for_human.rule == "asks_for_human" and heard.asks_for_human.matched


@pytest.mark.parametrize(("lang", "text"), CALM)
def test_calm_sentences_with_the_new_words_stay_calm(lang: str, text: str) -> None:
    heard = SCORER.hear(text, lang)
    assert heard.asks_for_human is None, heard
    assert heard.score < THRESHOLD, heard


def test_ironic_praise_needs_a_complaint_beside_it() -> None:
    sincere = SCORER.hear("Super Service, vielen Dank!", "de")
    assert sincere.score == 0.0, sincere
    ironic = SCORER.hear("Super Service, echt. Drei Mails, null Antworten.", "de")
    assert {"frustration:ironic_praise_de", "frustration:repeat_contact_de"} <= {
        e.rule for e in ironic.evidence
    }
    assert ironic.score >= THRESHOLD


def test_ironic_praise_deep_in_a_long_text_is_praise() -> None:
    long = "x " * 400 + "The new app is very well done. " + "Still no answer on the bug."
    assert "frustration:ironic_praise_en" not in {e.rule for e in SCORER.hear(long, "en").evidence}


def test_no_rush_halves_the_score() -> None:
    plain = SCORER.hear("I have been waiting for three weeks now.", "en")
    relaxed = SCORER.hear("I have been waiting for three weeks now, no rush.", "en")
    assert relaxed.score == pytest.approx(plain.score / 2, abs=0.01)
    assert "frustration:reassurance_en" in {e.rule for e in relaxed.evidence}


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("!!! Where is my order ??? Nobody tells me anything ???", "en"),
        ("Wo ist mein Paket??? Warum antwortet niemand???", "de"),
    ],
)
def test_repeated_question_marks_weigh_more_than_one(text: str, lang: str) -> None:
    marks = [e for e in SCORER.hear(text, lang).evidence if e.rule == "frustration:exclamation"]
    assert marks and marks[0].weight == 0.6


def test_a_hard_wrapped_phrase_is_heard_across_the_line_break() -> None:
    text = (
        "It has been a while and I have only received the automatic message. Is\n"
        "anyone actually reading these?"
    )
    assert "frustration:fed_up_automation_en" in {e.rule for e in SCORER.hear(text, "en").evidence}


def test_a_state_is_not_denied_by_its_own_negation() -> None:
    # "no" and "senza" belong to the complaint: no internet for ten days.
    for text, lang in (
        ("No internet for ten days now.", "en"),
        ("Sono senza internet da dieci giorni.", "it"),
    ):
        assert "waiting" in " ".join(e.rule for e in SCORER.hear(text, lang).evidence), text
