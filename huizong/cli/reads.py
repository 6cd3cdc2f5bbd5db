"""The commands that read the published warehouse: query, explain, status, diff, export, report."""
from __future__ import annotations

import argparse
import sys

from rich.markup import escape
from rich.text import Text

from huizong.core.terminal import data, shown, table
from huizong.cli.common import EXIT_OK, Mistake, _read_only, _text, console, print_result, quarter, say, submitting_unit
from huizong.cli.office import print_review_counts, review_counts

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
    from huizong.office.corrections import NotKept, read_diff, show

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
    from huizong.store.warehouse import statement

    period = quarter(args.period)
    con = _read_only(args)
    try:
        sql = statement("commands", "status.sql")
        rows = con.execute(sql, {"period": period}).fetchall()
        rejected_files = con.execute(statement("commands", "rejected.sql"),
                               {"period": period}).fetchall()
        reviews = review_counts(con, period)
        from huizong.office.signoff import status_lines

        locked = status_lines(con, period)  # signed-off years and the files held for them
    finally:
        con.close()
    # Wide only here, at the edge: one row per unit, one column per quarter.
    periods = sorted({r[2] for r in rows})
    cells = {(r[0], r[2]): r for r in rows}
    # a narrow terminal leaves out the earliest quarters first (the caption says which)
    t = table("submissions per unit and quarter", "unit", *periods, optional=tuple(periods[:-1]))
    # CONTRACT.md's words: a valid version in force is "loaded" (on time) or "late".
    from huizong.core.vocabulary import SUBMISSION_WORDS

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
    from huizong.core.clock import OFFICE_TZ

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
    from huizong.office.corrections import corrected

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


def cmd_report(args: argparse.Namespace) -> int:
    from huizong.outputs.report import write_report

    out = write_report(args.warehouse, args.year, args.out)  # ReportError: main says it in one line
    say(f"report: {out}")
    return EXIT_OK
