"""A company's mail server for the milter tests: a throw-away Postfix configured from the recipe.

The shape (verified notes: shared testbed ``postfix/README.md``), all on 127.0.0.1:

- an **MX** listener (``mx_port``): the internet side; mail for ``example.test`` only, no
  relaying, so its clients stand for strangers;
- a **submission** listener (``submission_port``) for the company's senders (helpdesk,
  agents): relays for loopback clients;
- the company's mail is delivered by **LMTP** into the Dovecot fixture, whose Sieve vacation
  sends through *this* Postfix's ``sendmail`` (pickup, as on a real server);
- everything else goes to ``relayhost``: the test's sink, which records what left the company.

On top of that base, :meth:`Site.apply_recipe` applies the shipped files under
``config/postfix/`` the way docs/postfix.md tells an administrator to: every line of
``main.cf`` through ``postconf -e``, of ``master-services.cf`` through ``postconf -M`` and
of ``master.cf`` through ``postconf -P``, then ``postfix reload``. The only changes are the
addresses (:data:`RECIPE_ADDRESSES`): this instance's ports stand for 587, 8891, 8892 and
10026, exactly as a site whose submission service has another name applies the lines to its
own service.

``sendmail`` with a configuration directory other than the default is refused to
unprivileged callers (the Dovecot user) unless ``/etc/postfix/main.cf`` lists the directory in
``alternate_config_directories``: :func:`_alternate_directory` adds the entry under a lock
shared with every other test instance and removes it at the end.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.integration.mta_support import (
    POSTFIX,
    STOCK_SERVICES,
    free_port,
    postfix_command,
    require,
)

ROOT = Path(__file__).resolve().parents[2]
RECIPE = ROOT / "config" / "postfix"
POSTCONF = shutil.which("postconf") or "/usr/sbin/postconf"
POSTQUEUE = shutil.which("postqueue") or "/usr/sbin/postqueue"
SENDMAIL = "/usr/sbin/sendmail"
DOMAIN = "example.test"
SYSTEM_MAIN_CF = Path("/etc/postfix/main.cf")
ALTERNATE_LOCK = Path("/etc/postfix/.mailguard-tests-alternate.lock")

SITE_MASTER_CF = (
    """\
127.0.0.1:{mx} inet n - n - - smtpd
  -o smtpd_relay_restrictions=reject_unauth_destination
  -o mynetworks=
127.0.0.1:{submission} inet n - n - - smtpd
  -o smtpd_relay_restrictions=permit_mynetworks,reject
  -o milter_macro_daemon_name=ORIGINATING
