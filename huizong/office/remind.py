"""Reminders (催报): the units whose quarter is missing, rejected or late, with the days overdue
by FORM.md's deadline and a message in Chinese the office can send as it is.

Read-only: the standing of every town and department comes from the ledger and the registry
(sql/commands/remind.sql); today is huizong.core.clock's (HUIZONG_TODAY). The reminders are printed
by `huizong remind` and written as one workbook, one row per unit, for a mail merge.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import duckdb
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from rich.console import Console

from huizong.core import clock
from huizong.core.errors import HuizongError
from huizong.core.files import written_whole
from huizong.core.terminal import LINE_CUT, shown, table
from huizong.core.vocabulary import SUBMISSION_LABELS
from huizong.intake.writer import put_text
from huizong.schemas import catalog as cat
from huizong.store.warehouse import statement

REMINDED = ("missing", "rejected", "late")  # in the order they are listed: what is owed first
REPLY_DAYS = 5  # the default 请于…前: a working week from the day the reminder is sent
QUARTER_WORDS = "一二三四"
SHEET = "催报名单"
HEADER = ("单位代码", "单位名称", "状态", "截止日期", "逾期天数", "最近文件", "收到日期", "原因",
          "反馈文件", "提醒内容")
WIDTHS = (12, 14, 8, 14, 9, 28, 14, 48, 48, 90)


@dataclass(frozen=True)
class Standing:
    """One unit's quarter as sql/commands/remind.sql finds it."""
    unit_code: str
    unit_name: str
    unit_type: str
    status: str  # on_time | late | rejected | missing | not_due (marts.submission_status' words)
    days_overdue: int | None  # late: days late; rejected, missing: days from the deadline to today
    valid_file: str | None  # the first valid version (what made it on time or late)
    valid_received_at: dt.datetime | None
    rejected_file: str | None  # the latest rejected version
    rejected_received_at: dt.datetime | None
    first_reason: str | None
    n_errors: int | None
    feedback_path: str | None  # relative to the warehouse, without .xlsx / .txt
    rejected_files: int
    returned_warnings: int  # figures in force the office returned (huizong review): correct them
    returned_cell: str | None  # the first of them, 村级指标!E12
    returned_note: str | None  # and the office's note on it

    @property
    def owes(self) -> bool:
        """Whether the unit owes the office something for the quarter."""
        return self.status in REMINDED or self.returned_warnings > 0


@dataclass(frozen=True)
class Reminders:
    """Every unit's standing for a quarter, as of today."""
    period: str
    today: dt.date
    deadline: dt.date  # FORM.md's: the 10th of the month after the quarter, by the end of that day
    reply_by: dt.date
    standings: tuple[Standing, ...]
    unread_covers: int  # rejected files whose unit or quarter could not be read

    @property
    def due(self) -> bool:
        return self.today > self.deadline

    @property
    def reminded(self) -> list[Standing]:
        """The units to remind: missing, then rejected, then late, then those whose returned
        figures await a corrected file; by code within each."""
        order = (*REMINDED, "on_time")
        return sorted((s for s in self.standings if s.owes), key=lambda s: (order.index(s.status), s.unit_code))

    def count(self, *statuses: str) -> int:
        return sum(s.status in statuses for s in self.standings)


def deadline_of(period: str) -> dt.date:
    """The date of FORM.md's deadline: due_by is the midnight that ends it."""
    return (clock.due_by(period) - dt.timedelta(days=1)).date()


class BadReplyBy(HuizongError, ValueError):
    """A reply-by date that is not a date, or not after today."""


