"""The `huizong` command: a thin layer over the library and the Prefect flow (CONTRACT.md)."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from huizong.warehouse import STATUSES

EXIT_OK, EXIT_FAILED, EXIT_REJECTED = 0, 1, 2
console = Console()


def quiet_prefect() -> None:
    """Settings for an offline, serverless run: no telemetry, no noise, no shutdown tracebacks."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    if not os.environ.get("PREFECT_API_URL"):
        # The temporary server ends with this process: logs go to the terminal only, which
        # spares a second or more of sending thousands of per-file lines to it.
        os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")


def run_pass_flow(flow_fn, **params) -> int:
    """Run a pass flow on Prefect, print its summary; the exit status of CONTRACT.md."""
    import logging
    from contextlib import nullcontext

    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    logging.getLogger("EventsWorker").setLevel(logging.ERROR)  # "still processing" noise at exit
    # Heartbeats let a long-lived server notice a crashed run; the temporary server dies with
    # this process, so there they only cost a second at the end of the flow.
    serverless = not os.environ.get("PREFECT_API_URL")
    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}) if serverless else nullcontext():
        state = flow_fn(**params, return_state=True)
    if not state.is_completed():
        console.print(f"[red]the pass failed:[/] {state.message}")
        return EXIT_FAILED
    summary = state.result()
    print_pass_summary(summary)
    return EXIT_REJECTED if any(f["status"] == "rejected" for f in summary["files"]) else EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    quiet_prefect()
    from flows.nightly import nightly

    from flows.runners import with_runner

    console.print(f"[bold]huizong run[/]: inbox {args.inbox} -> warehouse {args.warehouse}")
    return run_pass_flow(with_runner(nightly, args.dask), inbox=args.inbox, warehouse=args.warehouse)


def cmd_rerun(args: argparse.Namespace) -> int:
    if not (args.failed or args.unit or args.period or args.paths):
        console.print("[red]say what to rerun:[/] --failed, --unit CODE, --period P or a file path")
        return EXIT_FAILED
    missing = [p for p in args.paths if not p.is_file()]
    for p in missing:
        console.print(f"[red]no such file:[/] {p}")
    if missing:
        return EXIT_REJECTED
    quiet_prefect()
    from flows.rerun import rerun
    from huizong.cells import parse_period

    period = parse_period(args.period) if args.period else None
    if args.period and period is None:
        console.print(f"[red]not a quarter:[/] {args.period} (use e.g. 2019Q3)")
        return EXIT_FAILED
    from flows.runners import with_runner

    return run_pass_flow(with_runner(rerun, args.dask), warehouse=args.warehouse, inbox=args.inbox, failed=args.failed,
                         unit=args.unit, period=period, paths=args.paths, force=args.force)


def print_pass_summary(summary: dict) -> None:
    files = summary["files"]
    counts = {s: sum(f["status"] == s for f in files)
              for s in STATUSES}
    table = Table(title="huizong pass", show_lines=False)
    for col in ("outcome", "files", "first file / first reason"):
        table.add_column(col)
    for status, n in counts.items():
        if n:
            first = next(f for f in files if f["status"] == status)
            detail = first["file_name"] + (f"  {first['first_reason']}" if first["first_reason"] else "")
            table.add_row(status, str(n), detail)
    warned = [(f["file_name"], w) for f in files for w in f.get("warnings", [])]
    if warned:
        table.add_row("warnings (loaded anyway)", str(len(warned)), "  ".join(warned[0]))
    table.add_row("skipped (already received)", str(summary["skipped"]), "")
    if summary.get("rebuilt"):
        table.add_row("models rebuilt", "", "the catalog or the SQL models changed since the last build")
    if "unchanged" in summary:  # a rerun
        table.add_row("valid under the same rules (not read again)", str(summary["unchanged"]),
                      "--force reads them too" if summary["unchanged"] else "")
    if summary.get("arriving"):
        table.add_row("still arriving (next pass)", str(len(summary["arriving"])), summary["arriving"][0])
    console.print(table)
    for f in files:
        if f["status"] == "rejected":
            console.print(f"[red]rejected[/] {f['file_name']}: {f['first_reason']}")
    for path in summary.get("reports", []):
        console.print(f"report: {path}")
    if summary.get("report_error"):
        console.print(f"[red]the annual summary was not written[/] (the data is published): "
                      f"{summary['report_error']}")


