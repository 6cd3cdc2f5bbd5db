"""The 汇总表 on paper (issue 23, item 3): read back from the .xlsx's own page setup, every printed
page of every sheet is one A4 landscape width at a scale where the text is at least 8 pt, wide
sheets repeat their unit columns, the title and page numbers are in header and footer, every row
says how complete it is, and the summed flags are headed for what they count.

The page widths are computed here independently of huizong.outputs.export: a column of width w printed
in DejaVu Sans (LibreOffice's stand-in where Calibri is missing; its digit is 0.636 em) is
w x 7.0 pt + 5 px padding at 11 pt, wider than Excel's Calibri (7 px = 5.25 pt a digit)."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from conftest import MISSING, libreoffice_has
from openpyxl import load_workbook
from openpyxl.utils import column_index_from_string, get_column_letter

from huizong.cli import main
from huizong.schemas import catalog as cat

A4_LANDSCAPE_WIDTH_IN = 297 / 25.4
A4_LANDSCAPE_HEIGHT_IN = 210 / 25.4
DIGIT_PT = 0.636 * 11  # DejaVu Sans at 11 pt
SMALLEST_PT = 8


def _export(county, tmp_path, period=None):
    _, warehouse, _ = county
    out = tmp_path / "汇总表.xlsx"
    argv = ["export", "--warehouse", str(warehouse), "--year", "2019", "--out", str(out)]
    assert main(argv + (["--period", period] if period else [])) == 0
    return out


def _col_pt(ws, col: int) -> float:
    width = ws.column_dimensions[get_column_letter(col)].width or 8.43
    return width * DIGIT_PT + 5 * 0.75


def _title_cols(ws) -> list[int]:
    if not ws.print_title_cols:
        return []
    first, last = (column_index_from_string(c.strip("$")) for c in ws.print_title_cols.split(":"))
    return list(range(first, last + 1))


def _pages_across(ws) -> list[list[int]]:
    """The columns of each page across, by the sheet's column breaks (the title columns apart)."""
    titles = _title_cols(ws)
    cuts = sorted(b.id for b in ws.col_breaks.brk) + [ws.max_column]
    pages, start = [], (titles[-1] + 1 if titles else 1)
    for cut in cuts:
        if cut >= start:
            pages.append(list(range(start, cut + 1)))
            start = cut + 1
    return pages


def _scale(ws) -> float:
    """The scale the sheet prints at: the fixed scale, or the shrink that fitToWidth implies."""
    printable_pt = (A4_LANDSCAPE_WIDTH_IN - ws.page_margins.left - ws.page_margins.right) * 72
    fixed = (ws.page_setup.scale or 100) / 100
    if ws.sheet_properties.pageSetUpPr and ws.sheet_properties.pageSetUpPr.fitToPage:
        across = max(1, ws.page_setup.fitToWidth or 1)
        widest = sum(_col_pt(ws, c) for c in range(1, ws.max_column + 1)) / across
        return min(1.0, printable_pt / widest)
    return fixed


def _smallest_font(ws) -> float:
    return min((c.font.sz or 11) for row in ws.iter_rows() for c in row if c.value is not None)


@pytest.mark.parametrize("period", [None, "2019Q4"])
def test_every_page_is_one_a4_landscape_width_at_8_pt_or_more(county, tmp_path, period):
    wb = load_workbook(_export(county, tmp_path, period))
    for ws in wb.worksheets:
        setup = ws.page_setup
        assert setup.orientation == "landscape" and int(setup.paperSize) == int(ws.PAPERSIZE_A4), ws.title
        scale = _scale(ws)
        assert _smallest_font(ws) * scale >= SMALLEST_PT, (ws.title, scale)
        printable_pt = (A4_LANDSCAPE_WIDTH_IN - ws.page_margins.left - ws.page_margins.right) * 72
        titles_pt = sum(_col_pt(ws, c) for c in _title_cols(ws))
        for page in _pages_across(ws):
            used = (titles_pt + sum(_col_pt(ws, c) for c in page)) * scale
            assert used <= printable_pt, (ws.title, page, used, printable_pt)
        assert ws.print_title_rows and "3" in ws.print_title_rows.replace("$", "").split(":"), ws.title


def test_wide_sheets_repeat_the_unit_columns_and_split_by_indicator_group(county, tmp_path):
    wb = load_workbook(_export(county, tmp_path))
    for name, unit_heads in (("各镇", {"镇代码", "镇名称"}), ("各村", {"村（社区）代码", "村（社区）名称"})):
        ws = wb[name]
        repeated = {ws.cell(3, c).value for c in _title_cols(ws)}
        assert unit_heads <= repeated and "完整度" in repeated, name
        pages = _pages_across(ws)
        assert len(pages) > 1, name
        for page in pages:  # a page holds one sheet of the form's indicators: V.. or T..
            letters = {ws.cell(3, c).value[0] for c in page}
            assert len(letters) == 1, (name, [ws.cell(3, c).value for c in page])


