"""Messages that name the real cause (issue 28, item 5): what a file is when it is not a workbook
we read, why a zip is too large, invisible characters in names, a percentage the clerk sees.
Every file is written here: ODS, .xlsb, Word and OLE2 files by hand or from real workbooks."""
from __future__ import annotations

import io
import os
import struct
import zipfile
from pathlib import Path

import pytest
import python_calamine
from openpyxl import load_workbook

from huizong.intake.validation import validate_batch
from huizong.intake.workbook import read_submission
from huizong.outputs.demo import write_unit_workbook
from huizong.schemas import catalog as cat

TOWN = cat.unit_by_code()["990101100"]
V1 = cat.villages_of(TOWN.code)[0]
S, T = cat.VILLAGE_SHEET, cat.TOWN_SHEET


def town(tmp_path: Path, values=None) -> Path:
    return write_unit_workbook(tmp_path / "town.xlsx", TOWN, "2019Q2", values, header="full")


def problems(path: Path) -> list[tuple[str, str, str, str]]:
    (outcome,), _ = validate_batch([read_submission(path, "h")])
    return [(p.sheet, p.cell, p.check, p.message) for p in outcome.problems]


def only_problem(path: Path) -> tuple[str, str, str, str]:
    found = problems(path)
    assert len(found) == 1, found
    return found[0]


# --- what a file is -------------------------------------------------------------------------

ODS_CONTENT = """<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"  xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="封面"><table:table-row><table:table-cell office:value-type="string"><text:p>填报单位</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>城关镇</text:p></table:table-cell></table:table-row><table:table-row><table:table-cell office:value-type="string"><text:p>单位代码</text:p></table:table-cell><table:table-cell office:value-type="float" office:value="990101100"><text:p>990101100</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"""


