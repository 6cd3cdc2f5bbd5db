"""The annual summary as a Word document in the format of official documents (GB/T 9704: 28
characters x 22 lines a page), its charts as PNG drawn in the bundled Noto Sans SC."""
from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import TYPE_CHECKING

from huizong.outputs.html import drawn_charts
from huizong.outputs.notes import FIGURE_HEADER, data_notes, figure_rows, status_table
from huizong.outputs.summary import (
    CONFIRM,
    INCOMPLETE_MARK,
)
from huizong.schemas import catalog as cat

if TYPE_CHECKING:
    from huizong.outputs.report import ReportData


# GB/T 9704-2012 (党政机关公文格式): A4; top margin 37 mm, left 28 mm, a text block of 156 x 225 mm
# (so right 26 mm, bottom 35 mm); 22 lines of 28 characters on the document grid; body 3号 仿宋
# (16 pt), title 2号 小标宋 (22 pt), 一、 headings 黑体, （一） headings 楷体, all black; page
# numbers 4号 in the footer as — 1 —, odd pages right and even pages left.

OFFICE = cat.office_name()  # from the registry (schemas/units.csv)
BODY_FONT, TITLE_FONT, H1_FONT, H2_FONT = "仿宋_GB2312", "方正小标宋简体", "黑体", "楷体_GB2312"
LATIN_FONT = "Times New Roman"
FONT_ALT = {"仿宋_GB2312": "仿宋", "楷体_GB2312": "楷体", "方正小标宋简体": "宋体"}  # where missing
LINE_PITCH_TWIPS = 579  # 225 mm / 22 lines
# 28 characters of 16 pt in 156 mm (442.2 pt) is 15.79 pt a character: a line grid of 22 lines,
# and the characters set 0.25 pt closer (w:spacing -5 twips: 28 x 15.75 pt = 441 pt). Not a
# character grid (linesAndChars, charSpace -842): Word squeezes 16 pt characters into its 15.79 pt
# cells, but LibreOffice gives each character as many whole cells as its size needs, two, so
# 14 characters a line and 29 pages.
CHAR_SPACING_TWIPS = -5
CHARTS_LEFT_OUT = "（图表未插入：生成本文件的计算机缺少可显示图表中文字的中文字体。请重新安装 huizong（其依赖包带有中文字体 Noto Sans SC）后重新生成，或查看同名 HTML 文件中的图表。）"


def _fonts(target, east_asia: str, size_pt: float | None = None, bold: bool | None = None) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    font = target.font
    font.name = LATIN_FONT
    if size_pt:
        font.size = Pt(size_pt)
    if bold is not None:
        font.bold = bold
    font.color.rgb = RGBColor(0, 0, 0)
    rfonts = target.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:eastAsia",):
        rfonts.set(qn(attr), east_asia)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)


def _paragraph_style(doc, name: str, east_asia: str, size_pt: float, outline: int | None = None):
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = doc.styles["Normal"]
    _fonts(style, east_asia, size_pt, bold=False)
    if outline is not None:  # in the navigation pane, without Word's blue heading styles
        lvl = OxmlElement("w:outlineLvl")
        lvl.set(qn("w:val"), str(outline))
        style.element.get_or_add_pPr().append(lvl)
    return style


def _page_setup(doc) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm

    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.left_margin = Mm(37), Mm(28)
    section.right_margin, section.bottom_margin = Mm(210 - 28 - 156), Mm(297 - 37 - 225)
    section.header_distance, section.footer_distance = Mm(15), Mm(28 - 7)  # 页码 7 mm below the block
    sect = section._sectPr
    for old in sect.findall(qn("w:docGrid")):
        sect.remove(old)
    grid = OxmlElement("w:docGrid")
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(LINE_PITCH_TWIPS))
    sect.append(grid)


# what follows w:spacing in a w:rPr (ECMA-376 CT_RPr): Word refuses a file out of this order
RPR_AFTER_SPACING = ("w:w", "w:kern", "w:position", "w:sz", "w:szCs", "w:highlight", "w:u", "w:effect",
                     "w:bdr", "w:shd", "w:fitText", "w:vertAlign", "w:rtl", "w:cs", "w:em", "w:lang",
                     "w:eastAsianLayout", "w:specVanish", "w:oMath")


