"""The annual work summary: every `**` of the seed filled, each figure checked against the marts
and against the generator's values added up here by hand; the three formats opened as a clerk
and a browser open them.
"""
from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
from decimal import Decimal

import pytest
from conftest import LATE_TOWN, MISSING, expected_total, query, reporters_of

from huizong.outputs.demo import DEMO_PERIODS, true_value
from huizong.outputs.report import write_report
from huizong.outputs.summary import Figure, TemplateMismatch, fill, near_in_wan, rounded_down, write_figure
from huizong.schemas import catalog as cat

VILLAGES = [v for t in cat.towns() for v in cat.villages_of(t.code)]


@pytest.fixture(scope="module")
def summary_md(county, tmp_path_factory) -> str:
    _, warehouse, _ = county
    out = write_report(warehouse, 2019, tmp_path_factory.mktemp("report") / "summary.md")
    return out.read_text(encoding="utf-8")


def body_of(md: str) -> str:
    return md.split("## 附：数据说明")[0]


def figure(md: str, pattern: str) -> str:
    found = re.findall(pattern, body_of(md))
    assert len(found) == 1, (pattern, found)
    return found[0]


def near_wan_text(value: float) -> str:
    """How 近**万 reads `value`, by the rule written out again: the next tenth of a 万 when it is at
    most 10% above (近, dropped when exact); else the value plainly or as 余 (two leading digits)."""
    tenth = math.ceil(value / 1000)
    if value > 0 and tenth * 1000 <= value * 1.1:
        return ("" if tenth * 1000 == value else "近") + f"{Decimal(tenth) / 10:f}".rstrip("0").rstrip(".") + "万"
    v = int(value)
    step = 1 if v < 10 else 10 if v < 100 else 10 ** (len(str(v)) - 2)
    return f"{v // step * step}" + ("" if v % step == 0 else "余")


def quarters_of(unit_code: str, year: int = 2019) -> list[str]:
    return [p for p in DEMO_PERIODS if p.startswith(str(year)) and (unit_code, p) not in MISSING]


def yearly(unit: cat.Unit, holder_code: str, code: str) -> float:
    """A village's or town's yearly flow, over its town's valid quarters (by hand)."""
    return sum(true_value(holder_code, p, code) for p in quarters_of(unit.code))


def latest(unit: cat.Unit, holder_code: str, code: str):
    return true_value(holder_code, quarters_of(unit.code)[-1], code)


# --- numbers as the text reads them ------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [(7, 7), (20, 20), (23, 20), (99, 90), (156, 150),
                                             (1234, 1200), (42196, 42000), (0, 0)])
def test_round_numbers_for_yu_and_duo(value, expected):
    assert rounded_down(Decimal(value)) == expected


@pytest.mark.parametrize("value, expected", [(93421, "9.4"), (93401, "9.4"), (50000, "5"), (471001, "47.2")])
def test_near_in_wan_never_below_the_truth(value, expected):
    shown = near_in_wan(Decimal(value))
    assert shown * 10000 >= value and str(shown.normalize()) == expected


def test_markers_are_dropped_when_the_figure_is_exact_or_missing():
    # (as written, characters dropped before, characters dropped after)
    assert write_figure(Decimal(20), "组", "余面") == ("20", 0, 1)
    assert write_figure(Decimal(23), "组", "余面") == ("20", 0, 0)
    assert write_figure(Decimal(50000), "近", "万件") == ("5", 1, 0)
    assert write_figure(None, "近", "万件") == ("（暂无数据）", 1, 1)
    assert write_figure(None, "", "%以上的") == ("（暂无数据）", 0, 3)
    assert write_figure(Decimal("3456.40"), "金", "万元") == ("3456.4", 0, 0)


# --- the demo year's summary -------------------------------------------------------------------

def test_every_star_of_the_seed_is_filled(summary_md):
    assert "**" not in summary_md
    assert summary_md.startswith("# 县精神文明办2019年工作总结暨2020年工作计划")
    assert "2020年，县文明办将" in summary_md  # the plan for the next year
    for name in ("三个云岭", "云岭大讲堂", "云岭草原", "临川日报、临川电视台", "《脱贫路上》", "共建和谐云岭"):
        assert name in summary_md


