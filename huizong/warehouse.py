"""The DuckDB warehouse: its files, the import ledger, and publishing a pass atomically.

A pass never writes the published `huizong.duckdb` in place. It copies it to `.build/`, works on
the copy, checkpoints and closes it, then `os.replace`s it over the published file: an analyst's
open read-only connection keeps reading the old snapshot, new connections see the new one, and a
pass killed at any point leaves the published file as it was (RELIABILITY.md).
"""
from __future__ import annotations

import datetime as dt
import fcntl
import os
import shutil
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Iterator

import duckdb
import pandas as pd

from huizong.failpoints import failpoint
from huizong.problems import Problem
from huizong.validation import Outcome, word_warnings
from schemas import catalog as cat

DB_NAME = "huizong.duckdb"
SQL_DIR = Path(__file__).resolve().parents[1] / "sql"


def published_path(warehouse: Path) -> Path:
    return warehouse / DB_NAME


def build_path(warehouse: Path) -> Path:
    return warehouse / ".build" / DB_NAME


def archive_path(sha256: str, suffix: str) -> Path:
    """Where a received file is kept, relative to the warehouse: by its hash."""
    return Path("files") / sha256[:2] / f"{sha256}{suffix.lower()}"


@contextmanager
def pass_lock(warehouse: Path) -> Iterator[None]:
    """One pass at a time per warehouse; the OS drops the lock if the process dies."""
    warehouse.mkdir(parents=True, exist_ok=True)
    with (warehouse / ".lock").open("w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"another huizong pass is running on {warehouse}") from None
        yield


def connect_read_only(warehouse: Path) -> duckdb.DuckDBPyConnection | None:
    """An analyst-style connection to the published warehouse, or None if there is none yet."""
    path = published_path(warehouse)
    if not path.exists():
        return None
    return duckdb.connect(str(path), read_only=True,
                          config={"enable_external_access": False, "lock_configuration": True})


def known_hashes(warehouse: Path) -> set[str]:
    """sha256 of every file version already recorded in the published ledger."""
    con = connect_read_only(warehouse)
    if con is None:
        return set()
    try:
        return {r[0] for r in con.execute("select sha256 from ops.imports").fetchall()}
    finally:
        con.close()


def archive_file(source: Path, warehouse: Path, sha256: str) -> Path:
    """Keep a copy of a received file under the warehouse, written whole or not at all."""
    rel = archive_path(sha256, source.suffix)
    dest = warehouse / rel
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".part")
        shutil.copyfile(source, tmp)
        os.replace(tmp, dest)
    return rel


def start_build(warehouse: Path) -> Path:
    """A private copy of the published warehouse (or a new one) for this pass to write."""
    build = build_path(warehouse)
    build.parent.mkdir(parents=True, exist_ok=True)
    discard_build(warehouse)  # left by a pass that was killed
    if published_path(warehouse).exists():
        shutil.copyfile(published_path(warehouse), build)
    con = duckdb.connect(str(build))
    try:
        con.execute(setup_sql("warehouse.sql"))
        load_catalog(con)
    finally:
        con.close()
    return build


def load_catalog(con: duckdb.DuckDBPyConnection) -> None:
    """The registry and the indicator catalog, as seeds the SQL models join to."""
    units = pd.DataFrame([asdict(u) for u in cat.units()]).rename(
        columns={"code": "unit_code", "name": "unit_name", "type": "unit_type"})
    indicators = pd.DataFrame([asdict(i) for i in cat.indicators()]).rename(
        columns={"code": "indicator_code", "name": "indicator_name"})
    con.register("units_df", units)
    con.register("indicators_df", indicators)
    con.execute("create or replace table raw.units as select * from units_df")
    con.execute("create or replace table raw.indicators as select * from indicators_df")
    con.unregister("units_df")
    con.unregister("indicators_df")


def discard_build(warehouse: Path) -> None:
    """Remove what a pass left in `.build/` (nothing after a publish)."""
    build = build_path(warehouse)
    for leftover in (build, build.with_name(DB_NAME + ".wal")):
        leftover.unlink(missing_ok=True)