def reply_by_date(text: str) -> dt.date:
    """The date the messages ask for the file by, as the office gives it: an ISO date after today
    (a message asking for a file by a day already past could not be answered)."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise BadReplyBy(f"--reply-by {text}: not a date such as 2019-04-25") from None
    if day <= clock.today():
        raise BadReplyBy(f"--reply-by {day}: the messages would ask for the file by a day already "
                         f"past (today is {clock.today()}); give a later date")
    return day


def read_reminders(con: duckdb.DuckDBPyConnection, period: str, reply_by: dt.date | None = None) -> Reminders:
    """Every town's and department's standing for `period` as of the clock's today; the messages
    ask for the file by `reply_by` (default: REPLY_DAYS from today)."""
    today = clock.today()
    params = {"period": period, "due_by": clock.due_by(period), "deadline_day": deadline_of(period),
              "today": today}
    cursor = con.execute(statement("commands", "remind.sql"), params)
    standings = tuple(Standing(*row) for row in cursor.fetchall())
    (unread,) = con.execute(statement("commands", "unread_covers.sql"), {"period": period}).fetchone()
    return Reminders(period, today, deadline_of(period), reply_by or today + dt.timedelta(days=REPLY_DAYS),
                     standings, unread)


# --- the clerk's Chinese ---------------------------------------------------------------------------

def day_words(day: dt.date | dt.datetime) -> str:
    """2019年4月10日; a moment is taken on the office's calendar."""
    if isinstance(day, dt.datetime):
        day = day.astimezone(clock.OFFICE_TZ).date()
    return f"{day.year}年{day.month}月{day.day}日"


def quarter_words(period: str) -> str:
    return f"{period[:4]}年第{QUARTER_WORDS[int(period[-1]) - 1]}季度"


def office_name() -> str:
    """The sender: the county's civilization office, named after the registry's county."""
    county = next((u.name for u in cat.units() if u.type == "county"), "")
    return f"{county}文明办"


def feedback_name(feedback_path: str | None) -> str | None:
    """The feedback workbook's file name, as the town receives it attached."""
    return None if not feedback_path else PurePosixPath(feedback_path).name + ".xlsx"


def message(s: Standing, r: Reminders) -> str:
    """The reminder for one unit, ready to send: who, which quarter, what is wrong, the
    deadline, what to do."""
    quarter, deadline = quarter_words(r.period), day_words(r.deadline)
    if s.status == "late":
        body = (f"贵单位{quarter}报表已于{day_words(s.valid_received_at)}收到并通过审核。该报表应于"
                f"{deadline}前报送，迟报{s.days_overdue}天。请今后在每季度结束后次月10日前按时报送。")
    elif s.status == "rejected":
        sent = f"（文件“{s.rejected_file}”，{day_words(s.rejected_received_at)}收到）"
        if s.rejected_files > 1:
            what = f"贵单位{quarter}报表先后报送{s.rejected_files}份，均未通过审核，已退回。最近一份{sent}"
        else:
            what = f"贵单位{quarter}报表{sent}未通过审核，已退回，"
        reason = (s.first_reason or "").rstrip("。")
        errors = (f"共有{s.n_errors}处错误，" if s.n_errors else "") + (f"第一处为：{reason}。" if reason else "")
        feedback = f"详见反馈文件“{feedback_name(s.feedback_path)}”。" if s.feedback_path else ""
        body = (f"{what}{errors}{feedback}该报表应于{deadline}前报送，目前尚无合格报表，已逾期{s.days_overdue}天。"
                f"请按反馈意见逐条更正后，于{day_words(r.reply_by)}前通过原报送渠道重新报送。")
    elif s.status == "missing":
        body = (f"贵单位{quarter}报表应于{deadline}前报送，截至{day_words(r.today)}尚未收到，"
                f"已逾期{s.days_overdue}天。请于{day_words(r.reply_by)}前按统一模板填报，通过原报送渠道报送。"
                f"如已报送，请及时与我办联系核实。")
    else:  # on time, but figures of it were returned
        body = f"贵单位{quarter}报表已收到并通过审核。"
    if s.returned_warnings:
        note = f"：{s.returned_note.rstrip('。')}" if s.returned_note else ""
        body += (f"经审核，报表中有{s.returned_warnings}处数字需核实更正（如{s.returned_cell}{note}），"
                 f"详见退回说明。更正前仍按原数计入汇总。请核实更正后，于{day_words(r.reply_by)}前重新报送。")
    return f"{s.unit_name}：\n    {body}特此提醒。\n{office_name()}\n{day_words(r.today)}"


def rows(r: Reminders, warehouse: Path) -> list[list]:
    """The workbook's rows, one per unit reminded, in HEADER's order."""
    out = []
    for s in r.reminded:
        latest, received = ((s.valid_file, s.valid_received_at) if s.status in ("late", "on_time")
                            else (s.rejected_file, s.rejected_received_at))
        feedback = (str(warehouse.resolve() / (s.feedback_path + ".xlsx"))
                    if s.status == "rejected" and s.feedback_path else None)
        reason = {"missing": "未收到报表", "late": f"迟报{s.days_overdue}天",
                  "rejected": s.first_reason or "未通过审核", "on_time": ""}[s.status]
        if s.returned_warnings:
            reason = "；".join(filter(None, (reason, f"{s.returned_warnings}处数字退回待更正")))
        out.append([s.unit_code, s.unit_name, SUBMISSION_LABELS[s.status][0], day_words(r.deadline),
                    s.days_overdue, latest, day_words(received) if received else None, reason, feedback,
                    message(s, r)])
    return out


