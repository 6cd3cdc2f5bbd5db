"""The `huizong` command: a thin layer over the library and the Prefect flow (CONTRACT.md)."""
from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
from pathlib import Path

from rich.markup import escape
from rich.text import Text

from huizong.terminal import LINE_CUT, data, make_console, shown, table
from huizong.vocabulary import VERSION_STATUSES as STATUSES

EXIT_OK, EXIT_FAILED, EXIT_REJECTED = 0, 1, 2


console = make_console()
err_console = make_console(stderr=True)


class Mistake(Exception):
    """A user's mistake the command answers with one sentence and exit 1."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that context managers (the temporary server) and atexit run."""


def say(text: str) -> None:
    """One line of plain text (data in it is never markup, its control characters are shown,
    huizong.terminal.shown), never wrapped."""
    console.print(shown(text, LINE_CUT), markup=False, highlight=False, soft_wrap=True)


def quiet_prefect() -> None:
    """Settings for an offline run, before Prefect is imported: no telemetry, no noise."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")


def quarter(text: str | None) -> str | None:
    """A quarter as the commands take it (2019Q3, 2019年第三季度); Mistake if it is none."""
    if text is None:
        return None
    from huizong.cells import parse_period

    period = parse_period(text)
    if period is None:
        raise Mistake(f"not a quarter: {text} (use e.g. 2019Q3)")
    return period


def submitting_unit(code: str | None):
    """A town's or department's code, checked against the catalog; Mistake if it is none."""
    if code is None:
        return None
    from huizong.schemas import catalog as cat

    unit = cat.unit_by_code().get(code.strip())
    if unit is None or unit not in cat.submitters():
        raise Mistake(f"not a submitting unit's code: {code} (the towns' and departments' codes "
                      "are in the catalog, e.g. 990101100)")
    return unit


def check_folders(inbox: Path | None, warehouse: Path) -> None:
    """What a pass reads and writes, checked before anything is created."""
    if inbox is not None:
        if not inbox.exists():
            raise Mistake(f"no inbox at {inbox}: name the folder of received workbooks with --inbox")
        if not inbox.is_dir():
            raise Mistake(f"{inbox} is a file, not a folder: --inbox names the folder of received workbooks")
    if warehouse.exists() and not warehouse.is_dir():
        raise Mistake(f"{warehouse} is a file, not a folder: --warehouse names the warehouse's folder")


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
    Completed()" of every task; on a terminal, a bar over the files read instead of the line of
    each batch (the flow logs "reading N file(s) ..." then "read K file(s): ..." per batch); in
    every line, the control characters of file names and reasons shown (huizong.terminal.shown)."""

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
                if outer.bar and record.levelno < logging.WARNING and record.name == "prefect.task_runs":
                    outer.update(text)
                    return False
                return True

        self.filter = Lines()

    def update(self, text: str) -> None:
        import re

        if m := re.match(r"reading (\d+) file", text):
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.progress = Progress(TextColumn("reading"), BarColumn(), MofNCompleteColumn(),
                                     console=console, transient=True)
            self.task = self.progress.add_task("files", total=int(m.group(1)))
            self.progress.start()
        elif (m := re.match(r"read (\d+) file", text)) and self.progress is not None:
            self.progress.advance(self.task, int(m.group(1)))

    def __enter__(self) -> "PassProgress":
        from prefect.logging.handlers import PrefectConsoleHandler
        import logging

        loggers = [logging.getLogger()] + [lg for lg in logging.Logger.manager.loggerDict.values()
                                           if isinstance(lg, logging.Logger)]
        self.handlers = {h for lg in loggers for h in lg.handlers if isinstance(h, PrefectConsoleHandler)}
        for handler in self.handlers:
            handler.addFilter(self.filter)
        return self

    def __exit__(self, *exc) -> None:
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

    from huizong.warehouse import pass_lock

    with pass_lock(warehouse):
        if announce:
            console.print(announce, soft_wrap=True)
        from huizong.flows.server import prefect_api

        with prefect_api(warehouse, say=say) as ours:
            from prefect.settings import (PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
                                          PREFECT_LOGGING_TO_API_ENABLED, temporary_settings)

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
    return EXIT_REJECTED if any(f["status"] == "rejected" for f in summary["files"]) else EXIT_OK


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


def cmd_run(args: argparse.Namespace) -> int:
    check_folders(args.inbox, args.warehouse)
    quiet_prefect()
    from huizong.warehouse import pass_lock

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
    if not (args.failed or args.unit or args.period or args.paths):
        raise Mistake("say what to rerun: --failed, --unit CODE, --period P or a file path")
    unit = submitting_unit(args.unit)
    period = quarter(args.period)
    missing = [p for p in args.paths if not p.is_file()]
    for p in missing:
        console.print("[red]no such file:[/] " + data(p), soft_wrap=True)
    if missing:
        return EXIT_REJECTED
    check_folders(args.inbox if args.inbox.exists() else None, args.warehouse)
    quiet_prefect()
    from huizong.warehouse import pass_lock

    with pass_lock(args.warehouse):
        start_prefect_early(args.warehouse)
        if not args.dask:  # a rerun reads: its workers start their imports beside this process's
            from huizong import isolation

            isolation.shared_pool()
        _import_in_background("huizong.flows.importing")
        from huizong.flows.rerun import rerun
        from huizong.flows.runners import with_runner

        return run_pass_flow(with_runner(rerun, args.dask), args.warehouse, verbose=getattr(args, "verbose", False),
                             inbox=args.inbox, failed=args.failed,
                             unit=unit.code if unit else None, period=period, paths=args.paths, force=args.force)


