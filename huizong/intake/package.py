"""What a workbook's bytes say before a reader opens it: what kind of file it is (xlsx, ODS,
.xlsb, a Word file...), how large its parts are once inflated (bounded before anything is
inflated), and from each sheet's XML, in both Open XML dialects (transitional and Strict), its
extent, its error cells, its formulas saved without their result and the cells shown as
percentages. Pure: bytes in, findings out."""
from __future__ import annotations

import io
import re
import struct
import xml.etree.ElementTree as ET
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import xlrd
import xlrd.compdoc
from xlrd.biffh import error_text_from_code

from huizong.core.cells import (
    EXCEL_ERROR,
    UNSAVED_FORMULA,
    Unreadable,
)

# Bounds that keep a hostile file from exhausting memory before any reader runs (settings.py).
from huizong.core.settings import LARGE_ENTRY_BYTES, MAX_COLS, MAX_RATIO, MAX_ROWS, MAX_UNZIPPED_BYTES, MAX_ZIP_ENTRIES
from huizong.intake.submission import Submission, cell_position

ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

_P = rb"<(?:[^\s<>/:!?]+:)?"
_CELL = re.compile(_P + rb"c(?=[\s/>])([^>]*?)(?:/>|>(.*?)</(?:[^\s<>/:!?]+:)?c>)", re.S)
_REF = re.compile(rb'\sr\s*=\s*["\']([A-Z]+\d+)["\']')
_ERROR_TYPE = re.compile(rb'\bt\s*=\s*["\']e["\']')
_STRING_TYPE = re.compile(rb'\bt\s*=\s*["\']str["\']')
_FORMULA = re.compile(rb"<(?:\w+:)?f\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?f>)", re.S)
_VALUE = re.compile(rb"<(?:\w+:)?v(?:\s[^>]*)?(?:/>|>(.*?)</(?:\w+:)?v>)", re.S)
# Where cells are (sheet_extent): the <dimension>, the r= of every <c> and <row> (quoted either
# way), and the order of <row>/<c> elements without r=, which follow the previous one. A cell not
# written `<c r="A1"` within Z999 (MAX_ROWS and MAX_COLS are larger) sends the scan the slow way.
_DIMENSION = re.compile(rb'dimension\b[^>]*?\sref\s*=\s*["\']([^"\']*)["\']')  # literal first: fast
_ODD_CELL = re.compile(rb'<c(?! r="[A-Z][1-9]\d{0,2}")[\s/>]')
_PREFIXED = re.compile(rb':[cf][\s/>]')  # a <x:c> cell or an <x:f> formula
_POSITION_TAG = re.compile(_P + rb'(row|c)(?=[\s/>])([^>]*)')
_ANY_REF = re.compile(rb'\sr\s*=\s*["\']([^"\']*)["\']')
_A1 = re.compile(rb"([A-Za-z]+)(\d+)")
_UNIQUE_COUNT = re.compile(rb'uniqueCount\s*=\s*["\']([^"\']*)["\']')
_FULL_CALC_ON_LOAD = re.compile(_P + rb'calcPr\b[^>]*\sfullCalcOnLoad\s*=\s*["\'](?:1|true)["\']')


# What a file that is no workbook we read is, by its content: (variant, values) of not_a_workbook.
_SAVE_AS = "save_as"  # a spreadsheet of another format: the clerk saves it as .xlsx
_ODF_KINDS = {
    b"application/vnd.oasis.opendocument.spreadsheet":
        (_SAVE_AS, {"kind": "OpenDocument 电子表格（.ods，WPS、LibreOffice 等软件保存的格式）",
                    "program": "WPS、LibreOffice 或 Excel"}),
    b"application/vnd.oasis.opendocument.text": ("other", {"kind": "OpenDocument 文本文档（.odt）"}),
    b"application/vnd.oasis.opendocument.presentation": ("other", {"kind": "OpenDocument 演示文稿（.odp）"}),
}
_ZIP_KINDS = (  # a member only that kind of file has
    ("xl/workbook.bin", (_SAVE_AS, {"kind": "Excel 二进制工作簿（.xlsb）", "program": "Excel"})),
    ("content.xml", _ODF_KINDS[b"application/vnd.oasis.opendocument.spreadsheet"]),
    ("word/document.xml", ("other", {"kind": "Word 文档（.docx）"})),
    ("ppt/presentation.xml", ("other", {"kind": "PowerPoint 演示文稿（.pptx）"})),
)
_OLE2_KINDS = (  # stream names of an OLE2 compound file that is not a workbook
    ("WordDocument", ("other", {"kind": "Word 文档（.doc）"})),
    ("PowerPoint Document", ("other", {"kind": "PowerPoint 演示文稿（.ppt）"})),
)
_MAGIC_KINDS = (
    (b"%PDF", ("other", {"kind": "PDF 文件"})),
    (b"\x89PNG", ("other", {"kind": "图片（PNG）"})),
    (b"\xff\xd8\xff", ("other", {"kind": "图片（JPEG 照片）"})),
    (b"GIF8", ("other", {"kind": "图片（GIF）"})),
    (b"II*\x00", ("other", {"kind": "图片（TIFF）"})),
    (b"MM\x00*", ("other", {"kind": "图片（TIFF）"})),
    (b"{\\rtf", ("other", {"kind": "RTF 文档（Word 等软件保存的格式）"})),
    (b"Rar!", ("archive", {"kind": "RAR 压缩包"})),
    (b"7z\xbc\xaf\x27\x1c", ("archive", {"kind": "7z 压缩包"})),
    (b"\x1f\x8b", ("archive", {"kind": "gzip 压缩包"})),
)