def ods(p: Path, mimetype: bool = True) -> Path:
    """A minimal OpenDocument spreadsheet as LibreOffice and WPS save it: `mimetype` stored
    first, then content.xml and the manifest."""
    with zipfile.ZipFile(p, "w") as z:
        if mimetype:
            z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", ODS_CONTENT, zipfile.ZIP_DEFLATED)
        z.writestr("META-INF/manifest.xml", '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
                   'opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" '
                   'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                   '</manifest:manifest>', zipfile.ZIP_DEFLATED)
    return p


def test_the_hand_built_ods_is_a_spreadsheet_calamine_reads(tmp_path: Path):
    book = python_calamine.CalamineWorkbook.from_path(str(ods(tmp_path / "f.ods")))
    assert book.sheet_names == ["封面"]
    assert book.get_sheet_by_name("封面").to_python()[0] == ["填报单位", "城关镇"]


def zip_of(p: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return p


def ole2_renamed(tmp_path: Path, stream: str) -> Path:
    """A real OLE2 compound file (xlwt's .xls) whose one stream "Workbook" is renamed `stream`
    in its directory entry: the container of a Word .doc or a PowerPoint .ppt."""
    import xlwt
    book = xlwt.Workbook()
    book.add_sheet("Sheet1").write(0, 0, "x")
    buf = io.BytesIO()
    book.save(buf)
    data = bytearray(buf.getvalue())
    at = data.find("Workbook".encode("utf-16-le") + b"\0\0")
    assert at > 0 and data.find("Workbook".encode("utf-16-le"), at + 1) == -1
    name = (stream + "\0").encode("utf-16-le")
    data[at:at + 64] = name.ljust(64, b"\0")
    struct.pack_into("<H", data, at + 64, len(name))  # the name's length, in bytes
    out = tmp_path / "f.doc"
    out.write_bytes(bytes(data))
    return out


SPREADSHEET_2003 = ('<?xml version="1.0"?><?mso-application progid="Excel.Sheet"?><Workbook '
                    'xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="封面" '
                    'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"/></Workbook>').encode()
HTML_TABLE = '<html><head><meta charset="utf-8"></head><body><table><tr><td>填报单位</td></tr></table></body></html>'.encode()

KINDS = {
    # name: (make the file, check, the words the clerk must read)
    "ods": (lambda d: ods(d / "城关镇.ods"), "not_a_workbook", [".ods", "另存为", "Excel 工作簿（*.xlsx）"]),
    "ods_named_xlsx": (lambda d: ods(d / "城关镇.xlsx"), "not_a_workbook", ["OpenDocument 电子表格", "另存为"]),
    "ods_without_mimetype": (lambda d: ods(d / "f.ods", mimetype=False), "not_a_workbook", [".ods", "另存为"]),
    "xlsb": (lambda d: zip_of(d / "f.xlsb", {"[Content_Types].xml": b"<Types/>", "xl/workbook.bin": b"\x83\x01\x00",
                                             "xl/worksheets/sheet1.bin": b"\x81\x01\x00"}),
             "not_a_workbook", [".xlsb", "在Excel中打开", "另存为", ".xlsx"]),
    "docx": (lambda d: zip_of(d / "f.xlsx", {"word/document.xml": b"<w:document/>"}), "not_a_workbook",
             ["不是 Excel 工作簿", "Word 文档（.docx）"]),
    "pptx": (lambda d: zip_of(d / "f.xlsx", {"ppt/presentation.xml": b"<p:presentation/>"}), "not_a_workbook",
             ["PowerPoint"]),
    "zip_of_workbooks": (lambda d: zip_of(d / "f.zip", {"城关镇.xlsx": b"PK\x03\x04"}), "not_a_workbook",
                         ["压缩包", "解压"]),
    "word_doc": (lambda d: ole2_renamed(d, "WordDocument"), "not_a_workbook", ["不是 Excel 工作簿", "Word 文档（.doc）"]),
    "powerpoint_ppt": (lambda d: ole2_renamed(d, "PowerPoint Document"), "not_a_workbook", ["PowerPoint 演示文稿（.ppt）"]),
    "pdf": (lambda d: raw(d / "f.xlsx", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"), "not_a_workbook", ["PDF"]),
    "png": (lambda d: raw(d / "f.xlsx", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "not_a_workbook", ["图片"]),
    "jpeg": (lambda d: raw(d / "f.xlsx", b"\xff\xd8\xff\xe0\0\x10JFIF\0"), "not_a_workbook", ["图片", "JPEG"]),
    "excel_2003_xml": (lambda d: raw(d / "f.xls", SPREADSHEET_2003), "not_a_workbook", ["XML", "另存为", ".xlsx"]),
    "html_named_xls": (lambda d: raw(d / "f.xls", HTML_TABLE), "not_a_workbook", ["网页", "另存为", ".xlsx"]),
    "rar": (lambda d: raw(d / "f.rar", b"Rar!\x1a\x07\x01\x00"), "not_a_workbook", ["RAR 压缩包"]),
}


def raw(p: Path, data: bytes) -> Path:
    p.write_bytes(data)
    return p


@pytest.mark.parametrize("name", sorted(KINDS))
def test_a_file_that_is_no_workbook_is_told_what_it_is(tmp_path: Path, name: str):
    make, check, words = KINDS[name]
    sheet, cell, found, message = only_problem(make(tmp_path))
    assert (sheet, cell, found) == ("", "", check)
    for w in words:
        assert w in message, message
    assert "可能是" not in message and "损坏" not in message


def test_a_real_xls_is_still_read(tmp_path: Path):
    """The OLE2 streams are looked at only to name what is not a workbook."""
    import xlwt
    src = load_workbook(town(tmp_path))
    book = xlwt.Workbook(encoding="utf-8")
    for ws in src.worksheets:
        sheet = book.add_sheet(ws.title)
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None:
                    sheet.write(c.row - 1, c.column - 1, c.value)
    book.save(str(tmp_path / "f.xls"))
    assert problems(tmp_path / "f.xls") == []


# --- why a zip is too large -----------------------------------------------------------------

def test_thousands_of_empty_sheets_are_told_as_too_many_parts(tmp_path: Path):
    wb = load_workbook(town(tmp_path))
    for i in range(600):
        wb.create_sheet(f"Sheet{i}")
    wb.save(tmp_path / "f.xlsx")
    sheet, cell, check, message = only_problem(tmp_path / "f.xlsx")
    assert check == "too_large"
    assert "工作表 603 张" in message and "删除多余的工作表" in message, message


def with_picture(tmp_path: Path, picture_bytes: int, padding: int = 0) -> Path:
    """The town's workbook with a photo (random bytes: a JPEG does not compress) in xl/media/,
    and a comment of `padding` bytes of hex digits (compressed to half) in its cover's XML."""
    src = town(tmp_path)
    out = tmp_path / "photo.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</worksheet>", b"<!--" + os.urandom(padding // 2).hex().encode() + b"--></worksheet>")
            zout.writestr(info.filename, data)
        zout.writestr("xl/media/image1.jpeg", b"\xff\xd8\xff\xe0" + os.urandom(picture_bytes), zipfile.ZIP_STORED)
    return out


def test_a_large_cover_photo_is_told_as_the_cause(tmp_path: Path):
    path = with_picture(tmp_path, 21 * 2**20)  # the file itself is past the 20 MB bound
    assert path.stat().st_size > 20 * 2**20
    sheet, cell, check, message = only_problem(path)
    assert check == "too_large"
    assert "图片 xl/media/image1.jpeg（21.0 MB）" in message and "删除图片" in message, message


def test_a_photo_that_makes_the_unzipped_file_too_large_is_told_as_the_cause(tmp_path: Path):
    path = with_picture(tmp_path, 15 * 2**20, padding=6 * 2**20)  # 18 MB zipped, 21 MB unzipped
    assert path.stat().st_size < 20 * 2**20
    sheet, cell, check, message = only_problem(path)
    assert check == "too_large"
    assert "图片 xl/media/image1.jpeg（15.0 MB）" in message, message


# --- invisible characters in names ----------------------------------------------------------

def renamed(tmp_path: Path, old: str, new: str) -> Path:
    wb = load_workbook(town(tmp_path))
    wb[old].title = new
    wb.save(tmp_path / "f.xlsx")
    return tmp_path / "f.xlsx"


@pytest.mark.parametrize("char", ["\u200b", "\ufeff", "\u00a0", "\u3000", "\u200e"])
def test_an_invisible_character_in_a_sheet_name_is_shown(tmp_path: Path, char: str):
    name = f"村级{char}指标"
    (message,) = [m for _, _, check, m in problems(renamed(tmp_path, S, name)) if check == "missing_sheet"]
    shown = f"村级〈U+{ord(char):04X}〉指标"
    assert f"本文件的工作表：封面、{shown}、镇级指标" in message, message
    assert char not in message


def test_an_invisible_character_in_a_cover_value_is_shown(tmp_path: Path):
    path = write_unit_workbook(tmp_path / "f.xlsx", TOWN, "2019Q2", header="full", unit_name="城关镇\u200b")
    messages = {(s, c, k): m for s, c, k, m in problems(path)}
    assert "“城关镇〈U+200B〉”与单位代码" in messages[("封面", "B1", "unit_name_mismatch")]


def test_an_invisible_character_in_a_value_is_shown(tmp_path: Path):
    path = write_unit_workbook(tmp_path / "f.xlsx", TOWN, "2019Q2", {(V1.code, "V03"): "12\u200b"}, header="full")
    (sheet, cell, check, message), = problems(path)
    assert (sheet, cell, check) == (S, "E2", "readable")
    assert "“12〈U+200B〉”" in message, message


# --- a percentage the clerk sees ------------------------------------------------------------

@pytest.mark.parametrize("number_format, value, shown", [("0%", 0.05, "5%"), ("0.0%", 0.125, "12.5%"),
                                                         ("0.00%;[Red]-0.00%", 0.5, "50.00%")])
def test_a_value_shown_as_a_percentage_is_told_as_the_clerk_sees_it(tmp_path: Path, number_format, value, shown):
    src = town(tmp_path, {(V1.code, "V03"): value})
    wb = load_workbook(src)
    wb[S]["E2"].number_format = number_format
    wb.save(tmp_path / "f.xlsx")
    (sheet, cell, check, message), = problems(tmp_path / "f.xlsx")
    assert (sheet, cell, check) == (S, "E2", "decimals")
    assert f"显示为 {shown}，实际数值是 {value:g}" in message and "只能是整数" in message, message


def test_a_whole_number_shown_as_a_percentage_still_loads(tmp_path: Path):
    src = town(tmp_path, {(V1.code, "V03"): 3})
    wb = load_workbook(src)
    wb[S]["E2"].number_format = "0%"
    wb.save(tmp_path / "f.xlsx")
    (outcome,), loaded = validate_batch([read_submission(tmp_path / "f.xlsx", "h")])
    assert outcome.problems == []
    assert loaded[(loaded.sheet == S) & (loaded.cell == "E2")].value.tolist() == [3.0]