def print_pass_summary(summary: dict) -> None:
    """What a pass did, for the terminal and cron mail; every name and reason printed as data."""
    files = summary["files"]
    counts = {s: sum(f["status"] == s for f in files)
              for s in STATUSES}
    t = table("huizong pass", "outcome", "files", "first file / first reason", prose=("first file / first reason",))
    for status, n in counts.items():
        if n:
            first = next(f for f in files if f["status"] == status)
            detail = first["file_name"] + (f"  {first['first_reason']}" if first["first_reason"] else "")
            t.add_row(status, str(n), detail)
    problems = summary.get("problems") or []
    warned = sum(f.get("n_warnings") or 0 for f in files)
    if warned:
        first = next((g for g in problems if g["grouping"] == "rule" and g["warnings"]), None)
        t.add_row("warnings (loaded anyway)", str(warned),
                  f"{first['first_cells'][0]['file']}  {shown(first['example'])}" if first else "")
    t.add_row("skipped (already received)", str(summary["skipped"]), "")
    copies = summary.get("copies") or []
    if copies:
        t.add_row("copies of a file already received", str(len(copies)),
                  f"{shown(copies[0]['file_name'])} = {shown(copies[0]['same_as'])}")
    refused = list({r["file_name"]: r for r in summary.get("refused") or []}.values())  # each once
    if refused:
        t.add_row("refused (not a regular file)", str(len(refused)),
                  f"{shown(refused[0]['file_name'])}  {shown(refused[0]['reason'])}")
    if summary.get("rebuilt"):
        t.add_row("models rebuilt", "", "the catalog or the SQL models changed since the last build")
    if "unchanged" in summary:  # a rerun
        t.add_row("valid under the same rules (not read again)", str(summary["unchanged"]),
                  "--force reads them too" if summary["unchanged"] else "")
    if summary.get("held"):  # a rerun's versions of a signed-off year's quarters
        t.add_row("held: their year is signed off", str(summary["held"]),
                  "left as they are; huizong unlock --year Y --by NAME --reason TEXT reopens a year")
    if summary.get("arriving"):
        t.add_row("still arriving (next pass)", str(len(summary["arriving"])), summary["arriving"][0])
    console.print(t)
    print_problem_groups(problems)
    rejected = [f for f in files if f["status"] == "rejected"]
    for f in rejected[:LISTED]:
        console.print("[red]rejected[/] " + data(f"{shown(f['file_name'])}: {shown(f['first_reason'])}", None),
                      soft_wrap=True)
    if len(rejected) > LISTED:
        say(f"... and {len(rejected) - LISTED} more rejected file(s): huizong status --period P lists them")
    for r in refused:
        console.print("[red]refused[/] " + data(f"{shown(r['file_name'])}: {shown(r['reason'])}", None),
                      soft_wrap=True)
    for c in copies:
        say(f"copy {c['file_name']}: the same bytes as {c['same_as']}, not loaded again")
    for path in summary.get("reports", []):
        say(f"report: {path}")
    if summary.get("reminders"):
        say(f"reminders: {summary['reminders']}")
    if summary.get("report_error"):
        console.print("[red]the annual summary was not written[/] (the data is published): "
                      + data(summary["report_error"], LINE_CUT), soft_wrap=True)


LISTED = 10  # groups and files listed by name in a pass's summary; the rest are counted


def print_problem_groups(problems: list[dict]) -> None:
    """The pass's problems by rule and by unit, with counts and the first cells of each, as
    DHIS2's import summary gives them: a night with 20,000 warnings stays a screenful."""
    for grouping, title in (("rule", "problems by rule"), ("unit", "problems by unit")):
        groups = [g for g in problems if g["grouping"] == grouping]
        if not groups:
            continue
        from huizong.problems import places

        t = table(title, grouping, "errors", "warnings", "files", "first cells", prose=("first cells",))
        for g in groups[:LISTED]:
            t.add_row(g["label"], str(g["errors"]), str(g["warnings"]), str(g["files"]), places(g["first_cells"]))
        console.print(t)
        if len(groups) > LISTED:
            say(f"... and {len(groups) - LISTED} more {grouping}s with problems")
        if grouping == "rule":
            for g in groups[:LISTED]:
                say(f"{g['label']}, for example: {shown(g['example'])}")


def _read_only(args: argparse.Namespace, marts: bool = True):
    """The published warehouse, read-only; with `marts`, a Mistake if nothing is published yet."""
    from huizong.warehouse import connect_read_only, has_marts, nothing_published

    con = connect_read_only(args.warehouse)
    if con is None:
        raise Mistake(f"no warehouse yet at {args.warehouse}; run `huizong run` first")
    if marts and not has_marts(con):
        con.close()
        raise Mistake(nothing_published(args.warehouse))
    return con


def _text(value) -> str:
    return "" if value is None else str(value)


def print_result(cursor, limit: int | None = None, title: str | None = None, optional: tuple[str, ...] = (),
                 unless_empty: tuple[str, ...] = ()) -> None:
    """An executed query's result as a readable table; says so when it stops at `limit` rows.
    `optional` columns may be left out in a narrow terminal; `unless_empty` ones are shown only
    when some row has a value in them."""
    names = [c[0] for c in cursor.description]
    rows = cursor.fetchall() if limit is None else cursor.fetchmany(limit + 1)
    shown_rows = rows[:limit]
    keep = [i for i, n in enumerate(names)
            if n not in unless_empty or any(row[i] not in (None, "") for row in shown_rows)]
    t = table(title, *[names[i] for i in keep], optional=optional)
    for row in shown_rows:
        t.add_row(*[_text(row[i]) for i in keep])
    console.print(t)
    if limit is not None and len(rows) > limit:
        say(f"(the first {limit} rows; there are more: raise --limit, or --format csv for every row)")


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

    deployment = nightly_deployment(args.inbox, args.warehouse, args.cron, args.timezone)
    console.print(f"serving huizong-nightly/nightly: cron '{args.cron}' ({args.timezone}), "
                  f"inbox {args.inbox.resolve()}, warehouse {args.warehouse.resolve()}")
    serve(deployment, pause_on_shutdown=False)  # the schedule stays active across restarts
    return EXIT_OK


def write_csv(cursor, out) -> None:
    """The whole result as CSV; a text starting with = + - @ is prefixed with ' (OWASP)."""
    import csv

    writer = csv.writer(out)
    writer.writerow([c[0] for c in cursor.description])
    for row in cursor.fetchall():
        writer.writerow(["'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r") else v
                         for v in row])


def json_value(value):
    """What json cannot write itself: a DECIMAL as a JSON number, a date or time as its ISO
    text, anything else (UUID, interval) as its text."""
    import datetime as dt
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 \
            else float(value)
    if isinstance(value, (dt.date, dt.time)):  # datetime too
        return value.isoformat()
    return str(value)