def zip_kind(names: set[str], mimetype: bytes) -> tuple[str, dict]:
    """What a zip that holds no xl/workbook.xml is, from its member names and its ODF mimetype."""
    if mimetype.strip() in _ODF_KINDS:
        return _ODF_KINDS[mimetype.strip()]
    for member, kind in _ZIP_KINDS:
        if member in names:
            return kind
    return "archive", {"kind": "压缩包（.zip）"}


def ole2_kind(data: bytes) -> tuple[str, dict] | None:
    """What an OLE2 compound file is when its streams are not a workbook's; None when they are
    (or cannot be listed: xlrd then says whether it is damaged)."""
    try:
        streams = {e.name for e in xlrd.compdoc.CompDoc(data, logfile=io.StringIO()).dirlist}
    except Exception:
        return None
    if streams & {"Workbook", "Book"}:
        return None
    return next((kind for stream, kind in _OLE2_KINDS if stream in streams), None)


def other_kind(data: bytes, suffix: str) -> tuple[str, dict]:
    """What a file that is neither a zip nor an OLE2 file is, by its first bytes (or by its
    name where they do not say)."""
    if not data:
        return "other", {"kind": "空文件（0 字节）"}
    for magic, kind in _MAGIC_KINDS:
        if data.startswith(magic):
            return kind
    if data.startswith(b"BM") and data[6:10] == b"\0\0\0\0":  # a BMP header's reserved bytes
        return "other", {"kind": "图片（BMP）"}
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in data[:65536]:
        return _SAVE_AS, {"kind": "XML 格式的表格（Excel 2003 XML）", "program": "Excel 或 WPS"}
    if head.startswith((b"<!doctype html", b"<html", b"<table", b"<meta")) or b"<html" in head[:512]:
        return _SAVE_AS, {"kind": "网页格式的表格（从其他系统导出、扩展名为 .xls 的文件常是这样）",
                          "program": "Excel 或 WPS"}
    if suffix in (".csv", ".txt") or b"\x00" not in data[:4096]:
        return "other", {"kind": "CSV 或文本文件"}
    return "other", {"kind": "其他类型的文件"}


@dataclass
class SheetScan:
    """What a sheet says that calamine does not, read from the file before calamine runs."""
    rows: int = 0  # the last row and column cells occupy, 1-based; beyond the bounds if they are
    cols: int = 0
    # Cells calamine reads as '' although they are not: Excel errors and unsaved formulas.
    unreadable: dict[tuple[int, int], Unreadable] = field(default_factory=dict)
    # (row, col, "=formula") of formulas with a saved result: stale if Excel recalculates on open.
    formulas: list[tuple[int, int, str]] = field(default_factory=list)
    # Cells formatted as a percentage, and the decimals shown: 0.05 is 5% to the clerk.
    percent: dict[tuple[int, int], int] = field(default_factory=dict)


_STYLE = re.compile(rb'\ss\s*=\s*["\'](\d+)["\']')
_BUILTIN_PERCENT = {9: "0%", 10: "0.00%"}  # Excel's built-in number formats 9 and 10
_FORMAT_LITERAL = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.')  # text, escapes, [colour], padding