def build_workbook(r: Reminders, warehouse: Path) -> Workbook:
    """One sheet for the mail merge (its header in row 1, one row per unit, text as text), and
    a second saying what the list is."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    for c, (text, width) in enumerate(zip(HEADER, WIDTHS), start=1):
        put_text(ws, 1, c, text).font = Font(bold=True)
        ws.column_dimensions[ws.cell(1, c).column_letter].width = width
    for i, row in enumerate(rows(r, warehouse), start=2):
        for c, value in enumerate(row, start=1):
            cell = put_text(ws, i, c, value)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    about = wb.create_sheet("说明")
    lines = [f"{quarter_words(r.period)}催报名单", f"报送截止日期：{day_words(r.deadline)}（次月10日24时，北京时间）",
             f"统计日期：{day_words(r.today)}",
             f"应报单位{len(r.standings)}个：按时{r.count('on_time')}个，迟报{r.count('late')}个，"
             f"退回{r.count('rejected')}个，未报{r.count('missing')}个，未到报送期{r.count('not_due')}个。",
             "逾期天数：未报、退回的，自截止日期至统计日期；迟报的，自截止日期至收到合格报表之日。"]
    if not r.due:
        lines.append("本季度尚未到报送截止日期，无需催报。")
    for i, text in enumerate(lines, start=1):
        put_text(about, i, 1, text)
    about.column_dimensions["A"].width = 90
    return wb


def default_out(warehouse: Path, period: str) -> Path:
    return warehouse / "reminders" / f"{period}_催报.xlsx"


def write_reminders(r: Reminders, out: Path, warehouse: Path) -> Path:
    """Write the workbook to `out`, whole or not at all (a temporary file, then os.replace)."""
    wb = build_workbook(r, warehouse)
    with written_whole(out) as tmp:
        wb.save(tmp)
    return out


# --- the terminal ------------------------------------------------------------------------------

def show(r: Reminders, console: Console) -> None:
    """The standing in a line, the units to remind as a table, then each message; data printed
    as data (names, files and reasons are the towns')."""
    def line(text: str = "") -> None:
        console.print(shown(text, LINE_CUT), markup=False, highlight=False, soft_wrap=True)

    line(f"{r.period}: due by {r.deadline:%Y-%m-%d} (the end of that day, Asia/Shanghai); today {r.today:%Y-%m-%d}")
    units = len(r.standings)
    if not r.due:
        line(f"nothing is due yet: {r.count('on_time', 'late')} of {units} units have sent a valid file, "
             f"{r.count('not_due')} not due until the deadline")
        return
    line(f"{units} units: {r.count('on_time')} on time, {r.count('late')} late, {r.count('rejected')} rejected, "
         f"{r.count('missing')} missing")
    if r.unread_covers:
        line(f"{r.unread_covers} rejected file(s) whose unit or quarter could not be read may be among the "
             "missing: `huizong status` lists them")
    if not r.reminded:
        line("every unit reported on time: nothing to remind")
        return
    t = table(f"reminders for {r.period}", "unit", "status", "days overdue", "file", "reason", prose=("reason",))
    for s in r.reminded:
        latest = s.valid_file if s.status in ("late", "on_time") else s.rejected_file
        reason = {"missing": "nothing received", "late": f"{s.days_overdue} day(s) late",
                  "on_time": ""}.get(s.status, s.first_reason or "")
        if s.returned_warnings:
            reason = "; ".join(filter(None, (reason, f"{s.returned_warnings} figure(s) returned for correction")))
        t.add_row(f"{s.unit_name} {s.unit_code}", s.status, "" if s.days_overdue is None else str(s.days_overdue),
                  latest or "", reason)
    console.print(t)
    for s in r.reminded:
        line()
        line(f"── {s.unit_name} {s.unit_code} ({s.status})")
        line(message(s, r))