@pytest.mark.parametrize("period", [None, "2019Q4"])
def test_header_and_footer_carry_the_title_and_page_numbers(county, tmp_path, period):
    wb = load_workbook(_export(county, tmp_path, period))
    for ws in wb.worksheets:
        assert ws.oddHeader.center.text == ws["A1"].value, ws.title
        footer = ws.oddFooter.center.text or ""
        assert "&P" in footer and "&N" in footer, ws.title


def _column(ws, head: str) -> int:
    return next(c for c in range(1, ws.max_column + 1) if ws.cell(3, c).value == head)


def _rows(ws):
    return list(ws.iter_rows(min_row=4, values_only=True))


def test_every_row_says_how_complete_it_is(county, tmp_path):
    """By hand: each town sends 4 quarters of 2019 but the quarters left out of the inbox."""
    wb = load_workbook(_export(county, tmp_path))
    missing = {code: sum(1 for c, p in MISSING if c == code and p.startswith("2019")) for code, _ in MISSING}

    def expected(valid):
        return f"{valid}/4" if valid == 4 else f"※ {valid}/4"

    towns = wb["各镇"]
    mark = _column(towns, "完整度")
    got = {r[0]: r[mark - 1] for r in _rows(towns)}
    assert got == {t.code: expected(4 - missing.get(t.code, 0)) for t in cat.towns()}
    villages = wb["各村"]
    mark, code = _column(villages, "完整度"), _column(villages, "村（社区）代码")
    town_of = {v.code: t.code for t in cat.towns() for v in cat.villages_of(t.code)}
    for row in _rows(villages):
        assert row[mark - 1] == expected(4 - missing.get(town_of[row[code - 1]], 0)), row[:4]
    county_sheet = wb["全县汇总"]
    v03 = next(r for r in _rows(county_sheet) if r[0] == "V03")
    towns_n = len(cat.towns())
    valid = 4 * towns_n - sum(missing.values())
    assert v03[6] == (f"{valid}/{4 * towns_n}" if not sum(missing.values()) else f"※ {valid}/{4 * towns_n}")
    assert all(r[6] for r in _rows(county_sheet))


def test_a_quarters_table_lists_every_town_with_its_completeness(county, tmp_path):
    wb = load_workbook(_export(county, tmp_path, "2019Q4"))
    towns = wb["各镇"]
    mark = _column(towns, "完整度")
    got = {r[0]: r[mark - 1] for r in _rows(towns)}
    assert got == {t.code: "※ 0/1" if (t.code, "2019Q4") in MISSING else "1/1" for t in cat.towns()}


def test_summed_flags_are_headed_for_what_they_count(county, tmp_path):
    """A town's flag column counts its villages that said 是: the 各村 sheet's 是 by hand."""
    wb = load_workbook(_export(county, tmp_path))
    flags = [i for i in cat.indicators() if i.kind == "flag"]
    assert flags
    towns, villages = wb["各镇"], wb["各村"]
    town_name = {t.name: t.code for t in cat.towns()}
    for ind in flags:
        head = f"{ind.code} {ind.name}（“是”的村数）"
        col = _column(towns, head)
        said_yes: dict[str, int] = {}
        vcol = next(c for c in range(1, villages.max_column + 1)
                    if str(villages.cell(3, c).value).startswith(ind.code + " "))
        for row in _rows(villages):
            assert row[vcol - 1] in ("是", "否"), row[:3]
            said_yes[town_name[row[0]]] = said_yes.get(town_name[row[0]], 0) + (row[vcol - 1] == "是")
        got = {r[0]: r[col - 1] for r in _rows(towns) if r[col - 1] is not None}
        assert got == said_yes, ind.code
    assert not any("是否" in str(c.value) for c in towns[3])
    units = {r[0]: r[2] for r in _rows(wb["全县汇总"])}
    assert all(units[i.code] == "“是”的村数" for i in flags)


@pytest.mark.skipif(not (libreoffice_has("calc") and shutil.which("pdfinfo")),
                    reason="LibreOffice Calc (libreoffice-calc-nogui) and poppler (pdfinfo) are not installed")
def test_libreoffice_prints_the_towns_across_several_readable_pages(county, tmp_path):
    """Rendered: 各镇 alone, as a PDF of A4 landscape pages, each naming its page number."""
    out = _export(county, tmp_path)
    wb = load_workbook(out)
    for name in wb.sheetnames:
        if name != "各镇":
            del wb[name]
    towns = tmp_path / "towns.xlsx"
    wb.save(towns)
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(towns)],
                   check=True, capture_output=True, timeout=300)
    pdf = tmp_path / "towns.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    expected = len(_pages_across(wb["各镇"]))
    assert pages == expected
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    for n in range(1, pages + 1):
        assert f"第 {n} 页，共 {pages} 页" in text
    assert all(i.code in text for i in cat.indicators() if i.sheet in ("村级指标", "镇级指标") and i.kind != "level")


def test_a_flag_is_headed_by_who_said_it():
    """A flag summed over villages or towns counts them; one department's flag stays 是否."""
    from huizong.outputs.export import counted

    assert counted("flag", "村级指标", "是否") == "“是”的村数"
    assert counted("flag", "镇级指标", "是否", "town") == "“是”的镇数"
    assert counted("flag", "县级指标", "是否", "990101901") == "是否"
    assert counted("flow", "镇级指标", "场次") == "场次"
