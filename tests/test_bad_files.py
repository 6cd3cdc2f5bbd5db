"""A corpus of files a town might send wrong, each with the cell and message it must produce.

Every file is written here for real (openpyxl, xlwt, msoffcrypto, zipfile), then read and
validated as a pass does; `expect` is (sheet, cell, check, words the clerk must read).
"""
from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Callable

import pytest
from openpyxl import load_workbook

from huizong.intake.validation import validate_batch
from huizong.intake.workbook import read_submission
from huizong.intake.writer import Formula, build_workbook
from huizong.outputs.demo import write_unit_workbook
from huizong.schemas import catalog as cat

TOWN = cat.unit_by_code()["990101100"]          # 城关镇
V1, V2 = cat.villages_of(TOWN.code)[:2]          # rows 2 and 3 of 村级指标
LAST_ROW = len(cat.villages_of(TOWN.code)) + 1
EDU = cat.unit_by_code()["990101902"]            # 县教育局
OFFICE = cat.unit_by_code()["990101901"]         # 县文明办
# 村级指标 columns with full headers: A code, B name, C V01 ... Q V15.
COL = {f"V{i:02d}": chr(ord("C") + i - 1) for i in range(1, 16)}


def town(overrides=None, **kw) -> Callable[[Path], Path]:
    return lambda p: write_unit_workbook(p, TOWN, "2019Q2", overrides, header="full", **kw)


def edited(fn: Callable, unit=TOWN) -> Callable[[Path], Path]:
    """A valid workbook, then changed by hand with openpyxl as a clerk would in Excel."""
    def make(p: Path) -> Path:
        write_unit_workbook(p, unit, "2019Q2", header="full")
        wb = load_workbook(p)
        fn(wb)
        wb.save(p)
        return p
    return make


def raw_bytes(data: bytes, name: str = "f.xlsx") -> Callable[[Path], Path]:
    def make(p: Path) -> Path:
        out = p.with_name(name)
        out.write_bytes(data)
        return out
    return make


def truncated(p: Path) -> Path:
    write_unit_workbook(p, TOWN, "2019Q2")
    p.write_bytes(p.read_bytes()[:3000])
    return p


def zip_bomb(p: Path) -> Path:
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (60 * 1024 * 1024))
    return p


def not_a_workbook_zip(p: Path) -> Path:
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("word/document.xml", "<document/>")
    return p


def enormous_sheet(p: Path) -> Path:
    wb = build_workbook(TOWN, "2019Q2", {})
    ws = wb[cat.VILLAGE_SHEET]
    ws.cell(row=6_001, column=1, value="x")
    wb.save(p)
    return p


def encrypted(p: Path) -> Path:
    from msoffcrypto.format.ooxml import OOXMLFile
    plain = write_unit_workbook(p.with_name("plain.xlsx"), TOWN, "2019Q2")
    with plain.open("rb") as src, p.open("wb") as out:
        OOXMLFile(src).encrypt("密码123", out)
    return p


def delete_column(letter: str):
    def fn(wb):
        ws = wb[cat.VILLAGE_SHEET]
        ws.delete_cols(ord(letter) - 64)
    return fn


def set_cell(sheet: str, ref: str, value):
    def fn(wb):
        wb[sheet][ref] = value
    return fn


def rename_sheet(old: str, new: str):
    def fn(wb):
        wb[old].title = new
    return fn


def delete_row(sheet: str, row: int):
    def fn(wb):
        wb[sheet].delete_rows(row)
    return fn


VILLAGE_XML = "xl/worksheets/sheet2.xml"  # 村级指标 in the workbooks the writer saves


