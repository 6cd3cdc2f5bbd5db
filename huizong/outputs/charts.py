"""The report's charts, drawn with matplotlib: SVG text for the HTML report, PNG for Word.

In the SVG, text stays text (`svg.fonttype: none`), so the reader's browser draws the Chinese
labels with its own fonts: the server needs no Chinese font for it. A PNG is drawn by the server,
so it needs a font with a glyph for every character of every label: `cjk_font()` gives the one
the project installs with its own dependencies (Noto Sans SC, SIL OFL 1.1, from the PyPI package
pylopdf-fonts-zh-cn), so the same PNG is drawn wherever `pip install` works; failing that, a
Noto / Source Han / WenQuanYi font of the system. A PNG whose text the font cannot draw is not
made (None), never drawn with empty boxes. Each chart function takes plain rows read from the marts and
returns an SVG string (PNG bytes with `fmt="png"`), or None when there is nothing to draw.
"""
from __future__ import annotations

import io
import logging
import warnings
from pathlib import Path

from huizong.core.vocabulary import SUBMISSION_LABELS as STATUS_STYLE  # status -> (label, colour)

FONTS = ["Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", "SimHei",
         "WenQuanYi Micro Hei", "sans-serif"]
# The fonts a PNG may be drawn in, best first, all free (OFL or Apache 2.0): first the bundled one
# (Noto Sans SC), then those a system may have.
PNG_FONTS = ["Noto Sans SC", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
             "Droid Sans Fallback"]
FONT_FILES = ("notosanscjk", "sourcehansans", "wqy-microhei", "notosanssc", "droidsansfallback")


def _pyplot(family=None):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "font.family": family or FONTS, "font.size": 9,
                         "svg.hashsalt": "huizong"})  # the same data gives the same SVG
    # Without a Chinese font on the server, matplotlib warns for every glyph it measures; the
    # browser draws them, so the warnings say nothing useful.
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="Glyph .* missing from font")
    warnings.filterwarnings("ignore", message="findfont")
    return plt


def bundled_font() -> str | None:
    """The file of the Simplified Chinese sans font installed with huizong's dependencies."""
    try:
        import pylopdf_fonts_zh_cn
    except ImportError:  # an install without its dependencies: the system's fonts may serve
        return None
    path = pylopdf_fonts_zh_cn.sans_path()
    return str(path) if path.is_file() else None


def cjk_font() -> tuple[str, str] | None:
    """(family name, font file) of the first of PNG_FONTS installed, or None. The bundled font
    is registered with matplotlib here: it is in no folder matplotlib searches."""
    from matplotlib import font_manager

    bundled = bundled_font()
    if bundled and bundled not in {f.fname for f in font_manager.fontManager.ttflist}:
        font_manager.fontManager.addfont(bundled)
    for attempt in range(2):
        installed = {f.name: f.fname for f in font_manager.fontManager.ttflist}
        for name in PNG_FONTS:
            if name in installed:
                return name, installed[name]
        if attempt == 0:  # installed after matplotlib cached its list of fonts: add them now
            for path in font_manager.findSystemFonts():
                if any(k in Path(path).name.lower() for k in FONT_FILES):
                    font_manager.fontManager.addfont(path)
    return None


def missing_glyphs(texts, font_file: str) -> set[str]:
    """The characters of `texts` that the font has no glyph for (FT2Font's index 0)."""
    from matplotlib.ft2font import FT2Font

    font = FT2Font(font_file)
    return {c for t in texts for c in t if not c.isspace() and font.get_char_index(ord(c)) == 0}


def drawn_texts(fig) -> list[str]:
    """Every piece of text of a figure already drawn: titles, labels, ticks, legends, cells."""
    from matplotlib.text import Text

    return [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]


def _start(fmt: str):
    if fmt == "png":
        font = cjk_font()
        return _pyplot([font[0]] if font else None)
    return _pyplot()


def _out(plt, fig, fmt: str, fixed_margins: bool = False):
    return _png(plt, fig, fixed_margins) if fmt == "png" else _svg(plt, fig)


def _png(plt, fig, fixed_margins: bool = False) -> bytes | None:
    """The figure as PNG; None without a font that has a glyph for all its text. A chart laid
    out with fixed margins is saved as it is: fitting the box to the drawing ("tight") draws it
    twice, a third of a chart's time."""
    font = cjk_font()
    try:
        if font is None:
            return None
        buf = io.BytesIO()
        fit = {} if fixed_margins else {"bbox_inches": "tight", "pad_inches": 0.15}
        fig.savefig(buf, format="png", dpi=200, metadata={"Software": None}, **fit)
        # checked after saving: the figure is drawn then, its ticks made, so no second drawing
        if missing_glyphs(drawn_texts(fig), font[1]):
            return None
        return buf.getvalue()
    finally:
        plt.close(fig)


