"""What every command shares: the consoles, exit statuses, a user's mistake, options read as quarters and units, tables of a query's result."""
from __future__ import annotations

import argparse
from pathlib import Path

from huizong.core.errors import HuizongError
from huizong.core.terminal import LINE_CUT, make_console, shown, table

EXIT_OK, EXIT_FAILED, EXIT_REJECTED = 0, 1, 2


console = make_console()


err_console = make_console(stderr=True)


class Mistake(HuizongError):
    """A user's mistake the command answers with one sentence and exit 1."""


def say(text: str) -> None:
    """One line of plain text (data in it is never markup, its control characters are shown,
    huizong.core.terminal.shown), never wrapped."""
    console.print(shown(text, LINE_CUT), markup=False, highlight=False, soft_wrap=True)


def quarter(text: str | None) -> str | None:
    """A quarter as the commands take it (2019Q3, 2019年第三季度); Mistake if it is none."""
    if text is None:
        return None
    from huizong.core.cells import parse_period

    period = parse_period(text)
    if period is None:
        raise Mistake(f"not a quarter: {text} (use e.g. 2019Q3)")
    return period


def submitting_unit(code: str | None):
    """A town's or department's code, checked against the catalog; Mistake if it is none."""
    if code is None:
        return None
    from huizong.schemas import catalog as cat

    unit = cat.unit_by_code().get(code.strip())
    if unit is None or unit not in cat.submitters():
        raise Mistake(f"not a submitting unit's code: {code} (the towns' and departments' codes "
                      "are in the catalog, e.g. 990101100)")
    return unit


def check_folders(inbox: Path | None, warehouse: Path) -> None:
    """What a pass reads and writes, checked before anything is created."""
    if inbox is not None:
        if not inbox.exists():
            raise Mistake(f"no inbox at {inbox}: name the folder of received workbooks with --inbox")
        if not inbox.is_dir():
            raise Mistake(f"{inbox} is a file, not a folder: --inbox names the folder of received workbooks")
    if warehouse.exists() and not warehouse.is_dir():
        raise Mistake(f"{warehouse} is a file, not a folder: --warehouse names the warehouse's folder")


def _read_only(args: argparse.Namespace, marts: bool = True):
    """The published warehouse, read-only; with `marts`, a Mistake if nothing is published yet."""
    from huizong.store.warehouse import connect_read_only, has_marts, nothing_published

    con = connect_read_only(args.warehouse)
    if con is None:
        raise Mistake(f"no warehouse yet at {args.warehouse}; run `huizong run` first")
    if marts and not has_marts(con):
        con.close()
        raise Mistake(nothing_published(args.warehouse))
    return con


def _text(value) -> str:
    return "" if value is None else str(value)


def print_result(cursor, limit: int | None = None, title: str | None = None, optional: tuple[str, ...] = (),
                 unless_empty: tuple[str, ...] = ()) -> None:
    """An executed query's result as a readable table; says so when it stops at `limit` rows."""
    rows = cursor.fetchall() if limit is None else cursor.fetchmany(limit + 1)
    print_rows([c[0] for c in cursor.description], rows, limit, title, optional, unless_empty)


def print_rows(names: list[str], rows: list[tuple], limit: int | None = None, title: str | None = None,
               optional: tuple[str, ...] = (), unless_empty: tuple[str, ...] = ()) -> None:
    """Rows as a readable table, the first `limit` of them (saying so when there are more).
    `optional` columns may be left out in a narrow terminal; `unless_empty` ones are shown only
    when some row has a value in them."""
    shown_rows = rows[:limit]
    keep = [i for i, n in enumerate(names)
            if n not in unless_empty or any(row[i] not in (None, "") for row in shown_rows)]
    t = table(title, *[names[i] for i in keep], optional=optional)
    for row in shown_rows:
        t.add_row(*[_text(row[i]) for i in keep])
    console.print(t)
    if limit is not None and len(rows) > limit:
        say(f"(the first {limit} rows; there are more: raise --limit, or --format csv for every row)")


def not_files(paths: list[Path]) -> None:
    """A named file that is not there (or is a folder) is the user's mistake: one sentence, exit 1."""
    missing = [p for p in paths if not p.is_file()]
    if missing:
        names = ", ".join(shown(p) for p in missing)
        raise Mistake(f"no such file: {names}" if all(not p.exists() for p in missing)
                      else f"not a file (no such file, or a folder): {names}")
