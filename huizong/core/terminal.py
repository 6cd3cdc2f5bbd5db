"""What the commands print: text from files made harmless, and tables that fit without
breaking words.

Every line and table cell that carries text a town controls (cells, explanations, file names,
reasons quoting cells) goes through `shown`: control characters (ESC, the rest of C0 and C1,
DEL) and the bidirectional overrides are printed visibly as `\\x1b`, `\\u202e`, so no file can
clear the screen, recolour or hide a line, or reorder what the office reads; a long text is cut
in its middle, keeping the end of a reason that quotes a cell.

Tables (`table`) are printed at their natural width when the output is not a terminal (a pipe,
cron mail, a file): read by people and by scripts, they never fold inside a word. In a terminal
a table too wide for it wraps its columns at spaces only, then leaves out the columns marked
`optional`, then folds the columns marked `prose` (reasons, messages); a terminal too narrow
even for that gets each row as lines `column: value`. Names, cell references, periods and file
names are never folded nor cut in a terminal either.
"""
from __future__ import annotations

import copy
import re
import sys

from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

CUT = 200  # characters of file text in one table cell or field of a line
LINE_CUT = 400  # characters of one printed line (it may carry two fields of file text)
PIPE_WIDTH = 100_000
PROSE_MIN = 12  # a prose column (reasons, messages) folds down to this many columns, no narrower  # a console that is not a terminal: lines as long as they are

# C0 but tab and newline (kept as layout, below), DEL, C1; the bidi embeddings, overrides and
# isolates (U+202A-202E, U+2066-2069) and marks (U+200E, U+200F, U+061C)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_LAYOUT = re.compile("[\t\n]")


