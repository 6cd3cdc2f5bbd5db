"""The Word summary on paper (issue 23, item 2): every chart within the 156 x 225 mm text block
(a long one drawn in parts), tables that repeat their header row and keep each row whole, and
GB/T 9704's 28 characters x 22 lines a page, in Word's terms and as LibreOffice sets it.

The quick_start fixture (test_font.py) is README's Quick start: the demo inbox's pass, whose
year-on-year chart compares 57 indicators (312 mm tall when drawn in one piece).
"""
from __future__ import annotations

import re
import shutil
import subprocess
import zipfile

import pytest
from conftest import libreoffice_has
from test_font import quick_start  # noqa: F401  (the fixture)

TEXT_W_MM, TEXT_H_MM = 156, 225
EMU_PER_MM = 36000


def summary_docx(warehouse):
    return warehouse / "reports" / "summary_2019.docx"


def test_every_chart_fits_the_text_block_with_its_caption(quick_start):
    from docx import Document

    doc = Document(str(summary_docx(quick_start)))
    shapes = doc.inline_shapes
    assert len(shapes) >= 4  # the year chart of 57 indicators is more than one part
    caption_mm = 20 / 72 * 25.4  # the caption's line under it
    for s in shapes:
        assert s.width / EMU_PER_MM <= TEXT_W_MM + 0.5
        assert s.height / EMU_PER_MM + caption_mm <= TEXT_H_MM
    captions = [p.text for p in doc.paragraphs if p.text.startswith("2019年与2018年比较")]
    assert captions == ["2019年与2018年比较（1/2）", "2019年与2018年比较（2/2）"]
    # a picture is kept on the page of its caption
    pictures = [p for p in doc.paragraphs if p._p.xpath(".//w:drawing")]
    assert pictures and all(p.paragraph_format.keep_with_next for p in pictures)


def test_tables_repeat_their_header_and_keep_rows_whole(quick_start):
    from docx import Document
    from docx.oxml.ns import qn

    doc = Document(str(summary_docx(quick_start)))
    assert len(doc.tables) == 2
    for table in doc.tables:
        rows = table.rows
        assert len(rows) > 10
        assert rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
        assert all(r._tr.trPr is not None and r._tr.trPr.find(qn("w:cantSplit")) is not None for r in rows)
        assert all(r._tr.trPr.find(qn("w:tblHeader")) is None for r in rows[1:])
        # the header row goes to the next page with the first row rather than stay alone
        assert all(p.paragraph_format.keep_with_next for c in rows[0].cells for p in c.paragraphs)
    headings = [p for p in doc.paragraphs if p.style.name in ("一级标题", "二级标题")]
    assert headings and all(p.style.paragraph_format.keep_with_next for p in headings)


def test_the_grid_gives_28_characters_and_22_lines(quick_start):
    from docx import Document
    from docx.oxml.ns import qn

    doc = Document(str(summary_docx(quick_start)))
    grid = doc.sections[0]._sectPr.find(qn("w:docGrid"))
    line_pt = int(grid.get(qn("w:linePitch"))) / 20
    assert int(TEXT_H_MM / 25.4 * 72 / line_pt) == 22
    normal = doc.styles["Normal"].element.rPr
    size_pt = int(normal.find(qn("w:sz")).get(qn("w:val"))) / 2
    spacing_pt = int(normal.find(qn("w:spacing")).get(qn("w:val"))) / 20
    assert size_pt == 16  # 3号
    width_pt = TEXT_W_MM / 25.4 * 72
    assert 28 * (size_pt + spacing_pt) <= width_pt < 29 * (size_pt + spacing_pt)


CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def pages_as_text(pdf) -> list[list[str]]:
    out = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return [[line for line in page.splitlines() if line.strip()] for page in out.split("\f")]


@pytest.mark.skipif(not (libreoffice_has("writer") and shutil.which("pdftotext")),
                    reason="LibreOffice (libreoffice-writer-nogui) and pdftotext (poppler-utils) are not installed")
def test_libreoffice_sets_28_characters_and_22_lines_a_page(quick_start, tmp_path):
    """Rendered by LibreOffice with the bundled Chinese font as the only one it has (a fresh
    HOME whose ~/.fonts holds Noto Sans SC): the GB/T 9704 fonts of the file are missing there,
    so it sets the text in Noto Sans SC, whose characters are 1 em wide, as 仿宋 is."""
    import pylopdf_fonts_zh_cn

    home = tmp_path / "home"
    (home / ".fonts").mkdir(parents=True)
    shutil.copy(pylopdf_fonts_zh_cn.sans_path(), home / ".fonts")
    docx = tmp_path / "summary.docx"
    shutil.copy(summary_docx(quick_start), docx)
    subprocess.run(["soffice", f"-env:UserInstallation=file://{home}/lo", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(docx)],
                   env={"HOME": str(home), "PATH": "/usr/bin:/bin"}, capture_output=True, timeout=300, check=True)
    pages = pages_as_text(tmp_path / "summary.pdf")
    pages = [p for p in pages if p]
    body = pages[1]  # the second page: body text only, from top to foot
    assert re.fullmatch(r"—\s*2\s*—", body[-1])  # its page number
    assert len(body) - 1 == 22
    widths = [len(CJK.findall(line)) for line in body[:-1]]
    full = [w for line, w in zip(body, widths) if len(CJK.findall(line)) == len(line.strip())]
    assert max(widths) <= 28 and full and max(full) == 28 and full.count(28) >= len(full) // 2
    text_pages = pages[:next(i for i, p in enumerate(pages) if "附：数据说明" in p)]
    assert len(text_pages) >= 5
    for page in text_pages:  # the summary's text: no page holds more than 22 lines and its number
        assert len(page) <= 23
        assert max(len(CJK.findall(line)) for line in page) <= 28
    # the text of the summary fits in about ten pages, not 29 (14 characters a line)
    with zipfile.ZipFile(docx) as z:
        chars = len(CJK.findall(re.sub(r"<[^>]+>", "", z.read("word/document.xml").decode())))
    assert len(pages) < 29 and len(pages) <= chars / (28 * 22) * 1.6 + 8