def publish(build: Path, warehouse: Path) -> None:
    """Swap the finished build in as the published warehouse, atomically and durably."""
    con = duckdb.connect(str(build))
    con.execute("checkpoint")
    con.close()
    with build.open("rb") as f:
        os.fsync(f.fileno())
    failpoint("before_replace")
    os.replace(build, published_path(warehouse))
    failpoint("after_replace")
    dir_fd = os.open(warehouse, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


LEDGER_COLUMNS = ["sha256", "file_name", "unit_code", "period", "status", "received_at",
                  "imported_at", "archive_path", "n_values", "n_errors", "n_warnings",
                  "first_reason", "superseded_by", "feedback_path"]


def record_imports(build: Path, received: list[dict], outcomes: list[Outcome],
                   values: pd.DataFrame, *, rerun: bool = False) -> list[dict]:
    """Enter a batch of files into the ledger of the build copy, FORM.md's version rules applied.

    received: one dict per file with sha256, file_name, received_at (datetime), archive_path
    and, for a rejected file, feedback_path. With `rerun`, what was recorded of these versions
    before is replaced (their arrival time is the one given). Every (unit, period) touched is
    then re-decided by `sql/setup/resolve_versions.sql`. Returns one row per file.
    """
    by_sha = {o.sha256: o for o in outcomes}
    shas = [f["sha256"] for f in received]
    now = dt.datetime.now(dt.timezone.utc)
    ledger = []
    for f in received:
        o = by_sha[f["sha256"]]
        errors = [p for p in o.problems if p.severity == "error"]
        ledger.append((o.sha256, f["file_name"], o.unit_code, o.period,
                       "valid" if o.ok else "rejected", f["received_at"], now, str(f["archive_path"]),
                       int((values["sha256"] == o.sha256).sum()) if o.ok else None,
                       len(errors), len(o.problems) - len(errors),
                       errors[0].message if errors else None, None, f.get("feedback_path")))
    ledger_df = pd.DataFrame(ledger, columns=LEDGER_COLUMNS)
    con = duckdb.connect(str(build))
    try:
        con.execute("begin")
        con.execute("create or replace temp table affected_keys as "
                    "select distinct unit_code, period from ops.imports "
                    "where list_contains(?, sha256) and unit_code is not null", [shas])
        if rerun:
            for table in ("raw.submitted_values", "ops.import_errors", "ops.imports"):
                con.execute(f"delete from {table} where list_contains(?, sha256)", [shas])
        con.register("new_ledger", ledger_df)
        con.register("new_values", values)
        con.execute("insert into ops.imports by name select * from new_ledger")
        con.execute("insert into raw.submitted_values by name select * from new_values")
        insert_problems(con, [p for o in outcomes for p in o.problems])
        con.execute("insert into affected_keys select distinct unit_code, period from new_ledger "
                    "where status = 'valid'")
        con.execute("update ops.imports set status = resolved.status, superseded_by = resolved.superseded_by "
                    f"from ({setup_sql('resolve_versions.sql')}) as resolved "
                    "where ops.imports.sha256 = resolved.sha256")
        warned = _record_warnings(con, [f["sha256"] for f in received if by_sha[f["sha256"]].ok])
        results = con.execute(
            "select file_name, sha256, unit_code, period, status, first_reason, feedback_path "
            "from ops.imports where list_contains(?, sha256) order by received_at, file_name",
            [shas]).fetchall()
        con.execute("drop table affected_keys")
        con.execute("commit")
    finally:
        con.close()
    names = ("file_name", "sha256", "unit_code", "period", "status", "first_reason", "feedback_path")
    return [dict(zip(names, r), warnings=warned.get(r[1], [])) for r in results]


def setup_sql(name: str) -> str:
    """A statement of `sql/setup/`, ready to execute or nest."""
    return (SQL_DIR / "setup" / name).read_text(encoding="utf-8").strip().rstrip(";")


def insert_problems(con: duckdb.DuckDBPyConnection, problems: list[Problem]) -> None:
    if problems:
        con.executemany("insert into ops.import_errors values (?, ?, ?, ?, ?, ?, ?)",
                        [[p.sha256, p.sheet, p.cell, p.indicator_code, p.check, p.severity, p.message]
                         for p in problems])


def find_warnings(con: duckdb.DuckDBPyConnection) -> list[Problem]:
    """FORM.md's warnings for the values in the relation `warning_candidates` (see the SQL)."""
    rows = con.execute(setup_sql("warnings.sql")).fetchall()
    return word_warnings(rows)


def _record_warnings(con: duckdb.DuckDBPyConnection, shas: list[str]) -> dict[str, list[str]]:
    """Store the warnings of new valid versions; returns their messages by sha256."""
    con.execute("create or replace temp table warning_candidates as "
                "select v.*, imports.period from raw.submitted_values as v "
                "join ops.imports as imports using (sha256) where list_contains(?, v.sha256)", [shas])
    warnings = find_warnings(con)
    insert_problems(con, warnings)
    by_sha: dict[str, list[str]] = {}
    for p in warnings:
        by_sha.setdefault(p.sha256, []).append(p.message)
    for sha, messages in by_sha.items():
        con.execute("update ops.imports set n_warnings = n_warnings + ? where sha256 = ?",
                    [len(messages), sha])
    con.execute("drop table warning_candidates")
    return by_sha
