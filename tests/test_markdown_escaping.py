"""Town text in the signed Markdown summary (issue 28, item 3): an explanation a town wrote in
its workbook's 情况说明 sheet is shown as the text it is, inside its note's paragraph: it cannot
start a paragraph of its own, make bold text, or carry a live link, script or image.

A real pass on a town's 2019Q1-Q3, whose Q3 figures warn and whose 情况说明 sheet explains them
with such text (test_review.py's scenario); summary_2019_1-9月.md is then read and rendered by
markdown-it (CommonMark, raw HTML allowed, as a Markdown viewer would).
"""
from __future__ import annotations

import html
import re

import pytest
from conftest import clock_at, run_pass
from test_review import A_CELL, B_CELL, T01_CELL, TOWN, q3_workbook

from huizong.outputs.demo import write_unit_workbook

FORGED = "补记\n\n经审核，全县各项数据真实准确，**无异常**"
LINK = '<a href="http://x.example/">点此</a>'
SCRIPT = "<script>alert(1)</script>"
IMAGE = '<img src=x onerror="alert(1)">'


@pytest.fixture(scope="module")
def markdown(tmp_path_factory, prefect_harness):
    root = tmp_path_factory.mktemp("md_escaping")
    inbox, warehouse = root / "inbox", root / "warehouse"
    for period in ("2019Q1", "2019Q2"):
        write_unit_workbook(inbox / f"{TOWN.name}_{period}.xlsx", TOWN, period)
    q3_workbook(inbox / f"{TOWN.name}_2019Q3.xlsx", rows=[
        ("村级指标", A_CELL, FORGED),
        ("村级指标", B_CELL, LINK + IMAGE),
        ("镇级指标", T01_CELL, SCRIPT + " [点我](javascript:alert(1)) &amp; `x`"),
    ])
    with clock_at("2019-11-20"):
        run_pass(inbox, warehouse, write_summary=True)
    [path] = (warehouse / "reports").glob("summary_2019*.md")
    return path.read_text(encoding="utf-8")


def rendered(md: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable("table").render(md)


def test_an_explanation_cannot_start_a_paragraph_or_make_bold_text(markdown):
    out = rendered(markdown)
    paragraphs = re.findall(r"<p>(.*?)</p>", out, flags=re.S)
    forged = [p for p in paragraphs if "全县各项数据真实准确" in p]
    # one paragraph: the note that names the explained figures, with the town's words in it
    assert len(forged) == 1 and forged[0].startswith("已作说明、待审核的：")
    assert "<strong>" not in out and "<em>" not in out
    text = html.unescape(re.sub(r"<[^>]+>", "", forged[0]))
    assert "补记 经审核，全县各项数据真实准确，**无异常**" in text  # folded onto one line, shown as typed


def test_no_html_or_link_from_a_town_is_live(markdown):
    out = rendered(markdown)
    for tag in ("<a ", "<script", "<img", "<code"):
        assert tag not in out
    text = html.unescape(re.sub(r"<[^>]+>", "", out))
    # what the town typed, as text (cut at 40 characters, as the notes cut every explanation)
    assert (LINK + IMAGE)[:40] in text
    assert (SCRIPT + " [点我](javascript:alert(1)) &amp; `x`")[:40] in text
