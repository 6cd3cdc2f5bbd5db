"""The office's commands: review, remind, check, signoff, unlock."""
from __future__ import annotations

import argparse

from huizong.cli.common import (
    EXIT_OK,
    EXIT_REJECTED,
    Mistake,
    _read_only,
    check_folders,
    console,
    not_files,
    quarter,
    say,
    submitting_unit,
)
from huizong.core.terminal import LINE_CUT, data, shown


def cmd_remind(args: argparse.Namespace) -> int:
    """Who owes the office the quarter (missing, rejected, late), printed and written for a mail merge."""
    from huizong.office.remind import default_out, read_reminders, reply_by_date, show, write_reminders

    period = quarter(args.period)
    reply_by = None if args.reply_by is None else reply_by_date(args.reply_by)
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


REVIEW_LINES = 20  # unit-quarters with warnings listed by `status`, the latest first


REVIEW_LIST_LIMIT = 200  # warnings `review` lists one by one without a quarter or unit named


def print_review_counts(counts: list) -> None:
    """The unit-quarters with warnings awaiting the office (huizong.office.review.ReviewCount)."""
    if not counts:
        return
    console.print("[bold]warnings awaiting the office[/] (explained by the town, open, or returned to it):")
    for c in counts[:REVIEW_LINES]:
        states = ", ".join(f"{n} {state}" for state, n in (("explained", c.explained), ("open", c.open),
                                                          ("returned", c.returned), ("accepted", c.accepted)) if n)
        say(f"  {c.unit_name} {c.unit_code} {c.period}: {states}    huizong review --unit {c.unit_code} --period {c.period}")
    if len(counts) > REVIEW_LINES:
        rest = counts[REVIEW_LINES:]
        say(f"  ... and {len(rest)} earlier unit-quarters with {sum(c.awaiting for c in rest)} such warnings "
            "(huizong review --period P lists a quarter's)")


def print_warning(w) -> None:
    """One warning of `huizong review`: its state and place, what the town and the office said."""
    from huizong.core.clock import OFFICE_TZ

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
    from huizong.office import review

    period = quarter(args.period)
    unit = submitting_unit(args.unit)
    states = review.STATES if "all" in (args.state or []) else tuple(args.state or review.AWAITING)
    # a ReviewError is a HuizongError: `main` says it in one sentence
    if args.decision is None:
        if args.cell or args.all_explained:
            raise Mistake("say what the office decides: --accept, or --return --note TEXT")
        con = _read_only(args)
        try:
            found = review.warnings(con, period=period, unit=unit.code if unit else None, states=states)
            if not (period or unit) and len(found) > REVIEW_LIST_LIMIT:  # years of them: counts first
                print_review_counts(review.review_counts(con))
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
    for w in done.warnings:
        print_warning(w)
    say(f"{args.decision}: {len(done.warnings)} warning(s) of {unit.name} {unit.code} {period}, "
        f"by {args.by.strip()}")
    if done.notice:
        say(f"退回说明 for the town: {args.warehouse / done.notice}.xlsx / .txt "
            "(the figures stay loaded until a corrected file replaces them)")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from huizong.office.checking import check_files

    not_files(args.files)
    checked = check_files(args.files, args.warehouse)
    verdicts = {"load": "[green]would load[/]", "locked": "[yellow]would be held as locked[/]",
                "reject": "[red]would be rejected[/]"}
    for c in checked:
        o = c.outcome
        console.print(f"{verdicts[c.verdict]} " + data(checked_file(o), None), soft_wrap=True)
        if c.held:
            say(f"  {c.held.says()}: the file would be kept, not loaded, until the year is unlocked")
        for p in o.problems if len(o.problems) > 1 or o.ok else ():
            tag = "[red]错误[/]" if p.severity == "error" else "[yellow]提醒[/]"
            console.print(f"  {tag} " + data(p.message), soft_wrap=True)
    return EXIT_OK if all(c.outcome.ok for c in checked) else EXIT_REJECTED


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


def cmd_signoff(args: argparse.Namespace) -> int:
    from huizong.office.signoff import sign_off

    for line in sign_off(args.warehouse, args.year, args.by, args.force).lines():  # SignoffError: one sentence
        say(line)
    return EXIT_OK


def cmd_unlock(args: argparse.Namespace) -> int:
    from huizong.office.signoff import unlock

    for line in unlock(args.warehouse, args.year, args.by, args.reason).lines():
        say(line)
    return EXIT_OK
