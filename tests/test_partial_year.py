"""A summary of a year whose later quarters are not yet due (issue 14): HUIZONG_TODAY=2020-08-01,
2019 whole and 2020 Q1-Q2 in, one town without its 2020Q1. The 2020 summary says it covers 1—6月
in all three formats, calls Q3 and Q4 未到报送期 (not 未报), compares 2020 1—6月 with 2019 1—6月,
marks with ※ only the figures a late file could still change, names the villages it counts from
the data, and its Word file follows GB/T 9704-2012 with the charts inside. Values are computed
here from the generator's, not read back from the marts."""
from __future__ import annotations

import re
import zipfile

import pytest
from conftest import clock_at, query, run_pass

from huizong.outputs.demo import generate, true_value
from huizong.schemas import catalog as cat

TODAY = "2020-08-01"
PERIODS = ("2019Q1", "2019Q2", "2019Q3", "2019Q4", "2020Q1", "2020Q2")
GAP_TOWN = cat.towns()[2]
GAP = (GAP_TOWN.code, "2020Q1")
H1 = ("2020Q1", "2020Q2")
OFFICE = "云岭县精神文明建设办公室"


@pytest.fixture(scope="module")
def half_year(tmp_path_factory, prefect_harness):
    root = tmp_path_factory.mktemp("half_year")
    inbox, warehouse = root / "inbox", root / "warehouse"
    with clock_at(TODAY):
        generate(inbox, PERIODS)
        (inbox / f"{GAP_TOWN.name}_2020Q1.xlsx").unlink()
        summary = run_pass(inbox, warehouse, write_summary=True)
        yield warehouse, summary


def report(warehouse, suffix: str) -> str:
    return (warehouse / "reports" / f"summary_2020_1-6月{suffix}").read_text(encoding="utf-8")


def valid_quarters(unit: cat.Unit, periods=H1) -> list[str]:
    return [p for p in periods if (unit.code, p) != GAP]


def town_flow(code: str, periods=H1) -> float:
    ind = cat.indicator_by_code()[code]
    return sum(true_value(h.code, p, code) for t in cat.towns() for p in valid_quarters(t, periods)
               for h in (cat.villages_of(t.code) if ind.sheet == cat.VILLAGE_SHEET else [t]))


def town_stock(code: str, period: str = "2020Q2") -> float:
    ind = cat.indicator_by_code()[code]
    return sum(true_value(h.code, period, code) for t in cat.towns()
               for h in (cat.villages_of(t.code) if ind.sheet == cat.VILLAGE_SHEET else [t]))


def body(md: str) -> str:
    return md.split("## 附：数据说明")[0]


def test_the_pass_writes_last_year_and_this_year_to_date(half_year):
    warehouse, summary = half_year
    names = sorted(p.name for p in (warehouse / "reports").iterdir() if not p.name.startswith("."))
    assert names == sorted(f"summary_{tag}{s}" for tag in ("2019", "2020_1-6月") for s in (".docx", ".html", ".md"))
    assert sorted(summary.reports) == sorted(str(warehouse / "reports" / n) for n in names)


def test_every_format_says_what_it_covers(half_year):
    warehouse, _ = half_year
    from docx import Document

    md, html = report(warehouse, ".md"), report(warehouse, ".html")
    doc = Document(str(warehouse / "reports" / "summary_2020_1-6月.docx"))
    word = "\n".join(p.text for p in doc.paragraphs)
    title = "县精神文明办2020年上半年工作总结暨下半年工作计划"
    for text in (md, html, word):
        assert title in text
        assert "2020年上半年（1—6月），我县精神文明建设工作" in text
        assert "本总结只涵盖2020年1—6月（第一、二季度），不是全年总结" in text
        assert "2020年10月10日" in text and "2021年1月10日" in text
        assert "2021年，县文明办将" not in text and "下半年，县文明办将" in text
    assert doc.paragraphs[0].text == title
    # the 2019 summary, complete, is the whole year's
    assert (warehouse / "reports" / "summary_2019.md").read_text(encoding="utf-8").startswith(
        "# 县精神文明办2019年工作总结暨2020年工作计划")


def status_rows(md: str) -> dict[str, list[str]]:
    table = md.split("### 报送情况")[1].split("###")[0]
    rows = [r.strip("|").split(" | ") for r in table.splitlines() if r.startswith("| ") and "---" not in r]
    assert [c.strip() for c in rows[0]] == ["报送单位", "2020Q1", "2020Q2", "2020Q3", "2020Q4"]
    return {r[0].strip(): [c.strip() for c in r[1:]] for r in rows[1:]}


