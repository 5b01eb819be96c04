"""Configuration of the loop policy and of the classifier's extra rules."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import Field

from mailguard.config.values import Duration, Regex, Section


class StreakConfig(Section):
    """Rule automated_streak: every human message answered only by robots."""

    enabled: bool = True
    min_messages: Annotated[int, Field(ge=1)] = 2
    window: Duration = timedelta(days=14)


class RepeatContactConfig(Section):
    """Rule repeat_contact: the customer keeps writing and no person answers."""

    enabled: bool = True
    min_messages: Annotated[int, Field(ge=2)] = 3
    window: Duration = timedelta(hours=48)


class PingPongConfig(Section):
    """Rule bot_ping_pong: our robot answering their robot."""

    enabled: bool = True
    max_exchanges: Annotated[int, Field(ge=1)] = 3
    window: Duration = timedelta(hours=24)
    cooldown: Duration = timedelta(hours=24)


class ReferralRingConfig(Section):
    """Rule referral_ring: two robots referring the customer to each other."""

    enabled: bool = True
    window: Duration = timedelta(days=14)


class FrustrationConfig(Section):
    """Rule frustration: an angry message goes to a person at once."""

    enabled: bool = True
    threshold: Annotated[float, Field(gt=0.0, le=1.0)] = 0.6


class AsksForHumanConfig(Section):
    """Rule asks_for_human: a customer who asks for a person goes to one at once."""

    enabled: bool = True


class SlaConfig(Section):
    """Rule sla: an escalation nobody answered."""

    enabled: bool = True
    first: Duration = timedelta(hours=8)
    second: Duration = timedelta(hours=8)


class PolicyConfig(Section):
    """The loop policy: each rule can be switched off and tuned."""

    automated_streak: StreakConfig = StreakConfig()
    repeat_contact: RepeatContactConfig = RepeatContactConfig()
    bot_ping_pong: PingPongConfig = PingPongConfig()
    referral_ring: ReferralRingConfig = ReferralRingConfig()
    frustration: FrustrationConfig = FrustrationConfig()
    asks_for_human: AsksForHumanConfig = AsksForHumanConfig()
    sla: SlaConfig = SlaConfig()
    thread_window: Duration = timedelta(days=14)
    fold_plus_tags: bool = True


class PatternRuleConfig(Section):
    """An extra classifier rule: a regular expression that votes for a kind of mail.

    A rule of kind ``human`` subtracts its weight from the automated score instead.
    """

    name: Annotated[str, Field(pattern=r"^[a-z0-9_.-]+$")]
    kind: Literal[
        "human",
        "auto_reply",
        "out_of_office",
        "bounce",
        "bulk",
        "ticket_ack",
        "notification",
        "challenge_response",
    ]
    target: Annotated[str, Field(pattern=r"^(subject|body|from|header:[!-9;-~]+)$")]
    pattern: Regex
    language: str | None = None
    weight: Annotated[float, Field(gt=0.0, le=10.0)] = 1.0


class FrustrationTermConfig(Section):
    """An extra frustration phrase."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9_.-]+$")]
    pattern: Regex
    weight: Annotated[float, Field(gt=0.0, le=1.0)] = 0.3
    language: str | None = None


class ClassifierConfig(Section):
    """Extensions to the shipped classification rules."""

    extra_rules: list[PatternRuleConfig] = []
    frustration_terms: list[FrustrationTermConfig] = []
