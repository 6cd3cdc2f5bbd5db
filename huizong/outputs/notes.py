"""What every format of the annual summary says besides its text: the notes on coverage, comparison,
the data and the office's review, the figures table and the submission grid."""
from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from huizong.core.clock import OFFICE_TZ
from huizong.outputs.charts import STATUS_STYLE
from huizong.outputs.summary import (
    CONFIRM,
    INCOMPLETE_MARK,
    QUARTER_WORDS,
    Summary,
    plain_number,
)

if TYPE_CHECKING:
    from huizong.outputs.report import ReportData


def _day(moment: dt.datetime) -> str:
    """The last day on which a file is on time: due_by is the midnight after it."""
    last = (moment.astimezone(OFFICE_TZ) - dt.timedelta(seconds=1)).date()
    return f"{last.year}年{last.month}月{last.day}日"


def coverage_note(data: ReportData) -> str:
    c = data.coverage
    if c.full:
        return f"本总结涵盖{c.year}年全年（第一至四季度）。"
    rest = "；".join(f"第{QUARTER_WORDS[int(p[-1])]}季度截止日期为{_day(due)}" for p, due in data.not_due)
    note = f"本总结只涵盖{c.year}年{c.months}（{c.quarters}），不是全年总结"
    return note + (f"：其余季度未到报送期（{rest}），不计为未报。" if rest else "。")


def compare_note(data: ReportData) -> str:
    c, last = data.coverage, data.coverage.year - 1
    span = "全年" if c.full else c.months
    if not data.years:
        return (f"与{last}年的比较从略：没有两年{span}报送均完整的指标"
                + ("。" if data.years_left_out == 0 else f"（{data.years_left_out}项指标有一年报送不完整）。"))
    note = f"与{last}年的比较按两年同期（{span}）计算，只比较两年同期报送均完整的指标"
    return note + (f"（另有{data.years_left_out}项指标有一年报送不完整，未作比较）。" if data.years_left_out else "。")


def data_notes(data: ReportData, quote=lambda text: text) -> list[str]:
    """The note under the summary: what it covers, where the figures come from, how complete
    they are, which may still change, and what the office must confirm. Text from a town or a
    clerk (explanations, review notes) goes through `quote`."""
    notes = [coverage_note(data),
             f"本总结中的数字由 huizong 根据各镇、各部门报送的季度报表汇总生成"
             f"（{data.as_of:%Y年%m月%d日 %H:%M}）。所涵盖季度应报送 "
             f"{data.quarters_expected} 个单位季度，有效报送 {data.quarters_valid} 个。"]
    if data.units_short:
        notes.append(f"报送不完整的单位（有效季度/应报季度）：{data.units_short}。")
    changing = data.summary.incomplete
    settled = [f for _, f in data.summary.figures
               if f.figure.complete and f.figure.quarters_valid < f.figure.quarters_expected]
    if changing:
        notes.append(f"标有“{INCOMPLETE_MARK}”的{len(changing)}个数字所依据的报送不完整（所涵盖季度中有单位未报或被退回），"
                     "补报或更正后还会变化。")
    if settled:
        notes.append(f"另有{len(settled)}个数字虽然也有单位季度未报，但补报不会改变它们（时点数取各单位所涵盖的最后一个季度，"
                     "该季度已报齐；或计数已达全部单位），故未标“" + INCOMPLETE_MARK + "”。")
    notes.append(compare_note(data))
    notes += review_notes(data.reviewed, quote)
    if data.summary.to_confirm:
        notes.append(f"文中标“{CONFIRM}”的{sum(s.kind == 'confirm' for s in data.summary.to_confirm)}处"
                     "内容不是由报表数据生成的，印发前请核实；标“【待填：…】”的"
                     f"{sum(s.kind == 'fill' for s in data.summary.to_confirm)}处请填写。")
    return notes


NOTED_FIGURES = 3  # warned figures named per state in the notes; the rest are counted


def one_line(text: str) -> str:
    """Text a town or a clerk typed, as one line: every run of spaces, tabs, line or paragraph
    breaks is one space, other control characters are dropped."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", "", re.sub(r"\s+", " ", text)).strip()


def review_notes(reviewed: list[tuple], quote=lambda text: text) -> list[str]:
    """The year's warned figures (huizong review): how many in each state, and the first few
    explained, accepted and returned ones with the town's or the office's reason, folded to one
    line and cut, then passed through `quote` (the Markdown file escapes it there)."""
    if not reviewed:
        return []
    by_state = {s: [r for r in reviewed if r[0] == s] for s in ("explained", "accepted", "returned", "open")}

    def named(rows: list[tuple], reason: int, label: str) -> str:
        def one(r: tuple) -> str:
            _, unit, period, village, indicator, measure, value, *_ = r
            # an accepted figure the town did not explain (confirmed by telephone): the office's note
            why, said = (r[reason], label) if r[reason] or reason != 7 else (r[8], "审核意见")
            why = one_line(why or "")
            why = why if len(why) <= 40 else why[:40] + "…"
            figure = f"{unit}{period}{village or ''}“{indicator}”{plain_number(value)}{measure}"
            return f"{figure}（{said}：{quote(why)}）" if why else figure
        more = f"等{len(rows)}个" if len(rows) > NOTED_FIGURES else ""
        return "；".join(one(r) for r in rows[:NOTED_FIGURES]) + more

    counts = "，".join(f"{word}{len(by_state[s])}个" for s, word in (
        ("accepted", "经审核认可"), ("explained", "已作说明、待审核"), ("returned", "已退回待更正"),
        ("open", "尚未说明")) if by_state[s])
    notes = [f"各单位报送的数字中有{len(reviewed)}个与本单位以往季度相比异常，已提醒核实（提醒不影响入库）：{counts}。"]
    if by_state["accepted"]:
        notes.append(f"经审核认可的：{named(by_state['accepted'], 7, '说明')}。")
    if by_state["explained"]:
        notes.append(f"已作说明、待审核的：{named(by_state['explained'], 7, '说明')}。")
    if by_state["returned"]:
        notes.append(f"已退回待更正的（在更正前仍按报送数计入汇总）：{named(by_state['returned'], 8, '退回意见')}。")
    return notes


def figure_rows(summary: Summary) -> list[tuple[str, str, str, str, str]]:
    """One row per figure of the text: code, indicator, as written, exact value, completeness."""
    return [(ind.code, ind.name + ("" if span.figure.figure in ("", "全县合计") else f"：{span.figure.figure}"),
             span.text + ("" if span.figure.complete else INCOMPLETE_MARK),
             "" if span.figure.value is None else plain_number(span.figure.value),
             f"{span.figure.quarters_valid}/{span.figure.quarters_expected}" if span.figure.quarters_expected else "—")
            for ind, span in summary.figures]  # —: not on the year's form, nothing expected


STATUS_WORDS = {status: label for status, (label, _) in STATUS_STYLE.items()}
FIGURE_HEADER = ("指标代码", "指标", "文中写作", "汇总值", "有效/应报单位季度")


def status_table(data: ReportData) -> tuple[list[str], list[list[str]]]:
    units = list(dict.fromkeys(r[0] for r in data.status))
    status = {(u, p): s for u, p, s in data.status}
    return (["报送单位", *data.periods],
            [[u, *(STATUS_WORDS[status.get((u, p), "missing")] for p in data.periods)] for u in units])


def year_caption(data: ReportData) -> str:
    c = data.coverage
    span = "" if c.full else c.months
    return f"{c.year}年{span}与{c.year - 1}年{span}比较"
