"""Problems found in a submitted file, worded in Chinese for the town clerk.

The wording of every rule is in the rule table (`schemas/rules.py`); this module says where.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from huizong.schemas.rules import ERROR  # a problem's severity: ERROR or WARNING (schemas/rules.py)


@dataclass(frozen=True)
class Problem:
    sha256: str
    sheet: str  # "" when the problem is the whole file
    cell: str  # Excel reference such as "D7"; "" when none applies
    indicator_code: str
    check: str  # the id of the rule that failed (schemas/rules.py)
    message: str  # the whole sentence a clerk reads, location included
    severity: str = ERROR


def located(sheet: str, cell: str, what: str, text: str) -> str:
    """`村级指标!E5 道德讲堂（场次）: "-2" 不能为负数`: where, what, then what is wrong.
    (sql/setup/warnings.sql builds the same prefix for warnings.)"""
    where = f"{sheet}!{cell}" if sheet and cell else sheet
    head = " ".join(p for p in (where, what) if p)
    return f"{head}: {text}" if head else text


@dataclass
class Outcome:
    """One file's verdict: its problems, and if it has no error, the values to load."""
    file_name: str
    sha256: str
    unit_code: str | None
    period: str | None
    problems: list[Problem] = field(default_factory=list)
    # (sheet, cell, indicator_code, text, source_cell) of each row of its 情况说明 sheet that
    # explains a figure (huizong/intake/workbook.py); recorded as ops.explanations
    explanations: list[tuple] = field(default_factory=list)
    archive_path: str | None = None  # the kept copy, relative to the warehouse
    feedback_path: str | None = None  # a rejected file's feedback, relative to the warehouse

    @property
    def ok(self) -> bool:
        return not any(p.severity == ERROR for p in self.problems)


def places(cells: list[dict]) -> str:
    """`a.xlsx 村级指标!E12, E14, 镇级指标!C5; b.xlsx 封面`: each file and sheet named once, a
    problem of a whole sheet by its name, of the whole file by "(whole file)"."""
    by_file: dict[str, list[str]] = {}
    last_sheet: dict[str, str] = {}
    for c in cells:
        parts = by_file.setdefault(c["file"], [])
        if not c["sheet"]:
            parts.append("(whole file)")
        elif not c["cell"]:
            parts.append(c["sheet"])
        elif last_sheet.get(c["file"]) == c["sheet"]:
            parts.append(c["cell"])
        else:
            parts.append(f"{c['sheet']}!{c['cell']}")
        last_sheet[c["file"]] = c["sheet"] if c["cell"] else ""
    return "; ".join(f"{name} {', '.join(parts)}" for name, parts in by_file.items())