def test_plain_flows_are_the_county_sums(summary_md):
    villages_v03 = sum(yearly(t, v.code, "V03") for t in cat.towns() for v in cat.villages_of(t.code))
    assert int(figure(summary_md, r"各类道德讲堂(\d+)※?场次")) == villages_v03
    c01 = sum(true_value("990101901", p, "C01") for p in quarters_of("990101901"))
    assert int(figure(summary_md, r"共学习(\d+)次")) == c01
    c03 = sum(Decimal(str(true_value("990101901", p, "C03"))) for p in quarters_of("990101901"))
    assert Decimal(figure(summary_md, r"争取财政资金([\d.]+)万元")) == c03
    e03 = sum(true_value("990101902", p, "E03") for p in quarters_of("990101902"))
    assert figure(summary_md, r"受教师生(近?[\d.]+※?万?余?※?)人").replace("※", "") == near_wan_text(e03)


def test_numbers_are_written_as_the_text_reads_them(summary_md):
    t04 = sum(yearly(t, t.code, "T04") for t in cat.towns())
    assert figure(summary_md, r"各类宣传品(近?[\d.]+※?万?余?※?)件").replace("※", "") == near_wan_text(t04)
    t02 = int(sum(yearly(t, t.code, "T02") for t in cat.towns()))
    digits = len(str(t02))
    assert int(figure(summary_md, r"大型宣传喷绘(\d+)※?余?面")) == t02 // 10 ** (digits - 2) * 10 ** (digits - 2)
    v10 = int(sum(yearly(t, v.code, "V10") for t in cat.towns() for v in cat.villages_of(t.code)))
    digits = len(str(v10))
    assert int(figure(summary_md, r"好家风好家训”(\d+)※?多?条")) == v10 // 10 ** (digits - 2) * 10 ** (digits - 2)


def test_a_share_rounded_down(county, tmp_path):
    """2018, when not every village meets 十个一 yet: the share is a whole percent rounded down."""
    _, warehouse, _ = county
    md = write_report(warehouse, 2018, tmp_path / "2018.md").read_text(encoding="utf-8")
    at_one = sum(true_value(v.code, "2018Q4", "V05") == 1 for v in VILLAGES)
    assert 0 < at_one < len(VILLAGES)
    assert int(figure(md, r"(\d+)※?%以上的村")) == 100 * at_one // len(VILLAGES)
    assert md.startswith("# 县精神文明办2018年工作总结暨2019年工作计划")


def test_derived_figures_follow_form(summary_md):
    at_one = sum(latest(t, v.code, "V05") == 1 for t in cat.towns() for v in cat.villages_of(t.code))
    assert int(figure(summary_md, r"(\d+)※?%以上的村")) == math.floor(100 * at_one / len(VILLAGES))
    reviewed = [v for t in cat.towns() for v in cat.villages_of(t.code) if yearly(t, v.code, "V13") > 0]
    villages, reviews = figure(summary_md, r"全县十个镇(\d+)※?个村开展评议活动(\d+)※?场次")
    assert int(villages) == len(reviewed)
    assert int(reviews) == sum(yearly(t, v.code, "V13") for t in cat.towns() for v in cat.villages_of(t.code))
    towns = sum(yearly(t, t.code, "T18") > 0 for t in cat.towns())
    assert int(figure(summary_md, r"到全县(\d+)※?个镇")) == towns
    levels = [latest(t, v.code, "V07") for t in cat.towns() for v in cat.villages_of(t.code)]
    levels += [latest(t, t.code, "T19") for t in cat.towns()]
    got = figure(summary_md, r"全国文明村镇(\d+)※?个、省级文明村镇(\d+)※?个，市级文明村镇(\d+)※?个，县级文明村镇(\d+)※?个")
    assert [int(g) for g in got] == [levels.count(lv) for lv in ("全国", "省级", "市级", "县级")]


def test_figures_behind_an_incomplete_year_are_marked(summary_md):
    # LATE_TOWN left out 2019Q4: every figure the towns report is incomplete; the departments' are not
    assert re.search(r"各类道德讲堂\d+※场次", summary_md)
    assert re.search(r"共学习\d+次", summary_md) and not re.search(r"共学习\d+※", summary_md)
    assert f"{LATE_TOWN.name}（3/4）" in summary_md