def _read_only(args: argparse.Namespace):
    from huizong.warehouse import connect_read_only

    con = connect_read_only(args.warehouse)
    if con is None:
        console.print(f"no warehouse yet at {args.warehouse}; run `huizong run` first")
        sys.exit(EXIT_FAILED)
    return con


def print_result(cursor, limit: int | None = None, title: str | None = None) -> None:
    """An executed query's result as a readable table."""
    table = Table(title=title)
    for column in cursor.description:
        table.add_column(column[0])
    rows = cursor.fetchall() if limit is None else cursor.fetchmany(limit)
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    console.print(table)


def cmd_serve(args: argparse.Namespace) -> int:
    quiet_prefect()
    if not os.environ.get("PREFECT_API_URL"):
        console.print("[red]huizong serve needs a Prefect server[/] (a temporary one keeps no schedule):\n"
                      "  prefect server start          # in another terminal or as a service\n"
                      "  export PREFECT_API_URL=http://127.0.0.1:4200/api\n"
                      "  huizong serve")
        return EXIT_FAILED
    from prefect import serve

    from flows.nightly import nightly_deployment

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


def cmd_query(args: argparse.Namespace) -> int:
    import duckdb

    con = _read_only(args)
    try:
        cursor = con.execute(args.sql)
        if args.csv:
            write_csv(cursor, sys.stdout)
        else:
            print_result(cursor, limit=args.limit)
    except duckdb.Error as e:
        console.print(f"[red]query failed:[/] {e}")
        return EXIT_FAILED
    finally:
        con.close()
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from huizong.warehouse import setup_sql

    con = _read_only(args)
    try:
        sql = setup_sql("status.sql")
        rows = con.execute(sql, {"period": args.period}).fetchall()
        rejected_files = con.execute(setup_sql("rejected.sql"),
                               {"period": args.period}).fetchall()
    finally:
        con.close()
    # Wide only here, at the edge: one row per unit, one column per quarter.
    periods = sorted({r[2] for r in rows})
    cells = {(r[0], r[2]): r for r in rows}
    table = Table(title="submissions per unit and quarter")
    table.add_column("unit")
    for period in periods:
        table.add_column(period)
    # CONTRACT.md's words: a valid version in force is "loaded" (on time) or "late".
    words = {"on_time": "loaded", "late": "late", "rejected": "rejected", "missing": "missing"}
    colours = {"on_time": "green", "late": "yellow", "rejected": "red", "missing": "red"}
    for code, name in dict.fromkeys((r[0], r[1]) for r in rows):
        line = []
        for period in periods:
            _, _, _, status, rejected = cells[(code, period)]
            extra = f" +{rejected} rejected" if rejected and status != "rejected" else ""
            line.append(f"[{colours[status]}]{words[status]}[/]{extra}")
        table.add_row(f"{name} {code}", *line)
    console.print(table)
    console.print("loaded: a valid version in force, received by the deadline; late: received after it")
    if rejected_files:
        console.print("[bold]rejected files[/] (feedback for the town under the warehouse folder):")
    for unit_name, period, file_name, received_at, n_errors, reason, feedback_path in rejected_files:
        console.print(f"[red]{unit_name} {period or '?'}[/] {file_name} (received {received_at:%Y-%m-%d}, "
                      f"{n_errors} error(s)): {reason}\n    feedback: {feedback_path}.xlsx / .txt")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from huizong.checking import check_files

    missing = [p for p in args.files if not p.is_file()]
    for p in missing:
        console.print(f"[red]no such file:[/] {p}")
    outcomes = check_files([p for p in args.files if p.is_file()], args.warehouse)
    for o in outcomes:
        verdict = "[green]would load[/]" if o.ok else "[red]would be rejected[/]"
        console.print(f"{verdict} {o.file_name} ({o.unit_code or '?'} {o.period or '?'})")
        for p in o.problems:
            tag = "[red]错误[/]" if p.severity == "error" else "[yellow]提醒[/]"
            console.print(f"  {tag} {p.message}")
    return EXIT_OK if all(o.ok for o in outcomes) and not missing else EXIT_REJECTED


