"""The configuration reaches the domain: policy knobs, classifier extras, company identity."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from mailguard.config import load_config, parse_config
from mailguard.config.settings import classifier_settings_of, identity_of, policy_of
from mailguard.domain.model import Kind

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "mailguard.example.yaml"


def test_policy_takes_every_configured_knob() -> None:
    config = parse_config(
        "company: {partner_addresses: [p@partner.example.net]}\n"
        "policy:\n"
        "  automated_streak: {min_messages: 4, window: 3d}\n"
        "  repeat_contact: {enabled: false, min_messages: 5, window: 12h}\n"
        "  bot_ping_pong: {max_exchanges: 2, window: 1h, cooldown: 2d}\n"
        "  referral_ring: {window: 1w}\n"
        "  frustration: {threshold: 0.4}\n"
        "  sla: {first: 2h, second: 30m}\n"
        "  thread_window: 5d\n"
        "  fold_plus_tags: false\n",
        "f.yaml",
        {},
    )
    policy = policy_of(config)
    assert (policy.automated_streak.min_messages, policy.automated_streak.window) == (
        4,
        timedelta(days=3),
    )
    assert policy.repeat_contact.enabled is False
    assert policy.repeat_contact.window == timedelta(hours=12)
    assert policy.bot_ping_pong.cooldown == timedelta(days=2)
    assert policy.referral_ring.window == timedelta(weeks=1)
    assert policy.referral_ring.partner_addresses == frozenset({"p@partner.example.net"})
    assert policy.frustration.threshold == 0.4
    assert (policy.sla.first, policy.sla.second) == (timedelta(hours=2), timedelta(minutes=30))
    assert policy.thread_window == timedelta(days=5)
    assert policy.fold_plus_tags is False


def test_classifier_settings_from_the_example() -> None:
    settings = classifier_settings_of(load_config(EXAMPLE, env={}))
    assert settings.helpdesk_senders == frozenset({"noreply@example.com"})
    assert settings.agent_addresses == frozenset({"alice@example.com"})
    assert settings.human_markers == (("X-Helpdesk-Reply-Type", "^agent$"),)
    (rule,) = settings.extra_rules
    assert (rule.name, rule.kind, rule.target) == ("acme_ticket_ack", Kind.TICKET_ACK, "subject")
    (term,) = settings.extra_frustration
    assert (term.name, term.language) == ("de_frechheit", "de")


def test_company_identity_covers_mailboxes_agents_and_robots() -> None:
    config = parse_config(
        "company:\n"
        "  domains: [example.com]\n"
        "  agents: [bob@freelance.example.net]\n"
        "  helpdesk_senders: [bot@helpdesk.example.org, '@tickets.example.io']\n"
        "mailboxes:\n"
        "  - {name: support, addresses: [help@support-shop.example]}\n",
        "f.yaml",
        {},
    )
    identity = identity_of(config)
    assert identity.own_domains == frozenset({"example.com", "tickets.example.io"})
    assert {"bob@freelance.example.net", "bot@helpdesk.example.org"} <= identity.own_addresses
    assert "help@support-shop.example" in identity.own_addresses
    assert identity.mailboxes == (("support", frozenset({"help@support-shop.example"})),)
