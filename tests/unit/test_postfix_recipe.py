"""config/postfix (the milter recipe), docs/postfix.md and the shipped mailguard configs agree.

The integration tests apply the recipe files to a real Postfix
(tests/integration/test_milter_postfix.py); these checks keep the walk-through showing
exactly those lines, the milter off port 25, and every shipped configuration relaying to the
return listener, never to a port that passes mailguard's milter again.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from mailguard.config import load_config
from tests.integration.postfix_site import RECIPE, RECIPE_FILES, recipe_lines

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "postfix.md").read_text(encoding="utf-8")
EXAMPLE = ROOT / "config" / "mailguard.example.yaml"
COMPOSE = ROOT / "config" / "compose" / "mailguard.yaml"


def lines(name: str) -> list[str]:
    return recipe_lines((RECIPE / name).read_text(encoding="utf-8"))


def settings(name: str) -> dict[str, str]:
    """``name = value`` lines as a mapping."""
    found = {}
    for line in lines(name):
        key, _, value = line.partition("=")
        found[key.strip()] = value.strip()
    return found


def test_the_walkthrough_shows_every_line_and_how_to_apply_each_file() -> None:
    blocks = "\n".join(re.findall(r"```[a-z]*\n(.*?)```", DOC, flags=re.S))
    for name, option in RECIPE_FILES.items():
        for line in lines(name):
            assert line in blocks.splitlines(), f"docs/postfix.md lacks {name}'s line {line!r}"
        command = (
            f"grep -Ev '^[[:space:]]*(#|$)' config/postfix/{name} "
            f"| xargs -d '\\n' postconf {option}"
        )
        assert command in blocks, f"docs/postfix.md lacks: {command}"
    assert "sendmail_path = /usr/sbin/sendmail" in blocks
    assert "sendmail_path = /usr/sbin/sendmail" in lines("dovecot-sieve.conf")


def test_mailguard_is_never_on_port_25_and_comes_before_the_signer() -> None:
    main = settings("main.cf")
    assert "smtpd_milters" not in main, "main.cf's smtpd_milters is port 25's"
    assert "default_action=tempfail" in main["mailguard_milter"]
    non_smtpd = [m.strip() for m in main["non_smtpd_milters"].split(",")]
    assert non_smtpd.index("$mailguard_milter") < non_smtpd.index("$dkim_milter")
    master = settings("master.cf")
    filtered = {
        k for k, v in master.items() if k.endswith("/smtpd_milters") and "$mailguard_milter" in v
    }
    assert filtered == {"submission/inet/smtpd_milters"}
    submission = master["submission/inet/smtpd_milters"].split(",")
    assert submission.index("$mailguard_milter") < submission.index("$dkim_milter")


def return_port() -> int:
    [service] = lines("master-services.cf")
    match = re.match(r"127\.0\.0\.1:(\d+)/inet = 127\.0\.0\.1:\1 inet ", service)
    assert match is not None, service
    port = int(match.group(1))
    master = settings("master.cf")
    assert master[f"127.0.0.1:{port}/inet/smtpd_milters"] == "$dkim_milter"
    return port


def test_every_shipped_config_relays_to_the_return_listener() -> None:
    port = return_port()
    for path in (EXAMPLE, COMPOSE):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert data["relay"]["port"] == port, f"{path.name} relays to {data['relay']['port']}"
        assert data["relay"]["port"] not in (25, 587, data.get("proxy", {}).get("listen_port"))


def test_the_example_milter_is_where_the_recipe_points() -> None:
    config = load_config(EXAMPLE)
    assert config.milter is not None
    assert f"{{ {config.milter.listen}," in settings("main.cf")["mailguard_milter"]