def write_json(cursor, out) -> None:
    """Every row as a JSON object, one list: numbers as numbers, dates as ISO text."""
    import json

    names = [c[0] for c in cursor.description]
    rows = [dict(zip(names, row)) for row in cursor.fetchall()]
    json.dump(rows, out, ensure_ascii=False, indent=1, default=json_value)
    out.write("\n")


def write_markdown(cursor, out, limit: int | None) -> None:
    """A Markdown table (| in cells escaped), cut at `limit` rows with a note saying so."""
    def cell(v) -> str:
        return _text(v).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")

    names = [c[0] for c in cursor.description]
    out.write("| " + " | ".join(cell(n) for n in names) + " |\n")
    out.write("|" + "---|" * len(names) + "\n")
    rows = cursor.fetchall() if limit is None else cursor.fetchmany(limit + 1)
    for row in rows[:limit]:
        out.write("| " + " | ".join(cell(v) for v in row) + " |\n")
    if limit is not None and len(rows) > limit:
        out.write(f"\n(the first {limit} rows; there are more: raise --limit)\n")


def cmd_query(args: argparse.Namespace) -> int:
    import duckdb

    if args.limit < 0:
        raise Mistake(f"--limit {args.limit}: the number of rows to print, 0 or more")
    fmt = "csv" if args.csv else args.format
    con = _read_only(args, marts=False)  # the ledger (ops.*) is there before any build
    try:
        cursor = con.execute(args.sql)
        if cursor.description is None:
            return EXIT_OK
        if fmt == "csv":
            write_csv(cursor, sys.stdout)
        elif fmt == "json":
            write_json(cursor, sys.stdout)
        elif fmt == "markdown":
            write_markdown(cursor, sys.stdout, args.limit)
        else:
            print_result(cursor, limit=args.limit)
    except duckdb.Error as e:
        if isinstance(e, duckdb.IOException):
            raise
        raise Mistake("query failed: " + " ".join(str(e).split())) from None
    finally:
        con.close()
    return EXIT_OK


EXPLAIN_FIGURE = """
select f.value, f.figure, f.quarters_valid, f.quarters_expected, i.indicator_name, i.measure_unit
from (select year, indicator_code, slot, value, figure, quarters_valid, quarters_expected
      from marts.summary_figures
      union all by name
      select year, indicator_code, 1 as slot, value, '全县合计' as figure, quarters_valid, quarters_expected
      from marts.county_totals t
      where not exists (select 1 from marts.summary_figures s
                        where s.year = t.year and s.indicator_code = t.indicator_code)) f
join staging.stg_indicators i using (indicator_code)
where f.year = $year and f.indicator_code = $code and f.slot = $slot
"""

EXPLAIN_SOURCES = """
select u.unit_name || ' ' || l.unit_code as unit,
    case when l.submitter_code <> l.unit_code then s.unit_name || ' ' || l.submitter_code end as "submitted by",
    l.value_indicator_code as indicator, l.period, coalesce(cast(l.value as varchar), l.level) as value,
    l.file_name, l.sheet || '!' || l.cell as cell, left(l.sha256, 12) as sha256
from marts.figure_lineage l
join staging.stg_units u on u.unit_code = l.unit_code
join staging.stg_units s on s.unit_code = l.submitter_code
where l.year = $year and l.indicator_code = $code and l.slot = $slot
order by l.submitter_code, l.unit_code, l.period, l.value_indicator_code
"""


def cmd_explain(args: argparse.Namespace) -> int:
    """A figure of the year (marts.summary_figures, or marts.county_totals' total), then every
    value behind it with its unit, file, sheet and cell (marts.figure_lineage)."""
    code = args.indicator.strip().upper()
    params = {"year": args.year, "code": code, "slot": args.slot}
    con = _read_only(args)
    try:
        figure = con.execute(EXPLAIN_FIGURE, params).fetchone()
        if figure is None:
            raise Mistake(f"no figure for {code} in {args.year}, slot {args.slot}: see "
                          "`huizong query \"select * from marts.summary_figures\"` for the figures there are")
        value, what, valid, expected, name, unit = figure
        shown = "unknown (no valid submission)" if value is None else f"{value} {unit if code != 'V07' else '个'}"
        mark = "" if valid == expected else f" ※ incomplete: {expected - valid} unit-quarter(s) not in"
        say(f"{args.year} {code} {name} (slot {args.slot}, {what}): {shown}; "
            f"{valid} of {expected} unit-quarters valid{mark}")
        cursor = con.execute(EXPLAIN_SOURCES, params)
        # the submitter only where it is not the unit itself (a village's town); the file's
        # hash goes first when the terminal is narrow (the file's name says which file it is)
        print_result(cursor, title=f"the values behind {code} {args.year} slot {args.slot}",
                     optional=("sha256", "submitted by", "indicator"), unless_empty=("submitted by",))
    finally:
        con.close()
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    """The county's consolidated table (汇总表) of a year or a quarter, as one .xlsx."""
    from huizong.export import write_export

    period = quarter(args.period)
    if period is not None and not period.startswith(str(args.year)):
        raise Mistake(f"--period {period} is not a quarter of {args.year}")
    if args.out.suffix.lower() != ".xlsx":
        raise Mistake(f"--out {args.out}: the consolidated table is written as an .xlsx file")
    con = _read_only(args)
    try:
        out = write_export(con, args.year, args.out, period)
    except LookupError as e:
        raise Mistake(str(e)) from None
    finally:
        con.close()
    say(f"wrote {out}")
    return EXIT_OK


