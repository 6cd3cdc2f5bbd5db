"""The annual work summary as a document: the template's text with every `**` filled.

Pure functions: the template (`summary_template.md`), the catalog's `summary_phrase`s and the
year's rows of `marts.summary_figures` go in; a `Summary` of blocks and spans comes out, which
`report.py` writes as Markdown, HTML or Word (markdown.py, html.py, word.py).

An indicator's phrase is found in the template (half- and full-width punctuation alike; a `**`
of the phrase that the template has filled with a name, such as 云岭, matches that name; `……`
matches any text). The `**` still in the found text are the indicator's figures, slot 1 first.
Every `**` of the template must be claimed by exactly one phrase, so a template and catalog that
drift apart fail loudly instead of printing a stray `**`.

Besides figures, the template marks every fixed fact that does not come from the data, so that
nothing is asserted silently: `⟦…⟧` is a fact for the office to confirm (written with 【请核实】),
`⟨…⟩` a blank the office fills (written 【待填：…】), and `⟪…⟫` names that the data replaces (the
villages that hold the next figure's flag, longest held first); without such data they stay, to
confirm. The summary may cover part of a year (`Coverage`): its title and first sentence say so.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from huizong.core.errors import HuizongError
from huizong.schemas import catalog as cat
from huizong.schemas.catalog import Indicator

TEMPLATE = Path(__file__).with_name("summary_template.md")
SLOT = "**"
INCOMPLETE_MARK = "※"
NO_DATA = "（暂无数据）"
NOT_ON_FORM = "（本年度未列入报表）"  # an indicator the year's form does not hold: no figure, none missing
_HALF_TO_FULL = str.maketrans({",": "，", ";": "；", ":": "：", "(": "（", ")": "）"})
_NAME = r"[^*\n，。、；：“”]{0,12}?"  # what a phrase's ** may be in the template: a short name
MARKS = "⟦⟧⟨⟩⟪⟫"  # confirm ⟦fact⟧, fill ⟨blank⟩, derived ⟪example names⟫
_MARKUP = re.compile(r"⟦([^⟧]*)⟧|⟨([^⟩]*)⟩|⟪([^⟫]*)⟫")
CONFIRM = "【请核实】"
NEAR_MARGIN = Decimal("1.1")  # 近 may read at most 10% above the truth
QUARTER_WORDS = {1: "一", 2: "二", 3: "三", 4: "四"}


class TemplateMismatch(HuizongError, ValueError):
    """The template, the catalog's phrases and the figures do not fit together."""


@dataclass(frozen=True)
class Coverage:
    """The quarters a summary covers: 1 to `through` of `year` (4: the whole year)."""
    year: int
    through: int = 4

    @property
    def full(self) -> bool:
        return self.through >= 4

    @property
    def months(self) -> str:
        return f"1—{3 * self.through}月"

    @property
    def name(self) -> str:
        """一季度, 上半年, 前三季度, or 全年."""
        return {1: "一季度", 2: "上半年", 3: "前三季度"}.get(self.through, "全年")

    @property
    def quarters(self) -> str:
        """第一、二季度"""
        return "第" + "、".join(QUARTER_WORDS[q] for q in range(1, self.through + 1)) + "季度"

    @property
    def periods(self) -> list[str]:
        return [f"{self.year}Q{q}" for q in range(1, self.through + 1)]

    @property
    def in_title(self) -> str:
        """2019年 / 2020年上半年"""
        return f"{self.year}年" if self.full else f"{self.year}年{self.name}"

    @property
    def in_text(self) -> str:
        """2019年 / 2020年上半年（1—6月）"""
        return f"{self.year}年" if self.full else f"{self.year}年{self.name}（{self.months}）"

    @property
    def plan(self) -> str:
        """What the plan at the end is for: 2020年 / 下半年"""
        return {1: "后三个季度", 2: "下半年", 3: "第四季度"}.get(self.through, f"{self.year + 1}年")

    @property
    def file_tag(self) -> str:
        """summary_2019 / summary_2020_1-6月"""
        return f"{self.year}" if self.full else f"{self.year}_1-{3 * self.through}月"


@dataclass(frozen=True)
class Figure:
    indicator_code: str
    slot: int
    value: Decimal | None
    quarters_valid: int
    quarters_expected: int
    figure: str = ""
    may_change: bool | None = None  # decided by the report from who is missing what; else by counts

    @property
    def complete(self) -> bool:
        """Whether the figure is final: no late or corrected file could still change it."""
        if self.may_change is not None:
            return not self.may_change
        return self.quarters_valid >= self.quarters_expected


@dataclass(frozen=True)
class Span:
    """A piece of a paragraph: text, a figure as the text reads it, a fact the office must
    confirm (`confirm`), a blank it fills (`fill`: text is what goes there), or names read from
    the data (`derived`)."""
    text: str
    figure: Figure | None = None
    kind: str = "text"  # text | figure | confirm | fill | derived

    @property
    def written(self) -> str:
        """As plain text reads it: the marks for the office included."""
        if self.kind == "confirm":
            return self.text + CONFIRM
        if self.kind == "fill":
            return f"【待填：{self.text}】"
        return self.text


