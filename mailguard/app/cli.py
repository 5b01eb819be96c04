"""The ``mailguard`` command: arguments, logging set-up and exit codes; no logic of its own.

Exit codes:
  0  success
  1  a runtime failure (database unreachable, unreadable input, ...)
  2  bad usage or an invalid configuration file
  130 interrupted
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mailguard import __version__
from mailguard.config import Config, load_config, redact_url
from mailguard.config.model import ConfigDeprecationWarning
from mailguard.config.values import parse_domain
from mailguard.errors import ConfigError, MailguardError
from mailguard.ops.logsetup import configure_logging, load_or_create_key

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for `yes | head`

DEFAULT_CONFIG_ENV = "MAILGUARD_CONFIG"

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="mailguard",
        description="Hands support customers who are stuck with auto-responders to a person.",
        epilog="Exit codes: 0 ok, 1 runtime failure, 2 bad usage or configuration.",
    )
    parser.add_argument("--version", action="version", version=f"mailguard {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    check = commands.add_parser(
        "check-config",
        help="validate a configuration file",
        description="Print every problem as FILE:LINE: key: problem (exit 2), or a summary.",
    )
    _add_config_arg(check, required=True)
    check.set_defaults(handler=_check_config)

    db = commands.add_parser("db", help="database schema commands")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = db_commands.add_parser("upgrade", help="migrate the database to a revision")
    _add_config_arg(upgrade)
    upgrade.add_argument("revision", nargs="?", default="head", help="target (default: head)")
    upgrade.set_defaults(handler=_db_upgrade)
    downgrade = db_commands.add_parser("downgrade", help="migrate the database back")
    _add_config_arg(downgrade)
    downgrade.add_argument("revision", help="target revision, or 'base' for an empty schema")
    downgrade.set_defaults(handler=_db_downgrade)
    current = db_commands.add_parser("current", help="print the database's revision")
    _add_config_arg(current)
    current.set_defaults(handler=_db_current)
    backup = db_commands.add_parser(
        "backup",
        help="copy the SQLite database, also while the daemon runs",
        description="A consistent online copy by SQLite's backup API; PostgreSQL: pg_dump.",
    )
    _add_config_arg(backup)
    backup.add_argument("dest", metavar="DEST", help="the copy (a new file)")
    backup.set_defaults(handler=_db_backup)

    explain = commands.add_parser(
        "explain",
        help="classify one message and show every rule that fired",
        description="Print kind, automated, confidence, language, frustration and evidence.",
    )
    explain.add_argument("file", metavar="FILE.eml", help="the message; - reads stdin")
    explain.add_argument("--json", action="store_true", help="stable JSON (docs/explain.md)")
    explain.add_argument(
        "--model",
        action="store_true",
        help="also hear the learned voice model (off by default; docs/classifier.md)",
    )
    _add_config_arg(explain)
    explain.set_defaults(handler=_explain)

    _add_try_command(commands)

    audit = commands.add_parser(
        "audit",
        help="replay an exported mailbox and report trapped customers",
        description="Replay mbox files, Maildirs or folders of .eml through the loop policy "
        "offline and report which customers were stuck with robots. Inbound and sent mail "
        "are told apart by the company's domains (company.domains in the config, or "
        "--own-domain).",
    )
    audit.add_argument("paths", nargs="+", metavar="PATH", help="mbox, Maildir, .eml or folder")
    audit.add_argument(
        "--format", default="text", choices=("text", "md", "html", "json"), help="report format"
    )
    audit.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")
    audit.add_argument(
        "--own-domain",
        action="append",
        default=[],
        metavar="DOMAIN",
        help="a company domain (repeatable; added to company.domains)",
    )
    audit.add_argument(
        "--db", metavar="FILE", help="keep the replay's SQLite database here (default: temporary)"
    )
    audit.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: when stderr is a terminal)",
    )
    _add_config_arg(audit)
    audit.set_defaults(handler=_audit)

    _add_held_commands(commands)
    _add_privacy_commands(commands)

    status = commands.add_parser(
        "status",
        help="open escalations, held mail, the outbox and each folder's last sync",
        description="Reads the database, and asks a running daemon (its /healthz) how its "
        "mailboxes are doing.",
    )
    _add_config_arg(status)
    status.set_defaults(handler=_status)

    threads = commands.add_parser(
        "threads",
        help="a customer's timeline with the decisions taken",
        description="Every message of the customer (who wrote what when, robot or human), the "
        "decisions that hit a rule and the escalations; without --customer the most recently "
        "active customers.",
    )
    threads.add_argument("--customer", metavar="ADDR", help="the customer's address")
    _add_config_arg(threads)
    threads.set_defaults(handler=_threads)

    resolve = commands.add_parser(
        "resolve",
        help="resolve an escalation (as an agent's 'handled' signal does)",
        description="Resolves escalation ID and the customer's other open escalations, and "
        "resets the customer's counters; IDs are listed by 'mailguard status'.",
    )
    resolve.add_argument("id", type=int, metavar="ID", help="the escalation's number")
    resolve.add_argument(
        "--by", default=None, metavar="WHO", help="who resolved it (default: operator:$USER)"
    )
    _add_config_arg(resolve)
    resolve.set_defaults(handler=_resolve)

    run = commands.add_parser(
        "run",
        help="run the daemon",
        description="Run mailguard with the configuration file, or embedded defaults without one.",
    )
    _add_config_arg(run)
    run.set_defaults(handler=_run)
    return parser


def _add_try_command(commands: Any) -> None:
    trial = commands.add_parser(
        "try",
        help="what the configuration and the current database would do with one message",
        description="Classification, the decision with its rules and evidence, and the "
        "proxy's or the IMAP side's action, as the running daemon would take them; changes "
        "nothing (docs/explain.md).",
    )
    trial.add_argument("file", metavar="MESSAGE.eml", help="the message (an .eml file)")
    trial.add_argument(
        "--mailbox", metavar="NAME", help="the guarded mailbox (default: by address)"
    )
    trial.add_argument(
        "--direction",
        choices=("inbound", "outbound"),
        help="default: outbound when From is a company address",
    )
    _add_config_arg(trial, required=True)
    trial.set_defaults(handler=_try)


def _add_held_commands(commands: Any) -> None:
    held = commands.add_parser(
        "held", help="list, show, release or drop mail the proxy or the milter held"
    )
    actions = held.add_subparsers(dest="held_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="held messages, oldest first")
    listing.add_argument("--all", action="store_true", help="released and dropped ones too")
    listing.add_argument("--mailbox", metavar="NAME", help="only this guarded mailbox")
    show = actions.add_parser("show", help="envelope, reason and headers of one message")
    show.add_argument("--raw", action="store_true", help="write the raw message to stdout")
    release = actions.add_parser("release", help="relay the original message, once")
    release.add_argument(
        "--force", action="store_true", help="send a released message again (see docs/smtp.md)"
    )
    drop = actions.add_parser("drop", help="discard a held message")
    for parser in (listing, show, release, drop):
        _add_config_arg(parser)
        parser.set_defaults(handler=_held)
    for parser in (show, release, drop):
        parser.add_argument("id", type=int, help="the id from mailguard held list")


def _add_privacy_commands(commands: Any) -> None:
    privacy = commands.add_parser(
        "privacy",
        help="show or erase what mailguard stores about one customer (GDPR Art. 15, 17)",
        description="A customer's address with its plus-tag and case variants, in every "
        "guarded mailbox: what mailguard stores about them (docs/privacy.md).",
    )
    actions = privacy.add_subparsers(dest="privacy_command", metavar="ACTION", required=True)
    export = actions.add_parser(
        "export",
        help="print everything mailguard stores about a customer (messages, decisions, "
        "escalations, threads, held, deferred and failed mail, actions, notifications) as "
        "text or as versioned JSON",
        description="Everything about the address in every guarded mailbox, with its "
        "plus-tag and case variants; an empty result says so. JSON: every column, raw mail "
        "in base64, schema in docs/privacy.md.",
    )
    export.add_argument("--format", default="text", choices=("text", "json"))
    erase = actions.add_parser(
        "erase",
        help="delete everything mailguard stores about a customer in one transaction and "
        "show what went; refused while held mail for them waits, unless --drop-held",
        description="Deletes what 'privacy export' lists, in one transaction; running it "
        "again is harmless, and a later message from the address starts from nothing. Logs "
        "only a keyed hash of the address.",
    )
    erase.add_argument(
        "--drop-held",
        action="store_true",
        help="drop the customer's held and deferred mail (never sent) instead of refusing",
    )
    for parser in (export, erase):
        parser.add_argument("--customer", required=True, metavar="ADDRESS", help="the address")
        parser.add_argument(
            "--mailboxes",
            action="store_true",
            help="also mailguard's own copies in IMAP naming the customer (the notes in "
            "the escalation and handled folders, the copies in the held folder); never the "
            "customer's own messages",
        )
        _add_config_arg(parser)
        parser.set_defaults(handler=_privacy)


def _add_config_arg(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    default = None if required else os.environ.get(DEFAULT_CONFIG_ENV)
    parser.add_argument(
        "-c",
        "--config",
        metavar="FILE",
        required=required,
        default=default,
        help="YAML configuration file"
        + ("" if required else f" (default: ${DEFAULT_CONFIG_ENV}, else embedded defaults)"),
    )


def _config(args: argparse.Namespace) -> Config:
    path = getattr(args, "config", None)
    return _load(path) if path else Config()


def _load(path: str) -> Config:
    """``load_config``, with moved keys reported as one plain line each on stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConfigDeprecationWarning)
        config = load_config(path)
    for warning in caught:
        if issubclass(warning.category, ConfigDeprecationWarning):
            print(f"{path}: warning: {warning.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    return config


def _checked(path: str) -> Config:
    """:func:`_load`, and beyond the keys the files and programs the token providers need."""
    from mailguard.oauth.providers import check_config

    config = _load(path)
    problems = check_config(config)
    if problems:
        raise ConfigError(path, problems)
    return config


def _check_config(args: argparse.Namespace) -> int:
    from mailguard.config.settings import dry_run_of

    config = _checked(args.config)
    mailboxes = ", ".join(
        f"{m.name} ({', '.join(m.addresses)}{'; IMAP ' + m.imap.host if m.imap else ''}"
        f"{', OAuth2 ' + m.imap.oauth2.provider if m.imap and m.imap.oauth2 else ''})"
        for m in config.mailboxes
    )
    proxy = config.proxy
    print(f"{args.config}: valid")
    print(f"  mailboxes: {mailboxes or 'none'}")
    if proxy.enabled:
        upstream = config.relay
        print(
            f"  proxy:     {proxy.listen_host}:{proxy.listen_port} -> "
            f"{upstream.host}:{upstream.port} ({upstream.tls})"
        )
    else:
        print("  proxy:     disabled")
    milter = config.milter
    print(f"  milter:    {milter.listen if milter is not None else 'disabled'}")
    print(f"  relay:     {config.relay.host}:{config.relay.port} ({config.relay.tls})")
    print(f"  storage:   {redact_url(config.storage_url)}")
    print(f"  dry run:   {dry_run_of(config).describe()}")
    return EXIT_OK


def _db_upgrade(args: argparse.Namespace) -> int:
    from mailguard.store.schema import upgrade

    config = _config(args)
    _prepare_data_dir(config)
    asyncio.run(upgrade(config.storage_url, args.revision))
    print(f"database {redact_url(config.storage_url)} upgraded to {args.revision}")
    return EXIT_OK


def _db_downgrade(args: argparse.Namespace) -> int:
    from mailguard.store.schema import downgrade

    config = _config(args)
    asyncio.run(downgrade(config.storage_url, args.revision))
    print(f"database {redact_url(config.storage_url)} downgraded to {args.revision}")
    return EXIT_OK


def _db_current(args: argparse.Namespace) -> int:
    from mailguard.store.schema import current

    config = _config(args)
    revision = asyncio.run(current(config.storage_url))
    print(revision or "(empty database)")
    return EXIT_OK


def _db_backup(args: argparse.Namespace) -> int:
    from mailguard.app.backup import backup_sqlite

    pages = backup_sqlite(_config(args).storage_url, Path(args.dest))
    print(f"{args.dest}: {pages} pages, integrity ok")
    return EXIT_OK


def _explain(args: argparse.Namespace) -> int:
    from mailguard.app.explain import explain_main
    from mailguard.config.settings import classifier_settings_of

    config = _config(args)
    settings = classifier_settings_of(config)
    return explain_main(args.file, as_json=args.json, settings=settings, learned=args.model)


def _try(args: argparse.Namespace) -> int:
    from mailguard.app.trial import read_message, try_main

    config = _config(args)
    raw = read_message(args.file)
    work = try_main(config, raw, mailbox=args.mailbox, direction=args.direction, out=sys.stdout)
    return asyncio.run(work)


def _audit(args: argparse.Namespace) -> int:
    from mailguard.audit.engine import audit_engine_factory
    from mailguard.audit.main import audit_main
    from mailguard.config.settings import classifier_settings_of, identity_of, policy_of

    config = _config(args)
    identity = identity_of(config)
    try:
        extra = {parse_domain(d) for d in args.own_domain}
    except ValueError as exc:
        print(f"mailguard audit: --own-domain: {exc}", file=sys.stderr)
        return EXIT_USAGE
    domains = identity.own_domains | extra
    if not domains and not identity.own_addresses:
        print(
            "mailguard audit: the company's own domains are needed to tell inbound from sent "
            "mail: give --own-domain DOMAIN or company.domains in -c FILE",
            file=sys.stderr,
        )
        return EXIT_USAGE
    mailboxes = {name: addrs for name, addrs in identity.mailboxes} or {"support": frozenset()}
    factory = audit_engine_factory(
        own_domains=domains,
        own_addresses=identity.own_addresses,
        mailboxes=mailboxes,
        policy=policy_of(config),
        classifier_settings=classifier_settings_of(config),
        db_path=args.db,
    )
    return audit_main(
        args.paths,
        fmt=args.format,
        output=args.output,
        engine_factory=factory,
        progress=args.progress,
    )


def _held(args: argparse.Namespace) -> int:
    from mailguard.app import held

    config = _config(args)
    command = args.held_command
    if command == "list":
        work = held.held_list(config, every_state=args.all, mailbox=args.mailbox)
    elif command == "show":
        work = held.held_show(config, args.id, raw=args.raw)
    elif command == "release":
        _configure_logging(config, "warning")
        work = held.held_release(config, args.id, force=args.force)
    else:
        work = held.held_drop(config, args.id)
    return asyncio.run(work)


def _privacy(args: argparse.Namespace) -> int:
    from mailguard.app import privacy

    config = _config(args)
    _configure_logging(config, "info")
    if args.privacy_command == "export":
        work = privacy.export(
            config,
            args.customer,
            fmt=args.format,
            mailboxes=args.mailboxes,
            out=sys.stdout,
            err=sys.stderr,
        )
    else:
        work = privacy.erase(
            config,
            args.customer,
            key=pseudonym_key(config),
            drop_held=args.drop_held,
            mailboxes=args.mailboxes,
            out=sys.stdout,
            err=sys.stderr,
        )
    return asyncio.run(work)


def _status(args: argparse.Namespace) -> int:
    from mailguard.app import operator

    return asyncio.run(operator.status(_config(args), sys.stdout))


def _threads(args: argparse.Namespace) -> int:
    from mailguard.app import operator

    return asyncio.run(operator.threads(_config(args), args.customer, sys.stdout))


def _resolve(args: argparse.Namespace) -> int:
    from mailguard.app import operator

    by = args.by or f"operator:{os.environ.get('USER', 'cli')}"
    return asyncio.run(operator.resolve(_config(args), args.id, by, sys.stdout))


def pseudonym_key(config: Config) -> bytes:
    """The key of the logs' pseudonyms: ``logging.pseudonymize_key``, or the one generated
    into the data directory on first use (:func:`~mailguard.ops.logsetup.load_or_create_key`)."""
    configured = config.logging.pseudonymize_key
    if configured is not None:
        return configured.get_secret_value().encode()
    return load_or_create_key(Path(config.data_dir))


def _configure_logging(config: Config, level: str | None = None) -> None:
    key = pseudonym_key(config) if config.logging.pseudonymize else None
    configure_logging(config.logging.format, level or config.logging.level, pseudonymize_key=key)


def _prepare_data_dir(config: Config) -> None:
    if config.storage.url is None:
        Path(config.data_dir).mkdir(parents=True, exist_ok=True)


def _run(args: argparse.Namespace) -> int:
    from mailguard.app.daemon import run_daemon

    # Checked as check-config checks it, so that a bad file ends the start with exit 2
    # (what systemd's RestartPreventExitStatus=2 keeps from restarting for ever).
    path = getattr(args, "config", None)
    config = _checked(path) if path else Config()
    _configure_logging(config)
    _prepare_data_dir(config)
    return asyncio.run(run_daemon(config, config_path=path))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except MailguardError as exc:
        print(f"mailguard: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`mailguard check-config | head`): stop quietly, and point
        # stdout at /dev/null so the interpreter's final flush does not complain either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