def cmd_remind(args: argparse.Namespace) -> int:
    """Who owes the office the quarter (missing, rejected, late), printed and written for a mail merge."""
    import datetime as dt

    from huizong.remind import default_out, read_reminders, show, write_reminders

    period = quarter(args.period)
    reply_by = None
    if args.reply_by is not None:
        try:
            reply_by = dt.date.fromisoformat(args.reply_by)
        except ValueError:
            raise Mistake(f"--reply-by {args.reply_by}: not a date such as 2019-04-25") from None
        from huizong.clock import today

        if reply_by <= today():
            raise Mistake(f"--reply-by {reply_by}: the messages would ask for the file by a day already "
                          f"past (today is {today()}); give a later date")
    out = args.out or default_out(args.warehouse, period)
    if out.suffix.lower() != ".xlsx":
        raise Mistake(f"--out {out}: the reminders are written as an .xlsx file")
    con = _read_only(args)
    try:
        reminders = read_reminders(con, period, reply_by)
    finally:
        con.close()
    show(reminders, console)
    write_reminders(reminders, out, args.warehouse)
    say(f"wrote {out} ({len(reminders.reminded)} reminder(s), one row per unit, for a mail merge)")
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    """What each correction of a unit's quarter changed, cell by cell (marts.corrections)."""
    from huizong.corrections import NotKept, read_diff, show

    unit, period = submitting_unit(args.unit), quarter(args.period)
    con = _read_only(args)
    try:
        diff = read_diff(con, unit.code, period)
    except NotKept as e:
        raise Mistake(str(e)) from None
    finally:
        con.close()
    if not diff.versions:
        raise Mistake(f"no file of {unit.name} {unit.code} for {period} was received")
    show(diff, f"{unit.name} {unit.code}", period, console)
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from huizong.warehouse import statement

    period = quarter(args.period)
    con = _read_only(args)
    try:
        sql = statement("commands", "status.sql")
        rows = con.execute(sql, {"period": period}).fetchall()
        rejected_files = con.execute(statement("commands", "rejected.sql"),
                               {"period": period}).fetchall()
        reviews = review_counts(con, period)
        from huizong.signoff import status_lines

        locked = status_lines(con, period)  # signed-off years and the files held for them
    finally:
        con.close()
    # Wide only here, at the edge: one row per unit, one column per quarter.
    periods = sorted({r[2] for r in rows})
    cells = {(r[0], r[2]): r for r in rows}
    # a narrow terminal leaves out the earliest quarters first (the caption says which)
    t = table("submissions per unit and quarter", "unit", *periods, optional=tuple(periods[:-1]))
    # CONTRACT.md's words: a valid version in force is "loaded" (on time) or "late".
    from huizong.vocabulary import SUBMISSION_WORDS

    words = {status: word for status, (word, _) in SUBMISSION_WORDS.items()}
    colours = {status: colour for status, (_, colour) in SUBMISSION_WORDS.items()}
    for code, name in dict.fromkeys((r[0], r[1]) for r in rows):
        line = []
        for period in periods:
            _, _, _, status, rejected = cells[(code, period)]
            extra = f" +{rejected} rejected" if rejected and status != "rejected" else ""
            line.append(Text.assemble((words[status], colours[status]), extra))
        t.add_row(f"{name} {code}", *line)
    console.print(t)
    say("loaded: a valid version in force, received by the deadline; late: received after it")
    print_review_counts(reviews)
    if rejected_files:
        console.print("[bold]rejected files[/] (feedback for the town under the warehouse folder):")
    from huizong.clock import OFFICE_TZ

    for unit_name, period, file_name, received_at, n_errors, reason, feedback_path in rejected_files:
        day = received_at.astimezone(OFFICE_TZ)  # the office's date, as FORM.md's deadlines are
        console.print(f"[red]{escape(f'{unit_name} {period or chr(63)}')}[/] "
                      + data(f"{shown(file_name)} (received {day:%Y-%m-%d}, {n_errors} error(s)): {shown(reason)}",
                             None), soft_wrap=True)
        say(f"    feedback: {feedback_path}.xlsx / .txt")
    for line in locked:
        say(line)
    print_corrected(args)
    return EXIT_OK


def print_corrected(args: argparse.Namespace) -> None:
    """status: whose figures a correction changed (marts.corrections), and how to see the cells."""
    from huizong.corrections import corrected

    con = _read_only(args)
    try:
        fixes = corrected(con, quarter(args.period))
    finally:
        con.close()
    if fixes:
        console.print("[bold]corrected figures[/] (a valid version replaced by one with other figures):")
    for code, name, period, corrections, cells in fixes:
        say(f"  {name} {code} {period}: {corrections} correction(s), {cells} cell(s) changed; "
            f"see huizong diff --unit {code} --period {period}")


def review_counts(con, period: str | None) -> list[tuple]:
    """Per unit and quarter, its warnings awaiting the office or returned (review_counts.sql);
    none from a warehouse built before the review of warnings."""
    import duckdb

    from huizong.warehouse import statement

    try:
        return con.execute(statement("commands", "review_counts.sql"), {"period": period}).fetchall()
    except duckdb.CatalogException:
        return []


REVIEW_LINES = 20  # unit-quarters with warnings listed by `status`, the latest first
REVIEW_LIST_LIMIT = 200  # warnings `review` lists one by one without a quarter or unit named


def print_review_counts(rows: list[tuple]) -> None:
    if not rows:
        return
    console.print("[bold]warnings awaiting the office[/] (explained by the town, open, or returned to it):")
    for code, name, period, explained, still_open, returned, accepted in rows[:REVIEW_LINES]:
        counts = ", ".join(f"{n} {state}" for state, n in (("explained", explained), ("open", still_open),
                                                          ("returned", returned), ("accepted", accepted)) if n)
        say(f"  {name} {code} {period}: {counts}    huizong review --unit {code} --period {period}")
    if len(rows) > REVIEW_LINES:
        rest = rows[REVIEW_LINES:]
        say(f"  ... and {len(rest)} earlier unit-quarters with {sum(sum(r[3:6]) for r in rest)} such warnings "
            "(huizong review --period P lists a quarter's)")


def print_warning(w) -> None:
    """One warning of `huizong review`: its state and place, what the town and the office said."""
    from huizong.clock import OFFICE_TZ

    colour = {"open": "yellow", "explained": "cyan", "accepted": "green", "returned": "red"}[w.state]
    value = "" if w.value is None else format(w.value.normalize(), "f")
    where = " ".join(p for p in (w.unit_name, w.unit_code, w.period, w.place, w.village_name,
                                 f"{w.indicator_name}（{w.measure_unit}）", value) if p)
    console.print(f"[{colour}]{w.state:<9}[/] " + data(where, LINE_CUT), soft_wrap=True)
    say(f"    提醒: {shown(w.message)}")
    if w.explanation:
        say(f"    说明 ({shown(w.explanation_file_name)} 情况说明!{w.explanation_cell}): {shown(w.explanation)}")
    if w.decision:
        note = f": {shown(w.office_note)}" if w.office_note else ""
        say(f"    {w.decision} by {w.decided_by} on {w.decided_at.astimezone(OFFICE_TZ):%Y-%m-%d}{note}")