def rezipped(edits: dict[str, Callable[[bytes], bytes]], stored: bool = False, unit=TOWN, period="2019Q2"):
    """A valid workbook whose zip members are then edited as bytes, as a script writer would."""
    def make(p: Path) -> Path:
        src = write_unit_workbook(p.with_name("src.xlsx"), unit, period, header="full")
        with zipfile.ZipFile(src) as zin, zipfile.ZipFile(p, "w", zipfile.ZIP_STORED if stored
                                                           else zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                data = zin.read(info)
                zout.writestr(info.filename, edits.get(info.filename, lambda b: b)(data))
        return p
    return make


def replace(old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    def fn(data: bytes) -> bytes:
        assert old in data
        return data.replace(old, new, 1)
    return fn


def cell_xml(ref: str, new: bytes) -> Callable[[bytes], bytes]:
    """Replace the whole <c> element at `ref` in a sheet's XML with `new`."""
    import re
    return lambda data: re.sub(rb'<c r="%s"[^>]*?(?:/>|>.*?</c>)' % ref.encode(), new, data, count=1)


def recalculated_on_load(data: bytes) -> bytes:
    """workbook.xml as xlsxwriter saves it: Excel recalculates every formula on open."""
    import re
    return re.sub(rb"<calcPr[^>]*/>", b'<calcPr calcId="124519" fullCalcOnLoad="1"/>', data)


def understated_sizes(p: Path) -> Path:
    """A zip bomb whose headers claim its sheet unzips to 1 000 bytes (it unzips to 60 MB)."""
    import struct
    zip_bomb(p)
    data = bytearray(p.read_bytes())
    for signature, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(signature)
        while at != -1:
            if struct.unpack_from("<I", data, at + size_at)[0] > 1_000_000:
                struct.pack_into("<I", data, at + size_at, 1_000)
            at = data.find(signature, at + 4)
    p.write_bytes(bytes(data))
    return p


def shared_strings_count_lie(p: Path) -> Path:
    """A sharedStrings.xml claiming 4e9 strings: calamine reserves 24 bytes each on open (abort)."""
    rezipped({})(p)
    with zipfile.ZipFile(p, "a") as z:
        z.writestr("xl/sharedStrings.xml", '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                   '2006/main" count="1" uniqueCount="4000000000"><si><t>x</t></si></sst>')
    return p


def million_implicit_rows(data: bytes) -> bytes:
    """1 048 576 <row/> without r=, then a row of 16 384 cells without r=: the last is XFD1048577."""
    return replace(b"</sheetData>", b"<row/>" * 1_048_576 + b"<row>" + b"<c/>" * 16_383
                   + b"<c><v>1</v></c></row></sheetData>")(data)


def xls_with_error(p: Path) -> Path:
    """The town's workbook saved as .xls, with #REF! in E2 (a BOOLERR record: calamine reads '')."""
    import xlwt
    xlsx = write_unit_workbook(p.with_name("src.xlsx"), TOWN, "2019Q2", header="full")
    out = p.with_name("f.xls")
    book = xlwt.Workbook(encoding="utf-8")
    src = load_workbook(xlsx)
    for ws in src.worksheets:
        sheet = book.add_sheet(ws.title)
        for row in ws.iter_rows():
            for cell in row:
                if ws.title == S and cell.coordinate == "E2":
                    sheet.row(cell.row - 1).set_cell_error(cell.column - 1, "#REF!")
                elif cell.value is not None:
                    sheet.write(cell.row - 1, cell.column - 1, cell.value)
    book.save(str(out))
    return out


def hidden_stale_sheet(wb):
    """The clerk copied 村级指标, filled the copy and hid the original."""
    stale = wb[S]
    copy = wb.copy_worksheet(stale)
    copy.title = f"{S} (2)"
    copy["E2"] = 9
    stale.sheet_state = "hidden"


def merge(sheet: str, span: str):
    def fn(wb):
        wb[sheet].merge_cells(span)
    return fn


S, T, C = cat.VILLAGE_SHEET, cat.TOWN_SHEET, cat.COUNTY_SHEET
CASES = {
    "negative": (town({(V1.code, "V03"): "-2"}), (S, "E2", "not_negative", "“-2”不能为负数")),
    "decimal_count": (town({(V1.code, "V03"): 3.5}), (S, "E2", "decimals", "只能是整数")),
    "chinese_numeral": (town({(V1.code, "V03"): "十二"}), (S, "E2", "readable", "阿拉伯数字")),
    "approx_yue": (town({(V1.code, "V10"): "约100"}), (S, "L2", "readable", "约数")),
    "approx_yu": (town({(V1.code, "V10"): "100余"}), (S, "L2", "readable", "约数")),
    "approx_plus": (town({(V1.code, "V10"): "100+"}), (S, "L2", "readable", "约数")),
    "excel_ref_error": (town({(V1.code, "V03"): "#REF!"}), (S, "E2", "readable", "Excel 错误值")),
    "excel_div0": (town({(V2.code, "V03"): "#DIV/0!"}), (S, "E3", "readable", "Excel 错误值")),
    "unsaved_formula": (town({(V2.code, "V12"): Formula("=C3*2")}),
                        (S, "N3", "readable", "没有保存计算结果")),
    "unsaved_formula_last_row": (town({(cat.villages_of(TOWN.code)[-1].code, "V15"): Formula("=1+1")}),
                                 (S, f"Q{LAST_ROW}", "readable", "没有保存计算结果")),
    "above_max": (town({(V2.code, "V11"): 51}), (S, "M3", "range", "0–50")),
    "flag_two": (town({(V2.code, "V02"): 2}), (S, "D3", "range", "1/0 或 是/否")),
    "flag_word": (town({(V2.code, "V04"): "有"}), (S, "F3", "readable", "1/0 或 是/否")),
    "unknown_level": (town({(V2.code, "V07"): "国家级"}), (S, "I3", "level", "县级、市级")),
    "not_a_number": (town({(V1.code, "V03"): "见附件"}), (S, "E2", "readable", "不是有效的数字")),
    "town_sheet_negative": (town({(TOWN.code, "T04"): -5}), (T, "D5", "not_negative", "不能为负数")),
    "families_over_households": (town({(V1.code, "V01"): 100, (V1.code, "V08"): 120, (V1.code, "V09"): 10}),
                                 (S, "J2", "cross:V08:le:V01", "不能大于同一村的“总户数”")),
    "honour_roll_without_review": (town({(V2.code, "V13"): 0, (V2.code, "V14"): 4, (V2.code, "V15"): 0}),
                                   (S, "P3", "cross:V14:needs:V13", "“评议活动”为 0")),
    "school_lectures_without_pupils": (
        lambda p: write_unit_workbook(p, EDU, "2019Q2", {(EDU.code, "E02"): 0, (EDU.code, "E03"): 300}),
        (C, "D3", "cross:E02:iff:E03", "同时为 0")),
    "funds_three_decimals": (
        lambda p: write_unit_workbook(p, OFFICE, "2019Q2", {(OFFICE.code, "C03"): 10.125}),
        (C, "D4", "decimals", "2 位小数")),
    "village_twice": (town(villages=[(v.code, v.name) for v in cat.villages_of(TOWN.code)] + [(V1.code, V1.name)]),
                      (S, f"A{LAST_ROW + 1}", "village_repeated", "重复出现")),
    "village_of_other_town": (
        town(villages=[(v.code, v.name) for v in cat.villages_of(TOWN.code)]
             + [(cat.villages_of("990101105")[0].code, "x")]),
        (S, f"A{LAST_ROW + 1}", "village_stranger", "东坪镇")),
    "village_missing": (town(villages=[(v.code, v.name) for v in cat.villages_of(TOWN.code)[1:]]),
                        (S, "", "village_missing", V1.name)),
    "village_unknown_code": (town(villages=[(v.code, v.name) for v in cat.villages_of(TOWN.code)]
                                  + [("990101100999", "新村")]),
                             (S, f"A{LAST_ROW + 1}", "village_stranger", "不是登记的")),
    "unknown_unit": (town(unit_code="990101999"), ("封面", "B2", "unknown_unit", "不是报送单位的代码")),
    "name_not_matching_code": (town(unit_name="城关乡"), ("封面", "B1", "unit_name_mismatch", "城关镇")),
    "bad_period": (lambda p: write_unit_workbook(p, TOWN, "2019Q2", header="full") and
                   edited(set_cell("封面", "B3", "2019年第五季度"))(p),
                   ("封面", "B3", "bad_period", "不是有效的报告期")),
    "missing_period": (edited(delete_row("封面", 3)), ("封面", "", "cover_field_missing", "报告期")),
    "cover_renamed": (edited(rename_sheet("封面", "Sheet1")), ("封面", "", "missing_sheet", "Sheet1")),
    "village_sheet_renamed": (edited(rename_sheet(S, "村级指标（2019）")), (S, "", "missing_sheet", "请勿改动工作表名称")),
    "unknown_column": (edited(set_cell(S, "R1", "文明示范户（户）")), (S, "R1", "unknown_column", "不是本表的指标")),
    "missing_column": (edited(delete_column("E")), (S, "", "missing_column", "道德讲堂")),
    "duplicate_column": (edited(set_cell(S, "R1", "道德讲堂")), (S, "R1", "duplicate_column", "列重复")),
    "vertical_unknown_code": (edited(set_cell(T, "A3", "T99")), (T, "A3", "unknown_indicator", "T99")),
    "vertical_name_mismatch": (edited(set_cell(T, "B3", "宣传画")), (T, "B3", "indicator_name_mismatch", "大型宣传喷绘")),
    "vertical_row_missing": (edited(delete_row(T, 3)), (T, "", "missing_indicator", "T02")),
    "vertical_bad_header": (edited(set_cell(T, "D1", "本季数")), (T, "A1", "bad_header", "表头应为")),
    "truncated_zip": (truncated, ("", "", "corrupt_file", "文件已损坏")),
    "text_named_xlsx": (raw_bytes("填报单位,城关镇\n".encode()), ("", "", "not_a_workbook", "不是 Excel 工作簿")),
    "csv": (raw_bytes("单位代码,990101100\n".encode("gbk"), "城关镇.csv"), ("", "", "not_a_workbook", "CSV")),
    "word_document_zip": (not_a_workbook_zip, ("", "", "not_a_workbook", "不是 Excel 工作簿")),
    "password_protected": (encrypted, ("", "", "encrypted", "密码")),
    "zip_bomb": (zip_bomb, ("", "", "too_large", "过大")),
    "enormous_sheet": (enormous_sheet, (S, "", "too_large", "工作表过大")),
    "empty_file": (raw_bytes(b""), ("", "", "not_a_workbook", "不是 Excel 工作簿")),
    "cell_at_xfd1048576": (rezipped({VILLAGE_XML: replace(
        b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')}),
        (S, "", "too_large", "工作表过大")),
    "implicit_rows_and_cells": (rezipped({VILLAGE_XML: million_implicit_rows}, stored=True),
                                (S, "", "too_large", "工作表过大")),
    "dimension_too_large": (rezipped({VILLAGE_XML: replace(b'<dimension ref="A1:Q',
                                                           b'<dimension ref="A1:XFD1048576" x="')}),
                            (S, "", "too_large", "工作表过大")),
    "understated_zip_sizes": (understated_sizes, ("", "", "too_large", "过大")),
    "shared_strings_count_lie": (shared_strings_count_lie, ("", "", "corrupt_file", "文件已损坏")),
    "xls_error_cell": (xls_with_error, (S, "E2", "readable", "Excel 错误值")),
    "xls_enormous_sheet": (lambda p: xls_copy(enormous_sheet(p), p.with_name("f.xls")),
                           (S, "", "too_large", "工作表过大")),
    "formulas_to_recalculate": (rezipped({VILLAGE_XML: cell_xml("E2", b'<c r="E2"><f>C2*2</f><v>0</v></c>'),
                                          "xl/workbook.xml": recalculated_on_load}),
                                (S, "E2", "recalc_needed", "在 Excel 中")),
    "future_period": (lambda p: write_unit_workbook(p, TOWN, "2019Q4", header="full"),
                      ("封面", "B3", "future_period", "2019Q3")),
    "hidden_form_sheet": (edited(hidden_stale_sheet), (S, "", "hidden_sheet", "隐藏")),
    "merged_flag_over_villages": (edited(merge(S, "D2:D4")), (S, "D2", "merged_cell", "村级指标!D2:D4")),
    "merged_value_cells": (edited(merge(T, "D3:D4")), (T, "D3", "merged_cell", "镇级指标!D3:D4")),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_file_is_rejected_with_its_cell_and_message(tmp_path: Path, monkeypatch, name: str):
    monkeypatch.setenv("HUIZONG_TODAY", "2019-08-01")  # in 2019Q3: the cases report 2019Q2
    make, (sheet, cell, check, words) = CASES[name]
    path = make(tmp_path / "f.xlsx")
    (outcome,), values = validate_batch([read_submission(path, "sha")])
    assert not outcome.ok and values.empty
    found = [(p.sheet, p.cell, p.check) for p in outcome.problems]
    assert (sheet, cell, check) in found, [p.message for p in outcome.problems]
    message = next(p.message for p in outcome.problems if (p.sheet, p.cell, p.check) == (sheet, cell, check))
    assert words in message


def test_corpus_is_large_enough():
    assert len(CASES) >= 30


def xls_copy(xlsx: Path, out: Path) -> Path:
    """The same workbook saved as legacy .xls (BIFF8) with xlwt."""
    import xlwt
    src = load_workbook(xlsx)
    book = xlwt.Workbook(encoding="utf-8")
    for ws in src.worksheets:
        sheet = book.add_sheet(ws.title)
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is not None:
                    sheet.write(cell.row - 1, cell.column - 1, cell.value)
    book.save(str(out))
    return out


@pytest.mark.parametrize("suffix", [".xls", ".xlsm"])
def test_legacy_xls_and_macro_workbooks_are_read(tmp_path: Path, suffix: str):
    xlsx = write_unit_workbook(tmp_path / "f.xlsx", TOWN, "2019Q2", {(V1.code, "V03"): 7})
    path = xls_copy(xlsx, tmp_path / "f.xls") if suffix == ".xls" else xlsx.rename(tmp_path / "f.xlsm")
    (outcome,), values = validate_batch([read_submission(path, "sha")])
    assert outcome.ok, [p.message for p in outcome.problems]
    v03 = values[(values["unit_code"] == V1.code) & (values["indicator_code"] == "V03")]
    assert v03["value"].tolist() == [7.0]
