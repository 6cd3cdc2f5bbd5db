"""The annual summary as one HTML page with its charts (SVG, inline): nothing fetched."""
from __future__ import annotations

import html
from typing import TYPE_CHECKING

from huizong.outputs.notes import FIGURE_HEADER, coverage_note, data_notes, figure_rows, status_table, year_caption
from huizong.outputs.summary import (
    CONFIRM,
    INCOMPLETE_MARK,
    plain_number,
)

if TYPE_CHECKING:
    from huizong.outputs.report import ReportData


CSS = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", "SimSun", sans-serif;
       max-width: 52em; margin: 2em auto; padding: 0 1em; line-height: 1.9; color: #212121; }
h1 { text-align: center; font-size: 1.6em; }
p { text-indent: 2em; text-align: justify; }
.figure { font-weight: 600; color: #0d47a1; }
.figure.incomplete { color: #b71c1c; }
sup.mark { color: #b71c1c; }
mark.confirm, mark.fill { background: #fff59d; }
.confirm-tag { color: #e65100; font-weight: 600; }
.coverage { text-align: center; text-indent: 0; color: #37474f; }
figure.chart { margin: 2em 0; text-align: center; }
figure.chart svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #bdbdbd; padding: 0.2em 0.6em; }
.notes p { text-indent: 0; }
"""


def _html_block(block) -> str:
    parts = []
    for span in block.spans:
        if span.kind == "confirm":
            parts.append(f'<mark class="confirm" title="不是由报表数据生成，请核实">{html.escape(span.text)}</mark>'
                         f'<span class="confirm-tag">{CONFIRM}</span>')
            continue
        if span.kind == "fill":
            parts.append(f'<mark class="fill">{html.escape(span.written)}</mark>')
            continue
        if span.figure is None:
            parts.append(html.escape(span.text))
            continue
        f = span.figure
        exact = "暂无数据" if f.value is None else plain_number(f.value)
        tip = f"{f.indicator_code}：{exact}（有效 {f.quarters_valid}/{f.quarters_expected} 单位季度）"
        cls = "figure" if f.complete else "figure incomplete"
        mark = "" if f.complete else f'<sup class="mark">{INCOMPLETE_MARK}</sup>'
        parts.append(f'<span class="{cls}" title="{html.escape(tip)}">{html.escape(span.text)}</span>{mark}')
    tag = {"title": "h1", "heading": "h2"}.get(block.kind, "p")
    return f"<{tag}>{''.join(parts)}</{tag}>"


def _html_table(header, rows) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# On paper (the Word file's PNG) a chart is printed 156 mm wide and must fit the 225 mm text block
# with its caption: a long one is drawn as several parts of at most this many rows (a part of 30
# indicators is 176 mm tall, of 20 units 170 mm).
YEAR_ROWS_PER_CHART = 30
UNITS_PER_CHART = 20


def parts(items: list, most: int) -> list[list]:
    """`items` in as few runs of at most `most` as can be, of even length (31 rows: 16 and 15)."""
    if len(items) <= most:
        return [items]
    count = -(-len(items) // most)
    size = -(-len(items) // count)
    return [items[i:i + size] for i in range(0, len(items), size)]


def numbered(caption: str, i: int, count: int) -> str:
    return caption if count == 1 else f"{caption}（{i}/{count}）"


def drawn_charts(data: ReportData, fmt: str) -> list[tuple[str, object, str]]:
    """(key, drawing or None, caption) of the report's charts: three, or for paper (PNG) more
    when one is long (each part with its own axis, title and legend)."""
    from huizong.outputs import charts

    c = data.coverage
    years = charts.comparable([(label, _f(v), _f(p)) for label, v, p in data.years])
    units = list(dict.fromkeys(r[0] for r in data.status))
    year_parts = parts(years, YEAR_ROWS_PER_CHART) if fmt == "png" else [years]
    unit_parts = parts(units, UNITS_PER_CHART) if fmt == "png" else [units]
    drawn = [("towns", charts.towns_chart(data.towns, fmt=fmt), f"各镇主要指标对比（{c.year}年{'' if c.full else c.months}）")]
    for i, mine in enumerate(unit_parts, start=1):
        rows = [r for r in data.status if r[0] in set(mine)]
        drawn.append(("completeness", charts.completeness_chart(rows, data.periods, fmt=fmt),
                      numbered("报送完整度", i, len(unit_parts))))
    for i, rows in enumerate(year_parts, start=1):
        drawn.append(("years", charts.year_chart(rows, c.year, fmt=fmt, span="" if c.full else c.months),
                      numbered(year_caption(data), i, len(year_parts))))
    return drawn


def render_html(data: ReportData) -> str:
    figures = []
    for key, svg, caption in drawn_charts(data, "svg"):
        body = svg if svg else f"<p>（{html.escape(caption)}：没有可比较的数据）</p>"
        figures.append(f'<figure class="chart" id="chart-{key}">{body}'
                       f"<figcaption>{html.escape(caption)}</figcaption></figure>")
    blocks = []
    for b in data.summary.blocks:
        blocks.append(_html_block(b))
        if b.kind == "title":
            blocks.append(f'<p class="coverage">{html.escape(coverage_note(data))}</p>')
    text = "\n".join(blocks)
    notes = "".join(f"<p>{html.escape(n)}</p>" for n in data_notes(data))
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>{html.escape(data.summary.title)}</title><style>{CSS}</style></head>
<body>
{text}
<hr>
<h2>附：图表</h2>
{''.join(figures)}
<h2>附：数据说明</h2>
<div class="notes">{notes}</div>
<h3>报送情况</h3>
{_html_table(*status_table(data))}
<h3>总结中的数字</h3>
{_html_table(FIGURE_HEADER, figure_rows(data.summary))}
</body></html>
"""


def _f(v) -> float | None:
    return None if v is None else float(v)
