"""The command line's grammar (argparse: `--verbose` before or after the command, and no dependency beyond the standard library)."""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from huizong.cli import forms, office, passes, reads, web


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
                         help="run the per-batch work on Dask: a scheduler address (tcp://host:8786), "
                              "which needs a Prefect server in PREFECT_API_URL (docs/dask.md), "
                              "or 'local' for a local cluster of two workers (default: $HUIZONG_DASK, "
                              "else one thread of this process)")
    p = argparse.ArgumentParser(prog="huizong", description="Consolidate the county's quarterly workbooks.")
    p.add_argument("--verbose", action="store_true", help="on an error, print the whole traceback")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", parents=[common, on_dask], help="one consolidation pass (the nightly job)",
                         description="Read, validate and load every new workbook of the inbox, rebuild "
                                     "the models and publish. Example: huizong run --inbox inbox/")
    run.set_defaults(func=passes.cmd_run)

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
    rr.add_argument("--year", type=int, help="every quarter of a year, e.g. 2019 (with --force: after a catalog change)")
    rr.add_argument("--force", action="store_true",
                    help="read again even versions found valid under the current rules")
    rr.add_argument("paths", nargs="*", type=Path, help="files to import again (or for the first time)")
    rr.set_defaults(func=passes.cmd_rerun)

    sv = sub.add_parser("serve", parents=[common], help="register the nightly schedule and serve it",
                        description="Registers the deployment huizong-nightly/nightly (02:00 Asia/Shanghai "
                                    "by default) on the Prefect server of PREFECT_API_URL and runs its "
                                    "flow runs until stopped. Example: PREFECT_API_URL=http://127.0.0.1:4200/api "
                                    "huizong serve --cron '30 1 * * *'")
    sv.add_argument("--cron", default="0 2 * * *", help="when to run (default '0 2 * * *')")
    sv.add_argument("--timezone", default="Asia/Shanghai", help="the cron's time zone (default Asia/Shanghai)")
    sv.set_defaults(func=passes.cmd_serve)

    st = sub.add_parser("status", parents=[common], help="who has submitted what, per unit and quarter",
                        description="Example: huizong status --period 2019Q3")
    st.add_argument("--period", help="only this quarter, e.g. 2019Q3")
    st.set_defaults(func=reads.cmd_status)

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
    rv.set_defaults(func=office.cmd_review, decision=None)

    rp = sub.add_parser("report", parents=[common], help="write the annual work summary of a year",
                        description="Writes the annual work summary with its figures filled from the "
                                    "warehouse, as Markdown, HTML (with charts) or Word by the file's "
                                    "ending. Example: huizong report --year 2019 --out summary_2019.docx")
    rp.add_argument("--year", type=int, required=True, help="the year summed up, e.g. 2019")
    rp.add_argument("--out", type=Path, help="the file to write: .md, .html or .docx "
                                             "(default <warehouse>/reports/summary_<year>.html)")
    rp.set_defaults(func=reads.cmd_report)

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
    so.set_defaults(func=office.cmd_signoff)

    ul = sub.add_parser("unlock", parents=[common], help="reopen a signed-off year (with a reason)",
                        description="Records who unlocked a signed-off year and why; the next pass lets "
                                    "the files held as `locked` in by the version rules, rebuilds and writes "
                                    "the year's summary again. Example: huizong unlock --year 2019 --by 王五 "
                                    "--reason '城关镇更正四季度报表'")
    ul.add_argument("--year", type=int, required=True, help="the year, e.g. 2019")
    ul.add_argument("--by", required=True, help="who unlocks (recorded)")
    ul.add_argument("--reason", required=True, help="why the year is reopened (recorded)")
    ul.set_defaults(func=office.cmd_unlock)

    q = sub.add_parser("query", parents=[common], help="run a read-only SQL query on the warehouse",
                       description="Example: huizong query \"select * from marts.county_totals where year = 2019\"")
    q.add_argument("sql")
    q.add_argument("--limit", type=int, default=200,
                   help="rows to print as a table or Markdown (default 200; it says when it cut)")
    q.add_argument("--format", choices=("table", "csv", "json", "markdown"), default="table",
                   help="table (default), or every row as csv or json, or a Markdown table")
    q.add_argument("--csv", action="store_true", help="the same as --format csv")
    q.set_defaults(func=reads.cmd_query)

    ex = sub.add_parser("explain", parents=[common], help="where a figure comes from: units, files, cells",
                        description="Prints a figure of the year (a summary figure, or the county total) and "
                                    "every value behind it: unit, period, file, sheet and cell. Example: "
                                    "huizong explain --year 2019 --indicator V03")
    ex.add_argument("--year", type=int, required=True, help="the year, e.g. 2019")
    ex.add_argument("--indicator", required=True, help="the indicator's code, e.g. V03")
    ex.add_argument("--slot", type=int, default=1, help="which ** of the summary phrase (default 1)")
    ex.set_defaults(func=reads.cmd_explain)

    xp = sub.add_parser("export", parents=[common], help="write the county's consolidated table (汇总表) as .xlsx",
                        description="Writes the consolidated table the office sends up: county totals, towns, "
                                    "villages, departments and completeness, laid out for print. With --period, "
                                    "the figures of that quarter. Example: huizong export --year 2019 --out 汇总表.xlsx")
    xp.add_argument("--year", type=int, required=True, help="the year, e.g. 2019")
    xp.add_argument("--period", help="one quarter of that year, e.g. 2019Q3 (default: the whole year)")
    xp.add_argument("--out", type=Path, required=True, help="the .xlsx file to write")
    xp.set_defaults(func=reads.cmd_export)

    rm = sub.add_parser("remind", parents=[common], help="the units to remind of a quarter, with messages",
                        description="Lists every town and department whose quarter is missing, rejected or "
                                    "late, with the days overdue by FORM.md's deadline and a message in Chinese "
                                    "for each, and writes them as a workbook for a mail merge. Reads only. "
                                    "Example: huizong remind --period 2019Q3")
    rm.add_argument("--period", required=True, help="the quarter, e.g. 2019Q3")
    rm.add_argument("--out", type=Path, help="the .xlsx to write (default <warehouse>/reminders/<period>_催报.xlsx)")
    rm.add_argument("--reply-by", metavar="DATE",
                    help="the date the messages ask for the file by (default: five days from today)")
    rm.set_defaults(func=office.cmd_remind)

    df = sub.add_parser("diff", parents=[common], help="what each correction of a unit's quarter changed",
                        description="Prints the versions of a unit's quarter in order of arrival and, for each "
                                    "valid version that replaced an earlier one, the cells it changed (old -> "
                                    "new). Example: huizong diff --unit 990101100 --period 2019Q3")
    df.add_argument("--unit", required=True, help="a town's or department's code")
    df.add_argument("--period", required=True, help="the quarter, e.g. 2019Q3")
    df.set_defaults(func=reads.cmd_diff)

    c = sub.add_parser("check", parents=[common], help="dry run: check files without loading them",
                       description="Runs every check of a pass on the named files and prints the problems "
                                   "and warnings; loads nothing, writes nothing. Exit 0 if they would load, "
                                   "2 if not. Example: huizong check 城关镇_2019Q3.xlsx")
    c.add_argument("files", nargs="+", type=Path)
    c.set_defaults(func=office.cmd_check)

    t = sub.add_parser("template", parents=[common], help="write blank workbooks for units to fill",
                       description="Writes the workbook a unit fills for a quarter: cover and villages "
                                   "prefilled, instructions, drop-downs and range checks. Without --unit, "
                                   "one per town and department. Example: huizong template --unit 990101100 "
                                   "--period 2020Q1 --out 城关镇.xlsx")
    t.add_argument("--period", required=True, help="the quarter, e.g. 2020Q1")
    t.add_argument("--unit", help="a town's or department's code (default: all of them)")
    t.add_argument("--out", type=Path, help="an .xlsx file for one unit, or a folder "
                                            "(default <warehouse>/templates/<period>/)")
    t.set_defaults(func=forms.cmd_template)

    w = sub.add_parser("web", parents=[common], help="serve the web page for the towns and the office",
                       description="Serves the page where a town's clerk uploads its workbook and sees the check "
                                   "at once, and the office runs its quarter. Accounts: huizong users. "
                                   "Example: huizong web --port 8000")
    w.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    w.add_argument("--port", type=int, default=8000, help="the port (default 8000)")
    w.set_defaults(func=web.cmd_web)

    us = sub.add_parser("users", parents=[common], help="the web page's accounts: add, reset, disable, list, demo",
                        description="One account per town or department (--unit CODE) and the office's "
                                    "(--role office). The password is asked for, or given by --password or "
                                    "HUIZONG_PASSWORD. `demo` makes an office account and one per unit and prints "
                                    "their passwords. Example: huizong users add --name 王芳 --role office")
    us.add_argument("action", choices=("add", "reset", "disable", "list", "demo"))
    us.add_argument("--name", help="the account's name (what its owner types to log in)")
    us.add_argument("--role", choices=("office", "unit"), help="office, or unit (with --unit)")
    us.add_argument("--unit", help="the town's or department's code, for its account")
    us.add_argument("--password", help="the password (else asked for, or $HUIZONG_PASSWORD)")
    us.set_defaults(func=web.cmd_users)

    d = sub.add_parser("demo", parents=[verbose], help="write the demo county's workbooks",
                       description="Example: huizong demo --out /tmp/county --periods 2019Q1 2019Q2")
    d.add_argument("--out", type=Path, required=True, help="folder to write into")
    d.add_argument("--periods", nargs="*", help="quarters (default 2018Q1..2019Q4)")
    d.add_argument("--demo-inbox", action="store_true", help="write the shipped demo inbox instead")
    d.add_argument("--changing-form", action="store_true",
                   help="write 2019 and 2020 under a form and map that change in 2020: OUT/catalog (for "
                        "HUIZONG_CATALOG) and OUT/inbox")
    d.set_defaults(func=forms.cmd_demo)
    return p