pickup    unix  n - n 1 1 pickup
"""
    + STOCK_SERVICES
)

# The site before mailguard: a Postfix that already delivers the company's mail to Dovecot
# and relays the rest; main.cf's smtpd_milters (port 25's) is whatever the test gives.
SITE_MAIN_CF = """\
compatibility_level = 3.6
config_directory = {base}/conf
queue_directory = {base}/queue
data_directory = {base}/data
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = mail.{domain}
mydomain = {domain}
myorigin = $mydomain
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
virtual_mailbox_domains = {domain}
virtual_mailbox_maps = texthash:{base}/conf/mailboxes
virtual_transport = lmtp:inet:127.0.0.1:{lmtp}
relayhost = [127.0.0.1]:{sink}
maillog_file = {base}/maillog
maillog_file_prefixes = {base}
alias_maps =
alias_database =
local_transport = error:no local delivery
smtp_tls_security_level = none
lmtp_tls_security_level = none
smtputf8_enable = yes
in_flow_delay = 0
queue_run_delay = 5s
minimal_backoff_time = 5s
maximal_backoff_time = 10s
delay_warning_time = 0
smtpd_milters = {site_milters}
"""

# Recipe address -> this instance's, for every shipped file (docs/postfix.md says the same
# for a site with other names). Each key must occur in the recipe: see apply_recipe.
RECIPE_ADDRESSES = ("submission/inet/", "inet:127.0.0.1:8891", "inet:127.0.0.1:8892", "10026")


@dataclass
class Site:
    """A running instance: its ports, its files and the commands a mail administrator uses."""

    base: Path
    mx_port: int
    submission_port: int
    return_port: int
    milter_port: int
    dkim_port: int
    applied: list[str] = field(default_factory=list)

    @property
    def conf(self) -> Path:
        return self.base / "conf"

    @property
    def sendmail(self) -> Path:
        """A ``sendmail`` for this instance (what Dovecot's ``sendmail_path`` points at)."""
        return self.base / "bin" / "sendmail"

    @property
    def log(self) -> str:
        path = self.base / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""

    def postconf(self, *args: str) -> str:
        done = _run([POSTCONF, "-c", str(self.conf), *args])
        return done.stdout

    def queue(self) -> list[dict[str, object]]:
        """The queue as ``postqueue -j`` shows it (one dict per message)."""
        done = _run([POSTQUEUE, "-c", str(self.conf), "-j"])
        return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]

    def flush(self) -> None:
        """``postqueue -f``: deliver deferred mail now."""
        _run([POSTQUEUE, "-c", str(self.conf), "-f"])

    def deliver_to(self, lmtp_port: int) -> None:
        """Deliver the company's mail by LMTP to ``lmtp_port`` (Dovecot's)."""
        self.postconf("-e", f"virtual_transport = lmtp:inet:127.0.0.1:{lmtp_port}")
        self.reload()

    def reload(self) -> None:
        postfix_command(self.base, "reload")
        _check_master(self)

    def translate(self, line: str) -> str:
        """A recipe line with this instance's addresses for the recipe's."""
        return (
            line.replace("submission/inet/", f"127.0.0.1:{self.submission_port}/inet/")
            .replace("inet:127.0.0.1:8891", f"inet:127.0.0.1:{self.milter_port}")
            .replace("inet:127.0.0.1:8892", f"inet:127.0.0.1:{self.dkim_port}")
            .replace("10026", str(self.return_port))
        )

    def apply_recipe(self) -> None:
        """Apply config/postfix/{main,master-services,master}.cf as docs/postfix.md says."""
        texts = {name: (RECIPE / name).read_text() for name in RECIPE_FILES}
        for address in RECIPE_ADDRESSES:
            if not any(address in text for text in texts.values()):
                raise AssertionError(f"the recipe no longer mentions {address}")
        for name, option in RECIPE_FILES.items():
            for line in recipe_lines(texts[name]):
                translated = self.translate(line)
                self.postconf(option, translated)
                self.applied.append(f"postconf {option} '{translated}'")
        self.reload()

    def wait_log(self, pattern: str, timeout: float = 30.0, count: int = 1) -> list[str]:
        """Wait until ``count`` maillog lines match ``pattern`` (a regular expression)."""
        found: list[str] = []
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while time.monotonic() < deadline:
            found = [line for line in self.log.splitlines() if regex.search(line)]
            if len(found) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError(
            f"{count} maillog line(s) matching {pattern!r} not seen within {timeout}s "
            f"(found {len(found)}):\n{self.log[-3000:]}"
        )


RECIPE_FILES: Mapping[str, str] = {
    "main.cf": "-e",
    "master-services.cf": "-M",
    "master.cf": "-P",
}


def recipe_lines(text: str) -> list[str]:
    """The lines an administrator applies: everything but comments and blank lines (the
    ``grep -Ev '^[[:space:]]*(#|$)'`` of docs/postfix.md)."""
    return [
        line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]


def _run(cmd: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr}")
    return done


def master_pid(base: Path) -> int | None:
    """The running master of this instance, or None (checked against its MAIL_CONFIG)."""
    pid_file = base / "queue" / "pid" / "master.pid"
    try:
        pid = int(pid_file.read_text().strip())
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return None
    if stat.rsplit(")", 1)[-1].split()[0] == "Z":
        return None
    ours = f"MAIL_CONFIG={base / 'conf'}".encode()
    return pid if ours in environ else None