def test_quarters_not_yet_due_are_not_called_missing(half_year):
    warehouse, _ = half_year
    md, html = report(warehouse, ".md"), report(warehouse, ".html")
    rows = status_rows(md)
    assert len(rows) == len(cat.submitters())
    for unit in cat.submitters():
        q1, q2, q3, q4 = rows[unit.name]
        assert (q3, q4) == ("未到报送期", "未到报送期")
        assert q1 == ("未报" if unit.code == GAP[0] else q1) and q1 != "未到报送期" and q2 in ("按时", "迟报")
    assert sum(r.count("未报") for r in rows.values()) == 1
    assert f"{GAP_TOWN.name}（1/2）" in md  # short of the covered quarters, not of four
    assert "未到报送期" in html
    # the mart says whether each deadline had passed when it was built (HUIZONG_TODAY's date)
    got = dict(query(warehouse, "select period, bool_and(deadline_passed) from marts.submission_status "
                                "where year = 2020 group by period"))
    assert got == {"2020Q1": True, "2020Q2": True}
    assert query(warehouse, "select status from marts.submission_status where unit_code = ? and period = ?",
                 list(GAP)) == [("missing",)]


def figure(md: str, pattern: str) -> str:
    found = re.findall(pattern, body(md))
    assert len(found) == 1, (pattern, found)
    return found[0]


def test_figures_and_which_may_still_change(half_year):
    warehouse, _ = half_year
    md = report(warehouse, ".md")
    # a flow of the towns, short of one town's Q1: its exact sum, marked ※ (the Q1 may still come)
    assert int(figure(md, r"各类道德讲堂(\d+)※场次")) == town_flow("V03")
    # a stock of the towns: every town's Q2 is in, so a late Q1 cannot change it: no ※
    assert int(figure(md, r"在全县(\d+)个宾馆酒店")) == town_stock("T06")
    assert not re.search(r"在全县\d+※个宾馆酒店", md)
    # a department's flow over its two quarters, complete
    c01 = sum(true_value("990101901", p, "C01") for p in H1)
    assert int(figure(md, r"共学习(\d+)次")) == c01
    # the towns that held touring lectures: final only if all 10 already did
    towns = sum(sum(true_value(t.code, p, "T18") for p in valid_quarters(t)) > 0 for t in cat.towns())
    shown = figure(md, r"到全县(\d+※?)个镇")
    assert shown == (f"{towns}" if towns == len(cat.towns()) else f"{towns}※")
    notes = md.split("## 附：数据说明")[1]
    assert "补报或更正后还会变化" in notes and "补报不会改变它们" in notes


def test_villages_named_from_the_data(half_year):
    warehouse, _ = half_year
    md = report(warehouse, ".md")
    holders = []
    for t in cat.towns():
        for v in cat.villages_of(t.code):
            if true_value(v.code, "2020Q2", "V04") == 1:
                held = [p for p in PERIODS if (t.code, p) != GAP]
                since = held.index("2020Q2")
                while since > 0 and true_value(v.code, held[since - 1], "V04") == 1:
                    since -= 1
                holders.append((held[since], v.code, v.name))
    holders.sort()
    names = "、".join(n for _, _, n in holders[:2])
    assert f"{names}等{len(holders)}个村建成核心价值观宣传长廊" in md
    if "三里营村" not in names:
        assert "三里营村" not in body(md)


def test_like_with_like_against_last_year(half_year):
    warehouse, _ = half_year
    from huizong.outputs.report import read_warehouse

    data = read_warehouse(warehouse, 2020)
    years = {label: (float(v), float(p)) for label, v, p in data.years}
    c01 = cat.indicator_by_code()["C01"]
    label = f"{c01.name}（{c01.unit}）"
    assert years[label] == (sum(true_value("990101901", p, "C01") for p in H1),
                            sum(true_value("990101901", p, "C01") for p in ("2019Q1", "2019Q2")))
    # a town flow is short of a quarter in 2020: not compared at all
    v03 = cat.indicator_by_code()["V03"]
    assert f"{v03.name}（{v03.unit}）" not in years
    # the mart for analysts compares the same quarters too
    got = query(warehouse, "select through_quarter, value, previous_value, complete, previous_complete "
                           "from marts.county_year_over_year where year = 2020 and indicator_code = 'C01'")
    assert [(t, float(v), float(p), c, pc) for t, v, p, c, pc in got] == [(2, *years[label], True, True)]
    got = query(warehouse, "select complete, previous_complete, previous_value from marts.county_year_over_year "
                           "where year = 2020 and indicator_code = 'V03'")
    assert got[0][:2] == (False, True) and float(got[0][2]) == town_flow("V03", ("2019Q1", "2019Q2"))
    md = report(warehouse, ".md")
    assert "与2019年的比较按两年同期（1—6月）计算" in md
    assert "2020年1—6月与2019年1—6月比较" in md
    assert "2020年1—6月与2019年1—6月比较" in report(warehouse, ".html")


