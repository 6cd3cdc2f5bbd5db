"""What reading one workbook gives (`Submission`: who, which quarter, its values and villages,
what is wrong, each at its sheet and cell) and the Excel cell references it speaks in."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from huizong.core.cells import (
    shown_visibly,
)

# Bounds that keep a hostile file from exhausting memory before any reader runs (settings.py).
from huizong.intake.problems import Problem, located
from huizong.schemas import rules


@dataclass
class Submission:
    """What one file says: who, which quarter, its values and villages, and what is wrong."""
    file_name: str
    sha256: str
    unit_code: str | None = None
    period: str | None = None
    # (sheet, cell, unit_code, indicator_code, raw): unit_code is the village for village rows.
    values: list[tuple] = field(default_factory=list)
    # (sheet, cell, village_code, village_name) for each row of the village sheet.
    villages: list[tuple] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # (sheet, cell, indicator_code, text, source_cell): a figure explained in 情况说明
    explanations: list[tuple] = field(default_factory=list)

    def reject(self, sheet: str, cell: str, check: str, /, what: str = "", *,
               indicator_code: str = "", variant: str = "", **values: object) -> None:
        """Record that rule `check` failed at sheet!cell, worded from the rule table with
        `values` for its placeholders; `what` names the cell's field for the clerk."""
        found = rules.rule(check)
        values = {k: shown_visibly(v) if isinstance(v, str) else v for k, v in values.items()}
        text = located(shown_visibly(sheet), cell, what, found.word(variant, **values))
        self.problems.append(Problem(self.sha256, sheet, cell, indicator_code, check, text,
                                     found.severity))


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def ref(row: int, col: int) -> str:
    return f"{column_letter(col)}{row + 1}"


def cell_position(reference: str) -> tuple[int, int]:
    """"E5" -> (4, 4): zero-based row and column."""
    letters, digits = re.match(r"([A-Z]+)(\d+)$", reference).groups()
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return int(digits) - 1, col - 1


# An element's optional namespace prefix: calamine matches elements by their local name.
