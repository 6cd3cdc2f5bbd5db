"""The office's review of warnings: list them with their state, accept them or return them.

A warning never blocks a file (FORM.md). A town explains an unusual figure in its workbook's
情况说明 sheet; the office then accepts it, or returns it with a note and the town is asked
for a corrected file while the figure stays loaded. States are `marts.warning_reviews`'s.

A decision is a row of `ops.reviews`, written as a pass writes: under the pass lock, into a
private copy of the published warehouse that is swapped in whole (`warehouse.publish`), so an
analyst's open connection is never in the way and a killed command changes nothing. In that
copy `marts.warning_reviews` (and any model built on it) is rebuilt from the ledger and its
checks run, so the published mart states every decision the moment it is made: it stays a
table, like every mart, rather than a view that would compute the states on every read of
`status`. A row of `ops.builds` marks the build, so the next pass writes the summaries again
(their data notes name accepted and returned figures).
"""
from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import duckdb

from huizong.core import clock
from huizong.core.errors import HuizongError
from huizong.store import models
from huizong.store import warehouse as wh
from huizong.store.versions import models_version

STATES = ("open", "explained", "accepted", "returned")
AWAITING = ("explained", "open")  # what the office has still to look at
DECISIONS = ("accepted", "returned")
MART = "marts.warning_reviews"
_CELL = re.compile(r"[A-Z]{1,3}[1-9][0-9]*")


class ReviewError(HuizongError, ValueError):
    """A decision that cannot be made as asked: one sentence for the office."""


@dataclass(frozen=True)
class Warned:
    """One row of marts.warning_reviews, as review_warnings.sql selects it."""
    state: str
    period: str
    unit_code: str
    unit_name: str
    sheet: str
    cell: str
    village_code: str | None
    village_name: str | None
    indicator_code: str
    indicator_name: str
    measure_unit: str
    value: object
    message: str
    explanation: str | None
    explanation_cell: str | None
    explanation_file_name: str | None
    decision: str | None
    office_note: str | None
    decided_by: str | None
    decided_at: object
    file_name: str
    sha256: str

    @property
    def place(self) -> str:
        return f"{self.sheet}!{self.cell}"


def cell_reference(text: str) -> str:
    """`村级指标!E12` (or `e12`, `$E$12`) as the mart writes it; ReviewError if it is no cell."""
    sheet, _, cell = text.strip().replace("$", "").rpartition("!")
    cell = cell.strip().upper()
    if not _CELL.fullmatch(cell):
        raise ReviewError(f"not a cell: {text} (name it as the warning does, e.g. 村级指标!E12)")
    return f"{sheet.strip()}!{cell}" if sheet.strip() else cell


def warnings(con: duckdb.DuckDBPyConnection, *, period: str | None = None, unit: str | None = None,
             states: tuple[str, ...] = AWAITING, cell: str | None = None) -> list[Warned]:
    """The warnings of the versions in force in `states`, of one quarter, unit or cell if named."""
    try:
        rows = con.execute(wh.statement("commands", "review_warnings.sql"),
                           {"period": period, "unit": unit, "states": list(states), "cell": cell}).fetchall()
    except duckdb.CatalogException:
        raise ReviewError("the warehouse was built by an older huizong, without the review of "
                          "warnings: run `huizong run` once, then review") from None
    return [Warned(*r) for r in rows]


@dataclass(frozen=True)
class ReviewCount:
    """A unit's quarter with warnings awaiting the office or returned to the town."""
    unit_code: str
    unit_name: str
    period: str
    explained: int
    open: int
    returned: int
    accepted: int

    @property
    def awaiting(self) -> int:
        return self.explained + self.open + self.returned


def review_counts(con: duckdb.DuckDBPyConnection, period: str | None = None) -> list[ReviewCount]:
    """Per unit and quarter, its warnings awaiting the office or returned (review_counts.sql), the
    latest quarters first; none from a warehouse built before the review of warnings."""
    try:
        rows = con.execute(wh.statement("commands", "review_counts.sql"), {"period": period}).fetchall()
    except duckdb.CatalogException:
        return []
    return [ReviewCount(*r) for r in rows]


def _built_here(con: duckdb.DuckDBPyConnection, warehouse: Path) -> None:
    if not wh.has_marts(con):
        raise ReviewError(wh.nothing_published(warehouse))
    if wh.models_version_of(con) != models_version():
        raise ReviewError("the warehouse was built under another catalog or other SQL models than "
                          "this huizong's: run `huizong run` (it rebuilds them), then review")


@dataclass
class Decided:
    """What a decision did: the warnings decided, and for a return the town's 退回说明."""
    warnings: list[Warned]
    notice: PurePosixPath | None = None  # <stem>.xlsx / .txt under the warehouse