def test_report_figures_agree_with_the_marts(county, summary_md):
    _, warehouse, _ = county
    table = summary_md.split("### 总结中的数字")[1]
    rows = [r.split(" | ") for r in re.findall(r"^\| ([A-Z]\d\d \|.*) \|$", table, flags=re.M)]
    got = sorted((r[0], Decimal(r[3])) for r in rows)
    mart = sorted((c, Decimal(str(v))) for c, v in query(
        warehouse, "select indicator_code, value from marts.summary_figures where year = 2019"))
    assert got == mart
    assert len(rows) == 61  # the seed's 60 figure ** (less the masked names) and E03's 近万


def test_a_phrase_missing_from_the_template_fails_loudly():
    stray = cat.Indicator(**{**cat.indicator_by_code()["V03"].__dict__, "code": "X01",
                             "summary_phrase": "不存在的句子**个"})
    with pytest.raises(TemplateMismatch, match="X01"):
        fill(2019, [stray], [Figure("X01", 1, Decimal(1), 1, 1)])


def year_figures(warehouse, year: int) -> list[Figure]:
    return [Figure(c, s, None if v is None else Decimal(str(v)), qv, qe) for c, s, v, qv, qe in query(
        warehouse, "select indicator_code, slot, value, quarters_valid, quarters_expected "
                   "from marts.summary_figures where year = ?", [year])]


def test_a_star_no_phrase_claims_fails_loudly(county, tmp_path):
    from huizong.outputs.summary import TEMPLATE

    _, warehouse, _ = county
    template = tmp_path / "template.md"
    template.write_text(TEMPLATE.read_text(encoding="utf-8") + "\n另有**项工作。\n", encoding="utf-8")
    figures = year_figures(warehouse, 2019)
    fill(2019, list(cat.indicators()), figures)  # the real template: every ** claimed
    with pytest.raises(TemplateMismatch, match="另有\\*\\*项"):
        fill(2019, list(cat.indicators()), figures, template=template)


def test_a_figure_without_data_says_so(county):
    _, warehouse, _ = county
    figures = [Figure(f.indicator_code, f.slot, None, 0, f.quarters_expected)
               if f.indicator_code in ("T04", "V05", "T02") else f for f in year_figures(warehouse, 2019)]
    text = "\n".join(b.text for b in fill(2019, list(cat.indicators()), figures).blocks)
    assert "各类宣传品（暂无数据）※件" in text  # not 近（暂无数据）万件
    assert "（暂无数据）※的村达到“十个一”建设标准" in text
    assert "大型宣传喷绘（暂无数据）※面" in text


# --- marts for analysts --------------------------------------------------------------------------

def test_year_over_year_change(county):
    _, warehouse, _ = county
    rows = {c: (v, p, ch) for c, v, p, ch in query(
        warehouse, "select indicator_code, value, previous_value, change from marts.county_year_over_year "
                   "where year = 2019 and indicator_code in ('V03', 'C01')")}
    for code in ("V03", "C01"):
        this = expected_total(2019, code, reporters_of(code))
        last = expected_total(2018, code, reporters_of(code))
        assert float(rows[code][0]) == pytest.approx(this) and float(rows[code][1]) == pytest.approx(last)
        assert float(rows[code][2]) == pytest.approx(this - last)


def test_each_villages_latest_values(county):
    _, warehouse, _ = county
    town = LATE_TOWN
    village = cat.villages_of(town.code)[0]
    got = dict(query(warehouse, "select indicator_code, coalesce(value::varchar, level) || '@' || period "
                                "from marts.village_latest_values where village_code = ?", [village.code]))
    # its town left out 2019Q4, so its latest values are those of 2019Q3
    assert float(got["V03"].split("@")[0]) == true_value(village.code, "2019Q3", "V03")
    assert got["V07"] == f"{true_value(village.code, '2019Q3', 'V07')}@2019Q3"


def test_completeness_per_unit(county):
    _, warehouse, _ = county
    rows = dict((u, (v, m)) for u, v, m in query(
        warehouse, "select unit_code, quarters_valid, quarters_missing from marts.completeness where year = 2019"))
    assert rows[LATE_TOWN.code] == (3, 1)
    assert sum(v for v, _ in rows.values()) == 13 * 4 - 1