def cmd_review(args: argparse.Namespace) -> int:
    """List warnings with their review state, or record the office's decision on some."""
    from huizong import review

    period = quarter(args.period)
    unit = submitting_unit(args.unit)
    states = review.STATES if "all" in (args.state or []) else tuple(args.state or review.AWAITING)
    try:
        if args.decision is None:
            if args.cell or args.all_explained:
                raise Mistake("say what the office decides: --accept, or --return --note TEXT")
            con = _read_only(args)
            try:
                found = review.warnings(con, period=period, unit=unit.code if unit else None, states=states)
                if not (period or unit) and len(found) > REVIEW_LIST_LIMIT:  # years of them: counts first
                    print_review_counts(review_counts(con, None))
                    say(f"{len(found)} warning(s) {'/'.join(states)} in all; name a quarter (--period P) "
                        "or a unit (--unit CODE) to list them")
                    return EXIT_OK
            finally:
                con.close()
            for w in found:
                print_warning(w)
            say(f"{len(found)} warning(s) {'/'.join(states)}" + (f" of {unit.name} {unit.code}" if unit else "")
                + (f" in {period}" if period else ""))
            if any(w.state in review.AWAITING for w in found):
                say("decide: huizong review --unit CODE --period P --cell SHEET!CELL --accept --by NAME "
                    "[--note TEXT], or --return --by NAME --note TEXT")
            return EXIT_OK
        if unit is None or period is None:
            raise Mistake("a decision is on one unit's quarter: give --unit CODE and --period P")
        if bool(args.cell) == args.all_explained:
            raise Mistake("say which warnings: --cell SHEET!CELL (as the warning names it, e.g. "
                          "村级指标!E12) or --all-explained, one of the two")
        if not (args.by or "").strip():
            raise Mistake("say who decides: --by NAME")
        check_folders(None, args.warehouse)
        done = review.decide(args.warehouse, unit.code, period, args.cell or None, args.decision,
                             args.by, args.note)
    except review.ReviewError as e:
        raise Mistake(str(e)) from None
    for w in done.warnings:
        print_warning(w)
    say(f"{args.decision}: {len(done.warnings)} warning(s) of {unit.name} {unit.code} {period}, "
        f"by {args.by.strip()}")
    if done.notice:
        say(f"退回说明 for the town: {args.warehouse / done.notice}.xlsx / .txt "
            "(the figures stay loaded until a corrected file replaces them)")
    return EXIT_OK


def not_files(paths: list[Path]) -> None:
    """A named file that is not there (or is a folder) is the user's mistake: one sentence, exit 1."""
    missing = [p for p in paths if not p.is_file()]
    if missing:
        names = ", ".join(shown(p) for p in missing)
        raise Mistake(f"no such file: {names}" if all(not p.exists() for p in missing)
                      else f"not a file (no such file, or a folder): {names}")


def cmd_check(args: argparse.Namespace) -> int:
    from huizong.checking import check_files

    not_files(args.files)
    outcomes = check_files(args.files, args.warehouse)
    from huizong.signoff import locked_years_of, year_of

    locked = locked_years_of(args.warehouse) if args.warehouse.exists() else {}
    for o in outcomes:
        held = locked.get(year_of(o.period)) if o.ok else None
        verdict = ("[yellow]would be held as locked[/]" if held else "[green]would load[/]") if o.ok \
            else "[red]would be rejected[/]"
        console.print(f"{verdict} " + data(checked_file(o), None), soft_wrap=True)
        if held:
            say(f"  {held.says()}: the file would be kept, not loaded, until the year is unlocked")
        for p in o.problems if len(o.problems) > 1 or o.ok else ():
            tag = "[red]错误[/]" if p.severity == "error" else "[yellow]提醒[/]"
            console.print(f"  {tag} " + data(p.message), soft_wrap=True)
    return EXIT_OK if all(o.ok for o in outcomes) else EXIT_REJECTED


def checked_file(o) -> str:
    """`城关镇_2019Q3.xlsx (990101100 2019Q3)`, with only what was read of its cover, and for a
    file rejected for one reason, the reason: `fake.xlsx: 这不是 Excel 工作簿…`."""
    read = " ".join(x for x in (o.unit_code, o.period) if x)
    line = shown(o.file_name) + (f" ({read})" if read else "")
    errors = sum(p.severity == "error" for p in o.problems)
    if not o.ok and len(o.problems) == 1:
        return f"{line}: {shown(o.problems[0].message)}"
    if not o.ok:
        return f"{line}: {errors} error(s), {len(o.problems) - errors} warning(s)"
    return line


def cmd_report(args: argparse.Namespace) -> int:
    from huizong.report import write_report

    out = write_report(args.warehouse, args.year, args.out)  # ReportError: main says it in one line
    say(f"report: {out}")
    return EXIT_OK


def cmd_signoff(args: argparse.Namespace) -> int:
    from huizong.signoff import sign_off

    for line in sign_off(args.warehouse, args.year, args.by, args.force).lines():  # SignoffError: one sentence
        say(line)
    return EXIT_OK


def cmd_unlock(args: argparse.Namespace) -> int:
    from huizong.signoff import unlock

    for line in unlock(args.warehouse, args.year, args.by, args.reason).lines():
        say(line)
    return EXIT_OK


def cmd_template(args: argparse.Namespace) -> int:
    from huizong.templates import template_name, write_template
    from huizong.schemas import catalog as cat

    period = quarter(args.period)
    units = [submitting_unit(args.unit)] if args.unit else cat.submitters()
    folder = args.warehouse / "templates" / period
    if args.out and len(units) == 1 and args.out.suffix == ".xlsx":
        targets = {units[0]: args.out}
    else:
        targets = {u: (args.out or folder) / template_name(u, period) for u in units}
    for unit, path in targets.items():
        write_template(unit, period, path)
        say(f"wrote {path}")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from huizong.demo import DEMO_PERIODS, generate, write_demo_inbox

    if args.out.exists() and not args.out.is_dir():
        raise Mistake(f"{args.out} is a file, not a folder: --out names the folder to write into")
    if args.demo_inbox:
        paths = write_demo_inbox(args.out)
    else:
        periods = tuple(dict.fromkeys(quarter(p) for p in args.periods)) if args.periods else DEMO_PERIODS
        paths = generate(args.out, periods)
    say(f"wrote {len(paths)} workbooks to {args.out}")
    return EXIT_OK


