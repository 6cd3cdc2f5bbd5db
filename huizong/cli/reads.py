"""The commands that read the published warehouse: query, explain, status, diff, export, report."""
from __future__ import annotations

import argparse
import sys

from rich.markup import escape
from rich.text import Text

from huizong.cli.common import (
    EXIT_OK,
    Mistake,
    _read_only,
    _text,
    console,
    print_result,
    print_rows,
    quarter,
    say,
    submitting_unit,
)
from huizong.cli.office import print_review_counts
from huizong.core.terminal import data, shown, table


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


def cmd_explain(args: argparse.Namespace) -> int:
    """A figure of the year, then every value behind it (huizong.office.explain)."""
    from huizong.office.explain import explain_figure

    con = _read_only(args)
    try:
        found = explain_figure(con, args.year, args.indicator, args.slot)
    finally:
        con.close()
    f = found.figure
    value = "unknown (no valid submission)" if f.value is None else f"{f.value} {f.measure_unit}"
    mark = f" ※ incomplete: {f.missing} unit-quarter(s) not in" if f.missing else ""
    say(f"{f.year} {f.indicator_code} {f.indicator_name} (slot {f.slot}, {f.figure}): {value}; "
        f"{f.quarters_valid} of {f.quarters_expected} unit-quarters valid{mark}")
    # the submitter only where it is not the unit itself (a village's town); the file's hash
    # goes first when the terminal is narrow (the file's name says which file it is)
    print_rows(found.columns, found.sources, title=f"the values behind {f.indicator_code} {f.year} slot {f.slot}",
               optional=("sha256", "submitted by", "indicator"), unless_empty=("submitted by",))
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    """The county's consolidated table (汇总表) of a year or a quarter, as one .xlsx."""
    from huizong.outputs.export import write_export

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


def cmd_diff(args: argparse.Namespace) -> int:
    """What each correction of a unit's quarter changed, cell by cell (marts.corrections)."""
    from huizong.office.corrections import read_diff, show

    unit, period = submitting_unit(args.unit), quarter(args.period)
    con = _read_only(args)
    try:
        diff = read_diff(con, unit.code, period)  # NotKept is a HuizongError: one sentence
    finally:
        con.close()
    if not diff.versions:
        raise Mistake(f"no file of {unit.name} {unit.code} for {period} was received")
    show(diff, f"{unit.name} {unit.code}", period, console)
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    """The submission grid, then what awaits the office (huizong.office.status)."""
    from huizong.core.clock import OFFICE_TZ
    from huizong.core.vocabulary import SUBMISSION_WORDS
    from huizong.office.status import read_status, storage

    period = quarter(args.period)
    con = _read_only(args)
    try:
        status = read_status(con, period)
    finally:
        con.close()
    # Wide only here, at the edge: one row per unit, one column per quarter; a narrow terminal
    # leaves out the earliest quarters first (the caption says which).
    periods = status.periods
    t = table("submissions per unit and quarter", "unit", *periods, optional=tuple(periods[:-1]))
    for code, name in status.units:
        line = []
        for period in periods:
            state, rejected = status.cells[(code, period)]
            word, colour = SUBMISSION_WORDS[state]  # CONTRACT.md's words: loaded (on time), late, ...
            extra = f" +{rejected} rejected" if rejected and state != "rejected" else ""
            line.append(Text.assemble((word, colour), extra))
        t.add_row(f"{name} {code}", *line)
    console.print(t)
    say("loaded: a valid version in force, received by the deadline; late: received after it")
    print_review_counts(status.reviews)
    if status.rejected:
        console.print("[bold]rejected files[/] (feedback for the town under the warehouse folder):")
    for r in status.rejected:
        day = r.received_at.astimezone(OFFICE_TZ)  # the office's date, as FORM.md's deadlines are
        console.print(f"[red]{escape(f'{r.unit_name} {r.period or chr(63)}')}[/] "
                      + data(f"{shown(r.file_name)} (received {day:%Y-%m-%d}, {r.n_errors} error(s)): "
                             f"{shown(r.first_reason)}", None), soft_wrap=True)
        say(f"    feedback: {r.feedback_path}.xlsx / .txt")
    for line in status.locked:
        say(line)
    if status.corrected:
        console.print("[bold]corrected figures[/] (a valid version replaced by one with other figures):")
    for c in status.corrected:
        say(f"  {c.unit_name} {c.unit_code} {c.period}: {c.corrections} correction(s), {c.cells} cell(s) changed; "
            f"see huizong diff --unit {c.unit_code} --period {c.period}")
    disk = storage(args.warehouse)
    say(f"on disk: the warehouse {mib(disk.warehouse_bytes)} (huizong.duckdb), the kept files "
        f"{mib(disk.kept_bytes)} ({disk.kept_files:,} versions), the rest {mib(disk.other_bytes)} "
        "(reports, signed copies, feedback, uploads, logs)")
    return EXIT_OK


def mib(n: int) -> str:
    return f"{n / 2 ** 20:.1f} MiB"


def cmd_report(args: argparse.Namespace) -> int:
    from huizong.outputs.report import write_report

    out = write_report(args.warehouse, args.year, args.out)  # ReportError: main says it in one line
    say(f"report: {out}")
    return EXIT_OK
