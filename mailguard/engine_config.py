"""From the validated YAML configuration to the engine's frozen settings.

The configuration (``mailguard.config``) and the domain keep the same names for every policy
knob, so the mapping is one to one; it lives here so the daemon and ``mailguard audit`` build
the engine from a config file the same way.
"""

from __future__ import annotations

from mailguard.audit.replay import EngineFactory
from mailguard.audit_engine import audit_engine_factory
from mailguard.config import Config
from mailguard.domain.model import Kind
from mailguard.domain.policy import (
    FrustrationRule,
    PingPongRule,
    Policy,
    ReferralRingRule,
    RepeatContactRule,
    SlaRule,
    StreakRule,
)
from mailguard.domain.rules import ClassifierSettings, FrustrationTerm, PatternRule
from mailguard.service import CompanyIdentity


def policy_from_config(config: Config) -> Policy:
    """The loop policy of ``config.policy``; partner addresses come from ``company``."""
    p = config.policy
    return Policy(
        automated_streak=StreakRule(**p.automated_streak.model_dump()),
        repeat_contact=RepeatContactRule(**p.repeat_contact.model_dump()),
        bot_ping_pong=PingPongRule(**p.bot_ping_pong.model_dump()),
        referral_ring=ReferralRingRule(
            enabled=p.referral_ring.enabled,
            window=p.referral_ring.window,
            partner_addresses=frozenset(a.lower() for a in config.company.partner_addresses),
        ),
        frustration=FrustrationRule(**p.frustration.model_dump()),
        sla=SlaRule(**p.sla.model_dump()),
        thread_window=p.thread_window,
        fold_plus_tags=p.fold_plus_tags,
    )


def identity_from_config(config: Config) -> CompanyIdentity:
    """Who the company is. Guarded mailbox addresses and agents are company addresses too."""
    mailboxes = tuple((m.name, frozenset(a.lower() for a in m.addresses)) for m in config.mailboxes)
    own = {a.lower() for a in (*config.company.addresses, *config.company.agents)}
    for _, addresses in mailboxes:
        own |= addresses
    return CompanyIdentity(
        own_domains=frozenset(d.lower() for d in config.company.domains),
        own_addresses=frozenset(own),
        mailboxes=mailboxes,
    )


def classifier_settings_from_config(config: Config) -> ClassifierSettings:
    """The classifier's company knowledge and extra rules."""
    company = config.company
    return ClassifierSettings(
        helpdesk_senders=frozenset(s.lower() for s in company.helpdesk_senders),
        agent_addresses=frozenset(a.lower() for a in company.agents),
        human_markers=tuple((m.header, m.pattern) for m in company.human_markers),
        extra_rules=tuple(
            PatternRule(r.name, Kind(r.kind), r.target, r.pattern, r.language, r.weight)
            for r in config.classifier.extra_rules
        ),
        extra_frustration=tuple(
            FrustrationTerm(t.name, t.pattern, t.weight, t.language)
            for t in config.classifier.frustration_terms
        ),
    )


def audit_engine_from_config(config: Config, *, db_path: str | None = None) -> EngineFactory:
    """The engine ``mailguard audit -c FILE`` replays through (temporary SQLite by default)."""
    identity = identity_from_config(config)
    return audit_engine_factory(
        own_domains=identity.own_domains,
        own_addresses=identity.own_addresses,
        mailboxes=dict(identity.mailboxes),
        policy=policy_from_config(config),
        classifier_settings=classifier_settings_from_config(config),
        db_path=db_path,
    )
