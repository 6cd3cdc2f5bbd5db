"""Excel's "Strict Open XML" save: the same parts in other namespaces (purl.oclc.org/ooxml/...).
Every check the reader makes from a workbook's XML holds for it as for the transitional dialect
(issue 28, item 2). The Strict copies are written here from real workbooks."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Callable

import pytest
import python_calamine
from openpyxl import load_workbook

from huizong.intake.validation import validate_batch
from huizong.intake.workbook import read_submission
from huizong.outputs.demo import write_unit_workbook
from huizong.schemas import catalog as cat

TOWN = cat.unit_by_code()["990101100"]
S, T = cat.VILLAGE_SHEET, cat.TOWN_SHEET
SHEET_XML = "xl/worksheets/sheet2.xml"  # 村级指标
STRICT = (  # transitional namespace -> Strict (ECMA-376 Part 1, Strict conformance)
    (b"http://schemas.openxmlformats.org/spreadsheetml/2006/main", b"http://purl.oclc.org/ooxml/spreadsheetml/main"),
    # xmlns:r and every relationship type: .../relationships/worksheet, .../officeDocument, ...
    (b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
     b"http://purl.oclc.org/ooxml/officeDocument/relationships"),
    (b"http://schemas.openxmlformats.org/drawingml/2006/main", b"http://purl.oclc.org/ooxml/drawingml/main"),
)

Edit = dict[str, Callable[[bytes], bytes]]


def rewritten(src: Path, out: Path, edits: Edit, strict: bool) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = edits.get(info.filename, lambda b: b)(zin.read(info))
            if strict:
                for old, new in STRICT:
                    data = data.replace(old, new)
                if info.filename == "xl/workbook.xml":
                    data = data.replace(b"<workbook ", b'<workbook conformance="strict" ', 1)
            zout.writestr(info.filename, data)
    return out


def both_dialects(tmp_path: Path, edits: Edit, values=None, by_hand=None) -> tuple[Path, Path]:
    """The town's workbook (changed `by_hand` with openpyxl, then its parts by `edits`) as a
    transitional and as a Strict file."""
    src = write_unit_workbook(tmp_path / "src.xlsx", TOWN, "2019Q2", values, header="full")
    if by_hand:
        wb = load_workbook(src)
        by_hand(wb)
        wb.save(src)
    return (rewritten(src, tmp_path / "transitional.xlsx", edits, strict=False),
            rewritten(src, tmp_path / "strict.xlsx", edits, strict=True))


def cell(ref: str, xml: bytes) -> Callable[[bytes], bytes]:
    def edit(data: bytes) -> bytes:
        data, n = re.subn(rb'<c r="%s"[^>]*?(?:/>|>.*?</c>)' % ref.encode(), xml, data, count=1)
        assert n == 1
        return data
    return edit


def replace(old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    def edit(data: bytes) -> bytes:
        assert old in data
        return data.replace(old, new, 1)
    return edit


def recalculated_on_load(data: bytes) -> bytes:
    assert b'fullCalcOnLoad="1"' in data  # as openpyxl and xlsxwriter save it
    return data


def hide(sheet: str):
    def fn(wb):
        wb[sheet].sheet_state = "hidden"
    return fn


def merge(sheet: str, span: str):
    def fn(wb):
        wb[sheet].merge_cells(span)
    return fn


def problems(path: Path) -> set[tuple[str, str, str]]:
    (outcome,), _ = validate_batch([read_submission(path, "h")])
    return {(p.sheet, p.cell, p.check) for p in outcome.problems}


def test_calamine_reads_a_strict_workbook_as_the_transitional_one(tmp_path: Path):
    transitional, strict = both_dialects(tmp_path, {})
    assert b"purl.oclc.org/ooxml/spreadsheetml/main" in zipfile.ZipFile(strict).read("xl/workbook.xml")
    books = [python_calamine.CalamineWorkbook.from_path(str(p)) for p in (transitional, strict)]
    assert books[0].sheet_names == books[1].sheet_names == [cat.COVER_SHEET, S, T]
    for name in books[0].sheet_names:
        assert (books[0].get_sheet_by_name(name).to_python()
                == books[1].get_sheet_by_name(name).to_python())
    subs = [read_submission(p, "h") for p in (transitional, strict)]
    assert subs[1].problems == [] and subs[1].values == subs[0].values and len(subs[1].values) > 100


CASES = {
    # name: (edits, by_hand, the problems both dialects must give)
    "error_cell": ({SHEET_XML: cell("E2", b'<c r="E2" t="e"><v>#REF!</v></c>')}, None,
                   {(S, "E2", "readable")}),
    "unsaved_formula": ({SHEET_XML: cell("N3", b'<c r="N3"><f>C3*2</f><v></v></c>')}, None,
                        {(S, "N3", "readable")}),
    "formula_without_v": ({SHEET_XML: cell("E3", b'<c r="E3"><f>C3*2</f></c>')}, None,
                          {(S, "E3", "readable")}),
    "cached_zero_recalculated": ({SHEET_XML: cell("E2", b'<c r="E2"><f>C2*2</f><v>0</v></c>'),
                                  "xl/workbook.xml": recalculated_on_load}, None,
                                 {(S, "E2", "recalc_needed")}),
    "cell_at_xfd1048576": ({SHEET_XML: replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576">'
                                               b"<v>1</v></c></row></sheetData>")}, None,
                           {(S, "", "too_large")}),
    "dimension_too_large": ({SHEET_XML: replace(b'<dimension ref="A1:Q', b'<dimension ref="A1:XFD1048576" x="')},
                            None, {(S, "", "too_large")}),
    "shared_strings_count_lie": ({"xl/workbook.xml": lambda b: b}, None, {("", "", "corrupt_file")}),
    "hidden_form_sheet": ({}, hide(T), {(T, "", "hidden_sheet")}),
    "merged_value_cells": ({}, merge(T, "D3:D4"), {(T, "D3", "merged_cell")}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_strict_file_is_checked_as_the_transitional_one(tmp_path: Path, name: str):
    edits, by_hand, expected = CASES[name]
    transitional, strict = both_dialects(tmp_path, edits, by_hand=by_hand)
    if name == "shared_strings_count_lie":  # calamine reserves 24 bytes a string on open
        for p in (transitional, strict):
            with zipfile.ZipFile(p, "a") as z:
                ns = ("http://purl.oclc.org/ooxml/spreadsheetml/main" if p == strict
                      else "http://schemas.openxmlformats.org/spreadsheetml/2006/main")
                z.writestr("xl/sharedStrings.xml", f'<sst xmlns="{ns}" count="1" uniqueCount="4000000000">'
                           "<si><t>x</t></si></sst>")
    found = problems(transitional)
    assert expected <= found
    assert problems(strict) == found


@pytest.mark.parametrize("target", [b"xl/worksheets/sheet2.xml", b"/xl/worksheets/sheet2.xml",
                                    b"worksheets/sheet2.xml"])
def test_sheets_are_found_where_calamine_finds_them(tmp_path: Path, target: bytes):
    """The scan finds each sheet's part by calamine's rule for a relationship's target, or the
    sheet's errors go unchecked and read as zeros. ("xl/worksheets/..." is from the zip's root
    in calamine's source; python-calamine 0.9.1 finds no sheet there: the file is refused.)"""
    edits = {SHEET_XML: cell("E2", b'<c r="E2" t="e"><v>#REF!</v></c>'),
             "xl/_rels/workbook.xml.rels": replace(b'Target="/xl/worksheets/sheet2.xml"', b'Target="' + target + b'"')}
    for path in both_dialects(tmp_path, edits):
        assert problems(path) in ({(S, "E2", "readable")}, {("", "", "corrupt_file")})


def test_two_sheets_of_one_name_are_refused(tmp_path: Path):
    """calamine reads the first of them; the scan must not check the other in its stead."""
    edits = {"xl/workbook.xml": replace(f'name="{T}"'.encode(), f'name="{S}"'.encode()),
             SHEET_XML: cell("E2", b'<c r="E2" t="e"><v>#REF!</v></c>')}
    for path in both_dialects(tmp_path, edits):
        assert problems(path) == {("", "", "corrupt_file")}


def test_a_percentage_is_told_as_shown_in_a_strict_file_too(tmp_path: Path):
    """Number formats are read from styles.xml by local names as well."""
    first = cat.villages_of(TOWN.code)[0]

    def percent(wb):
        wb[S]["E2"].number_format = "0%"

    for path in both_dialects(tmp_path, {}, values={(first.code, "V03"): 0.05}, by_hand=percent):
        (outcome,), _ = validate_batch([read_submission(path, "h")])
        assert [(p.cell, p.check) for p in outcome.problems] == [("E2", "decimals")]
        assert "显示为 5%，实际数值是 0.05" in outcome.problems[0].message
