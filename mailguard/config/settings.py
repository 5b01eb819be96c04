"""Translate the validated configuration into the domain's frozen settings.

The domain never sees pydantic: it takes plain frozen dataclasses, so that it stays pure
and its tests need no YAML. This module is the one place where the two meet.
"""

from __future__ import annotations

from mailguard.config import Config
from mailguard.config.dryrun import DryRun
from mailguard.domain.classify import ClassifierSettings
from mailguard.domain.identity import CompanyIdentity
from mailguard.domain.model import Kind
from mailguard.domain.policy import (
    AsksForHumanRule,
    FrustrationRule,
    PingPongRule,
    Policy,
    ReferralRingRule,
    RepeatContactRule,
    SlaRule,
    StreakRule,
)
from mailguard.domain.retention import RetentionPolicy
from mailguard.domain.rules import FrustrationTerm, PatternRule
from mailguard.engine.factory import EngineSettings


def policy_of(config: Config) -> Policy:
    """The loop policy with the configured rules, thresholds and windows."""
    p = config.policy
    return Policy(
        automated_streak=StreakRule(
            enabled=p.automated_streak.enabled,
            min_messages=p.automated_streak.min_messages,
            window=p.automated_streak.window,
        ),
        repeat_contact=RepeatContactRule(
            enabled=p.repeat_contact.enabled,
            min_messages=p.repeat_contact.min_messages,
            window=p.repeat_contact.window,
        ),
        bot_ping_pong=PingPongRule(
            enabled=p.bot_ping_pong.enabled,
            max_exchanges=p.bot_ping_pong.max_exchanges,
            window=p.bot_ping_pong.window,
            cooldown=p.bot_ping_pong.cooldown,
        ),
        referral_ring=ReferralRingRule(
            enabled=p.referral_ring.enabled,
            window=p.referral_ring.window,
            partner_addresses=frozenset(config.company.partner_addresses),
        ),
        frustration=FrustrationRule(
            enabled=p.frustration.enabled, threshold=p.frustration.threshold
        ),
        asks_for_human=AsksForHumanRule(enabled=p.asks_for_human.enabled),
        sla=SlaRule(enabled=p.sla.enabled, first=p.sla.first, second=p.sla.second),
        thread_window=p.thread_window,
        fold_plus_tags=p.fold_plus_tags,
        escalated_outbound=config.proxy.escalated,
    )


def classifier_settings_of(config: Config) -> ClassifierSettings:
    """The company's robots, agents, human markers and extra rules for the classifier."""
    company = config.company
    return ClassifierSettings(
        helpdesk_senders=frozenset(company.helpdesk_senders),
        agent_addresses=frozenset(company.agents),
        human_markers=tuple((m.header, m.pattern) for m in company.human_markers),
        extra_rules=tuple(
            PatternRule(
                name=r.name,
                kind=Kind(r.kind),
                target=r.target,
                pattern=r.pattern,
                language=r.language,
                weight=r.weight,
            )
            for r in config.classifier.extra_rules
        ),
        extra_frustration=tuple(
            FrustrationTerm(name=t.name, pattern=t.pattern, weight=t.weight, language=t.language)
            for t in config.classifier.frustration_terms
        ),
    )


def identity_of(config: Config) -> CompanyIdentity:
    """Who the company is, and which guarded mailbox owns which addresses.

    Guarded mailboxes, agents and named helpdesk senders are company addresses even outside
    the configured domains, so none of them is ever taken for a customer; a helpdesk entry
    "@domain" makes the whole domain the company's.
    """
    company = config.company
    own = {a for m in config.mailboxes for a in m.addresses}
    own |= set(company.addresses) | set(company.agents)
    own |= {s for s in company.helpdesk_senders if not s.startswith("@")}
    domains = set(company.domains) | {s[1:] for s in company.helpdesk_senders if s[0] == "@"}
    return CompanyIdentity(
        own_domains=frozenset(domains),
        own_addresses=frozenset(own),
        mailboxes=tuple((m.name, frozenset(m.addresses)) for m in config.mailboxes),
    )


def engine_settings_of(config: Config) -> EngineSettings:
    """Everything the engine needs from the configuration."""
    return EngineSettings(identity_of(config), policy_of(config), classifier_settings_of(config))


def retention_of(config: Config) -> RetentionPolicy:
    """How long each kind of stored data is kept (``retention:``)."""
    r = config.retention
    return RetentionPolicy(
        history=config.history_retention,
        held=r.held,
        deferred=r.deferred,
        failed=r.failed,
        escalations=r.escalations,
        notice=r.notice,
    )


def dry_run_of(config: Config) -> DryRun:
    """The top-level ``dry_run`` and each mailbox's own value where it sets one."""
    overrides = tuple((m.name, m.dry_run) for m in config.mailboxes if m.dry_run is not None)
    return DryRun(config.dry_run, overrides)
