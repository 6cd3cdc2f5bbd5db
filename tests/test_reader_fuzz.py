"""Damaged and hostile workbooks: reading and validating never raise, whatever the bytes.

Runs in-process: a file that would make calamine allocate a huge sheet (and abort the process)
must be refused from its bytes before calamine runs, so a crash here is a bug of the reader.
"""
from __future__ import annotations

import io
import tempfile
import zipfile
from functools import cache
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from huizong.intake.validation import validate_batch
from huizong.intake.workbook import read_submission
from huizong.outputs.demo import write_unit_workbook
from huizong.schemas import catalog as cat

SHEET = "xl/worksheets/sheet2.xml"  # 村级指标
# Pieces of sheet XML that reach the reader's edges: far cells, cells without r=, odd quoting,
# errors, formulas with and without results, merged ranges, namespace prefixes.
TOKENS = [b'<c r="XFD1048576"><v>1</v></c>', b'<row r="1048576">', b"<row>", b"</row>", b"<row/>",
          b"<c>", b"<c/>", b"</c>", b"<c><v>1</v></c>", b' r="', b" r='", b'"', b"'", b"<", b">",
          b"<f>A1</f>", b"<v>", b"</v>", b"<v/>", b' t="e"', b' t="str"', b"#REF!",
          b'<mergeCells><mergeCell ref="A1:XFD1048576"/></mergeCells>',
          b'<dimension ref="A1:ZZ99999"/>', b"<x:c r='B2'>", b"\x00", b"\xff", b"&#88;", b"99999999999"]


@cache
def workbook() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        town = cat.unit_by_code()["990101100"]
        return write_unit_workbook(Path(tmp) / "w.xlsx", town, "2019Q2", header="full").read_bytes()


def sheet_xml() -> bytes:
    with zipfile.ZipFile(io.BytesIO(workbook())) as z:
        return z.read(SHEET)


def with_sheet(xml: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook())) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in zin.infolist():
            z.writestr(info.filename, xml if info.filename == SHEET else zin.read(info))
    return out.getvalue()


def read_and_validate(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.xlsx"
        path.write_bytes(data)
        sub = read_submission(path, "fuzz")
        validate_batch([sub])


edits = st.lists(st.tuples(st.floats(0, 1), st.integers(0, 40), st.one_of(
    st.sampled_from(TOKENS), st.binary(max_size=8))), min_size=1, max_size=6)
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def apply(data: bytes, changes) -> bytes:
    """Each change: at a relative position, drop some bytes and put others in."""
    for where, drop, put in changes:
        at = int(where * len(data))
        data = data[:at] + put + data[at + drop:]
    return data


@FUZZ
@given(edits)
def test_mutated_sheet_xml_never_raises(changes):
    read_and_validate(with_sheet(apply(sheet_xml(), changes)))


@FUZZ
@given(st.lists(st.tuples(st.floats(0, 1), st.integers(0, 4), st.binary(max_size=4)), min_size=1, max_size=8))
def test_mutated_file_bytes_never_raise(changes):
    read_and_validate(apply(workbook(), changes))