def percent_decimals(code: str | None) -> int | None:
    """The decimals a number format shows a percentage with ("0.0%" -> 1), None if the format
    shows no percentage. Only its first section counts (the one for positive numbers)."""
    if not code:
        return None
    section = _FORMAT_LITERAL.sub("", code.split(";")[0])
    if "%" not in section:
        return None
    digits = section.partition("%")[0].partition(".")
    return sum(ch in "0#?" for ch in digits[2]) if digits[1] else 0


def percent_styles(styles_xml: bytes | None) -> dict[int, int]:
    """{cell style index (the s= of a <c>): decimals} of the styles that show a percentage."""
    if not styles_xml or b"%" not in styles_xml and b'numFmtId="9"' not in styles_xml \
            and b'numFmtId="10"' not in styles_xml:
        return {}
    root = ET.fromstring(styles_xml)
    codes = dict(_BUILTIN_PERCENT)
    for el in root.iter():
        if _local(el.tag) == "numFmt" and (el.get("numFmtId") or "").isdigit():
            codes[int(el.get("numFmtId"))] = el.get("formatCode") or ""
    found = {}
    for el in root.iter():
        if _local(el.tag) == "cellXfs":
            for i, xf in enumerate(x for x in el if _local(x.tag) == "xf"):
                number_format = xf.get("numFmtId") or "0"
                decimals = percent_decimals(codes.get(int(number_format))) if number_format.isdigit() else None
                if decimals is not None:
                    found[i] = decimals
    return found


def _row_number(digits: bytes) -> int:
    if not digits.isdigit() or int(digits) == 0:
        raise ValueError(f"bad row number {digits!r}")  # calamine would wrap it round to anything
    return int(digits)


def _col_number(letters: bytes) -> int:
    col = 0
    for ch in letters.upper():
        col = col * 26 + ch - 64
    return col


def _a1(reference: bytes) -> tuple[int, int]:
    """b"E5" -> (5, 5), 1-based; ValueError for a reference calamine cannot place."""
    m = _A1.fullmatch(reference)
    if not m:
        raise ValueError(f"bad cell reference {reference!r}")
    return _row_number(m.group(2)), _col_number(m.group(1))


def sheet_extent(xml: bytes) -> tuple[int, int]:
    """(rows, cols) a sheet's cells reach, from its XML alone, as far as the bounds need.

    calamine allocates the whole rectangle up to the farthest cell before it returns anything
    (one cell at XFD1048576 aborts the process: RELIABILITY.md), so this is known beforehand.
    When every cell is written `<c r="A1"` within Z999, as the template's are, only the
    <dimension> is read; otherwise every <row> and <c> is walked.
    """
    rows = cols = 0
    for m in _DIMENSION.finditer(xml):
        if xml[m.start() - 1:m.start()] not in (b"<", b":"):
            continue  # not an element
        for part in m.group(1).split(b":"):
            r, c = _a1(part)
            rows, cols = max(rows, r), max(cols, c)
    if not _ODD_CELL.search(xml) and not _PREFIXED.search(xml):
        return rows, cols
    row = col = 0  # where the last <row> and <c> were: one without r= follows it
    for m in _POSITION_TAG.finditer(xml):
        found = _ANY_REF.search(m.group(2))
        if m.group(1) == b"row":
            row, col = (_row_number(found.group(1)) if found else row + 1), 0
        elif found:
            r, col = _a1(found.group(1))
            rows = max(rows, r)
        else:
            col += 1
        rows, cols = max(rows, row), max(cols, col)
        if rows > MAX_ROWS or cols > MAX_COLS:
            break  # too large already: no need to walk a million more tags
    return rows, cols


def _scan_percent(xml: bytes, styles: dict[int, int], scan: SheetScan) -> None:
    """The cells of `xml` whose style (`styles`: see percent_styles) shows a percentage."""
    for attrs, _ in _CELL.findall(xml):
        style, found = _STYLE.search(attrs), _REF.search(attrs)
        if style and found and int(style.group(1)) in styles:
            scan.percent[cell_position(found.group(1).decode())] = styles[int(style.group(1))]


