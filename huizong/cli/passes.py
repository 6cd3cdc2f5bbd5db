"""The commands that run a pass on Prefect (run, rerun, serve) and print what it did."""
from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from rich.markup import escape

from huizong.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_REJECTED,
    Mistake,
    check_folders,
    console,
    quarter,
    say,
    submitting_unit,
)
from huizong.core import progress
from huizong.core.terminal import LINE_CUT, data, shown, table
from huizong.core.vocabulary import VERSION_STATUSES as STATUSES

if TYPE_CHECKING:
    from huizong.flows.result import PassResult


def quiet_prefect() -> None:
    """Settings for an offline run, before Prefect is imported: no telemetry, no noise."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")


def tracebacks_only_when_verbose() -> None:
    """Prefect's terminal log lines without the tracebacks it logs with a failed task or flow
    (the line itself stays; the server's copy of the log, if any, keeps the traceback)."""
    import logging

    from prefect.logging.handlers import PrefectConsoleHandler

    loggers = [logging.getLogger()] + [lg for lg in logging.Logger.manager.loggerDict.values()
                                       if isinstance(lg, logging.Logger)]
    for handler in {h for lg in loggers for h in lg.handlers if isinstance(h, PrefectConsoleHandler)}:
        if getattr(handler, "_huizong_short", False):
            continue
        full = handler.format

        def short(record: logging.LogRecord, full=full) -> str:
            if record.exc_info or record.exc_text or record.stack_info:
                record = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None,
                                                "stack_info": None})
            return full(record)

        handler.format = short
        handler._huizong_short = True


class PassProgress:
    """What the terminal shows while a pass runs: Prefect's lines without the "Finished in state
    Completed()" of every task; on a terminal, a bar over the files read (from the pass's progress
    events, huizong.core.progress) instead of the task lines of each batch; in every line, the
    control characters of file names and reasons shown (huizong.core.terminal.shown)."""

    def __init__(self, bar: bool) -> None:
        import logging

        self.bar, self.progress, self.task = bar, None, None
        outer = self

        class Lines(logging.Filter):
            def filter(self, record: logging.LogRecord) -> bool:
                text = record.getMessage()
                if text.startswith("Finished in state Completed"):
                    return False
                if shown(text, LINE_CUT) != text:  # file names and reasons are the towns' text
                    record.msg, record.args = shown(text, LINE_CUT), ()
                # with a bar, the bar says what the tasks' own lines would
                return not (outer.bar and record.levelno < logging.WARNING and record.name == "prefect.task_runs")

        self.filter = Lines()

    def update(self, event: progress.Event) -> None:
        if not self.bar:
            return
        if isinstance(event, progress.Reading):
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            if self.progress is not None:
                self.progress.stop()
            self.progress = Progress(TextColumn("reading"), BarColumn(), MofNCompleteColumn(),
                                     console=console, transient=True)
            self.task = self.progress.add_task("files", total=event.files)
            self.progress.start()
        elif isinstance(event, progress.Read) and self.progress is not None:
            self.progress.advance(self.task, event.files)

    def __enter__(self) -> "PassProgress":
        import logging

        from prefect.logging.handlers import PrefectConsoleHandler

        loggers = [logging.getLogger()] + [lg for lg in logging.Logger.manager.loggerDict.values()
                                           if isinstance(lg, logging.Logger)]
        self.handlers = {h for lg in loggers for h in lg.handlers if isinstance(h, PrefectConsoleHandler)}
        for handler in self.handlers:
            handler.addFilter(self.filter)
        self.listening = progress.listening(self.update)
        self.listening.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.listening.__exit__(*exc)
        if self.progress is not None:
            self.progress.stop()
        for handler in self.handlers:
            handler.removeFilter(self.filter)


