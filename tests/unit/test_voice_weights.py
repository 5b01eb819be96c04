"""scripts/train_voice_weights.py: learns from the tune half only; the shipped weights are its."""

from __future__ import annotations

from pathlib import Path

from tests.scripts_support import load_script

TRAIN = load_script("scripts/train_voice_weights.py")
PERSON = (
    b"From: a@example.org\r\nTo: s@example.com\r\nSubject: Order\r\n\r\n"
    b"I paid on Monday. Nothing has arrived.\r\n"
)
CALM = b"From: b@example.org\r\nTo: s@example.com\r\nSubject: Hello\r\n\r\nIs the shop open?\r\n"


def test_only_the_tune_half_is_read(tmp_path: Path) -> None:
    (tmp_path / "p.eml").write_bytes(PERSON)
    (tmp_path / "c.eml").write_bytes(CALM)
    # The test row names a file that does not exist: reading it would fail.
    (tmp_path / "LABELS.tsv").write_text(
        "file\tlanguage\texpect\tbatch\treason\tsplit\n"
        "p.eml\ten\tperson\t4\tpaid, nothing\ttune\n"
        "c.eml\ten\tcalm\t4\tquestion\ttune\n"
        "missing.eml\ten\tperson\t4\tunseen\ttest\n",
        encoding="utf-8",
    )
    found = TRAIN.examples(tmp_path)
    assert len(found) == 2
    assert [e.person for e in found] == [True, False]
    assert "money_without_goods" in found[0].signals


def test_a_signal_only_persons_show_rises_above_its_prior() -> None:
    example = TRAIN.Example(frozenset({"waiting"}), 1.0, 1.0, True)
    calm = TRAIN.Example(frozenset({"cancel"}), 1.0, 1.0, False)
    weights = TRAIN.fit([example] * 20 + [calm] * 20)
    assert weights["waiting"] > TRAIN.PRIOR_WEIGHTS["waiting"]
    assert weights["cancel"] < TRAIN.PRIOR_WEIGHTS["cancel"]


def test_the_shipped_weights_are_current() -> None:
    # A lexicon change makes different signals fire: the weights must be refitted with it.
    assert TRAIN.main(["--check"]) == 0