def _check_master(site: Site, timeout: float = 10.0) -> None:
    # The master dies silently on a bad master.cf (its fatal line is lost with the log
    # daemon): make sure it lives and listens after every start and reload.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if master_pid(site.base) is not None and all(
            accepts(port) for port in (site.mx_port, site.submission_port)
        ):
            return
        time.sleep(0.1)
    raise RuntimeError(f"Postfix in {site.base} is not running or not listening:\n{site.log}")


def accepts(port: int) -> bool:
    """True when something accepts TCP connections on 127.0.0.1:``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def _alternate_directory(conf: Path) -> Iterator[None]:
    """List ``conf`` in /etc/postfix/main.cf's alternate_config_directories meanwhile."""
    _edit_alternates(str(conf), add=True)
    try:
        yield
    finally:
        _edit_alternates(str(conf), add=False)


def _edit_alternates(directory: str, *, add: bool) -> None:
    ALTERNATE_LOCK.touch(exist_ok=True)
    with ALTERNATE_LOCK.open("r+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        lines = SYSTEM_MAIN_CF.read_text().splitlines() if SYSTEM_MAIN_CF.exists() else []
        name = "alternate_config_directories"
        current: list[str] = []
        kept = []
        for line in lines:
            key, sep, value = line.partition("=")
            if sep and key.strip() == name:
                current = [d for d in re.split(r"[\s,]+", value.strip()) if d]
            else:
                kept.append(line)
        wanted = [d for d in current if d != directory] + ([directory] if add else [])
        if wanted:
            kept.append(f"{name} = {' '.join(wanted)}")
        tmp = SYSTEM_MAIN_CF.with_name(f".main.cf.{os.getpid()}")
        tmp.write_text("".join(f"{line}\n" for line in kept))
        tmp.chmod(0o644)
        tmp.replace(SYSTEM_MAIN_CF)


@contextmanager
def running_site(
    *,
    sink_port: int,
    lmtp_port: int = 24,
    milter_port: int | None = None,
    dkim_port: int | None = None,
    mailboxes: tuple[str, ...] = (),
    site_milters: str = "",
) -> Iterator[Site]:
    """The site's Postfix before the recipe; the test applies it with ``apply_recipe``.

    ``site_milters`` is the main.cf ``smtpd_milters`` the site had before mailguard (port
    25's, e.g. an inbound DKIM verifier); ``mailboxes`` the addresses Dovecot serves.
    """
    require(POSTFIX, "Postfix", root=True)
    base = Path(tempfile.mkdtemp(prefix="mailguard-site-"))
    base.chmod(0o755)
    site = Site(
        base,
        mx_port=free_port(),
        submission_port=free_port(),
        return_port=free_port(),
        milter_port=milter_port or free_port(),
        dkim_port=dkim_port or free_port(),
    )
    try:
        for sub in ("conf", "queue", "data", "bin"):
            (base / sub).mkdir()
        shutil.chown(base / "data", user="postfix")
        (base / "conf" / "mailboxes").write_text("".join(f"{m} ok\n" for m in mailboxes))
        (base / "conf" / "master.cf").write_text(
            SITE_MASTER_CF.format(mx=site.mx_port, submission=site.submission_port)
        )
        (base / "conf" / "main.cf").write_text(
            SITE_MAIN_CF.format(
                base=base,
                domain=DOMAIN,
                lmtp=lmtp_port,
                sink=sink_port,
                site_milters=site_milters,
            )
        )
        site.sendmail.write_text(f'#!/bin/sh\nexec {SENDMAIL} -C {site.conf} "$@"\n')
        site.sendmail.chmod(0o755)
        with _alternate_directory(site.conf):
            started = postfix_command(base, "start")
            if started.returncode != 0:
                raise RuntimeError(f"Postfix did not start: {started.stderr}\n{site.log}")
            try:
                _check_master(site)
                yield site
            finally:
                stopped = postfix_command(base, "stop")
                if stopped.returncode != 0:
                    postfix_command(base, "abort")
                print(f"--- Postfix log ---\n{site.log[-6000:]}")
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(base, ignore_errors=True)
