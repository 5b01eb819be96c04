"""``mailguard audit PATH...``: scan an export, replay it through the engine, write a report.

The CLI calls ``audit_main``; code that already runs an event loop calls ``run_audit``.
Exit codes: 0 the report was written and every message was processed; 1 the report was
written but some messages failed in the engine or some entries could not be read (the
report lists them); 2 no report (unknown format, no such path, output not writable).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from mailguard.audit.render import DETAIL_LIMIT, FORMATS, iter_render
from mailguard.audit.replay import EngineFactory, ProgressCallback, replay_all
from mailguard.audit.report import AuditReport, ReportBuilder
from mailguard.audit.sources import scan_paths

EXIT_OK = 0
EXIT_INCOMPLETE = 1
EXIT_USAGE = 2


async def run_audit(
    paths: Sequence[str],
    *,
    engine_factory: EngineFactory,
    bucket: str = "auto",
    on_total: ProgressCallback | None = None,
    on_progress: ProgressCallback | None = None,
) -> AuditReport:
    """Scan ``paths``, replay every message in date order, and return the report.

    ``on_total`` is told the number of messages found by the first pass, before the
    replay starts; ``on_progress`` is told how many were handled since its last call.
    """
    # The readers do blocking file I/O on purpose: the audit is an offline batch job
    # with nothing else on the loop, and a thread hop per message would halve throughput.
    index = scan_paths(paths)
    if on_total is not None:
        on_total(len(index))
    builder = ReportBuilder(bucket=bucket, sources=tuple(str(p) for p in paths))
    async with engine_factory() as engine:
        await replay_all(iter(index), engine, builder, on_progress=on_progress)
    builder.add_skipped(index.skipped, index.skipped_count)
    builder.add_ignored(index.ignored, index.ignored_count)
    return builder.build()


def audit_main(
    paths: Sequence[str],
    *,
    fmt: str = "text",
    output: str | None = None,
    engine_factory: EngineFactory,
    bucket: str = "auto",
    progress: bool | None = None,
    detail_limit: int = DETAIL_LIMIT,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the audit and write the report to ``output`` (None or "-" = stdout).

    ``progress`` None shows a progress bar only when stderr is a terminal, so redirected
    output and CI logs stay clean. ``detail_limit`` caps the timelines per rule in the
    human formats. Returns the exit code (see the module docstring).
    """
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    if fmt not in FORMATS:
        print(f"mailguard audit: unknown format {fmt!r} ({', '.join(FORMATS)})", file=err)
        return EXIT_USAGE
    missing = [p for p in paths if not os.path.exists(p)]
    if not paths or len(missing) == len(paths):
        print(f"mailguard audit: no such path: {', '.join(missing) or '(none given)'}", file=err)
        return EXIT_USAGE
    show = err.isatty() if progress is None else progress
    with _progress_bar(err, show) as (on_total, on_progress):
        report = asyncio.run(
            run_audit(
                paths,
                engine_factory=engine_factory,
                bucket=bucket,
                on_total=on_total,
                on_progress=on_progress,
            )
        )
    try:
        write_output(iter_render(report, fmt, detail_limit=detail_limit), output, out)
    except BrokenPipeError:
        # The reader went away (``mailguard audit ... | head``): not an error of ours. Point
        # stdout at /dev/null so the interpreter's final flush does not complain again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        with contextlib.suppress(OSError, ValueError):
            os.dup2(devnull, out.fileno())
        os.close(devnull)
        return EXIT_OK
    except OSError as exc:
        print(f"mailguard audit: cannot write {output}: {exc.strerror or exc}", file=err)
        return EXIT_USAGE
    if report.failure_count or report.skipped_count:
        print(
            f"mailguard audit: {report.failure_count} message(s) failed, "
            f"{report.skipped_count} entr(y/ies) unreadable; see the report",
            file=err,
        )
        return EXIT_INCOMPLETE
    return EXIT_OK


def write_output(chunks: Iterable[str], output: str | None, stdout: TextIO) -> None:
    """Write to stdout, or to a file atomically so a failed run never leaves half a report.

    Only a regular file (or a new one) is replaced atomically: renaming a temporary file
    over ``/dev/null``, a FIFO or a terminal would replace the device itself, so those are
    written in place.
    """
    if output is None or output == "-":
        stdout.writelines(chunks)
        stdout.flush()
        return
    target = Path(output)
    try:
        special = not stat.S_ISREG(target.stat().st_mode)
    except FileNotFoundError:
        special = False
    if special:
        with target.open("w", encoding="utf-8") as handle:
            handle.writelines(chunks)
        return
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or Path("."))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.writelines(chunks)
        # mkstemp creates the file 0600; a report is meant to be shared like any file the
        # user writes, so it gets the permissions the umask gives.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def _progress_bar(
    stream: TextIO, show: bool
) -> Iterator[tuple[ProgressCallback | None, ProgressCallback | None]]:
    """Callbacks driving a rich progress bar on ``stream``, or (None, None) when hidden.

    The caller has already decided to show it (a TTY, or asked for), so rich is told
    the stream is a terminal rather than second-guessing that decision.
    """
    if not show:
        yield None, None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("replaying"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
    )
    with Progress(
        *columns, console=Console(file=stream, force_terminal=True), transient=True
    ) as bar:
        task = bar.add_task("replay", total=None)

        def on_total(total: int) -> None:
            bar.update(task, total=total)

        def on_progress(done: int) -> None:
            bar.advance(task, done)

        yield on_total, on_progress
