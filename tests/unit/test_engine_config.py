"""The YAML configuration maps one to one onto the engine's settings."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from mailguard.config import load_config, parse_config
from mailguard.domain.policy import Policy
from mailguard.engine_config import (
    classifier_settings_from_config,
    identity_from_config,
    policy_from_config,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "mailguard.example.yaml"

YAML = """
company:
  domains: [example.com]
  addresses: [helpdesk@outsourced.example.net]
  agents: [anna@example.com]
  partner_addresses: [Service@Voucher-Partner.example.net]
mailboxes:
  - name: support
    addresses: [support@brand.example]
policy:
  automated_streak: {min_messages: 3, window: 7d}
  repeat_contact: {enabled: false}
  bot_ping_pong: {max_exchanges: 5, cooldown: 2h}
  sla: {first: 4h, second: 2h}
  fold_plus_tags: false
"""


def test_example_config_gives_the_default_policy() -> None:
    config = load_config(EXAMPLE)
    policy = policy_from_config(config)
    assert policy.automated_streak == Policy().automated_streak
    assert policy.sla == Policy().sla


def test_knobs_and_identity_are_mapped() -> None:
    config = parse_config(YAML, "test.yaml", env={})
    policy = policy_from_config(config)
    assert policy.automated_streak.min_messages == 3
    assert policy.automated_streak.window == timedelta(days=7)
    assert policy.repeat_contact.enabled is False
    assert policy.bot_ping_pong.max_exchanges == 5
    assert policy.bot_ping_pong.cooldown == timedelta(hours=2)
    assert policy.sla.first == timedelta(hours=4) and policy.sla.second == timedelta(hours=2)
    assert policy.fold_plus_tags is False
    assert policy.referral_ring.partner_addresses == {"service@voucher-partner.example.net"}
    identity = identity_from_config(config)
    assert identity.mailbox_names == ("support",)
    # The guarded address is outside the own domains but still the company's.
    assert "support@brand.example" in identity.own_addresses
    assert "anna@example.com" in identity.own_addresses
    settings = classifier_settings_from_config(config)
    assert settings.agent_addresses == {"anna@example.com"}