def _visible(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(text: object, limit: int | None = CUT) -> str:
    """`text` as the terminal may print it: every control and bidi character shown as its
    escape, tabs and line breaks as spaces (a cell cannot start a line that looks like ours),
    and cut to about `limit` characters, in the middle, saying how much was left out."""
    text = "" if text is None else str(text)
    text = _LAYOUT.sub(" ", _CONTROL.sub(_visible, text))
    if limit is not None and len(text) > limit:
        tail = limit // 4
        head = limit - tail
        text = f"{text[:head]}…({len(text) - head - tail} characters left out)…{text[-tail:]}"
    return text


def data(text: object, limit: int | None = CUT) -> str:
    """File text to put in a line printed with markup: shown, then escaped for rich."""
    return escape(shown(text, limit))


# --- the console --------------------------------------------------------------------------------

class PipedConsole(Console):
    """rich's console, except that a reader who went away (`huizong status | head`) ends the
    command like any Unix tool's, quietly and with exit 0 (main catches BrokenPipeError), where
    rich would exit 1."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


def make_console(stderr: bool = False) -> Console:
    """The console of stdout or stderr. In a terminal, its width. Otherwise (a pipe, cron mail,
    a file) no width at all: lines and tables as long as they are, never cut or folded by a
    width the reader does not have (rich's guess there is 80, or $COLUMNS)."""
    stream = sys.stderr if stderr else sys.stdout
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    if tty:
        return PipedConsole(stderr=stderr)
    return PipedConsole(stderr=stderr, width=PIPE_WIDTH)


# --- tables -------------------------------------------------------------------------------------

def _plain(cell) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def _natural(cell) -> int:
    """Columns the cell needs on one line (its longest line)."""
    return max((cell_len(line) for line in _plain(cell).split("\n")), default=0)


def _longest_word(cell) -> int:
    """Columns of the cell's longest word: a column is never narrower, so no word is folded."""
    return max((cell_len(word) for word in _plain(cell).split()), default=0)


class FittedTable(Table):
    """A rich table whose cells are data (file text shown, never markup: pass a Text for
    styled words) and that fits as the module's docstring says."""

    def __init__(self, *args, optional: tuple[str, ...] = (), prose: tuple[str, ...] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.optional, self.prose = optional, prose  # column headers

    def add_row(self, *cells, **kwargs) -> None:
        super().add_row(*[c if isinstance(c, Text) or c is None else Text(shown(c)) for c in cells], **kwargs)

    def __rich_console__(self, console, options):
        if not console.is_terminal:
            yield from super().__rich_console__(console, options)
            return
        fitted = self._fitted(options.max_width)
        if fitted is None:
            yield from self._records()
        else:
            yield from Table.__rich_console__(fitted, console, options)

    def _records(self):
        """Each row as lines `header: value`, for a terminal too narrow for the table's words."""
        if self.title:
            yield Text(_plain(self.title), style="bold")
        headers = [_plain(c.header) for c in self.columns]
        for i, cells in enumerate(zip(*(c._cells for c in self.columns)), start=1):
            yield Text(f"── {i}", style="dim")
            for header, cell in zip(headers, cells):
                if _plain(cell):
                    yield Text.assemble(f"{header}: ", cell if isinstance(cell, Text) else str(cell))

    def _needs(self, columns) -> tuple[list[int], list[int]]:
        """Each column's natural width and the width of its longest word (header included)."""
        natural = [max([_natural(c.header)] + [_natural(x) for x in c._cells]) for c in columns]
        words = [max([_longest_word(c.header)] + [_longest_word(x) for x in c._cells]) for c in columns]
        return natural, words

    def _room(self, columns) -> int:
        """Columns the borders and padding of `columns` take."""
        edges = ((2 if self.show_edge else 0) + len(columns) - 1) if self.box else 0
        return edges + sum(self._get_padding_width(c._index) for c in columns)

    def _fitted(self, width: int) -> "FittedTable | None":
        """A copy of the table that fits `width`: columns wrapped at spaces, then optional
        columns left out (said in the caption), then prose folded; self when it fits as it is;
        None when even that is too wide (the rows are then printed as records)."""
        columns = list(self.columns)
        natural, words = self._needs(columns)
        if sum(natural) + self._room(columns) <= width:
            return self
        left_out = []
        for header in (None,) + self.optional:
            if header is not None:
                columns = [c for c in columns if _plain(c.header) != header]
                left_out.append(header)
            natural, words = self._needs(columns)
            room = width - self._room(columns)
            if sum(words) <= room:
                return self._with(columns, _share(natural, words, room), left_out)
        folded = [min(w, PROSE_MIN) if _plain(c.header) in self.prose else w for c, w in zip(columns, words)]
        if sum(folded) <= room:
            return self._with(columns, _share(natural, folded, room), left_out)
        return None

    def _with(self, columns, widths, left_out) -> "FittedTable":
        out = copy.copy(self)
        out.columns = [copy.copy(c) for c in columns]
        for i, c in enumerate(out.columns):
            c._index = i
            if widths is not None:
                c.width = widths[i]
        if left_out:
            note = f"(too wide for the terminal, left out: {', '.join(left_out)})"
            out.caption = f"{self.caption}\n{note}" if self.caption else note
            out.caption_justify = "left"
        return out


def _share(natural: list[int], words: list[int], room: int) -> list[int]:
    """Widths from each column's longest word up to its natural width, the room left shared
    in proportion to what each still needs."""
    need = [n - w for n, w in zip(natural, words)]
    spare = room - sum(words)
    if spare >= sum(need):
        return natural
    widths = [w + spare * n // sum(need) for w, n in zip(words, need)]
    for i in sorted(range(len(need)), key=lambda i: need[i] - (widths[i] - words[i]), reverse=True):
        if sum(widths) >= room:
            break
        if widths[i] < natural[i]:
            widths[i] += 1
    return widths


def table(title: str | None = None, *columns: str, optional: tuple[str, ...] = (),
          prose: tuple[str, ...] = ()) -> FittedTable:
    """A table of data for the terminal (FittedTable): `optional` columns may be left out in a
    narrow terminal, `prose` ones (reasons, messages) folded there as a last resort."""
    t = FittedTable(title=title, optional=optional, prose=prose)
    for col in columns:
        t.add_column(Text(shown(col)), overflow="fold")
    return t