def parser() -> argparse.ArgumentParser:
    verbose = argparse.ArgumentParser(add_help=False)  # before or after the command's name
    verbose.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                         help="on an error, print the whole traceback")
    common = argparse.ArgumentParser(add_help=False, parents=[verbose])
    common.add_argument("--inbox", type=Path, default=Path("inbox"), help="incoming workbooks (default: inbox/)")
    common.add_argument("--warehouse", type=Path, default=Path("warehouse"),
                        help="DuckDB warehouse and outputs (default: warehouse/)")
    on_dask = argparse.ArgumentParser(add_help=False)
    on_dask.add_argument("--dask", metavar="ADDRESS", default=os.environ.get("HUIZONG_DASK"),
                         help="run the per-batch work on Dask: a scheduler address (tcp://host:8786) "
                              "or 'local' for a local cluster of two workers (default: $HUIZONG_DASK, "
                              "else one thread of this process)")
    p = argparse.ArgumentParser(prog="huizong", description="Consolidate the county's quarterly workbooks.")
    p.add_argument("--verbose", action="store_true", help="on an error, print the whole traceback")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", parents=[common, on_dask], help="one consolidation pass (the nightly job)",
                         description="Read, validate and load every new workbook of the inbox, rebuild "
                                     "the models and publish. Example: huizong run --inbox inbox/")
    run.set_defaults(func=cmd_run)

    rr = sub.add_parser("rerun", parents=[common, on_dask], help="import again what is named, then rebuild",
                        description="Imports again every rejected file (--failed), a unit's or a quarter's "
                                    "versions plus matching new files of the inbox (--unit, --period), or "
                                    "the given files; rebuilds the models and publishes. Idempotent. "
                                    "A version already found valid under the current catalog and rules "
                                    "is left as it is unless --force. "
                                    "Example: huizong rerun --unit 990101100 --period 2019Q3")
    rr.add_argument("--failed", action="store_true", help="every rejected file (its cause may have gone)")
    rr.add_argument("--unit", help="a town's or department's code")
    rr.add_argument("--period", help="a quarter, e.g. 2019Q3")
    rr.add_argument("--force", action="store_true",
                    help="read again even versions found valid under the current rules")
    rr.add_argument("paths", nargs="*", type=Path, help="files to import again (or for the first time)")
    rr.set_defaults(func=cmd_rerun)

    sv = sub.add_parser("serve", parents=[common], help="register the nightly schedule and serve it",
                        description="Registers the deployment huizong-nightly/nightly (02:00 Asia/Shanghai "
                                    "by default) on the Prefect server of PREFECT_API_URL and runs its "
                                    "flow runs until stopped. Example: PREFECT_API_URL=http://127.0.0.1:4200/api "
                                    "huizong serve --cron '30 1 * * *'")
    sv.add_argument("--cron", default="0 2 * * *", help="when to run (default '0 2 * * *')")
    sv.add_argument("--timezone", default="Asia/Shanghai", help="the cron's time zone (default Asia/Shanghai)")
    sv.set_defaults(func=cmd_serve)

    st = sub.add_parser("status", parents=[common], help="who has submitted what, per unit and quarter",
                        description="Example: huizong status --period 2019Q3")
    st.add_argument("--period", help="only this quarter, e.g. 2019Q3")
    st.set_defaults(func=cmd_status)

    rv = sub.add_parser("review", parents=[common], help="warnings and the office's decisions on them",
                        description="Lists the warnings of the versions in force with their state: open, "
                                    "explained (the town's 情况说明 sheet explains the figure), accepted, or "
                                    "returned (the town is asked for a corrected file; the figure stays "
                                    "loaded); by default those awaiting the office (explained, open). With "
                                    "--accept or --return, records the office's decision on warned cells of "
                                    "one unit's quarter; a return needs --note and writes the town's 退回说明. "
                                    "Example: huizong review --unit 990101100 --period 2019Q3 --cell "
                                    "村级指标!E12 --accept --by 王芳")
    rv.add_argument("--period", help="a quarter, e.g. 2019Q3")
    rv.add_argument("--unit", help="a town's or department's code")
    rv.add_argument("--state", nargs="+", choices=("open", "explained", "accepted", "returned", "all"),
                    help="the states to list (default: explained open)")
    rv.add_argument("--cell", nargs="+", metavar="SHEET!CELL",
                    help="the warned cell(s) decided, as the warning names them, e.g. 村级指标!E12")
    rv.add_argument("--all-explained", action="store_true",
                    help="decide every explained warning of the unit's quarter at once")
    decision = rv.add_mutually_exclusive_group()
    decision.add_argument("--accept", dest="decision", action="store_const", const="accepted",
                          help="accept the figure as it is")
    decision.add_argument("--return", dest="decision", action="store_const", const="returned",
                          help="return it to the town for a corrected file (needs --note)")
    rv.add_argument("--by", help="who decides (recorded with the decision)")
    rv.add_argument("--note", help="the office's note; a return's reason for the town")
    rv.set_defaults(func=cmd_review, decision=None)

    rp = sub.add_parser("report", parents=[common], help="write the annual work summary of a year",
                        description="Writes the annual work summary with its figures filled from the "
                                    "warehouse, as Markdown, HTML (with charts) or Word by the file's "
                                    "ending. Example: huizong report --year 2019 --out summary_2019.docx")
    rp.add_argument("--year", type=int, required=True, help="the year summed up, e.g. 2019")
    rp.add_argument("--out", type=Path, help="the file to write: .md, .html or .docx "
                                             "(default <warehouse>/reports/summary_<year>.html)")
    rp.set_defaults(func=cmd_report)

    so = sub.add_parser("signoff", parents=[common], help="sign a year's summary off and lock the year",
                        description="Signs the year's published summary (<warehouse>/reports/summary_<year>"
                                    ".md/.html/.docx, written again first if older than the published data): "
                                    "records who, when, the build and each file's sha256, copies the files "
                                    "to <warehouse>/signed/<year>/<n>/ and locks the year: files that come "
                                    "for its quarters are kept as `locked`, not loaded, and no pass rewrites "
                                    "its summary. Example: huizong signoff --year 2019 --by 王五")
    so.add_argument("--year", type=int, required=True, help="the year, e.g. 2019")
    so.add_argument("--by", required=True, help="who signs (recorded)")
    so.add_argument("--force", action="store_true",
                    help="sign even with 【请核实】/【待填：…】 marks left in the summary (recorded)")
    so.set_defaults(func=cmd_signoff)

    ul = sub.add_parser("unlock", parents=[common], help="reopen a signed-off year (with a reason)",
                        description="Records who unlocked a signed-off year and why; the next pass lets "
                                    "the files held as `locked` in by the version rules, rebuilds and writes "
                                    "the year's summary again. Example: huizong unlock --year 2019 --by 王五 "
                                    "--reason '城关镇更正四季度报表'")
    ul.add_argument("--year", type=int, required=True, help="the year, e.g. 2019")
    ul.add_argument("--by", required=True, help="who unlocks (recorded)")
    ul.add_argument("--reason", required=True, help="why the year is reopened (recorded)")
    ul.set_defaults(func=cmd_unlock)

    q = sub.add_parser("query", parents=[common], help="run a read-only SQL query on the warehouse",
                       description="Example: huizong query \"select * from marts.county_totals where year = 2019\"")
    q.add_argument("sql")
    q.add_argument("--limit", type=int, default=200,
                   help="rows to print as a table or Markdown (default 200; it says when it cut)")
    q.add_argument("--format", choices=("table", "csv", "json", "markdown"), default="table",
                   help="table (default), or every row as csv or json, or a Markdown table")
    q.add_argument("--csv", action="store_true", help="the same as --format csv")
    q.set_defaults(func=cmd_query)

    ex = sub.add_parser("explain", parents=[common], help="where a figure comes from: units, files, cells",
                        description="Prints a figure of the year (a summary figure, or the county total) and "
                                    "every value behind it: unit, period, file, sheet and cell. Example: "
                                    "huizong explain --year 2019 --indicator V03")
    ex.add_argument("--year", type=int, required=True, help="the year, e.g. 2019")
    ex.add_argument("--indicator", required=True, help="the indicator's code, e.g. V03")
    ex.add_argument("--slot", type=int, default=1, help="which ** of the summary phrase (default 1)")
    ex.set_defaults(func=cmd_explain)

    xp = sub.add_parser("export", parents=[common], help="write the county's consolidated table (汇总表) as .xlsx",
                        description="Writes the consolidated table the office sends up: county totals, towns, "
                                    "villages, departments and completeness, laid out for print. With --period, "
                                    "the figures of that quarter. Example: huizong export --year 2019 --out 汇总表.xlsx")
    xp.add_argument("--year", type=int, required=True, help="the year, e.g. 2019")
    xp.add_argument("--period", help="one quarter of that year, e.g. 2019Q3 (default: the whole year)")
    xp.add_argument("--out", type=Path, required=True, help="the .xlsx file to write")
    xp.set_defaults(func=cmd_export)

    rm = sub.add_parser("remind", parents=[common], help="the units to remind of a quarter, with messages",
                        description="Lists every town and department whose quarter is missing, rejected or "
                                    "late, with the days overdue by FORM.md's deadline and a message in Chinese "
                                    "for each, and writes them as a workbook for a mail merge. Reads only. "
                                    "Example: huizong remind --period 2019Q3")
    rm.add_argument("--period", required=True, help="the quarter, e.g. 2019Q3")
    rm.add_argument("--out", type=Path, help="the .xlsx to write (default <warehouse>/reminders/<period>_催报.xlsx)")
    rm.add_argument("--reply-by", metavar="DATE",
                    help="the date the messages ask for the file by (default: five days from today)")
    rm.set_defaults(func=cmd_remind)

    df = sub.add_parser("diff", parents=[common], help="what each correction of a unit's quarter changed",
                        description="Prints the versions of a unit's quarter in order of arrival and, for each "
                                    "valid version that replaced an earlier one, the cells it changed (old -> "
                                    "new). Example: huizong diff --unit 990101100 --period 2019Q3")
    df.add_argument("--unit", required=True, help="a town's or department's code")
    df.add_argument("--period", required=True, help="the quarter, e.g. 2019Q3")
    df.set_defaults(func=cmd_diff)

    c = sub.add_parser("check", parents=[common], help="dry run: check files without loading them",
                       description="Runs every check of a pass on the named files and prints the problems "
                                   "and warnings; loads nothing, writes nothing. Exit 0 if they would load, "
                                   "2 if not. Example: huizong check 城关镇_2019Q3.xlsx")
    c.add_argument("files", nargs="+", type=Path)
    c.set_defaults(func=cmd_check)

    t = sub.add_parser("template", parents=[common], help="write blank workbooks for units to fill",
                       description="Writes the workbook a unit fills for a quarter: cover and villages "
                                   "prefilled, instructions, drop-downs and range checks. Without --unit, "
                                   "one per town and department. Example: huizong template --unit 990101100 "
                                   "--period 2020Q1 --out 城关镇.xlsx")
    t.add_argument("--period", required=True, help="the quarter, e.g. 2020Q1")
    t.add_argument("--unit", help="a town's or department's code (default: all of them)")
    t.add_argument("--out", type=Path, help="an .xlsx file for one unit, or a folder "
                                            "(default <warehouse>/templates/<period>/)")
    t.set_defaults(func=cmd_template)

    d = sub.add_parser("demo", parents=[verbose], help="write the demo county's workbooks",
                       description="Example: huizong demo --out /tmp/county --periods 2019Q1 2019Q2")
    d.add_argument("--out", type=Path, required=True, help="folder to write into")
    d.add_argument("--periods", nargs="*", help="quarters (default 2018Q1..2019Q4)")
    d.add_argument("--demo-inbox", action="store_true", help="write the shipped demo inbox instead")
    d.set_defaults(func=cmd_demo)
    return p


