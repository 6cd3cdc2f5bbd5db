"""The dry run behind `huizong check`: every check of a pass on named files, nothing written.

The files are read in a worker process, as in a pass (huizong/bulkheads/isolation.py): a file that crashes
its reader is reported as unreadable, never a crash of the command. Warnings compare the files
with the published warehouse's history, attached read-only to an in-memory database seeded with
the current catalog and rule table: they are worded as the next pass would word them, even if the
warehouse was built by an older huizong.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from huizong.bulkheads import isolation
from huizong.core.files import display_name
from huizong.intake.problems import Outcome
from huizong.store import ledger
from huizong.store import warehouse as wh
from huizong.store.locks import LockedYear, locked_years_of, year_of


@dataclass(frozen=True)
class Checked:
    """A dry run's verdict on one file: its outcome, and for a valid file of a signed-off year the
    lock that would hold it (kept as `locked`, not loaded, until the year is unlocked)."""
    outcome: Outcome
    held: LockedYear | None = None

    @property
    def verdict(self) -> str:
        """What a pass would do with the file: `load`, `locked` or `reject`."""
        return "reject" if not self.outcome.ok else "locked" if self.held else "load"


def _sha256(path: Path) -> str:
    """Not files.sha256_of, which refuses links: `check` reads what a person named, links too."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_files(paths: list[Path], warehouse: Path, feedback_into: Path | None = None,
                names: list[str] | None = None) -> list[Checked]:
    """Read and validate `paths` as one pass would, warnings included, and say what the pass
    would do with each; touches nothing of the warehouse. With `feedback_into`, the feedback
    workbook of each rejected file is written there (its `feedback_path` relative to it), as a
    pass writes it for the town; `names` are the files' names as their senders gave them."""
    names = names or [display_name(p.name) for p in paths]
    jobs = [{"read_path": p, "sha256": _sha256(p), "file_name": n} for p, n in zip(paths, names)]
    pool = isolation.ReaderPool(size=min(len(jobs), isolation.default_size()) or 1)
    try:
        outcomes, values = pool.read(jobs, feedback_into)
    finally:
        pool.close()
    order = {j["sha256"]: i for i, j in enumerate(jobs)}
    outcomes.sort(key=lambda o: order[o.sha256])
    periods = pd.DataFrame([(o.sha256, o.period) for o in outcomes if o.ok], columns=["sha256", "period"])
    candidates = values.merge(periods, on="sha256")
    con = _history(warehouse)
    try:
        con.register("candidate_values", candidates)
        con.execute("create temp table warning_candidates as select * from candidate_values")
        by_sha = {o.sha256: o for o in outcomes}
        for problem in ledger.find_warnings(con):
            by_sha[problem.sha256].problems.append(problem)
    finally:
        con.close()
    locked = locked_years_of(warehouse) if warehouse.exists() else {}
    return [Checked(o, locked.get(year_of(o.period)) if o.ok else None) for o in outcomes]


def _history(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse with today's seeds whose ledger and values are the published
    warehouse's (read-only views), or empty when there is none yet."""
    con = duckdb.connect()
    ledger.prepare(con)
    published = wh.published_path(warehouse)
    if published.exists():
        path = str(published).replace("'", "''")
        con.execute(f"attach '{path}' as published (read_only)")
        for table in ("ops.imports", "raw.submitted_values"):
            con.execute(f"drop table {table}; create view {table} as select * from published.{table}")
    return con
