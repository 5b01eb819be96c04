"""The retention: section: defaults, bounds, and the old retention_days key."""

from __future__ import annotations

import warnings
from datetime import timedelta

import pytest

from mailguard.config import Config, parse_config
from mailguard.config.model import ConfigDeprecationWarning
from mailguard.config.settings import retention_of
from mailguard.errors import ConfigError


def test_every_kind_has_a_bound_by_default() -> None:
    bounds = retention_of(Config())
    assert (bounds.history, bounds.held, bounds.deferred) == (
        timedelta(days=90),
        timedelta(days=30),
        timedelta(days=1),
    )
    assert (bounds.failed, bounds.escalations, bounds.notice) == (
        timedelta(days=30),
        timedelta(days=30),
        timedelta(days=1),
    )


def test_durations_are_read_as_written() -> None:
    config = parse_config("retention: {held: 2w, failed: 10d, notice: 12h}\n", "f.yaml", {})
    bounds = retention_of(config)
    assert (bounds.held, bounds.failed, bounds.notice) == (
        timedelta(weeks=2),
        timedelta(days=10),
        timedelta(hours=12),
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("retention: {held: 30m}\n", "retention.held: must be between 1h and 36500d"),
        ("retention: {notice: 30d}\n", "notice must be shorter than held"),
        ("retention: {failed: 1d}\n", "notice must be shorter than failed"),
        (
            "retention: {deferred: 1h}\n",
            "retention.deferred must be longer than proxy.defer_unseen plus 1h",
        ),
        ("retention: {kept: 1d}\n", "retention.kept: unknown key"),
    ],
)
def test_bad_bounds_are_named(text: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "f.yaml", {})
    assert problem in str(caught.value)


def test_retention_days_still_works_with_a_warning() -> None:
    with pytest.warns(ConfigDeprecationWarning, match="retention.history|history"):
        config = parse_config("retention_days: 45\n", "f.yaml", {})
    assert retention_of(config).history == timedelta(days=45)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConfigDeprecationWarning)
        with pytest.raises(ConfigError, match="same setting"):
            parse_config("retention_days: 45\nretention: {history: 30d}\n", "f.yaml", {})