def scan_sheet(xml: bytes, recalculated: bool = False, percent: dict[int, int] | None = None) -> SheetScan:
    """One pass over a sheet's XML: its extent, its unreadable cells, and, if the workbook asks
    Excel to recalculate on open (`recalculated`), its formulas, whose saved results are stale.

    calamine gives '' for errors and for formulas saved without a result (RELIABILITY.md), which
    would silently count as zero. A formula whose text result is "" (t="str", <v></v> or <v/>,
    a shared or array formula alike) is saved: Excel computed it, and it is read as the form
    reads an empty cell, even where the workbook asks to be recalculated.
    """
    scan = SheetScan(*sheet_extent(xml))
    if percent:
        _scan_percent(xml, percent, scan)
    if b"<f" not in xml and b't="e"' not in xml and b"t='e'" not in xml and not _PREFIXED.search(xml):
        return scan  # the common case: nothing to look for
    for attrs, inner in _CELL.findall(xml):
        found = _REF.search(attrs)
        if not found:
            continue
        position = cell_position(found.group(1).decode())
        value = _VALUE.search(inner or b"")
        if _ERROR_TYPE.search(attrs):
            text = value.group(1).decode("utf-8", "replace") if value and value.group(1) else "#ERROR"
            scan.unreadable[position] = Unreadable(EXCEL_ERROR, text)
        elif formula := _FORMULA.search(inner or b""):
            text = "=" + (formula.group(1) or b"").decode("utf-8", "replace")
            text_result = _STRING_TYPE.search(attrs)
            # openpyxl writes <v></v> for a result never computed; t="str" marks a saved "".
            if value is None or not (value.group(1) or text_result):
                scan.unreadable[position] = Unreadable(UNSAVED_FORMULA, text)
            elif recalculated and not text_result:
                # A number may be a writer's placeholder (xlsxwriter saves 0 for every formula);
                # a text result, "" included, is one no writer puts there without computing it.
                scan.formulas.append((*position, text))
    return scan


def _inflate(data: bytes, z: zipfile.ZipFile) -> dict[str, bytes] | tuple[str, int]:
    """Every member of the zip `data`, inflated once while counting the bytes that come out;
    when past the bounds (a zip bomb, a large picture), the largest member and its bytes so far.

    The uncompressed sizes in the headers are not trusted: calamine inflates in full a member
    whose header understates it (RELIABILITY.md). zlib is told instead how many bytes are left.
    """
    view, parts, left = memoryview(data), {}, MAX_UNZIPPED_BYTES
    for info in z.infolist():
        at = info.header_offset
        if data[at:at + 4] != ZIP_MAGIC or info.flag_bits & 1:
            raise zipfile.BadZipFile(info.filename)  # damaged, or an encrypted member
        name_len, extra_len = struct.unpack_from("<HH", data, at + 26)
        raw = view[at + 30 + name_len + extra_len:][:info.compress_size]
        if info.compress_type == zipfile.ZIP_STORED:
            out = bytes(raw[:left + 1])
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            out = zlib.decompressobj(-15).decompress(raw, left + 1)
        else:  # Excel writes only these two
            raise zipfile.BadZipFile(f"compression {info.compress_type}")
        left -= len(out)
        parts[info.filename] = out
        if len(out) > LARGE_ENTRY_BYTES and len(out) > MAX_RATIO * max(1, len(raw)):
            return info.filename, len(out)  # compressed a hundredfold: this one is the bomb
        if left < 0:  # this member was cut short: its header says how large it claims to be
            sizes = {m: len(b) for m, b in parts.items()} | {info.filename: max(len(out), info.file_size)}
            return max(sizes.items(), key=lambda p: p[1])
    return parts


_PICTURES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".emf", ".wmf", ".webp")