def test_nothing_asserted_silently(half_year):
    warehouse, _ = half_year
    md, html = report(warehouse, ".md"), report(warehouse, ".html")
    assert "**" not in md and "**" not in html
    assert "<mark>第二届大型集体婚礼" not in md  # the mark spans the whole clause
    assert re.search(r"<mark>[^<]*第二届大型集体婚礼[^<]*</mark>【请核实】", md)
    assert re.search(r'<mark class="confirm"[^>]*>[^<]*临川市美德少年[^<]*</mark>', html)
    assert "在<mark>云岭草原</mark>【请核实】、<mark>【待填：景区名称】</mark>等景区" in md
    assert md.count("【待填：节目名称】") == 2


def test_word_in_the_format_of_official_documents(half_year):
    warehouse, _ = half_year
    from docx import Document
    from docx.enum.text import WD_COLOR_INDEX
    from docx.oxml.ns import qn
    from docx.shared import Length, Mm, Pt

    path = warehouse / "reports" / "summary_2020_1-6月.docx"
    doc = Document(str(path))
    sec = doc.sections[0]
    assert (round(sec.page_width.mm), round(sec.page_height.mm)) == (210, 297)
    assert round(sec.top_margin.mm) == 37 and round(sec.left_margin.mm) == 28
    assert round(Length(sec.page_width - sec.left_margin - sec.right_margin).mm) == 156
    assert round(Length(sec.page_height - sec.top_margin - sec.bottom_margin).mm) == 225
    grid = sec._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:type")) == "lines"  # a character grid sets 14 a line in LibreOffice
    assert round(225 / (int(grid.get(qn("w:linePitch"))) / 20 * 25.4 / 72)) == 22  # lines per page
    pitch_pt = 16 + int(doc.styles["Normal"].element.rPr.find(qn("w:spacing")).get(qn("w:val"))) / 20
    assert int(156 / (pitch_pt * 25.4 / 72)) == 28  # characters per line

    def east_asia(style):
        return style.element.rPr.rFonts.get(qn("w:eastAsia"))

    normal = doc.styles["Normal"]
    assert normal.font.size == Pt(16) and "仿宋" in east_asia(normal)
    title = doc.paragraphs[0]
    assert title.style.font.size == Pt(22) and east_asia(title.style) == "方正小标宋简体"
    headings = [p for p in doc.paragraphs if re.match(r"^[一二三四五]、", p.text) and p.style.name != "Normal"]
    assert headings and all(east_asia(p.style) == "黑体" for p in headings)
    assert any(p.style.name == "二级标题" for p in doc.paragraphs)
    assert "楷体" in east_asia(doc.styles["二级标题"])
    assert not [p.style.name for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    colours = {str(r.font.color.rgb) for p in doc.paragraphs for r in p.runs if r.font.color.rgb is not None}
    colours |= {str(s.font.color.rgb) for s in doc.styles if getattr(s, "font", None) is not None
                and s.name in ("Normal", "公文标题", "一级标题", "二级标题") and s.font.color.rgb is not None}
    assert colours <= {"000000"}
    footer = sec.footer._element.xml
    assert "PAGE" in footer and "— " in footer and " —" in footer
    assert "PAGE" in sec.even_page_footer._element.xml
    assert doc.core_properties.author == OFFICE and doc.core_properties.last_modified_by == OFFICE
    assert "python-docx" not in (doc.core_properties.comments or "")
    with zipfile.ZipFile(path) as z:
        meta = z.read("docProps/app.xml").decode() + z.read("docProps/core.xml").decode()
    assert "python-docx" not in meta and "Macintosh" not in meta
    confirm = [r for p in doc.paragraphs for r in p.runs if r.text == "【请核实】"]
    assert confirm and all(r.font.highlight_color == WD_COLOR_INDEX.YELLOW for r in confirm)
    assert len(doc.inline_shapes) == 3  # towns, completeness, the year against the last
    assert all(abs(s.width - Mm(156)) < Mm(1) for s in doc.inline_shapes)


def test_every_chart_label_has_a_glyph(half_year):
    """The PNG charts' every character is in the font they are drawn with (no empty boxes)."""
    warehouse, _ = half_year
    from matplotlib.ft2font import FT2Font

    from huizong.outputs import charts
    from huizong.outputs.report import read_warehouse

    font = charts.cjk_font()
    assert font is not None, "no CJK font: huizong's dependency pylopdf-fonts-zh-cn is missing"
    data = read_warehouse(warehouse, 2020)
    labels = [r[0] for r in data.towns] + [r[1] for r in data.towns] + [r[0] for r in data.years]
    labels += [r[0] for r in data.status] + data.periods + [w for w, _ in charts.STATUS_STYLE.values()]
    labels += ["各镇主要指标对比（斜线：该镇本年报送不完整）", "报送完整度（单位 × 季度）",
               "与上年相比增减（%）", "2020年1—6月与2019年1—6月全县主要数字比较"]
    ft = FT2Font(font[1])
    missing = {c for label in labels for c in label if not c.isspace() and ft.get_char_index(ord(c)) == 0}
    assert missing == set()
    # and what the drawing code itself finds in each figure
    png = charts.completeness_chart(data.status, data.periods, fmt="png")
    assert png and png.startswith(b"\x89PNG")


def test_without_a_cjk_font_the_word_file_says_the_charts_were_left_out(half_year, tmp_path, monkeypatch):
    warehouse, _ = half_year
    from docx import Document

    from huizong.outputs import charts
    from huizong.outputs.report import write_report

    monkeypatch.setattr(charts, "cjk_font", lambda: None)
    monkeypatch.setenv("HUIZONG_TODAY", TODAY)
    doc = Document(str(write_report(warehouse, 2020, tmp_path / "s.docx")))
    assert len(doc.inline_shapes) == 0
    assert any("图表未插入" in p.text for p in doc.paragraphs)


@pytest.fixture(scope="module")
def first_half_only(tmp_path_factory, prefect_harness):
    """Only 2020 Q1-Q2 in the county: nothing to compare with."""
    root = tmp_path_factory.mktemp("first_half_only")
    with clock_at(TODAY):
        generate(root / "inbox", H1)
        run_pass(root / "inbox", root / "warehouse", write_summary=True)
        yield root / "warehouse"


def test_only_this_half_year_in(first_half_only):
    warehouse = first_half_only
    names = sorted(p.name for p in (warehouse / "reports").iterdir() if not p.name.startswith("."))
    assert names == [f"summary_2020_1-6月{s}" for s in (".docx", ".html", ".md")]
    md = report(warehouse, ".md")
    assert md.startswith("# 县精神文明办2020年上半年工作总结暨下半年工作计划")
    rows = status_rows(md)
    assert all(r[2:] == ["未到报送期", "未到报送期"] for r in rows.values())
    assert "未报" not in "".join(c for r in rows.values() for c in r).replace("未到报送期", "")
    assert "与2019年的比较从略" in md
    assert "※" not in body(md)  # every covered quarter in: nothing may change


def test_a_quarter_handed_in_before_its_deadline(tmp_path, prefect_harness, monkeypatch):
    """2020-09-15: one town's 2020Q3 is in early. The mart calls the others' 2020Q3 not_due (the
    deadline, 2020-10-10, has not passed) and their 2020Q2 missing; the summary covers 1—9月."""
    from huizong.outputs.demo import write_unit_workbook
    from huizong.outputs.report import read_warehouse

    monkeypatch.setenv("HUIZONG_TODAY", "2020-09-15")
    early, other = cat.towns()[0], cat.towns()[1]
    write_unit_workbook(tmp_path / "inbox" / "a.xlsx", early, "2020Q3")
    write_unit_workbook(tmp_path / "inbox" / "b.xlsx", other, "2020Q2")
    warehouse = tmp_path / "warehouse"
    run_pass(tmp_path / "inbox", warehouse)
    got = dict(((u, p), s) for u, p, s in query(
        warehouse, "select unit_code, period, status from marts.submission_status"))
    assert got[(early.code, "2020Q3")] in ("on_time", "late") and got[(other.code, "2020Q3")] == "not_due"
    assert got[(early.code, "2020Q2")] == "missing" and got[(other.code, "2020Q2")] in ("on_time", "late")
    data = read_warehouse(warehouse, 2020)
    assert data.coverage.through == 3 and data.summary.title == "县精神文明办2020年前三季度工作总结暨第四季度工作计划"
    status = {(u, p): s for u, p, s in data.status}
    assert status[(other.name, "2020Q3")] == "not_due" and status[(other.name, "2020Q1")] == "missing"
    assert status[(other.name, "2020Q4")] == "not_due"
