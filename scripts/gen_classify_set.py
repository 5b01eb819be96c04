"""Generate tests/data/classify: a labeled evaluation set for the classifier.

    python scripts/gen_classify_set.py [OUTDIR]

Deterministic (seeded). Each message imitates a real system: Exchange/Outlook, Gmail,
Dovecot Sieve vacation, Lotus Notes, cPanel, Zendesk, Freshdesk, OTRS/Znuny, Jira,
Zammad, Postfix/Exim/qmail/Sendmail/Exchange/Gmail bounces, Mailchimp/CleverReach/Brevo,
Mailman and Google Groups, parcel services, cron, BoxTrapper and Spam Arrest, plus the
hard human cases (replies quoting robots, "AW: Automatische Antwort:", people mentioning
their own absence, forwarded bounces, HTML-only mail, Lotus Notes "Antwort:", people
writing from root@, no-reply@, postmaster@ or admin@ in a person's mail program).
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from pathlib import Path

from classify_set_auto import (
    LANGS,
    Ctx,
    Made,
    auto_reply,
    bounce,
    ooo_exchange,
    ooo_gmail,
    ooo_notes,
    ooo_sieve,
    ooo_webmail,
    ticket_ack,
)
from classify_set_other import (
    account_notice,
    challenge,
    cron_report,
    human,
    list_post,
    newsletter,
    read_receipt,
    shipping,
)
from classify_set_system import monitoring_report, person_at_system_address

SEED = 20250303
HUMAN_VARIANTS = 9


def plan() -> list[tuple[str, str, Callable[[Ctx], Made]]]:
    """(kind, language, generator) for every message of the set."""
    items: list[tuple[str, str, Callable[[Ctx], Made]]] = []
    for index, lang in enumerate(LANGS):
        items += [
            ("out_of_office", lang, lambda c: ooo_exchange(c, True)),
            ("out_of_office", lang, lambda c: ooo_exchange(c, False)),
            ("out_of_office", lang, ooo_sieve),
            ("out_of_office", lang, ooo_gmail if index % 2 else ooo_notes),
            ("out_of_office", lang, ooo_webmail),
            ("auto_reply", lang, lambda c, i=index: auto_reply(c, i % 4)),
            ("auto_reply", lang, lambda c, i=index: auto_reply(c, (i + 2) % 4)),
            ("ticket_ack", lang, lambda c, i=index: ticket_ack(c, i)),
            ("ticket_ack", lang, lambda c, i=index: ticket_ack(c, i + 3)),
            ("ticket_ack", lang, lambda c: ticket_ack(c, 5)),
            ("bounce", lang, lambda c, i=index: bounce(c, i)),
            ("bounce", lang, lambda c: bounce(c, 3)),
            ("bounce", lang, lambda c, i=index: bounce(c, i + 2)),
            ("bulk", lang, lambda c, i=index: newsletter(c, i)),
            ("bulk", lang, lambda c, i=index: list_post(c, i)),
            ("notification", lang, shipping),
            ("notification", lang, read_receipt),
            ("challenge_response", lang, lambda c, i=index: challenge(c, i % 3)),
        ]
        items += [("human", lang, lambda c, v=v: human(c, v)) for v in range(HUMAN_VARIANTS)]
        items += [("human", lang, lambda c, v=v: human(c, v)) for v in (0, 1)]
    items += [
        ("notification", "en", cron_report),
        ("notification", "en", account_notice),
        ("notification", "de", account_notice),
        ("bulk", "en", lambda c: newsletter(c, 3)),
    ]
    # People at system-looking addresses, and a robot at one (classify_set_system).
    items += [
        ("human", lang, lambda c, v=v: person_at_system_address(c, v))
        for v, lang in enumerate(("en", "en", "de", "fr"))
    ]
    items.append(("notification", "en", monitoring_report))
    return items


def main(argv: list[str]) -> int:
    root = Path(__file__).resolve().parent.parent
    out = Path(argv[1]) if len(argv) > 1 else root / "tests" / "data" / "classify"
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.eml"):
        old.unlink()
    rng = random.Random(SEED)  # noqa: S311 - reproducible test data, not cryptography
    rows = ["file\tautomated\tkind\tlang\tsystem\tnote"]
    for number, (kind, lang, make) in enumerate(plan(), start=1):
        raw, system, note = make(Ctx(rng, lang))
        name = f"{number:03d}-{kind}-{lang}-{system}.eml"
        (out / name).write_bytes(raw)
        automated = "0" if kind == "human" else "1"
        rows.append(f"{name}\t{automated}\t{kind}\t{lang}\t{system}\t{note}")
    (out / "LABELS.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    print(f"wrote {len(rows) - 1} messages to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