def _svg(plt, fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]  # drop the XML prolog and doctype: it is inlined in HTML


def towns_chart(rows: list[tuple[str, str, str, float | None, bool]], fmt: str = "svg"):
    """Towns compared on key indicators: rows of (indicator label, town name, town code, value,
    complete). One panel per indicator; a hatched bar is a town whose year is incomplete."""
    if not rows:
        return None
    plt = _start(fmt)
    labels = list(dict.fromkeys(r[0] for r in rows))
    cols = 2
    nrows = (len(labels) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(9, 3.2 * nrows), squeeze=False)
    for ax, label in zip(axes.flat, labels):
        mine = [r for r in rows if r[0] == label]
        towns = [r[1] for r in mine]
        values = [r[3] or 0 for r in mine]
        bars = ax.barh(towns, values, color="#1e88e5")
        for bar, r in zip(bars, mine):
            if not r[4]:
                bar.set_hatch("//")
                bar.set_facecolor("#90caf9")
        ax.invert_yaxis()
        ax.set_title(label)
        ax.spines[["top", "right"]].set_visible(False)
    for ax in list(axes.flat)[len(labels):]:
        ax.set_visible(False)
    fig.suptitle("各镇主要指标对比（斜线：该镇本年报送不完整）")
    # Fixed margins, not tight_layout: measuring every label again costs half a second a chart.
    fig.subplots_adjust(left=0.1, right=0.97, top=1 - 0.5 / (3.2 * nrows), bottom=0.25 / nrows,
                        wspace=0.3, hspace=0.45)
    return _out(plt, fig, fmt, fixed_margins=True)


def completeness_chart(rows: list[tuple[str, str, str]], periods: list[str], fmt: str = "svg"):
    """Who submitted what: rows of (unit name, period, status), a unit x quarter grid."""
    if not rows:
        return None
    plt = _start(fmt)
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Patch, Rectangle

    units = list(dict.fromkeys(r[0] for r in rows))
    status = {(r[0], r[1]): r[2] for r in rows}
    fig, ax = plt.subplots(figsize=(1.4 * len(periods) + 2.5, 0.38 * len(units) + 1.2))
    cells = []
    for y, unit in enumerate(units):
        for x, period in enumerate(periods):
            label, colour = STATUS_STYLE[status.get((unit, period), "missing")]
            cells.append(Rectangle((x, y), 0.95, 0.9, color=colour))
            ax.text(x + 0.475, y + 0.45, label, ha="center", va="center", fontsize=8 if len(label) < 4 else 6)
    ax.add_collection(PatchCollection(cells, match_original=True))  # one artist, not 52
    ax.set_xlim(0, len(periods))
    ax.set_ylim(len(units), 0)
    ax.set_xticks([x + 0.475 for x in range(len(periods))], periods)
    ax.set_yticks([y + 0.45 for y in range(len(units))], units)
    ax.tick_params(length=0)
    ax.xaxis.tick_top()
    for side in ax.spines.values():
        side.set_visible(False)
    ax.legend(handles=[Patch(color=c, label=lbl) for lbl, c in STATUS_STYLE.values()],
              loc="upper center", bbox_to_anchor=(0.5, 0), ncol=len(STATUS_STYLE),
              frameon=False)
    ax.set_title("报送完整度（单位 × 季度）", pad=24)
    return _out(plt, fig, fmt)


def comparable(rows: list[tuple[str, float | None, float | None]]) -> list[tuple]:
    """The rows of the year chart that it draws: a value this year and one last year, not 0."""
    return [(label, this, last) for label, this, last in rows if this is not None and last]


def year_chart(rows: list[tuple[str, float | None, float | None]], year: int, fmt: str = "svg",
               span: str = ""):
    """The year against the last over the same quarters (`span`, e.g. 1—6月; empty: the whole
    years): rows of (indicator label, this year, last year); only indicators with both. Bars
    show the change in percent."""
    both = comparable(rows)
    if not both:
        return None
    plt = _start(fmt)
    labels = [r[0] for r in both]
    change = [100 * (r[1] - r[2]) / r[2] for r in both]
    fig, ax = plt.subplots(figsize=(8, 0.26 * len(both) + 1.2))
    ax.barh(labels, change, color=["#43a047" if c >= 0 else "#e53935" for c in change])
    ax.axvline(0, color="#616161", linewidth=0.8)
    ax.set_ylim(len(both) - 0.5, -0.5)  # first indicator on top, no empty band
    ax.set_xlabel("与上年相比增减（%）")
    ax.set_title(f"{year}年{span}与{year - 1}年{span}全县主要数字比较")
    ax.spines[["top", "right"]].set_visible(False)
    height = 0.26 * len(both) + 1.2
    fig.subplots_adjust(left=0.32, right=0.97, top=1 - 0.45 / height, bottom=0.55 / height)
    return _out(plt, fig, fmt, fixed_margins=True)
