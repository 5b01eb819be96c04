"""``mailguard explain FILE.eml [--json]``: show how one message is classified, and why.

A thin adapter around the pure classifier: it reads bytes (a path, or "-" for stdin),
builds facts, classifies, and renders either a short human-readable report or the stable
JSON document described in docs/explain.md.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from mailguard.domain.classify import Classifier, ClassifierSettings
from mailguard.domain.facts import MessageFacts, parse_facts
from mailguard.domain.model import Classification, Evidence

# Bumped only when a field changes meaning or disappears; new fields may be added.
JSON_SCHEMA_VERSION = 1
EXIT_OK = 0
EXIT_UNREADABLE = 2


def _evidence(items: tuple[Evidence, ...]) -> list[dict[str, Any]]:
    return [{"rule": e.rule, "matched": e.matched, "weight": e.weight} for e in items]


def explanation_document(facts: MessageFacts, result: Classification) -> dict[str, Any]:
    """The JSON-ready explanation of one classification (see docs/explain.md)."""
    return {
        "schema": JSON_SCHEMA_VERSION,
        "message": {
            "message_id": facts.message_id,
            "from": facts.from_addr,
            "subject": facts.subject,
            "date": facts.date.isoformat() if facts.date else None,
            "size": facts.size,
        },
        "kind": str(result.kind),
        "automated": result.automated,
        "confidence": result.confidence,
        "language": result.language,
        "frustration": result.frustration,
        "malformed": result.malformed,
        "evidence": _evidence(result.evidence),
        "frustration_evidence": _evidence(result.frustration_evidence),
    }


def _text_report(facts: MessageFacts, result: Classification) -> str:
    verdict = "automated" if result.automated else "human"
    lines = [
        f"message:     {facts.message_id or '(no Message-ID)'}",
        f"from:        {facts.from_addr or '(none)'}",
        f"subject:     {facts.subject or '(none)'}",
        f"kind:        {result.kind} ({verdict}, confidence {result.confidence:.2f})",
        f"language:    {result.language or 'unknown'}",
        f"frustration: {result.frustration:.2f}",
    ]
    if result.malformed:
        lines.append("malformed:   yes")
    lines.append("rules fired:" if result.evidence else "rules fired: none")
    # Frustration clues are named "frustration:<signal>_<language>", longer than most rules.
    width = max([28] + [len(e.rule) for e in result.evidence + result.frustration_evidence])
    for item in result.evidence:
        lines.append(f"  {item.rule:{width}} {item.weight:+5.2f}  {item.matched}")
    if result.frustration_evidence:
        lines.append("frustration clues:")
        for item in result.frustration_evidence:
            lines.append(f"  {item.rule:{width}} {item.weight:+5.2f}  {item.matched}")
    return "\n".join(lines)


def render_explanation(facts: MessageFacts, result: Classification, *, as_json: bool) -> str:
    """The explanation as text for people, or as the stable JSON document."""
    if as_json:
        return json.dumps(explanation_document(facts, result), ensure_ascii=False, indent=2)
    return _text_report(facts, result)


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as handle:
        return handle.read()


def explain_main(
    path: str,
    *,
    as_json: bool,
    settings: ClassifierSettings | None = None,
    learned: bool = False,
) -> int:
    """Explain the message in ``path`` ("-" = stdin) on stdout; return the exit code.
    ``learned``: with the learned voice model (off by default, see docs/classifier.md)."""
    try:
        raw = _read(path)
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        print(f"mailguard explain: cannot read {path!r}: {reason}", file=sys.stderr)
        return EXIT_UNREADABLE
    facts = parse_facts(raw)
    result = Classifier(settings, learned=learned).classify(facts)
    _emit(render_explanation(facts, result, as_json=as_json))
    return EXIT_OK


def _emit(text: str) -> None:
    """Print, escaping what the terminal's encoding cannot show instead of failing."""
    try:
        print(text)
    except UnicodeEncodeError:
        encoding = sys.stdout.encoding or "ascii"
        print(text.encode(encoding, "backslashreplace").decode(encoding))
