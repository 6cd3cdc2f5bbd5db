"""The annual work summary as a document: the template's text with every `**` filled.

Pure functions: the template (`summary_template.md`), the catalog's `summary_phrase`s and the
year's rows of `marts.summary_figures` go in; a `Summary` of blocks and spans comes out, which
`report.py` writes as Markdown, HTML or Word.

An indicator's phrase is found in the template (half- and full-width punctuation alike; a `**`
of the phrase that the template has filled with a name, such as 云岭, matches that name; `……`
matches any text). The `**` still in the found text are the indicator's figures, slot 1 first.
Every `**` of the template must be claimed by exactly one phrase, so a template and catalog that
drift apart fail loudly instead of printing a stray `**`.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from huizong.schemas.catalog import Indicator

TEMPLATE = Path(__file__).with_name("summary_template.md")
SLOT = "**"
INCOMPLETE_MARK = "※"
NO_DATA = "（暂无数据）"
_HALF_TO_FULL = str.maketrans({",": "，", ";": "；", ":": "：", "(": "（", ")": "）"})
_NAME = r"[^*\n，。、；：“”]{0,12}?"  # what a phrase's ** may be in the template: a short name


class TemplateMismatch(ValueError):
    """The template, the catalog's phrases and the figures do not fit together."""


@dataclass(frozen=True)
class Figure:
    indicator_code: str
    slot: int
    value: Decimal | None
    quarters_valid: int
    quarters_expected: int
    figure: str = ""

    @property
    def complete(self) -> bool:
        return self.quarters_valid >= self.quarters_expected


@dataclass(frozen=True)
class Span:
    """A piece of a paragraph: text, or a figure as the text reads it (`shown`)."""
    text: str
    figure: Figure | None = None


@dataclass(frozen=True)
class Block:
    kind: str  # title | heading | paragraph
    spans: tuple[Span, ...]

    @property
    def text(self) -> str:
        return "".join(s.text + (INCOMPLETE_MARK if s.figure and not s.figure.complete else "")
                       for s in self.spans)


@dataclass
class Summary:
    year: int
    blocks: list[Block]
    figures: list[tuple[Indicator, Span]] = field(default_factory=list)  # in the text's order

    @property
    def title(self) -> str:
        return next(b.text for b in self.blocks if b.kind == "title")

    @property
    def incomplete(self) -> list[tuple[Indicator, Span]]:
        return [(i, s) for i, s in self.figures if not s.figure.complete]


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


def near_in_wan(value: Decimal) -> Decimal:
    """The value in 万 (10,000), rounded up to one decimal, as `近**万` reads: 93,421 -> 9.4
    (近 is 'nearly': the text may round up, never below the truth)."""
    return Decimal(math.ceil(value / Decimal(1000))) / 10


def write_figure(value: Decimal | None, before: str, after: str) -> tuple[str, int, int]:
    """The figure's text given the text just before its `**` and the few characters after, and
    how many characters to drop before (近) and after (万, 余, 多, %以上) because the figure is
    exact or missing: 近5万 of exactly 50,000 reads 5万; no data reads （暂无数据）, not 近（暂无数据）万."""
    near = before == "近" and after.startswith("万")
    if value is None:
        if near:
            return NO_DATA, 1, 1
        if after.startswith("%以上"):
            return NO_DATA, 0, 3
        return NO_DATA, 0, int(after[:1] in ("余", "多"))
    if near:
        shown = near_in_wan(value)
        return plain_number(shown), int(shown * 10000 == value), 0
    if after[:1] in ("余", "多"):
        shown = rounded_down(value)
        return plain_number(shown), 0, int(shown == value)
    return plain_number(value), 0, 0


# --- the template and the phrases -----------------------------------------------------------

def load_template(year: int, path: Path = TEMPLATE) -> list[tuple[str, str]]:
    """(kind, text) blocks of the template for `year`, comments dropped."""
    text = re.sub(r"<!--.*?-->", "", path.read_text(encoding="utf-8"), flags=re.S)
    text = text.replace("{year}", str(year)).replace("{next_year}", str(year + 1))
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
    regex = "".join(
        f"(?:\\*\\*|{_NAME})" if p == SLOT else r"[^*\n]*?" if p == "……" else re.escape(p)
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


def fill(year: int, indicators: list[Indicator], figures: list[Figure],
         template: Path = TEMPLATE) -> Summary:
    """The year's summary: every `**` of the template replaced by its figure."""
    by_key = {(f.indicator_code, f.slot): f for f in figures}
    slots_of: dict[str, int] = {}
    for f in figures:
        slots_of[f.indicator_code] = max(slots_of.get(f.indicator_code, 0), f.slot)
    blocks = load_template(year, template)
    with_phrase = [i for i in indicators if i.summary_phrase and SLOT in i.summary_phrase]
    claims = claim_slots(blocks, with_phrase, slots_of)

    summary = Summary(year=year, blocks=[])
    for b, (kind, text) in enumerate(blocks):
        spans: list[Span] = []
        pos = 0
        for offset in sorted(o for bb, o in claims if bb == b):
            ind, slot = claims[(b, offset)]
            fig = by_key.get((ind.code, slot)) or Figure(ind.code, slot, None, 0, 1)
            before, after = text[offset - 1:offset], text[offset + 2:offset + 5]
            shown, drop_before, drop_after = write_figure(fig.value, before, after)
            spans.append(Span(text[pos:offset - drop_before]))
            span = Span(shown, fig)
            spans.append(span)
            summary.figures.append((ind, span))
            pos = offset + 2 + drop_after
        spans.append(Span(text[pos:]))
        summary.blocks.append(Block(kind, tuple(s for s in spans if s.text or s.figure)))
    return summary
