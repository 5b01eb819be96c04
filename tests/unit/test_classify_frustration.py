"""Frustration: repeat contact, complaint and legal words, shouting; negation and quotes."""

from __future__ import annotations

import pytest

from mailguard.domain.classify import Classifier, ClassifierSettings, FrustrationTerm
from mailguard.domain.facts import parse_facts
from mailguard.domain.frustration import FrustrationScorer
from mailguard.domain.model import Classification
from tests.unit.classify_mail import mail

SCORER = FrustrationScorer()


def classify(body: str, subject: str = "Meine Bestellung", **kw: object) -> Classification:
    settings = kw.get("settings")
    classifier = Classifier(settings) if isinstance(settings, ClassifierSettings) else Classifier()
    return classifier.classify(parse_facts(mail(subject=subject, body=body)))


@pytest.mark.parametrize(
    ("text", "lang", "rule"),
    [
        ("Ich schreibe Ihnen jetzt zum dritten Mal.", "de", "repeat_contact_de"),
        ("Schon wieder keine Lieferung.", "de", "again_de"),
        ("Bis heute keine Antwort von Ihnen.", "de", "no_answer_de"),
        ("Hiermit reiche ich eine Beschwerde ein.", "de", "complaint_de"),
        ("Ich kündige meinen Vertrag.", "de", "cancel_de"),
        ("Ich werde mich an die Verbraucherzentrale wenden.", "de", "consequence_de"),
        ("Mein Anwalt ist informiert.", "de", "consequence_de"),
        ("This is the third email I am sending.", "en", "repeat_contact_en"),
        ("There is still no answer to my question.", "en", "no_answer_en"),
        ("I want to file a complaint.", "en", "complaint_en"),
        ("Please cancel my subscription.", "en", "cancel_en"),
        ("I will ask my lawyer and do a chargeback.", "en", "consequence_en"),
        ("I expect a refund.", "en", "refund_en"),
    ],
)
def test_terms(text: str, lang: str, rule: str) -> None:
    score, evidence = SCORER.score(text, lang)
    assert f"frustration:{rule}" in {item.rule for item in evidence}
    assert 0.0 < score <= 1.0


@pytest.mark.parametrize(
    "text",
    [
        "Ich habe keine Beschwerde, nur eine Frage.",
        "Ich möchte nicht kündigen, nur die Adresse ändern.",
        "I don't want to cancel, just change the address.",
        "No complaint at all, everything arrived.",
        "I do not need a refund.",
    ],
)
def test_negated_terms_do_not_count(text: str) -> None:
    score, evidence = SCORER.score(text, None)
    assert score == 0.0, evidence


def test_shouting_and_exclamation() -> None:
    score, evidence = SCORER.score("WHERE IS MY PARCEL? I PAID TWO WEEKS AGO!!!", "en")
    names = {item.rule for item in evidence}
    assert {"frustration:shouting", "frustration:exclamation"} <= names
    assert score > 0.4
    calm, _ = SCORER.score("Where is my parcel? I paid two weeks ago.", "en")
    assert calm == 0.0


def test_scores_saturate_below_one_and_rank() -> None:
    angry = (
        "Zum dritten Mal: immer noch keine Antwort! Das ist eine Frechheit. Ich kündige und "
        "gehe zum Anwalt!!!"
    )
    mild, _ = SCORER.score("Ich habe eine Beschwerde.", "de")
    strong, _ = SCORER.score(angry, "de")
    assert 0.0 < mild < strong <= 1.0


def test_quoted_history_never_counts() -> None:
    body = (
        "Vielen Dank, das hat geholfen.\n\nAm 03.03.2025 schrieb Anna <a@b.de>:\n"
        "> Zum dritten Mal: immer noch keine Antwort! Beschwerde! Anwalt!!!"
    )
    result = classify(body, subject="AW: Lieferung")
    assert not result.automated
    assert result.frustration == 0.0


def test_human_mail_carries_frustration_and_robots_do_not() -> None:
    angry = "Ich schreibe zum dritten Mal und bekomme immer noch keine Antwort. Ich kündige!"
    human = classify(angry)
    assert not human.automated and human.frustration > 0.5
    assert human.frustration_evidence
    robot = Classifier().classify(parse_facts(mail(("Auto-Submitted", "auto-replied"), body=angry)))
    assert robot.automated and robot.frustration == 0.0


def test_lexicon_is_extendable() -> None:
    extra = (FrustrationTerm("ombudsstelle", r"\bschlichtung\w*", 0.6, "de"),)
    settings = ClassifierSettings(extra_frustration=extra)
    result = classify("Ich rufe die Schlichtung an.", settings=settings)
    assert "frustration:ombudsstelle" in {item.rule for item in result.frustration_evidence}


def test_bad_extra_term_is_rejected() -> None:
    with pytest.raises(ValueError, match="broken"):
        FrustrationScorer((FrustrationTerm("broken", "(", 0.5),))