def _on_sigterm(signum, frame) -> None:
    _on_stop_signal(Terminated())


def _on_sigint(signum, frame) -> None:
    _on_stop_signal(KeyboardInterrupt())


_verbose = False  # --verbose: a stop keeps Prefect's lines about it
_command: str | None = None  # the command running (its stop's sentence)
_signalled = False


def _on_stop_signal(stop: KeyboardInterrupt) -> None:
    """Raise `stop`, Prefect's lines about it kept off the terminal; a second signal while the
    first unwinds (Ctrl-C pressed twice) ends the command at once, with the same sentence."""
    global _signalled
    _mute_prefect_console()
    if _signalled and _command is not None:
        _stop_now(_stop_sentence(_command, stop), _verbose)
    _signalled = True
    raise stop


def _mute_prefect_console() -> None:
    """A stop (Ctrl-C, SIGTERM): Prefect's lines about it (its task and flow runs crashed, at
    ERROR, from every thread) stay off the terminal, which gets one sentence (`main`). In a
    signal handler: never raise."""
    handlers = sys.modules.get("prefect.logging.handlers")
    if _verbose or handlers is None:
        return
    import logging

    try:
        loggers = [logging.getLogger(), *list(logging.Logger.manager.loggerDict.values())]
        for lg in loggers:
            for handler in list(getattr(lg, "handlers", ())):
                if isinstance(handler, handlers.PrefectConsoleHandler):
                    handler.setLevel(logging.CRITICAL + 1)
    except Exception:
        pass


