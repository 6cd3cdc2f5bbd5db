"""The annual summary as Markdown: the signed text, with every town's text quoted and escaped (no
Markdown or HTML from a town is ever live)."""
from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING

from huizong.outputs.notes import (
    FIGURE_HEADER,
    coverage_note,
    data_notes,
    figure_rows,
    one_line,
    status_table,
    year_caption,
)
from huizong.outputs.summary import (
    CONFIRM,
    INCOMPLETE_MARK,
    plain_number,
)

if TYPE_CHECKING:
    from huizong.outputs.report import ReportData


def md_literal(text: str) -> str:
    """Text from a town as Markdown that shows exactly that text and nothing live: every ASCII
    punctuation character backslash-escaped (CommonMark lets each be), so no emphasis, link,
    image, HTML tag, entity, table cell or code span can start; it is one line already
    (`one_line`), so it cannot start a paragraph, heading or list either."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", one_line(text))


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _md_table(header, rows) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header),
            *("| " + " | ".join(_md_cell(str(c)) for c in row) + " |" for row in rows)]


def _md_span(span) -> str:
    if span.kind == "confirm":
        return f"<mark>{span.text}</mark>{CONFIRM}"
    if span.kind == "fill":
        return f"<mark>{span.written}</mark>"
    return span.text + (INCOMPLETE_MARK if span.figure and not span.figure.complete else "")


def render_markdown(data: ReportData) -> str:
    lines: list[str] = []
    for block in data.summary.blocks:
        prefix = {"title": "# ", "heading": "## "}.get(block.kind, "")
        lines += [prefix + "".join(_md_span(s) for s in block.spans), ""]
        if block.kind == "title":
            lines += [f"> {coverage_note(data)}", ""]
    lines += ["---", "", "## 附：数据说明", ""] + [n + "\n" for n in data_notes(data, md_literal)]
    lines += ["### 报送情况", "", *_md_table(*status_table(data)), ""]
    lines += ["### 总结中的数字", "", *_md_table(FIGURE_HEADER, figure_rows(data.summary)), ""]
    if data.years:
        lines += [f"### {year_caption(data)}", "",
                  *_md_table(("指标", f"{data.coverage.year - 1}年", f"{data.coverage.year}年"),
                             [(label, _num(p), _num(v)) for label, v, p in data.years]), ""]
    return "\n".join(lines)


def _num(v) -> str:
    return "" if v is None else plain_number(Decimal(str(v)))