def decide(warehouse: Path, unit_code: str, period: str, cells: list[str] | None, decision: str,
           decided_by: str, note: str | None = None) -> Decided:
    """Record `decision` on the warnings at `cells` of a unit's quarter (None: every explained
    one) and publish; for a return, write the 退回说明 of the quarter's returned figures.
    ReviewError when a cell holds no warning or the decision lacks what it needs."""
    if decision not in DECISIONS:
        raise ValueError(f"decision {decision!r} is not one of {DECISIONS}")
    decided_by, note = decided_by.strip(), (note or "").strip() or None
    if not decided_by:
        raise ReviewError("say who decides: --by NAME")
    if decision == "returned" and not note:
        raise ReviewError("a return needs a note for the town: --note TEXT (what to check or correct)")
    if not wh.published_path(warehouse).exists():  # before the lock, which makes the folder
        raise ReviewError(f"no warehouse yet at {warehouse}; run `huizong run` first")
    with wh.pass_lock(warehouse):
        con = wh.connect_read_only(warehouse)
        try:
            _built_here(con, warehouse)
            _not_signed_off(con, period)
            chosen = _chosen(con, unit_code, period, cells)
        finally:
            con.close()
        _record(warehouse, unit_code, period, chosen, decision, decided_by, note)
        con = wh.connect_read_only(warehouse)
        try:
            after = {w.place: w for w in warnings(con, period=period, unit=unit_code, states=STATES)}
            returned = [w for w in after.values() if w.state == "returned"]
        finally:
            con.close()
        done = Decided([after[w.place] for w in chosen])
        # the town's 退回说明 lists the quarter's figures returned now: written again after
        # every decision, gone when none is (an acceptance may follow a return)
        from huizong.intake.feedback import return_notice_stem, write_return_notice

        if returned:
            notice = write_return_notice(returned, warehouse)
            done.notice = notice if decision == "returned" else None
        else:
            first = done.warnings[0]
            stem = warehouse / return_notice_stem(unit_code, period, first.sha256, first.file_name)
            for ending in (".xlsx", ".txt"):
                stem.with_name(stem.name + ending).unlink(missing_ok=True)
        return done


def _not_signed_off(con: duckdb.DuckDBPyConnection, period: str) -> None:
    """ReviewError for a quarter of a signed-off year: its summary, data notes included, is
    signed, and a returned figure could not be corrected (a new file is held as locked)."""
    from huizong.store.locks import locked_years, year_of

    locked = locked_years(con).get(year_of(period))
    if locked is not None:
        raise ReviewError(f"{locked.says()}: its warnings are decided as signed; to decide again, "
                          f"unlock it first (huizong unlock --year {locked.year} --by NAME --reason TEXT)")


def _chosen(con: duckdb.DuckDBPyConnection, unit_code: str, period: str,
            cells: list[str] | None) -> list[Warned]:
    """The warned cells a decision is about, one Warned each; ReviewError if one is none."""
    where = f"{unit_code} {period}"
    if cells is None:
        chosen = warnings(con, period=period, unit=unit_code, states=("explained",))
        if not chosen:
            raise ReviewError(f"no explained warning of {where} awaits a decision: "
                              f"`huizong review --unit {unit_code} --period {period}` lists its warnings")
    else:
        chosen = []
        for text in cells:
            ref = cell_reference(text)
            found = {w.place: w for w in warnings(con, period=period, unit=unit_code, states=STATES, cell=ref)}
            if not found:
                raise ReviewError(f"no warning at {ref} in the version in force of {where}: "
                                  f"`huizong review --unit {unit_code} --period {period} --state all` lists them")
            if len(found) > 1:
                raise ReviewError(f"{ref} is warned on {len(found)} sheets of {where}: name the sheet, "
                                  f"e.g. {next(iter(found))}")
            chosen += found.values()
    return list({w.place: w for w in chosen}.values())  # a cell with two warnings: decided once


def _record(warehouse: Path, unit_code: str, period: str, chosen: list[Warned], decision: str,
            decided_by: str, note: str | None) -> None:
    """Append the decisions to ops.reviews in a copy of the published warehouse, rebuild the
    models built on it, check them and publish; the copy is gone either way."""
    build = wh.build_path(warehouse)
    build.parent.mkdir(parents=True, exist_ok=True)
    wh.discard_build(warehouse)  # left by a pass or review that was killed
    shutil.copyfile(wh.published_path(warehouse), build)
    try:
        con = wh.connect_build(build)
        try:
            con.execute(wh.setup_sql("warehouse.sql"))  # ops.reviews in a warehouse older than it
            wh.define_macros(con)
            con.execute("create temp table decided_cells (sheet varchar, cell varchar)")
            con.executemany("insert into decided_cells values (?, ?)", [(w.sheet, w.cell) for w in chosen])
            con.execute(wh.statement("commands", "record_reviews.sql"),
                        {"decision": decision, "note": note, "decided_by": decided_by,
                         "decided_at": clock.now(), "unit": unit_code, "period": period})
            rebuild_after_reviews(con)
        finally:
            con.close()
        wh.publish(build, warehouse)
    finally:
        wh.discard_build(warehouse)


def rebuild_after_reviews(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Rebuild marts.warning_reviews and every model that selects from it (directly or not),
    comment them, and run their generated checks and those of ops.reviews; a failed check
    raises (nothing is published). Marks the build in ops.builds. Returns the relations built."""
    ordered = models.discover_models()
    stale = {MART}
    rebuilt = []
    for m in ordered:  # in dependency order, so a model's upstream is known before it
        if m.relation in stale or m.depends_on & stale:
            stale.add(m.relation)
            con.execute(f"create or replace {models.LAYERS[m.schema]} {m.relation} as\n"
                        + m.sql.strip().rstrip(";"))
            rebuilt.append(m.relation)
    declarations = models.read_declarations()
    models.apply_docs(con, {r: declarations[r] for r in rebuilt})  # the others are as published
    prefixes = tuple(f"{r}:" for r in (*rebuilt, "ops.reviews"))
    checks = {name: sql for name, sql in models.generated_checks(declarations).items()
              if name.startswith(prefixes)}
    failed = [f for name, sql in checks.items() if (f := models.run_check(con, name, sql)) is not None]
    if failed:
        raise RuntimeError(f"data checks failed, nothing published: {'; '.join(map(str, failed))}")
    con.execute("insert into ops.builds values (now(), ?)", [wh.models_version_of(con)])
    return rebuilt