def _quiet_stdout() -> None:
    """The reader of our stdout went away (`huizong query ... | head`): stop writing, like Unix
    tools, and spare the interpreter's "Exception ignored" at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def explain(e: BaseException) -> str | None:
    """The one sentence for an expected error; None for a bug."""
    import importlib

    import duckdb

    expected = [Mistake]
    for module, name in (("huizong.flows.server", "ServerUnavailable"), ("huizong.warehouse", "LockHeld"),
                         ("huizong.clock", "ClockError"), ("huizong.report", "ReportError"),
                         ("huizong.summary", "TemplateMismatch"), ("huizong.signoff", "SignoffError")):
        try:
            expected.append(getattr(importlib.import_module(module), name))
        except Exception:  # a module that cannot be imported raised none of its errors
            pass
    if isinstance(e, tuple(expected)):
        return str(e)
    if isinstance(e, OSError):
        what = e.strerror or str(e)
        names = " -> ".join(str(n) for n in (e.filename, e.filename2) if n is not None)
        advice = {errno.ENOSPC: "free some space and run it again",
                  errno.EROFS: "the file system is read-only",
                  errno.EACCES: "check who may write there",
                  errno.EPERM: "check who may write there",
                  errno.EEXIST: "a file stands where a folder is needed",
                  errno.ENOTDIR: "a file stands where a folder is needed"}.get(e.errno)
        return f"{what}" + (f": {names}" if names else "") + (f" ({advice})" if advice else "")
    if isinstance(e, duckdb.IOException):
        return "the warehouse could not be read or written: " + " ".join(str(e).split())
    return None


DATED = ("run", "rerun", "status", "check", "report", "remind", "review", "signoff", "unlock")  # commands that read the clock


def main(argv: list[str] | None = None) -> int:
    global _verbose, _command
    args = parser().parse_args(argv)
    verbose = _verbose = getattr(args, "verbose", False)
    _command = args.command
    if argv is None:  # the command line, not a caller in Python: SIGTERM stops it like Ctrl-C
        signal.signal(signal.SIGTERM, _on_sigterm)
        signal.signal(signal.SIGINT, _on_sigint)
        _exit_without_teardown()
    try:
        if args.command in DATED:
            from huizong.clock import today

            today()  # a bad HUIZONG_TODAY is one sentence here, not a failed flow run
        return _exiting(args.func(args))
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_OK
    except KeyboardInterrupt as e:
        _stop_now(_stop_sentence(args.command, e), verbose, exit_now=argv is None)
        return EXIT_FAILED
    except Exception as e:
        sentence = explain(e)
        if verbose:
            err_console.print_exception()
        if sentence is None:
            sentence = (f"huizong {args.command} stopped on a bug ({type(e).__name__}: "
                        f"{' '.join(str(e).split())[:300]}); run with --verbose for details")
        err_console.print(escape(sentence), soft_wrap=True, highlight=False)
        return EXIT_FAILED


_exit_status: int | None = None


def _exiting(status: int) -> int:
    global _exit_status
    _exit_status = status
    return status


def _exit_without_teardown() -> None:
    """At the command's end, once every exit handler has run (Prefect's, the reading workers',
    the temporary server's: registered later, they run first) and the output and logs are
    flushed, end the process without tearing down the interpreter's objects: half a second
    after a pass that held its data. Only when `main` returned its status normally."""
    import atexit

    def end() -> None:
        if _exit_status is None:
            return
        import logging

        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(_exit_status)

    atexit.register(end)


def _stop_sentence(command: str, stop: KeyboardInterrupt) -> str:
    name = "SIGTERM" if isinstance(stop, Terminated) else "Ctrl-C (SIGINT)"
    after = ("; the published warehouse is whole and the next pass takes up what this one left"
             if command in ("run", "rerun") else "")
    return f"huizong {command} was stopped by {name}{after}."


_said = False  # the stop's sentence, once


def _stop_now(sentence: str, verbose: bool, exit_now: bool = True) -> None:
    """Say why, then, on the command line (`exit_now`), end the reading workers and Prefect's
    temporary server and the process at once: a task still running in a worker thread would
    otherwise hold the exit, and Prefect's exit handlers would wait for, and print their
    errors about, the server just stopped."""
    import threading

    global _said
    if exit_now:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the stop itself is not stopped
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if verbose:
        err_console.print_exception()
    try:
        if not (_said and exit_now):  # a second signal's stop says nothing new
            _said = True
            err_console.print(escape(sentence), soft_wrap=True, highlight=False)
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    if exit_now:
        _end_children()
        os._exit(EXIT_FAILED)
    if threading.active_count() > 1:
        os._exit(EXIT_FAILED)


def _end_children() -> None:
    """The reading workers and Prefect's temporary server, if this process started them, ended
    now."""
    for module, stop in (("huizong.isolation", "stop_shared_pool_now"), ("huizong.flows.server", "stop_now")):
        if module in sys.modules:
            try:
                getattr(sys.modules[module], stop)()
            except Exception:  # the process ends anyway; the server and workers end with it
                pass


if __name__ == "__main__":
    sys.exit(main())
