"""The learned voice model (mailguard/domain/voice_model.py) and its training script.

Inference in the package reproduces the script's scores; the shipped weights are what the
script trains on the tune half (and only the tune half is read); in each language a
frustrated sentence that is not in the set sounds more like "a person, please" than a calm
one with the same words; the model's clue joins the lexicon's score as a noisy-OR and shows
its strongest words.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from mailguard.domain.classify import Classifier
from mailguard.domain.facts import parse_facts
from mailguard.domain.model import Evidence
from mailguard.domain.voice_model import (
    FLOOR,
    MODEL_RULE,
    VoiceModel,
    feature_names,
    joined,
    message_words,
    shipped_model,
)
from tests.scripts_support import load_script
from tests.unit.classify_mail import mail

TRAIN = load_script("scripts/train_voice_model.py")
MODEL = shipped_model()

# (language, frustrated, calm with the same words); none of them is in tests/data/voice.
PAIRS = [
    (
        "en",
        "Three weeks now and the parcel is nowhere. Nobody tells me anything, I am done.",
        "The parcel came after three weeks and everything is fine, thank you.",
    ),
    (
        "de",
        "Seit Wochen warte ich auf mein Geld und keiner meldet sich. Mir reicht es langsam.",
        "Das Geld ist nach zwei Wochen angekommen, vielen Dank für die schnelle Hilfe.",
    ),
    (
        "fr",
        "Ça fait un mois que j'attends mon remboursement et personne ne répond. Ça suffit.",
        "Mon remboursement est bien arrivé, merci beaucoup pour votre aide.",
    ),
    (
        "es",
        "Llevo un mes esperando el reembolso y nadie me dice nada. Ya no puedo más.",
        "Ya me llegó el reembolso, muchas gracias por la ayuda.",
    ),
    (
        "it",
        "Aspetto il rimborso da un mese e nessuno mi risponde. Adesso basta.",
        "Il rimborso è arrivato, grazie mille per l'aiuto.",
    ),
    (
        "nl",
        "Ik wacht al een maand op mijn geld en niemand reageert. Het is genoeg geweest.",
        "Mijn geld is binnen, hartelijk dank voor de snelle hulp.",
    ),
    (
        "pt",
        "Estou há um mês à espera do reembolso e ninguém responde. Já chega.",
        "O reembolso já chegou, muito obrigado pela ajuda.",
    ),
]


def _words(text: str) -> frozenset[str]:
    return message_words("", text)


def _example(name: str, text: str, person: bool) -> object:
    words = _words(text)
    return TRAIN.Example(name, feature_names(words), person)


SMALL_SET = [
    _example("a", "still waiting, nobody answers, this is a joke", True),
    _example("b", "waiting for weeks, I am done with you", True),
    _example("c", "nobody answers the phone, a joke", True),
    _example("d", "thank you, the parcel arrived", False),
    _example("e", "could you send the invoice again, thank you", False),
    _example("f", "the parcel arrived, all fine", False),
]


def test_inference_reproduces_the_training_scripts_scores() -> None:
    fitted = TRAIN.fit(SMALL_SET, penalty=1e-3, rounds=60, min_count=1)
    model = VoiceModel.from_document(TRAIN.document(fitted, len(SMALL_SET)))
    unseen = ["still nobody, weeks of waiting", "the invoice arrived, thanks", "", "Ünïcödé wörds"]
    for text in [e.name for e in SMALL_SET] + unseen:
        words = _words(text)
        example = TRAIN.Example(text, feature_names(words), False)
        assert model.logit(words) == pytest.approx(fitted.logit(example.features), abs=1e-9)
    persons = [model.probability(_words("still waiting, nobody answers, this is a joke"))]
    assert persons[0] > 0.5 > model.probability(_words("thank you, the parcel arrived"))


def test_the_shipped_model_is_what_the_script_trains_on_the_tune_half() -> None:
    # A change of the data or of the features needs a retrain: run the script, commit both.
    assert TRAIN.main(["--check"]) == 0


def test_only_the_tune_half_is_read(tmp_path: Path) -> None:
    (tmp_path / "p.eml").write_bytes(mail(body="Nobody answers. This is the third week."))
    (tmp_path / "c.eml").write_bytes(mail(body="Is the shop open on Sunday?"))
    # The test row names a file that does not exist: reading it would fail.
    (tmp_path / "LABELS.tsv").write_text(
        "file\tlanguage\texpect\tbatch\treason\tsplit\n"
        "p.eml\ten\tperson\t4\tlong wait\ttune\n"
        "c.eml\ten\tcalm\t4\tquestion\ttune\n"
        "missing.eml\ten\tperson\t4\tunseen\ttest\n",
        encoding="utf-8",
    )
    found = TRAIN.examples(tmp_path)
    assert [(e.name, e.person) for e in found] == [("c.eml", False), ("p.eml", True)]
    assert "w:nobody" in found[1].features and "h:nobo" in found[1].features


@pytest.mark.parametrize(("language", "frustrated", "calm"), PAIRS, ids=[p[0] for p in PAIRS])
def test_a_frustrated_sentence_outweighs_a_calm_one_with_the_same_words(
    language: str, frustrated: str, calm: str
) -> None:
    loud, quiet = MODEL.probability(_words(frustrated)), MODEL.probability(_words(calm))
    assert loud > quiet, (language, loud, quiet)
    clue = MODEL.evidence(_words(frustrated))
    assert clue is not None and clue.rule == MODEL_RULE


def test_the_clue_is_the_shifted_logit_and_shows_its_strongest_words() -> None:
    words = _words("Three weeks now and nobody tells me anything, I am done.")
    clue = MODEL.evidence(words)
    assert clue is not None
    expected = 1.0 / (1.0 + math.exp(-(MODEL.logit(words) - MODEL.offset)))
    assert clue.weight == pytest.approx(expected, abs=1e-3)
    shown = [name.removesuffix("…") for name in clue.matched.split(", ")]
    assert 1 <= len(shown) <= 4
    assert all(any(word.startswith(name) for word in words) for name in shown)


def test_a_weak_clue_is_left_out_and_the_noisy_or_joins_the_rest() -> None:
    quiet = VoiceModel(-8.0, 0.0, ({"parcel": 0.1}, {}))
    assert quiet.evidence(_words("parcel")) is None  # sigmoid(-7.9) < FLOOR
    loud = VoiceModel(0.0, 0.0, ({"joke": 4.0}, {}))
    clue = loud.evidence(_words("what a joke"))
    assert clue is not None and clue.matched == "joke" and clue.weight >= FLOOR
    assert joined(0.5, clue) == pytest.approx(1 - 0.5 * (1 - clue.weight), abs=1e-3)
    assert joined(0.5, None) == 0.5
    assert joined(0.0, Evidence(MODEL_RULE, "x", 0.25)) == 0.25


def test_a_document_that_is_not_a_model_is_refused() -> None:
    with pytest.raises(ValueError, match="not a voice model"):
        VoiceModel.from_document({"bias": 0.0, "offset": 1.0})
    with pytest.raises(ValueError, match="not a voice model"):
        VoiceModel.from_document({"bias": 0.0, "offset": 1.0, "weights": {"x:y": 1.0}})
    with pytest.raises(ValueError, match="not a voice model"):
        VoiceModel.from_document({"bias": "high", "offset": 1.0, "least": 1, "weights": {}})
    with pytest.raises(ValueError, match="not a voice model"):
        VoiceModel.from_document({"bias": 0.0, "offset": 1.0, "weights": {}})  # no least
    with pytest.raises(ValueError, match="feature families"):
        VoiceModel(0.0, 0.0, ({},))


# Everyday questions and thanks, short as real ones are: nothing in them asks for a person,
# and a few words must not sound like a complaint because they are few.
SHORT_CALM = [
    "Where is my order?",
    "Is this available in blue?",
    "Please forward this email to me.",
    "Hello, this is a test with an attachment.",
    "Wo ist mein Paket?",
    "Können Sie mir die Rechnung noch einmal schicken?",
    "Où est ma commande ?",
    "¿Dónde está mi pedido?",
    "Dov'è il mio ordine?",
    "Waar is mijn bestelling?",
    "Onde está a minha encomenda?",
]


@pytest.mark.parametrize("text", SHORT_CALM)
def test_a_short_everyday_question_stays_calm(text: str) -> None:
    clue = MODEL.evidence(_words(text))
    assert clue is None or clue.weight < 0.3, clue
    assert (
        Classifier(learned=True).classify(parse_facts(mail(subject="Hello", body=text))).frustration
        < 0.6
    )


def test_function_words_are_no_features_and_a_few_words_say_little() -> None:
    # "this", "mi", "von" say nothing of a mood: a model may not hang on them.
    assert feature_names(["this", "mi", "von", "joke"]) == {"w:joke", "h:joke"}
    model = VoiceModel(0.0, 0.0, ({"joke": 2.0}, {}), least=16)
    assert model.logit(_words("a joke")) == pytest.approx(2.0 / 4)  # 2 features, at least 16


def test_the_classifier_adds_the_clue_to_the_lexicons_score() -> None:
    raw = mail(
        subject="Order 5521",
        body="Three weeks now and the parcel is nowhere. Nobody tells me anything.",
    )
    facts = parse_facts(raw)
    learned = Classifier(learned=True).classify(facts)
    lexicon = Classifier(learned=False).classify(facts)
    clues = {e.rule: e for e in learned.frustration_evidence}
    assert MODEL_RULE in clues and MODEL_RULE not in {e.rule for e in lexicon.frustration_evidence}
    assert learned.frustration == joined(lexicon.frustration, clues[MODEL_RULE])
    assert learned.frustration > lexicon.frustration


def test_automated_mail_is_not_heard() -> None:
    raw = mail(("Auto-Submitted", "auto-replied"), body="Nobody tells me anything. A joke.")
    result = Classifier(learned=True).classify(parse_facts(raw))
    assert result.automated and result.frustration_evidence == ()