def test_marts_document_themselves(county):
    _, warehouse, _ = county
    for table in ("village_latest_values", "completeness", "county_year_over_year", "civilized_levels",
                  "summary_figures"):
        comment = query(warehouse, "select comment from duckdb_tables() where schema_name = 'marts' "
                                   "and table_name = ?", [table])[0][0]
        assert " / " in comment and re.search(r"[\u4e00-\u9fff]", comment), table


# --- the three formats ---------------------------------------------------------------------------

def test_the_pass_writes_the_latest_years_summary(county):
    from conftest import run_pass

    inbox, warehouse, _ = county
    if not (warehouse / "reports" / "summary_2019.md").exists():  # the county's pass wrote none
        summary = run_pass(inbox, warehouse, write_summary=True)  # nothing new: reports catch up
        assert summary.report_error is None and len(summary.reports) == 3
    for suffix in ("md", "html", "docx"):
        assert (warehouse / "reports" / f"summary_2019.{suffix}").stat().st_size > 1000


def test_a_folder_is_not_a_report_file(county, tmp_path):
    from huizong.outputs.report import ReportError

    _, warehouse, _ = county
    (tmp_path / "summary.html").mkdir()
    for out in (tmp_path, tmp_path / "summary.html"):
        with pytest.raises(ReportError, match="folder"):
            write_report(warehouse, 2019, out)
    assert [p.name for p in tmp_path.iterdir()] == ["summary.html"]  # no temporary file left


def test_a_report_that_cannot_be_written_does_not_fail_a_published_pass(tmp_path, prefect_harness):
    from conftest import run_pass

    from huizong.outputs.demo import write_unit_workbook

    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    write_unit_workbook(inbox / "q1.xlsx", LATE_TOWN, "2019Q1")
    (warehouse / "reports" / "summary_2019.md").mkdir(parents=True)  # in the way of the report
    summary = run_pass(inbox, warehouse, write_summary=True)
    assert [f["status"] for f in summary.files] == ["loaded"]
    assert "folder" in summary.report_error and summary.reports == []
    assert query(warehouse, "select count(*) from ops.imports where status = 'loaded'") == [(1,)]


def test_docx_opens_as_a_word_document(county, tmp_path, summary_md):
    from docx import Document

    _, warehouse, _ = county
    doc = Document(str(write_report(warehouse, 2019, tmp_path / "summary.docx")))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert doc.paragraphs[0].text == "县精神文明办2019年工作总结暨2020年工作计划"
    assert "**" not in text
    assert figure(summary_md, r"(各类道德讲堂\d+)※?场次") in text
    assert len(doc.tables) == 2  # who submitted what; the figures and their sources


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(not CHROMIUM and not os.environ.get("HUIZONG_REQUIRE_CHROMIUM"),
                    reason="Debian's chromium is not installed (.ci/run installs it)")
def test_html_renders_with_its_charts_in_chromium(county, tmp_path):
    from PIL import Image

    if CHROMIUM is None:
        pytest.fail("HUIZONG_REQUIRE_CHROMIUM is set but chromium is not installed")
    _, warehouse, _ = county
    page = write_report(warehouse, 2019, tmp_path / "summary.html")
    html = page.read_text(encoding="utf-8")
    assert html.count("<svg") == 3  # towns compared, completeness grid, the year against the last
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--hide-scrollbars",
                    "--window-size=1100,9000", f"--screenshot={shot}", page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    painted = {colour: n for n, colour in Image.open(shot).convert("RGB").getcolors(1 << 24)}
    counts = {colour: painted.get(colour, 0) for colour in (
        (0x1e, 0x88, 0xe5), (0x4c, 0xaf, 0x50), (0xe5, 0x39, 0x35), (0x43, 0xa0, 0x47))}
    # the towns' bars (blue), the grid's on-time cells (green) and the year chart's bars
    # (a darker green rising, red falling) are all painted
    assert counts[(0x1e, 0x88, 0xe5)] > 2000, counts
    assert counts[(0x4c, 0xaf, 0x50)] > 2000, counts
    assert counts[(0x43, 0xa0, 0x47)] + counts[(0xe5, 0x39, 0x35)] > 200, counts
