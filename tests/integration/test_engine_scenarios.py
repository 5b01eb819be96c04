"""The five patterns of DESIGN.md, German and English, from .eml files, through the real
parser, classifier, policy and SQLite store (tests/data/scenarios, see its README)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailguard.domain.identity import CompanyIdentity
from mailguard.domain.model import Source
from mailguard.domain.policy import (
    CircuitBreak,
    Escalate,
    Notify,
    NotifyLevel,
    Policy,
    ReferralRingRule,
)
from mailguard.engine.factory import EngineSettings, build_engine
from mailguard.engine.service import ProcessResult, Status
from tests.integration.engine_support import migrated_store

SCENARIOS = Path(__file__).resolve().parent.parent / "data" / "scenarios"
PARTNER = "service@voucher-partner.example.net"
SUPPORT = CompanyIdentity(
    own_domains=frozenset({"example.com"}),
    mailboxes=(("support", frozenset({"support@example.com"})),),
)
TWO_DESKS = CompanyIdentity(
    own_domains=frozenset({"example.com"}),
    mailboxes=(
        ("gutscheine", frozenset({"gutscheine@example.com"})),
        ("shop", frozenset({"shop@example.com"})),
    ),
)


async def replay(folder: str, identity: CompanyIdentity, policy: Policy, url: str):
    from mailguard.audit.sources import header_date

    files = sorted((SCENARIOS / folder).glob("*.eml"))
    assert files, f"no scenario files in {folder}"
    results: list[ProcessResult] = []
    async with migrated_store(url) as store:
        engine = build_engine(store, EngineSettings(identity, policy))
        async with store.batch(flush_every=3) as work:
            for path in files:
                raw = path.read_bytes()
                now = header_date(raw)
                assert now is not None, path
                prepared = engine.prepare(raw, source=Source.AUDIT, now=now)
                results.append(await engine.process_prepared(work, prepared, now))
    assert all(r.status is Status.PROCESSED for r in results), [r.status for r in results]
    return results


def opened(result: ProcessResult) -> list[tuple[str, str]]:
    assert result.decision is not None
    return [(a.rule, a.mailbox) for a in result.decision.actions if isinstance(a, Escalate)]


def opened_rules(results: list[ProcessResult]) -> dict[int, list[str]]:
    """File number (1-based) -> rules that opened an escalation there."""
    return {i + 1: [r for r, _ in opened(res)] for i, res in enumerate(results) if opened(res)}


def sla_levels(results: list[ProcessResult]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for i, res in enumerate(results):
        assert res.decision is not None
        levels = [
            a.level.value for a in res.decision.actions if isinstance(a, Notify) and a.rule == "sla"
        ]
        if levels:
            found[i + 1] = levels
    return found


@pytest.mark.parametrize("lang", ["de", "en"])
async def test_automated_streak(lang: str, sqlite_url: str) -> None:
    results = await replay(f"automated_streak_{lang}", SUPPORT, Policy(), sqlite_url)
    assert opened_rules(results) == {4: ["automated_streak"]}


@pytest.mark.parametrize("lang", ["de", "en"])
async def test_bot_ping_pong(lang: str, sqlite_url: str) -> None:
    results = await replay(f"bot_ping_pong_{lang}", SUPPORT, Policy(), sqlite_url)
    held = [i + 1 for i, r in enumerate(results) if r.decision and r.decision.held]
    assert held == [4, 6, 8]
    for number in held:
        decision = results[number - 1].decision
        assert decision is not None
        assert "bot_ping_pong" in {h.rule for h in decision.hits}
    tripped = [
        i + 1
        for i, r in enumerate(results)
        if r.decision and any(isinstance(a, CircuitBreak) for a in r.decision.actions)
    ]
    assert tripped == [8]


async def test_frustration_de_resolved_by_agent_within_sla(sqlite_url: str) -> None:
    results = await replay("frustration_de", SUPPORT, Policy(), sqlite_url)
    assert opened_rules(results) == {1: ["frustration"]}
    assert results[1].decision is not None and results[1].decision.resolved
    assert sla_levels(results) == {}


async def test_frustration_en_escalates_the_first_message(sqlite_url: str) -> None:
    results = await replay("frustration_en", SUPPORT, Policy(), sqlite_url)
    assert opened_rules(results) == {1: ["frustration"]}
    assert results[1].decision is not None and results[1].decision.held


async def test_referral_ring_with_partner(sqlite_url: str) -> None:
    policy = Policy(referral_ring=ReferralRingRule(partner_addresses=frozenset({PARTNER})))
    results = await replay("referral_ring_partner_en", SUPPORT, policy, sqlite_url)
    assert opened_rules(results) == {3: ["referral_ring"]}


async def test_referral_ring_between_two_guarded_mailboxes(sqlite_url: str) -> None:
    results = await replay("referral_ring_shop_de", TWO_DESKS, Policy(), sqlite_url)
    assert set(opened_rules(results)) == {4}
    escalations = opened(results[3])
    assert sorted(escalations) == [("referral_ring", "gutscheine"), ("referral_ring", "shop")]
    decision = results[3].decision
    assert decision is not None
    links = {a.link_key for a in decision.actions if isinstance(a, Escalate)}
    assert len(links) == 1 and None not in links


async def test_sla_de(sqlite_url: str) -> None:
    results = await replay("sla_de", SUPPORT, Policy(), sqlite_url)
    assert opened_rules(results) == {1: ["frustration"]}
    assert sla_levels(results) == {3: [NotifyLevel.PRIMARY.value], 4: ["secondary"]}


async def test_sla_en(sqlite_url: str) -> None:
    results = await replay("sla_en", SUPPORT, Policy(), sqlite_url)
    assert opened_rules(results) == {4: ["automated_streak"]}
    assert sla_levels(results) == {5: ["primary"], 6: ["secondary"]}