def run_pass_flow(flow_fn, warehouse: Path, announce: str | None = None, verbose: bool = False,
                  **params) -> int:
    """Run a pass flow on Prefect, print its summary; the exit status of CONTRACT.md. The pass
    lock is taken before Prefect starts: a second pass is told so in one sentence (the flow
    takes the lock again; it is re-entrant within a process)."""
    import logging

    from huizong.store.warehouse import pass_lock

    with pass_lock(warehouse):
        if announce:
            console.print(announce, soft_wrap=True)
        from huizong.flows.server import prefect_api

        with prefect_api(warehouse, say=say) as ours:
            from prefect.settings import (
                PREFECT_API_URL,
                PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
                PREFECT_LOGGING_TO_API_ENABLED,
                temporary_settings,
            )

            logging.getLogger("EventsWorker").setLevel(logging.ERROR)  # "still processing" noise at exit
            if not verbose:
                tracebacks_only_when_verbose()
            # A pass run from the command line has its terminal, and it says when it stops: flow
            # heartbeats (which let a server notice a run whose process died) cost it most of a
            # second at the end, so they are off here; the nightly deployment (`serve`) keeps
            # them. Logs stay in the terminal and <warehouse>/logs with our temporary server,
            # which dies with this process; a configured server keeps its copy.
            quiet = {PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}
            if ours:
                quiet[PREFECT_LOGGING_TO_API_ENABLED] = False
                quiet[PREFECT_API_URL] = ours  # our temporary server (flows/server.py)
            with temporary_settings(quiet), PassProgress(bar=console.is_terminal and not verbose):
                try:
                    state = flow_fn(warehouse=warehouse, **params, return_state=True)
                except RuntimeError as e:
                    if ours or "Failed to reach API" not in str(e):
                        raise
                    from huizong.flows.server import ServerUnavailable, configured_api_url

                    raise ServerUnavailable(
                        f"the Prefect server at {configured_api_url()} does not answer: start it "
                        "(`prefect server start`) or unset PREFECT_API_URL for a temporary one") from e
    if not state.is_completed():
        console.print("[red]the pass failed:[/] " + escape(str(state.message)), soft_wrap=True)
        return EXIT_FAILED
    summary = state.result()
    print_pass_summary(summary)
    return EXIT_REJECTED if summary.rejected else EXIT_OK


def _import_in_background(module: str) -> None:
    """Import `module` in a thread (the pass's own import of it then finds it, or waits for it):
    a pass that will read imports what reading needs (pandas, DuckDB, the ledger, the models:
    half a second) while this process waits for Prefect's server and API."""
    import importlib
    import threading

    def load() -> None:
        try:
            importlib.import_module(module)
        except Exception:  # the pass imports it itself, and says what fails
            pass

    threading.Thread(target=load, name=f"huizong-import-{module}", daemon=True).start()


def refuse_dask_without_a_server(args: argparse.Namespace) -> None:
    """An external Dask scheduler needs a Prefect server its workers reach: said before anything
    starts (flows/runners.py)."""
    if args.dask:
        from huizong.flows.runners import LOCAL, require_a_server

        if args.dask != LOCAL:
            require_a_server(args.dask)


def cmd_run(args: argparse.Namespace) -> int:
    check_folders(args.inbox, args.warehouse)
    refuse_dask_without_a_server(args)
    quiet_prefect()
    from huizong.store.warehouse import pass_lock

    with pass_lock(args.warehouse):
        console.print("[bold]huizong run[/]: " + escape(f"inbox {args.inbox} -> warehouse {args.warehouse}"),
                      soft_wrap=True)
        # Prefect's temporary server starts, and the reading workers read the inbox (on Dask,
        # its workers read), while this process imports Prefect
        start_prefect_early(args.warehouse)
        if not args.dask:
            from huizong.flows.ahead import read_ahead

            if read_ahead(args.inbox, args.warehouse):
                _import_in_background("huizong.flows.importing")
        from huizong.flows.nightly import nightly
        from huizong.flows.runners import with_runner

        return run_pass_flow(with_runner(nightly, args.dask), args.warehouse,
                             verbose=getattr(args, "verbose", False), inbox=args.inbox)


def start_prefect_early(warehouse: Path) -> None:
    """Launch Prefect's temporary server before Prefect is imported (flows/server.py)."""
    from huizong.flows.server import start_early

    start_early(warehouse)


def cmd_rerun(args: argparse.Namespace) -> int:
    if not (args.failed or args.unit or args.period or args.year or args.paths):
        raise Mistake("say what to rerun: --failed, --unit CODE, --period P, --year Y or a file path")
    unit = submitting_unit(args.unit)
    period = quarter(args.period)
    missing = [p for p in args.paths if not p.is_file()]
    for p in missing:
        console.print("[red]no such file:[/] " + data(p), soft_wrap=True)
    if missing:
        return EXIT_REJECTED
    check_folders(args.inbox if args.inbox.exists() else None, args.warehouse)
    refuse_dask_without_a_server(args)
    quiet_prefect()
    from huizong.store.warehouse import pass_lock

    with pass_lock(args.warehouse):
        start_prefect_early(args.warehouse)
        if not args.dask:  # a rerun reads: its workers start their imports beside this process's
            from huizong.bulkheads import isolation

            isolation.shared_pool()
        _import_in_background("huizong.flows.importing")
        from huizong.flows.rerun import rerun
        from huizong.flows.runners import with_runner

        return run_pass_flow(with_runner(rerun, args.dask), args.warehouse, verbose=getattr(args, "verbose", False),
                             inbox=args.inbox, failed=args.failed,
                             unit=unit.code if unit else None, period=period, paths=args.paths, force=args.force,
                             year=args.year)


