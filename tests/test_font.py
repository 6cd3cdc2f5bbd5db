"""The Word summary's charts on a machine without a system Chinese font (issue 22, item 1).

The charts of the Word file are PNG drawn on the machine that writes it, so they need a font with
every character of their labels. huizong brings one with its own dependencies (Noto Sans SC, SIL
OFL, from the PyPI package pylopdf-fonts-zh-cn): the Quick start's pass on the demo inbox writes
its Word summary with its charts wherever `pip install` works, whatever fonts the system has.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import run_pass

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def quick_start(tmp_path_factory, prefect_harness):
    """README's Quick start: one pass on (a copy of) the demo inbox, its summary written."""
    root = tmp_path_factory.mktemp("quick_start")
    shutil.copytree(REPO / "inbox", root / "inbox")
    run_pass(root / "inbox", root / "warehouse", write_summary=True)
    return root / "warehouse"


def system_cjk_fonts() -> list[str]:
    try:
        out = subprocess.run(["fc-list"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line for line in out.splitlines() if any(k in line.lower() for k in ("cjk", "wqy", "han sans", "droid"))]


def test_the_font_comes_with_the_install_not_the_system():
    from huizong.outputs import charts

    font = charts.cjk_font()
    assert font is not None
    name, path = font
    # the file installed by pip in this environment, not one of the system's folders
    import pylopdf_fonts_zh_cn

    assert Path(path) == pylopdf_fonts_zh_cn.sans_path() and name == "Noto Sans SC"
    assert Path(path).is_relative_to(Path(pylopdf_fonts_zh_cn.__file__).parent)
    licence = "\n".join(p.read_text(errors="replace") for p in
                        Path(pylopdf_fonts_zh_cn.__file__).parent.parent.glob("pylopdf_fonts_zh_cn-*.dist-info/licenses/*"))
    assert "SIL Open Font License" in licence and "Version 1.1" in licence


def test_the_quick_starts_word_summary_has_its_charts(quick_start):
    from docx import Document
    from docx.shared import Mm

    path = quick_start / "reports" / "summary_2019.docx"
    doc = Document(str(path))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "图表未插入" not in text and "未插入）" not in text
    # towns, completeness and the year against the last (in two parts: the demo compares 57
    # indicators, more than one page holds): every chart there, none left out
    captions = [p.text for p in doc.paragraphs if p.style.name == "附注"]
    assert "各镇主要指标对比（2019年）" in captions and "报送完整度" in captions
    assert any(c.startswith("2019年与2018年比较") for c in captions)
    assert len(doc.inline_shapes) == len(captions) >= 3
    assert all(s.width <= Mm(156.5) for s in doc.inline_shapes)
    if not system_cjk_fonts():  # this machine: the proof that no system font was needed
        print("no system CJK font (fc-list): the charts were drawn in the bundled font")


def test_every_label_of_the_demo_charts_has_a_glyph_in_the_bundled_font(quick_start):
    """Every character of what the charts draw for the demo county: towns, units, indicator
    labels, periods, statuses and the titles."""
    import pylopdf_fonts_zh_cn
    from matplotlib.ft2font import FT2Font

    from huizong.outputs import charts
    from huizong.outputs.report import read_warehouse

    data = read_warehouse(quick_start, 2019)
    labels = [r[0] for r in data.towns] + [r[1] for r in data.towns] + [r[0] for r in data.years]
    labels += [r[0] for r in data.status] + data.periods + [w for w, _ in charts.STATUS_STYLE.values()]
    labels += ["各镇主要指标对比（斜线：该镇本年报送不完整）", "报送完整度（单位 × 季度）",
               "与上年相比增减（%）", "2019年与2018年全县主要数字比较", "0123456789.-−"]
    font = FT2Font(str(pylopdf_fonts_zh_cn.sans_path()))
    missing = {c for label in labels for c in label if not c.isspace() and font.get_char_index(ord(c)) == 0}
    assert missing == set()
