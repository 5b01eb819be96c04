"""`mailguard explain`: text and JSON rendering, stdin, unreadable paths."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from mailguard.app.cli import main
from mailguard.app.explain import explain_main, render_explanation
from mailguard.domain.classify import Classifier
from mailguard.domain.facts import parse_facts
from tests.unit.classify_mail import mail

OOO = mail(
    ("Auto-Submitted", "auto-replied"),
    subject="Abwesenheitsnotiz: Rechnung",
    body="Ich bin bis zum 10.03. nicht im Büro. In dringenden Fällen: info@example.com",
)
DOCUMENT_KEYS = {
    "schema",
    "message",
    "kind",
    "automated",
    "confidence",
    "language",
    "frustration",
    "malformed",
    "evidence",
    "frustration_evidence",
}


def test_json_shape_is_stable() -> None:
    facts = parse_facts(OOO)
    document = json.loads(render_explanation(facts, Classifier().classify(facts), as_json=True))
    assert set(document) == DOCUMENT_KEYS
    assert document["schema"] == 1
    assert set(document["message"]) == {"message_id", "from", "subject", "date", "size"}
    assert document["kind"] == "out_of_office"
    assert document["automated"] is True
    assert document["language"] == "de"
    assert {"rule", "matched", "weight"} == set(document["evidence"][0])
    rules = {item["rule"]: item["matched"] for item in document["evidence"]}
    assert rules["rfc3834_auto_replied"] == "Auto-Submitted: auto-replied"


def test_text_report_lists_every_rule_with_its_match() -> None:
    facts = parse_facts(OOO)
    result = Classifier().classify(facts)
    text = render_explanation(facts, result, as_json=False)
    assert "out_of_office (automated" in text
    for item in result.evidence:
        assert item.rule in text and item.matched in text


def test_explain_main_reads_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ooo.eml"
    path.write_bytes(OOO)
    assert explain_main(str(path), as_json=True) == 0
    assert json.loads(capsys.readouterr().out)["kind"] == "out_of_office"


def test_explain_main_reads_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = io.TextIOWrapper(io.BytesIO(mail(subject="Frage", body="Wo ist mein Paket?")))
    monkeypatch.setattr(sys, "stdin", fake)
    assert explain_main("-", as_json=False) == 0
    assert "kind:        human" in capsys.readouterr().out


def test_unreadable_path_gives_exit_2_and_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.eml"
    assert explain_main(str(missing), as_json=False) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "cannot read" in captured.err and "nope.eml" in captured.err
    assert explain_main(str(tmp_path), as_json=False) == 2


def test_each_voice_signal_is_shown_with_the_text_it_matched() -> None:
    raw = mail(
        subject="Bestellung 4411",
        body="Ich habe am 3. März bezahlt, nichts ist gekommen. Danke für nichts.\n"
        "Bitte geben Sie das an die zuständige Sachbearbeiterin weiter.",
    )
    facts = parse_facts(raw)
    text = render_explanation(facts, Classifier().classify(facts), as_json=False)
    assert "asks_for_human" in text and "zuständige Sachbearbeiterin" in text
    assert "frustration:money_without_goods_de" in text and "bezahlt, nichts ist gekommen" in text
    assert "frustration:sarcasm_de" in text and "Danke für nichts" in text
    document = json.loads(render_explanation(facts, Classifier().classify(facts), as_json=True))
    clues = {e["rule"]: e["matched"] for e in document["frustration_evidence"]}
    assert clues["frustration:sarcasm_de"] == "Danke für nichts"


def test_the_learned_models_clue_is_shown_with_its_strongest_words() -> None:
    raw = mail(
        subject="Bestellung 4411",
        body="Seit Wochen warte ich auf mein Geld und keiner meldet sich. Mir reicht es.",
    )
    facts = parse_facts(raw)
    result = Classifier(learned=True).classify(facts)
    (clue,) = [e for e in result.frustration_evidence if e.rule == "frustration:voice_model"]
    text = render_explanation(facts, result, as_json=False)
    line = next(line for line in text.splitlines() if "frustration:voice_model" in line)
    assert f"{clue.weight:+5.2f}" in line and clue.matched in line
    words = {w.lower() for w in raw.decode().split()}
    assert all(
        any(w.startswith(n.removesuffix("…")) for w in words) for n in clue.matched.split(", ")
    )
    document = json.loads(render_explanation(facts, result, as_json=True))
    clues = {e["rule"]: e for e in document["frustration_evidence"]}
    assert clues["frustration:voice_model"]["matched"] == clue.matched


def test_explain_model_flag_adds_the_learned_clue(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "complaint.eml"
    path.write_bytes(
        mail(
            subject="Bestellung",
            body="Seit drei Wochen warte ich auf mein Geld. Keiner meldet sich.",
        )
    )
    assert main(["explain", str(path)]) == 0
    assert "frustration:voice_model" not in capsys.readouterr().out
    assert main(["explain", "--model", str(path)]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "voice_model" in x)
    assert line.split()[0] == "frustration:voice_model"