def _condensed(style) -> None:
    """The style's characters set CHAR_SPACING_TWIPS closer, 28 a line (see above)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    spacing = OxmlElement("w:spacing")
    spacing.set(qn("w:val"), str(CHAR_SPACING_TWIPS))
    style.element.get_or_add_rPr().insert_element_before(spacing, *RPR_AFTER_SPACING)


def _page_number(paragraph, size_pt: float = 14) -> None:
    """— PAGE — in 4号 宋体."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def run(text=None, field=None):
        r = paragraph.add_run(text or "")
        _fonts(r, "宋体", size_pt)
        r.font.name = "宋体"
        if field:
            for kind, instr in (("begin", None), (None, field), ("separate", None), (None, "1"), ("end", None)):
                if kind:
                    el = OxmlElement("w:fldChar")
                    el.set(qn("w:fldCharType"), kind)
                    r._r.append(el)
                elif instr == field:
                    el = OxmlElement("w:instrText")
                    el.set(qn("xml:space"), "preserve")
                    el.text = f" {field} "
                    r._r.append(el)
                else:
                    el = OxmlElement("w:t")
                    el.text = instr
                    r._r.append(el)
        return r

    run("— ")
    run(field="PAGE")
    run(" —")


def _footers(doc) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    doc.settings.odd_and_even_pages_header_footer = True
    section = doc.sections[0]
    for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT), (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
        footer.is_linked_to_previous = False
        p = footer.paragraphs[0]
        p.alignment = align
        p.paragraph_format.line_spacing = None
        # 单页码居右空一字，双页码居左空一字
        if align == WD_ALIGN_PARAGRAPH.RIGHT:
            p.paragraph_format.right_indent = Pt(14)
        else:
            p.paragraph_format.left_indent = Pt(14)
        _page_number(p)


def _metadata(doc, title: str, when: dt.datetime) -> None:
    props = doc.core_properties
    props.author = OFFICE
    props.last_modified_by = OFFICE
    props.title = title
    props.subject = ""
    props.comments = ""
    props.keywords = ""
    props.category = ""
    props.revision = 1
    utc = when.astimezone(dt.timezone.utc).replace(tzinfo=None)
    props.created = utc
    props.modified = utc
    for part in doc.part.package.iter_parts():
        if str(part.partname) == "/docProps/app.xml":
            part._blob = (
                b"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
                b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
                b"<Template>Normal.dotm</Template><Application>huizong</Application>"
                b"<Company>" + OFFICE.encode() + b"</Company></Properties>")


def _font_alternates(doc) -> None:
    """Name a common font Word uses where a GB/T 9704 font is not installed (w:altName)."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    try:
        fonts = doc.part.part_related_by(RT.FONT_TABLE)
    except KeyError:
        return
    from docx.oxml import parse_xml

    root = parse_xml(fonts.blob)
    for name, alt in FONT_ALT.items():
        font = OxmlElement("w:font")
        font.set(qn("w:name"), name)
        alt_el = OxmlElement("w:altName")
        alt_el.set(qn("w:val"), alt)
        font.append(alt_el)
        charset = OxmlElement("w:charset")
        charset.set(qn("w:val"), "86")  # GB2312
        font.append(charset)
        root.append(font)
    from lxml import etree

    fonts._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def render_docx(data: ReportData, path: Path) -> None:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX, WD_LINE_SPACING
    from docx.shared import Pt

    doc = Document()
    _page_setup(doc)
    normal = doc.styles["Normal"]
    _fonts(normal, BODY_FONT, 16)
    _condensed(normal)
    normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    normal.paragraph_format.line_spacing = Pt(LINE_PITCH_TWIPS / 20)
    normal.paragraph_format.space_before = normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    title_style = _paragraph_style(doc, "公文标题", TITLE_FONT, 22, outline=0)
    title_style.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title_style.paragraph_format.line_spacing = Pt(LINE_PITCH_TWIPS / 20 * 1.2)
    h1 = _paragraph_style(doc, "一级标题", H1_FONT, 16, outline=1)
    h1.paragraph_format.first_line_indent = Pt(32)
    h2 = _paragraph_style(doc, "二级标题", H2_FONT, 16, outline=2)
    h2.paragraph_format.first_line_indent = Pt(32)
    for heading in (h1, h2):  # never a heading alone at a page's foot
        heading.paragraph_format.keep_with_next = True
    note_style = _paragraph_style(doc, "附注", BODY_FONT, 12)
    note_style.paragraph_format.line_spacing = Pt(20)
    _footers(doc)
    _font_alternates(doc)

    def add_spans(p, spans):
        for span in spans:
            if span.kind == "confirm":
                p.add_run(span.text).font.highlight_color = WD_COLOR_INDEX.YELLOW
                tag = p.add_run(CONFIRM)
                tag.font.highlight_color = WD_COLOR_INDEX.YELLOW
                tag.font.bold = True
            elif span.kind == "fill":
                p.add_run(span.written).font.highlight_color = WD_COLOR_INDEX.YELLOW
            else:
                p.add_run(span.text)
                if span.figure is not None and not span.figure.complete:
                    p.add_run(INCOMPLETE_MARK).font.superscript = True

    for block in data.summary.blocks:
        if block.kind == "title":
            p = doc.add_paragraph(style=title_style)
            add_spans(p, block.spans)
            doc.add_paragraph()  # 标题与正文间空一行
            continue
        p = doc.add_paragraph(style=h1 if block.kind == "heading" else None)
        if block.kind != "heading":
            p.paragraph_format.first_line_indent = Pt(32)  # 首行缩进二字
        add_spans(p, block.spans)

    doc.add_page_break()
    doc.add_paragraph("附：数据说明", style=h1)
    for note in data_notes(data):
        p = doc.add_paragraph(note)
        p.paragraph_format.first_line_indent = Pt(32)
    doc.add_paragraph("（一）图表", style=h2)
    if _no_font():
        doc.add_paragraph(CHARTS_LEFT_OUT)  # never a chart of empty boxes
    else:
        has_rows = {"towns": bool(data.towns), "completeness": bool(data.status), "years": bool(data.years)}
        for key, png, caption in drawn_charts(data, "png"):
            if png is None:
                why = "没有可比较的数据" if not has_rows[key] else "字体缺少图中的字，未插入"
                doc.add_paragraph(f"（{caption}：{why}）")
                continue
            doc.add_picture(io.BytesIO(png), **picture_size(png))
            picture = doc.paragraphs[-1]
            picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
            picture.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
            picture.paragraph_format.keep_with_next = True  # its caption under it, on its page
            cap = doc.add_paragraph(caption, style=note_style)
            cap.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for title, (header, rows) in (("（二）报送情况", status_table(data)),
                                  ("（三）总结中的数字", (FIGURE_HEADER, figure_rows(data.summary)))):
        doc.add_paragraph(title, style=h2)
        table = doc.add_table(rows=1, cols=len(header))
        table.style = "Table Grid"
        for cell, h in zip(table.rows[0].cells, header):
            cell.text = h
        for row in rows:
            for cell, value in zip(table.add_row().cells, row):
                cell.text = str(value)
        for i, row in enumerate(table.rows):
            for cell in row.cells:
                for para in cell.paragraphs:
                    # the style's id set directly: `para.style = note_style` looks through every
                    # style for the default one, each time (a third of the Word file's time)
                    para._p.style = note_style.style_id
                    if i == 0:  # the header row stays with the first row of figures
                        para.paragraph_format.keep_with_next = True
        for_paper(table)
    _metadata(doc, data.summary.title, data.as_of)
    doc.save(str(path))


CHART_MOST_MM = 200  # a chart's height on paper: with its caption within the 225 mm text block


def picture_size(png: bytes) -> dict:
    """The width (156 mm, the text block's) a chart is inserted at, or the height that keeps it
    within CHART_MOST_MM when it is taller: PNG's IHDR holds its size in pixels."""
    from docx.shared import Mm

    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    return {"width": Mm(156)} if 156 * height / width <= CHART_MOST_MM else {"height": Mm(CHART_MOST_MM)}


def for_paper(table) -> None:
    """A table as printed: its header row repeated on each page (w:tblHeader), no row split
    across two pages (w:cantSplit)."""
    from docx.oxml import OxmlElement

    for i, row in enumerate(table.rows):
        tr_pr = row._tr.get_or_add_trPr()
        for tag in ("w:cantSplit", "w:tblHeader") if i == 0 else ("w:cantSplit",):
            tr_pr.append(OxmlElement(tag))


def _no_font() -> bool:
    from huizong.outputs import charts

    return charts.cjk_font() is None