def print_pass_summary(summary: PassResult) -> None:
    """What a pass did, for the terminal and cron mail; every name and reason printed as data."""
    files = summary.files
    counts = {s: sum(f["status"] == s for f in files)
              for s in STATUSES}
    t = table("huizong pass", "outcome", "files", "first file / first reason", prose=("first file / first reason",))
    for status, n in counts.items():
        if n:
            first = next(f for f in files if f["status"] == status)
            detail = first["file_name"] + (f"  {first['first_reason']}" if first["first_reason"] else "")
            t.add_row(status, str(n), detail)
    problems = summary.problems
    warned = summary.warnings
    if warned:
        first = next((g for g in problems if g["grouping"] == "rule" and g["warnings"]), None)
        t.add_row("warnings (loaded anyway)", str(warned),
                  f"{first['first_cells'][0]['file']}  {shown(first['example'])}" if first else "")
    t.add_row("skipped (already received)", str(summary.skipped), "")
    copies = summary.copies
    if copies:
        t.add_row("copies of a file already received", str(len(copies)),
                  f"{shown(copies[0].file_name)} = {shown(copies[0].same_as)}")
    refused = list({r.file_name: r for r in summary.refused}.values())  # each once
    if refused:
        t.add_row("refused (not a regular file)", str(len(refused)),
                  f"{shown(refused[0].file_name)}  {shown(refused[0].reason)}")
    if summary.rebuilt:
        t.add_row("models rebuilt", "", "the catalog or the SQL models changed since the last build")
    if summary.unchanged is not None:  # a rerun
        t.add_row("valid under the same rules (not read again)", str(summary.unchanged),
                  "--force reads them too" if summary.unchanged else "")
    if summary.held:  # a rerun's versions of a signed-off year's quarters
        t.add_row("held: their year is signed off", str(summary.held),
                  "left as they are; huizong unlock --year Y --by NAME --reason TEXT reopens a year")
    if summary.arriving:
        t.add_row("still arriving (next pass)", str(len(summary.arriving)), summary.arriving[0])
    console.print(t)
    print_problem_groups(problems)
    rejected = summary.rejected
    for f in rejected[:LISTED]:
        console.print("[red]rejected[/] " + data(f"{shown(f['file_name'])}: {shown(f['first_reason'])}", None),
                      soft_wrap=True)
    if len(rejected) > LISTED:
        say(f"... and {len(rejected) - LISTED} more rejected file(s): huizong status --period P lists them")
    for r in refused:
        console.print("[red]refused[/] " + data(f"{shown(r.file_name)}: {shown(r.reason)}", None),
                      soft_wrap=True)
    for c in copies:
        say(f"copy {c.file_name}: the same bytes as {c.same_as}, not loaded again")
    for path in summary.reports:
        say(f"report: {path}")
    if summary.reminders:
        say(f"reminders: {summary.reminders}")
    if summary.report_error:
        console.print("[red]the annual summary was not written[/] (the data is published): "
                      + data(summary.report_error, LINE_CUT), soft_wrap=True)


LISTED = 10  # groups and files listed by name in a pass's summary; the rest are counted


def print_problem_groups(problems: list[dict]) -> None:
    """The pass's problems by rule and by unit, with counts and the first cells of each, as
    DHIS2's import summary gives them: a night with 20,000 warnings stays a screenful."""
    for grouping, title in (("rule", "problems by rule"), ("unit", "problems by unit")):
        groups = [g for g in problems if g["grouping"] == grouping]
        if not groups:
            continue
        from huizong.intake.problems import places

        t = table(title, grouping, "errors", "warnings", "files", "first cells", prose=("first cells",))
        for g in groups[:LISTED]:
            t.add_row(g["label"], str(g["errors"]), str(g["warnings"]), str(g["files"]), places(g["first_cells"]))
        console.print(t)
        if len(groups) > LISTED:
            say(f"... and {len(groups) - LISTED} more {grouping}s with problems")
        if grouping == "rule":
            for g in groups[:LISTED]:
                say(f"{g['label']}, for example: {shown(g['example'])}")


def cmd_serve(args: argparse.Namespace) -> int:
    quiet_prefect()
    from huizong.flows.server import configured_api_url

    if not configured_api_url():
        console.print("[red]huizong serve needs a Prefect server[/] (a temporary one keeps no schedule):\n"
                      "  prefect server start          # in another terminal or as a service\n"
                      "  export PREFECT_API_URL=http://127.0.0.1:4200/api\n"
                      "  huizong serve")
        return EXIT_FAILED
    from prefect import serve

    from huizong.flows.nightly import nightly_deployment
    from huizong.flows.rerun import rerun_deployment

    deployment = nightly_deployment(args.inbox, args.warehouse, args.cron, args.timezone)
    console.print(f"serving huizong-nightly/nightly: cron '{args.cron}' ({args.timezone}), "
                  f"inbox {args.inbox.resolve()}, warehouse {args.warehouse.resolve()}; "
                  "and huizong-rerun/rerun, run from the Prefect UI with a unit and a period")
    # the schedule stays active across restarts
    serve(deployment, rerun_deployment(args.inbox, args.warehouse), pause_on_shutdown=False)
    return EXIT_OK