def reject_too_large(sub: Submission, members: list[tuple[str, int]],
                     largest: tuple[str, int] | None) -> None:
    """Say why a zip is too large: too many parts (how many are sheets), or its largest part
    (a picture the clerk can remove, a sheet, or another part), as far as `members` (name and
    size of each, the sizes as the zip's headers claim them) and `largest` (name and bytes
    counted while inflating) tell."""
    sheets = sum(1 for name, _ in members if name.startswith(("xl/worksheets/", "xl/chartsheets/"))
                 and name.endswith(".xml"))
    if len(members) > MAX_ZIP_ENTRIES:
        sub.reject("", "", "too_large", variant="entries", count=len(members), max=MAX_ZIP_ENTRIES,
                   sheets=sheets)
        return
    if largest is None:
        largest = max(members, key=lambda m: m[1], default=None)
    if largest is None:
        sub.reject("", "", "too_large")
        return
    member, size = largest
    what = ("picture" if member.startswith("xl/media/") or member.lower().endswith(_PICTURES)
            else "sheet" if member.startswith("xl/worksheets/") else "part")
    sub.reject("", "", "too_large", variant=what, member=member, size=f"{size / 2**20:.1f}",
               limit=MAX_UNZIPPED_BYTES // 2**20)


def zip_members(path: Path) -> list[tuple[str, int]]:
    """(name, claimed size) of each member of the zip at `path`, from its central directory
    alone (nothing is inflated); [] when it cannot be read."""
    try:
        with zipfile.ZipFile(path) as z:
            return [(i.filename, i.file_size) for i in z.infolist()]
    except Exception:
        return []


def _local(name: str) -> str:
    """An element's or attribute's name without its namespace: `{ns}sheet` -> `sheet`."""
    return name.rpartition("}")[2]


def sheet_members(workbook_xml: bytes, rels_xml: bytes) -> dict[str, str]:
    """{zip member: sheet name} of every sheet workbook.xml lists, as calamine finds them.

    By local names, as calamine reads them: Excel's Strict Open XML writes the same elements in
    other namespaces (purl.oclc.org/ooxml/...) than the transitional dialect does."""
    targets = {r.get("Id"): r.get("Target") or "" for r in ET.fromstring(rels_xml).iter()
               if _local(r.tag) == "Relationship"}
    names = {}
    for sheet in ET.fromstring(workbook_xml).iter():
        if _local(sheet.tag) != "sheet":
            continue
        rid = next((v for k, v in sheet.attrib.items() if k.startswith("{") and _local(k) == "id"), "")
        target = targets.get(rid, "")
        # calamine's own rule: "/xl/..." and "xl/..." are from the zip's root, others from xl/
        member = target[1:] if target.startswith("/xl/") else (
            target if target.startswith("xl/") else f"xl/{target}")
        name = sheet.get("name", "").strip()
        if name in names.values():  # calamine reads the first, a scan by name only one of them
            raise ValueError(f"two sheets named {name!r}")
        names[member] = name
    return names


def scan_zip(data: bytes, sub: Submission) -> dict[str, SheetScan] | None:
    """Each sheet's scan by sheet name, from the zip's bytes before any reader runs; None if
    the zip is too large (a zip bomb) or not a workbook."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        members = [(i.filename, i.file_size) for i in z.infolist()]
        parts = _inflate(data, z) if len(members) <= MAX_ZIP_ENTRIES else None
    if not isinstance(parts, dict):
        reject_too_large(sub, members, parts)
        return None
    if "xl/workbook.xml" not in parts:
        variant, values = zip_kind(set(parts), parts.get("mimetype", b""))
        sub.reject("", "", "not_a_workbook", variant=variant, **values)
        return None
    for member, xml in parts.items():  # calamine reserves room for uniqueCount strings on open
        if member.lower().replace("\\", "/").endswith("sharedstrings.xml"):
            for count in _UNIQUE_COUNT.findall(xml):
                if not count.isdigit() or int(count) > MAX_ROWS * MAX_COLS:
                    raise ValueError(f"shared strings uniqueCount={count!r}")  # a lie: 24 bytes each
    names = sheet_members(parts["xl/workbook.xml"], parts["xl/_rels/workbook.xml.rels"])
    recalculated = bool(_FULL_CALC_ON_LOAD.search(parts["xl/workbook.xml"]))
    percent = percent_styles(parts.get("xl/styles.xml"))
    # Any member with cells is scanned, named or not: calamine might find a sheet we do not.
    return {names.get(member, member): scan_sheet(xml, recalculated, percent)
            for member, xml in parts.items() if member in names or b"sheetData" in xml}


def scan_xls(data: bytes) -> dict[str, SheetScan]:
    """Each sheet's extent and error cells of a legacy .xls, by xlrd: calamine reads error cells
    (BOOLERR records) as '' (RELIABILITY.md). Ragged rows: xlrd does not pad them to the widest."""
    book = xlrd.open_workbook(file_contents=data, formatting_info=False, ragged_rows=True,
                              on_demand=True)
    scans = {}
    for i in range(book.nsheets):
        sheet = book.sheet_by_index(i)
        scan = scans[sheet.name.strip()] = SheetScan(sheet.nrows, sheet.ncols)
        for r in range(sheet.nrows):
            types = sheet.row_types(r)
            if xlrd.XL_CELL_ERROR in types:
                for c, code in enumerate(sheet.row_values(r)):
                    if types[c] == xlrd.XL_CELL_ERROR:
                        scan.unreadable[(r, c)] = Unreadable(EXCEL_ERROR, error_text_from_code.get(code, "#ERROR"))
        book.unload_sheet(i)
    return scans
