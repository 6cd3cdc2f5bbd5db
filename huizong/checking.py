"""The dry run behind `huizong check`: every check of a pass on named files, nothing written.

Warnings compare the files with the published warehouse's history, opened read-only; with no
warehouse yet, with an empty in-memory one.
"""
from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from huizong import ledger, warehouse as wh
from huizong.files import sha256_of
from huizong.validation import Outcome, validate_batch
from huizong.workbook import read_submission


def check_files(paths: list[Path], warehouse: Path) -> list[Outcome]:
    """Read and validate `paths` as one pass would, warnings included; touches nothing."""
    subs = [read_submission(p, sha256_of(p), p.name) for p in paths]
    outcomes, values = validate_batch(subs)
    periods = pd.DataFrame([(o.sha256, o.period) for o in outcomes if o.ok],
                           columns=["sha256", "period"])
    candidates = values.merge(periods, on="sha256")
    con = wh.connect_read_only(warehouse) or _empty_warehouse()
    try:
        con.register("candidate_values", candidates)
        con.execute("create temp table warning_candidates as select * from candidate_values")
        by_sha = {o.sha256: o for o in outcomes}
        for problem in ledger.find_warnings(con):
            by_sha[problem.sha256].problems.append(problem)
    finally:
        con.close()
    return outcomes


def _empty_warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    ledger.prepare(con)
    return con