def cmd_report(args: argparse.Namespace) -> int:
    from huizong.report import ReportError, write_report
    from huizong.summary import TemplateMismatch

    try:
        out = write_report(args.warehouse, args.year, args.out)
    except (ReportError, TemplateMismatch) as e:
        console.print(f"[red]no report:[/] {e}")
        return EXIT_FAILED
    console.print(f"report: {out}")
    return EXIT_OK


def cmd_template(args: argparse.Namespace) -> int:
    from huizong.cells import parse_period
    from huizong.templates import template_name, write_template
    from schemas import catalog as cat

    period = parse_period(args.period)
    if period is None:
        console.print(f"[red]not a quarter:[/] {args.period} (use e.g. 2019Q3)")
        return EXIT_FAILED
    if args.unit:
        unit = cat.unit_by_code().get(args.unit)
        if unit is None or unit not in cat.submitters():
            console.print(f"[red]not a submitting unit:[/] {args.unit}")
            return EXIT_FAILED
        units = [unit]
    else:
        units = cat.submitters()
    folder = args.warehouse / "templates" / period
    if args.out and len(units) == 1 and args.out.suffix == ".xlsx":
        targets = {units[0]: args.out}
    else:
        targets = {u: (args.out or folder) / template_name(u, period) for u in units}
    for unit, path in targets.items():
        write_template(unit, period, path)
        console.print(f"wrote {path}")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from huizong.demo import DEMO_PERIODS, generate, write_demo_inbox

    if args.demo_inbox:
        paths = write_demo_inbox(args.out)
    else:
        paths = generate(args.out, tuple(args.periods or DEMO_PERIODS))
    console.print(f"wrote {len(paths)} workbooks to {args.out}")
    return EXIT_OK


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--inbox", type=Path, default=Path("inbox"), help="incoming workbooks (default: inbox/)")
    common.add_argument("--warehouse", type=Path, default=Path("warehouse"),
                        help="DuckDB warehouse and outputs (default: warehouse/)")
    on_dask = argparse.ArgumentParser(add_help=False)
    on_dask.add_argument("--dask", metavar="ADDRESS", default=os.environ.get("HUIZONG_DASK"),
                         help="run the per-batch work on Dask: a scheduler address (tcp://host:8786) "
                              "or 'local' for a local cluster of two workers (default: $HUIZONG_DASK, "
                              "else one thread of this process)")
    p = argparse.ArgumentParser(prog="huizong", description="Consolidate the county's quarterly workbooks.")
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

    rp = sub.add_parser("report", parents=[common], help="write the annual work summary of a year",
                        description="Writes the annual work summary with its figures filled from the "
                                    "warehouse, as Markdown, HTML (with charts) or Word by the file's "
                                    "ending. Example: huizong report --year 2019 --out summary_2019.docx")
    rp.add_argument("--year", type=int, required=True, help="the year summed up, e.g. 2019")
    rp.add_argument("--out", type=Path, help="the file to write: .md, .html or .docx "
                                             "(default <warehouse>/reports/summary_<year>.html)")
    rp.set_defaults(func=cmd_report)

    q = sub.add_parser("query", parents=[common], help="run a read-only SQL query on the warehouse",
                       description="Example: huizong query \"select * from marts.county_totals where year = 2019\"")
    q.add_argument("sql")
    q.add_argument("--limit", type=int, default=200, help="rows to print as a table (default 200)")
    q.add_argument("--csv", action="store_true", help="print every row as CSV instead of a table")
    q.set_defaults(func=cmd_query)

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

    d = sub.add_parser("demo", help="write the demo county's workbooks",
                       description="Example: huizong demo --out /tmp/county --periods 2019Q1 2019Q2")
    d.add_argument("--out", type=Path, required=True, help="folder to write into")
    d.add_argument("--periods", nargs="*", help="quarters (default 2018Q1..2019Q4)")
    d.add_argument("--demo-inbox", action="store_true", help="write the shipped demo inbox instead")
    d.set_defaults(func=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
