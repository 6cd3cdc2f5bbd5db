"""A formula whose result Excel saved, even "", is read by the form's rule; one never computed
is refused (issue 22, item 2). The cells are written as Excel writes them, into a real workbook."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from huizong.intake.validation import validate_batch
from huizong.intake.workbook import read_submission
from huizong.intake.writer import write_workbook
from huizong.schemas import catalog as cat

TOWN = cat.unit_by_code()["990101100"]
S = cat.VILLAGE_SHEET
SHEET_XML = "xl/worksheets/sheet2.xml"  # 村级指标; column E is 道德讲堂, a count
IF = b'IF(C2&gt;0,"","")'


def workbook_with(tmp_path: Path, cells: dict[str, bytes], recalc_on_open: bool) -> Path:
    """The town's workbook with the <c> elements of `cells` written over its own; workbook.xml
    keeps openpyxl's fullCalcOnLoad="1" only if `recalc_on_open`."""
    first, second = cat.villages_of(TOWN.code)[:2]  # rows 2 and 3
    src = write_workbook(tmp_path / "src.xlsx", TOWN, "2019Q1",
                         {(first.code, "V03"): 4, (second.code, "V03"): 5})
    out = tmp_path / "f.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == SHEET_XML:
                for ref, xml in cells.items():
                    data, n = re.subn(rb'<c r="%s"[^>]*?(?:/>|>.*?</c>)' % ref.encode(), xml, data, count=1)
                    assert n == 1
            if info.filename == "xl/workbook.xml":
                assert b'fullCalcOnLoad="1"' in data
                if not recalc_on_open:
                    data = data.replace(b' fullCalcOnLoad="1"', b"")
            zout.writestr(info.filename, data)
    return out


COMPUTED_EMPTY = {
    "empty_v": {"E2": b'<c r="E2" s="1" t="str"><f>' + IF + b"</f><v></v></c>"},
    "self_closed_v": {"E2": b'<c r="E2" t="str"><f>' + IF + b"</f><v/></c>"},
    "shared": {"E2": b'<c r="E2" t="str"><f t="shared" ref="E2:E3" si="0">' + IF + b"</f><v></v></c>",
               "E3": b'<c r="E3" t="str"><f t="shared" si="0"/><v></v></c>'},
    "array": {"E2": b'<c r="E2" t="str"><f t="array" ref="E2">' + IF + b"</f><v></v></c>"},
    "single_quotes": {"E2": b"<c r='E2' t='str'><f>" + IF + b"</f><v></v></c>"},
}


@pytest.mark.parametrize("recalc_on_open", [False, True])
@pytest.mark.parametrize("shape", sorted(COMPUTED_EMPTY))
def test_a_formula_computed_to_empty_text_loads_as_zero(tmp_path: Path, shape: str, recalc_on_open: bool):
    cells = COMPUTED_EMPTY[shape]
    sub = read_submission(workbook_with(tmp_path, cells, recalc_on_open), "h")
    assert sub.problems == []
    (outcome,), loaded = validate_batch([sub])
    assert outcome.problems == []
    values = {(r.sheet, r.cell): r.value for r in loaded.itertuples()}
    for ref in cells:  # an empty numeric cell is zero (FORM.md)
        assert values[(S, ref)] == 0.0


NEVER_COMPUTED = {
    # (cells, recalc_on_open, check): no result at all, openpyxl's <v></v>, xlsxwriter's 0
    "no_v": ({"E2": b'<c r="E2"><f>C2*2</f></c>'}, False, "readable"),
    "no_v_text_type": ({"E2": b'<c r="E2" t="str"><f>' + IF + b"</f></c>"}, False, "readable"),
    "openpyxl_empty_v": ({"E2": b'<c r="E2"><f>C2*2</f><v></v></c>'}, True, "readable"),
    "openpyxl_shared": ({"E2": b'<c r="E2"><f t="shared" ref="E2:E3" si="0">C2*2</f><v></v></c>',
                         "E3": b'<c r="E3"><f t="shared" si="0"/><v/></c>'}, True, "readable"),
    "xlsxwriter_cached_zero": ({"E2": b'<c r="E2"><f>C2*2</f><v>0</v></c>'}, True, "recalc_needed"),
    "xlsxwriter_array_zero": ({"E2": b'<c r="E2"><f t="array" ref="E2">C2*2</f><v>0</v></c>'}, True,
                              "recalc_needed"),
}


@pytest.mark.parametrize("shape", sorted(NEVER_COMPUTED))
def test_a_formula_never_computed_is_still_refused(tmp_path: Path, shape: str):
    cells, recalc_on_open, check = NEVER_COMPUTED[shape]
    sub = read_submission(workbook_with(tmp_path, cells, recalc_on_open), "h")
    (outcome,), loaded = validate_batch([sub])
    assert {(p.sheet, p.cell, p.check) for p in outcome.problems} == {(S, ref, check) for ref in cells}
    assert loaded.empty
