"""bench/voice_eval.py on tests/data/voice: the tune half meets its targets, the test half
holds its measured figures (the issue's targets are not met there yet: an expected failure
that turns into a failure when they are), and the test half's misses stay hidden."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.scripts_support import load_script

REPO = Path(__file__).resolve().parents[2]
VOICE_SET = REPO / "tests" / "data" / "voice"
LANGUAGES = {"de", "en", "fr", "nl", "es", "it", "pt"}


EVAL = load_script("bench/voice_eval.py")
HALVES = EVAL.evaluate(VOICE_SET)
# The test half (batches 4 and 5) as measured with the lexicon (the learned voice model is
# off by default; docs/classifier.md, section 6): (accuracy, recall, false alarms) per
# language. Rules may only do better.
TEST_FIGURES = {
    "de": (0.828, 0.655, 0.0),
    "en": (0.833, 0.724, 0.065),
    "es": (0.862, 0.724, 0.0),
    "fr": (0.893, 0.786, 0.0),
    "it": (0.857, 0.750, 0.036),
    "nl": (0.897, 0.828, 0.035),
    "pt": (0.948, 0.931, 0.035),
}


def test_the_rules_own_batches_meet_the_targets_in_every_language() -> None:
    # Batches 1 to 4 of the tune half: what the rules were written on.
    tune = EVAL.evaluate(VOICE_SET, batches=frozenset("1234"))["tune"]
    assert set(tune.languages) == LANGUAGES
    assert tune.total.total == 523
    for language, tally in tune.languages.items():
        assert tally.met(), (language, tally)


# The whole tune half, batch 5's part included (no rule was written on it): (accuracy,
# recall, false alarms) per language as measured; rules may only do better.
TUNE_FIGURES = {
    "de": (0.944, 0.887, 0.0),
    "en": (0.969, 0.937, 0.0),
    "es": (0.944, 0.889, 0.0),
    "fr": (0.981, 0.964, 0.0),
    "it": (0.991, 0.982, 0.0),
    "nl": (0.953, 0.926, 0.019),
    "pt": (0.931, 0.857, 0.0),
}


def test_the_tune_half_holds_its_measured_figures() -> None:
    tune = HALVES["tune"]
    assert tune.total.total == 742
    for language, (accuracy, recall, alarms) in TUNE_FIGURES.items():
        tally = tune.languages[language]
        assert tally.accuracy >= accuracy - 1e-3, (language, tally)
        assert tally.recall >= recall - 1e-3, (language, tally)
        assert tally.false_alarms <= alarms + 1e-3, (language, tally)


def test_with_the_learned_model_the_tune_half_meets_the_targets() -> None:
    tune = EVAL.evaluate(VOICE_SET, learned=True, batches=frozenset("12345"))["tune"]
    for language, tally in tune.languages.items():
        assert tally.met(), (language, tally)


def test_the_test_half_holds_its_measured_figures() -> None:
    test = HALVES["test"]
    assert set(test.languages) == LANGUAGES
    assert test.total.total == 404
    for language, (accuracy, recall, alarms) in TEST_FIGURES.items():
        tally = test.languages[language]
        assert tally.accuracy >= accuracy - 1e-3, (language, tally)
        assert tally.recall >= recall - 1e-3, (language, tally)
        assert tally.false_alarms <= alarms + 1e-3, (language, tally)
        assert tally.robot == 0, (language, tally)


@pytest.mark.xfail(
    strict=True,
    reason="issue 24's targets on the test half are not met: recall 0.77, false alarms 2.5 %, "
    "no language meets them (docs/classifier.md, section 6); this fails as soon as they are, "
    "to be made a plain test",
)
def test_the_test_half_meets_the_targets_in_every_language() -> None:
    test = HALVES["test"]
    assert all(tally.met() for tally in test.languages.values()), test.total


def test_the_test_half_misses_are_shown_only_on_request() -> None:
    unseen = HALVES["test"].misses
    assert unseen, "the test half has misses to hide"
    hidden = EVAL.render(HALVES)
    shown = EVAL.render(HALVES, show_test_misses=True)
    for line in unseen:
        name = line.split()[1]
        assert name not in hidden and name in shown
    assert "not shown: --show-test-misses" in hidden


def _one_message_set(folder: Path, source: str, expect: str, split: str = "tune") -> Path:
    shutil.copy(VOICE_SET / source, folder / source)
    (folder / "LABELS.tsv").write_text(
        "file\tlanguage\texpect\tbatch\treason\tsplit\n"
        f"{source}\ten\t{expect}\t0\trelabelled\t{split}\n",
        encoding="utf-8",
    )
    return folder


def test_a_miss_is_reported_with_its_evidence(tmp_path: Path) -> None:
    # Relabel one calm message as must-escalate: the eval must list it with its clues.
    halves = EVAL.evaluate(_one_message_set(tmp_path, "en-026-calm.eml", "person"))
    assert halves["tune"].languages["en"].miss == 1
    (line,) = halves["tune"].misses
    assert "MISSED" in line and "en-026-calm.eml" in line and "cancel_en" in line
    assert EVAL.main([str(tmp_path)]) == 1


def test_a_persons_mail_called_automated_is_wrong(tmp_path: Path) -> None:
    raw = (
        b"From: noreply@shop.example\r\nTo: support@example.com\r\nSubject: Hello\r\n"
        b"Auto-Submitted: auto-generated\r\n\r\nIs the shop open on Sunday?\r\n"
    )
    (tmp_path / "robot.eml").write_bytes(raw)
    (tmp_path / "LABELS.tsv").write_text(
        "file\tlanguage\texpect\tbatch\treason\tsplit\nrobot.eml\ten\tcalm\t0\tcalm\ttest\n",
        encoding="utf-8",
    )
    halves = EVAL.evaluate(tmp_path)
    tally = halves["test"].languages["en"]
    assert tally.robot == 1 and tally.accuracy == 0.0 and not tally.met()
    assert EVAL.main([str(tmp_path)]) == 1


def test_a_row_without_a_split_is_tune_and_a_bad_split_is_refused(tmp_path: Path) -> None:
    shutil.copy(VOICE_SET / "en-026-calm.eml", tmp_path / "en-026-calm.eml")
    labels = tmp_path / "LABELS.tsv"
    labels.write_text(
        "file\tlanguage\texpect\tbatch\treason\nen-026-calm.eml\ten\tcalm\t0\tcalm\n",
        encoding="utf-8",
    )
    assert EVAL.evaluate(tmp_path)["tune"].total.total == 1
    assert EVAL.main([str(tmp_path)]) == 0
    labels.write_text(
        "file\tlanguage\texpect\tbatch\treason\tsplit\n"
        "en-026-calm.eml\ten\tcalm\t0\tcalm\tholdout\n",
        encoding="utf-8",
    )
    assert EVAL.main([str(tmp_path)]) == 2


def test_the_learned_model_is_measured_on_request(tmp_path: Path) -> None:
    # A tune message the lexicon misses (a quiet resignation, no signal word) and that
    # the learned model, trained on the tune half, sends to a person.
    folder = _one_message_set(tmp_path, "en-514-person.eml", "person")
    assert EVAL.evaluate(folder)["tune"].languages["en"].miss == 1
    assert EVAL.evaluate(folder, learned=True)["tune"].languages["en"].hit == 1
    assert EVAL.main([str(folder)]) == 1
    assert EVAL.main(["--model", str(folder)]) == 0