@dataclass(frozen=True)
class Block:
    kind: str  # title | heading | paragraph
    spans: tuple[Span, ...]

    @property
    def text(self) -> str:
        return "".join(s.written + (INCOMPLETE_MARK if s.figure and not s.figure.complete else "")
                       for s in self.spans)


@dataclass
class Summary:
    year: int
    blocks: list[Block]
    coverage: Coverage | None = None
    figures: list[tuple[Indicator, Span]] = field(default_factory=list)  # in the text's order

    @property
    def title(self) -> str:
        return next(b.text for b in self.blocks if b.kind == "title")

    @property
    def incomplete(self) -> list[tuple[Indicator, Span]]:
        return [(i, s) for i, s in self.figures if not s.figure.complete]

    @property
    def to_confirm(self) -> list[Span]:
        return [s for b in self.blocks for s in b.spans if s.kind in ("confirm", "fill")]


# --- numbers as the text reads them ---------------------------------------------------------

def plain_number(value: Decimal) -> str:
    """1200, 12.5 or 123.45: no separators, no trailing zeros."""
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def rounded_down(value: Decimal) -> Decimal:
    """A round number not above the value, as `**余` and `**多` read: 7 -> 7, 23 -> 20,
    156 -> 150, 1234 -> 1200 (two leading digits from 100 on)."""
    v = int(value)
    if v < 10:
        return Decimal(v)
    step = 10 if v < 100 else 10 ** (len(str(v)) - 2)
    return Decimal(v // step * step)


def near_in_wan(value: Decimal) -> Decimal | None:
    """The value in 万 (10,000) as `近**万` reads it: rounded up to one decimal, never below the
    truth and at most 10% above it (93,421 -> 9.4); None when no such figure exists (1,600 would
    read 近0.2万, 25% above: it is written otherwise)."""
    if value <= 0:
        return None
    shown = Decimal(math.ceil(value / Decimal(1000))) / 10
    return shown if shown * 10000 <= value * NEAR_MARGIN else None


def write_figure(value: Decimal | None, before: str, after: str) -> tuple[str, int, int]:
    """The figure's text given the text just before its `**` and the few characters after, and
    how many characters to drop before (近) and after (万, 余, 多, %以上) because the figure is
    exact or missing: 近5万 of exactly 50,000 reads 5万; no data reads （暂无数据）, not 近（暂无数据）万.

    The rules (tests/test_summary_rules.py): 近 is never below the truth and at most 10% above,
    else the figure is written plainly (1600人) or as 余 (1643 -> 1600余人); 余 and 多 are a
    round number below the truth, dropped when exact; %以上 is never written of a whole share
    (100%, not 100%以上)."""
    near = before == "近" and after.startswith("万")
    if value is None:
        if near:
            return NO_DATA, 1, 1
        if after.startswith("%以上"):
            return NO_DATA, 0, 3
        return NO_DATA, 0, int(after[:1] in ("余", "多"))
    if near:
        shown = near_in_wan(value)
        if shown is not None:
            return plain_number(shown), int(shown * 10000 == value), 0
        below = rounded_down(value)  # no 近 within 10%: in units, plainly or as 余
        return plain_number(below) + ("" if below == value else "余"), 1, 1
    if after[:1] in ("余", "多"):
        shown = rounded_down(value)
        return plain_number(shown), 0, int(shown == value)
    if after.startswith("%以上") and value >= 100:
        return plain_number(value) + "%", 0, 3  # a whole share: 100%, never 100%以上
    return plain_number(value), 0, 0


# --- the template and the phrases -----------------------------------------------------------

def load_template(year: int, path: Path = TEMPLATE, coverage: Coverage | None = None
                  ) -> list[tuple[str, str]]:
    """(kind, text) blocks of the template for `year` (or the part of it `coverage` says),
    comments dropped."""
    coverage = coverage or Coverage(year)
    text = re.sub(r"<!--.*?-->", "", path.read_text(encoding="utf-8"), flags=re.S)
    for key, value in (("{period_title}", coverage.in_title), ("{period}", coverage.in_text),
                       ("{plan}", coverage.plan), ("{year}", str(year)), ("{next_year}", str(year + 1))):
        text = text.replace(key, value)
    blocks = []
    for line in (ln.strip() for ln in text.splitlines()):
        if line.startswith("## "):
            blocks.append(("heading", line[3:]))
        elif line.startswith("# "):
            blocks.append(("title", line[2:]))
        elif line:
            blocks.append(("paragraph", line))
    return blocks


def phrase_pattern(phrase: str) -> re.Pattern:
    """A phrase of indicators.csv as a pattern over the template's text."""
    phrase = phrase.translate(_HALF_TO_FULL)
    parts = re.split(r"(\*\*|……)", phrase)
    marks = f"[{MARKS}]*"  # the template's marks for the office may sit inside a phrase
    regex = "".join(
        f"(?:\\*\\*|{_NAME})" if p == SLOT else r"[^*\n]*?" if p == "……"
        else "".join(re.escape(c) + marks for c in p)
        for p in parts)
    return re.compile(regex)


def claim_slots(blocks: list[tuple[str, str]], indicators: list[Indicator],
                slots_of: dict[str, int]) -> dict[tuple[int, int], tuple[Indicator, int]]:
    """Which indicator's which slot fills each `**` of the template, as
    {(block index, character offset): (indicator, slot)}."""
    claims: dict[tuple[int, int], tuple[Indicator, int]] = {}
    for ind in indicators:
        wanted = slots_of.get(ind.code, 0)
        if not wanted:
            continue  # no figure of its own (T19 counts with V07; a phrase without **)
        pattern = phrase_pattern(ind.summary_phrase)
        found = [(b, m) for b, (_, text) in enumerate(blocks) for m in pattern.finditer(text)]
        if len(found) != 1:
            raise TemplateMismatch(f"{ind.code} 的 summary_phrase「{ind.summary_phrase}」在模板中出现 "
                                   f"{len(found)} 次，应恰好 1 次")
        b, m = found[0]
        offsets = [m.start() + k.start() for k in re.finditer(r"\*\*", m.group())]
        if len(offsets) != wanted:
            raise TemplateMismatch(f"{ind.code}: 模板中「{m.group()}」有 {len(offsets)} 个 **，"
                                   f"汇总数字有 {wanted} 个")
        for slot, offset in enumerate(offsets, start=1):
            if (b, offset) in claims:
                raise TemplateMismatch(f"{ind.code} 与 {claims[(b, offset)][0].code} 争用同一个 **")
            claims[(b, offset)] = (ind, slot)
    for b, (_, text) in enumerate(blocks):
        for m in re.finditer(r"\*\*", text):
            if (b, m.start()) not in claims:
                raise TemplateMismatch(f"模板中「{text[max(0, m.start() - 12):m.end() + 6]}」的 ** "
                                       "没有对应的指标（summary_phrase）")
    return claims


def split_marks(text: str, names: str | None) -> list[Span]:
    """A piece of template text as spans: plain text, facts to confirm, blanks to fill, and
    names from the data (`names`; None: not known, the template's example is kept to confirm)."""
    spans, pos = [], 0
    for m in _MARKUP.finditer(text):
        spans.append(Span(text[pos:m.start()]))
        confirm, blank, example = m.groups()
        if confirm is not None:
            spans.append(Span(confirm, kind="confirm"))
        elif blank is not None:
            spans.append(Span(blank, kind="fill"))
        elif names is None:
            spans.append(Span(example, kind="confirm"))
        else:
            spans.append(Span(names, kind="derived"))
        pos = m.end()
    spans.append(Span(text[pos:]))
    return [s for s in spans if s.text or s.kind == "fill"]


def name_list(names: list[str], shown: int = 2) -> str:
    """三里营村、范家营村 (the first `shown` of the names)."""
    return "、".join(names[:shown])


def fill(year: int, indicators: list[Indicator], figures: list[Figure],
         template: Path = TEMPLATE, coverage: Coverage | None = None,
         names: dict[str, list[str]] | None = None) -> Summary:
    """The year's summary: every `**` of the template replaced by its figure, every mark for
    the office kept as a span. `names`: per indicator, the units that hold it (for ⟪…⟫)."""
    names = names or {}
    by_key = {(f.indicator_code, f.slot): f for f in figures}
    slots_of: dict[str, int] = {}
    for f in figures:
        slots_of[f.indicator_code] = max(slots_of.get(f.indicator_code, 0), f.slot)
    blocks = load_template(year, template, coverage)
    with_phrase = [i for i in indicators if i.summary_phrase and SLOT in i.summary_phrase]
    # an indicator the year's form does not hold (retired, or not yet on it) has no figures: its
    # sentence says so at each of its **
    off_form = {i.code for i in with_phrase if not any(cat.indicator_on(i.code, f"{year}Q{q}") for q in range(1, 5))}
    for i in with_phrase:
        if i.code in off_form:
            slots_of[i.code] = i.summary_phrase.count(SLOT)
    claims = claim_slots(blocks, with_phrase, slots_of)

    summary = Summary(year=year, blocks=[], coverage=coverage or Coverage(year))
    for b, (kind, text) in enumerate(blocks):
        spans: list[Span] = []
        pos = 0
        for offset in sorted(o for bb, o in claims if bb == b):
            ind, slot = claims[(b, offset)]
            fig = by_key.get((ind.code, slot)) or Figure(ind.code, slot, None, 0, 1)
            before, after = text[offset - 1:offset], text[offset + 2:offset + 5]
            shown, drop_before, drop_after = write_figure(fig.value, before, after)
            if ind.code in off_form:
                shown, fig = NOT_ON_FORM, replace(fig, may_change=False, quarters_valid=0, quarters_expected=0)
            held = names.get(ind.code)
            spans += split_marks(text[pos:offset - drop_before], None if held is None else name_list(held))
            span = Span(shown, fig, kind="figure")
            spans.append(span)
            summary.figures.append((ind, span))
            pos = offset + 2 + drop_after
        spans += split_marks(text[pos:], None)
        summary.blocks.append(Block(kind, tuple(s for s in spans if s.text or s.figure or s.kind == "fill")))
    return summary
