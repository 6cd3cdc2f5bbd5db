"""The DuckDB warehouse on disk: its paths, the pass lock, kept files, and atomic publishing.

A pass never writes the published `huizong.duckdb` in place. It copies it to `.build/`, works on
the copy, checkpoints and closes it, then `os.replace`s it over the published file: an analyst's
open read-only connection keeps reading the old snapshot, new connections see the new one, and a
pass killed at any point leaves the published file as it was (RELIABILITY.md).
"""
from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import os
import re
import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb

import huizong.sql as huizong_sql
from huizong.core.errors import HuizongError
from huizong.core.failpoints import failpoint
from huizong.core.files import archive_path, open_regular, scan_inbox, written_whole  # noqa: F401 (archive_path: re-exported)
from huizong.core.settings import BUILD_MEMORY

DB_NAME = "huizong.duckdb"
SQL_DIR = Path(huizong_sql.__file__).resolve().parent  # the repository's sql/, or the installed copy


def published_path(warehouse: Path) -> Path:
    return warehouse / DB_NAME


def build_path(warehouse: Path) -> Path:
    return warehouse / ".build" / DB_NAME


class LockHeld(HuizongError, RuntimeError):
    """Another process holds the warehouse's pass lock."""


_held: dict[Path, int] = {}  # warehouse -> depth: the lock is re-entrant within a process


@contextmanager
def pass_lock(warehouse: Path) -> Iterator[None]:
    """One pass at a time per warehouse; the OS drops the lock if the process dies. Re-entrant
    in one process, so that the command line can take it before starting Prefect and the flow
    take it again."""
    key = Path(warehouse).resolve()
    if key in _held:
        _held[key] += 1
        try:
            yield
        finally:
            _held[key] -= 1
        return
    warehouse.mkdir(parents=True, exist_ok=True)
    with (warehouse / ".lock").open("w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockHeld(f"another huizong pass or command is using {warehouse}; "
                           "try again when it has finished") from None
        _held[key] = 1
        try:
            yield
        finally:
            del _held[key]


def connect_read_only(warehouse: Path) -> duckdb.DuckDBPyConnection | None:
    """An analyst-style connection to the published warehouse, or None if there is none yet."""
    path = published_path(warehouse)
    if not path.exists():
        return None
    con = duckdb.connect(str(path), read_only=True,
                         config={"enable_external_access": False, "lock_configuration": True})
    if not has_macros(con):  # published by a huizong older than sql/setup/macros.sql
        define_macros(con, temporary=True)
    return con


def define_macros(con: duckdb.DuckDBPyConnection, temporary: bool = False) -> None:
    """The form's rules as DuckDB macros (sql/setup/macros.sql): in the warehouse file itself, so
    that its readers have them too, or for this connection only (`temporary`, which a read-only
    connection may do)."""
    sql = setup_sql("macros.sql")
    con.execute(sql.replace("create or replace macro", "create or replace temp macro") if temporary else sql)


def macro_names() -> list[str]:
    """The macros sql/setup/macros.sql defines."""
    return re.findall(r"create or replace macro (\w+)", setup_sql("macros.sql"))


def has_macros(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the warehouse of `con` holds every macro of this huizong's macros.sql (one built
    by an older huizong may lack the newer ones: a read-only reader then defines them for itself)."""
    names = macro_names()
    found = con.execute("select count(distinct function_name) from duckdb_functions() "
                        "where function_type = 'macro' and function_name in (select unnest($names))",
                        {"names": names}).fetchone()[0]
    return found == len(names)


def recorded_versions(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None,
                      *, warehouse: Path) -> list[dict]:
    """Recorded versions as a pass reads them again, one dict each with its kept copy (`path`),
    from a query with the columns of `sql/setup/rerun_selection.sql`."""
    rows = con.execute(sql, params or {}).fetchall()
    return [{"path": Path(warehouse) / archive, "file_name": name, "sha256": sha, "unit_code": unit,
             "period": period, "received_at": received, "first_seen_at": first_seen, "status": status,
             "rules_version": rules}
            for sha, name, unit, period, status, received, archive, rules, first_seen in rows]


def known_arrivals(warehouse: Path) -> tuple[set[str], set[tuple[str, str | None]], dict]:
    """What the published warehouse has received: the sha256 of every version, every
    (inbox path, sha256) arrival (sha256 None for a refused one), and the size and mtime each
    read arrival had, by inbox path (a file that still has them need not be hashed again)."""
    con = connect_read_only(warehouse)
    if con is None:
        return set(), set(), {}
    try:
        shas = {r[0] for r in con.execute("select sha256 from ops.imports").fetchall()}
        try:
            # a copy of a version the ledger lacks was never received: its file is read again
            rows = con.execute("select inbox_path, sha256, size_bytes, modified_at from ops.arrivals "
                               "where status <> 'copy' or sha256 in (select sha256 from ops.imports)").fetchall()
        except duckdb.CatalogException:  # a warehouse older than ops.arrivals
            rows = [(name, sha, None, None) for name, sha in
                    con.execute("select file_name, sha256 from ops.imports").fetchall()]
        arrivals = {(path, sha) for path, sha, _, _ in rows}
        unchanged = {path: (size, modified) for path, sha, size, modified in rows if sha and size is not None}
        return shas, arrivals, unchanged
    finally:
        con.close()


def read_before(e, unchanged: dict) -> bool:
    """Whether inbox entry `e` has the path, size and mtime of an arrival already read
    (`warehouse.known_arrivals`): not hashed again (rsync's check)."""
    modified = dt.datetime.fromtimestamp(e.mtime_ns / 1e9, dt.timezone.utc)
    return unchanged.get(e.inbox_path) == (e.size, modified)


def unread_files(inbox: Path, warehouse: Path, settle_seconds: float) -> list[dict]:
    """The inbox's regular files not read before under the same path, size and mtime, and not
    modified within `settle_seconds` (still being copied in, perhaps), by inbox path: what the
    next pass will most likely read (`discover` tells which it does)."""
    _, _, unchanged = known_arrivals(warehouse)
    settled = time.time() - settle_seconds
    return [{"path": e.path, "file_name": e.inbox_path} for e in scan_inbox(inbox)
            if not e.refused and not read_before(e, unchanged) and e.mtime_ns / 1e9 < settled]


def has_marts(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the warehouse of `con` holds built marts. A first pass that loaded no file (it
    only refused some) publishes the ledger alone: the reports, reminders and commands that
    read the marts then say `nothing_published` instead."""
    return con.execute("select count(*) from duckdb_tables() where schema_name = 'marts'").fetchone()[0] > 0


def nothing_published(warehouse: Path) -> str:
    return (f"nothing is published in {warehouse} yet: no file has been loaded "
            "(`huizong run` loads the inbox's files)")


def latest_build(warehouse: Path) -> str | None:
    """When the published models were last built (ISO text), None without a build."""
    con = connect_read_only(warehouse)
    if con is None:
        return None
    try:
        row = con.execute("select max(built_at) from ops.builds").fetchone()
    except duckdb.CatalogException:
        return None
    finally:
        con.close()
    return None if row[0] is None else row[0].isoformat()


def built_models_version(warehouse: Path) -> str | None:
    """The models_version the published marts were built under; '' when unknown (a warehouse
    older than ops.builds), None when there is no warehouse."""
    con = connect_read_only(warehouse)
    if con is None:
        return None
    try:
        return models_version_of(con)
    finally:
        con.close()


def models_version_of(con: duckdb.DuckDBPyConnection) -> str:
    try:
        rows = con.execute("select models_version from ops.builds order by built_at desc limit 1").fetchall()
    except duckdb.CatalogException:
        return ""
    return rows[0][0] if rows else ""


def archive_file(source: Path, warehouse: Path, sha256: str) -> Path | None:
    """Keep a copy of a received file under the warehouse, written whole or not at all, and
    return where (relative to the warehouse). None when the file is gone or no longer has the
    content `sha256` said: it changed since it was found, and the next pass will see it anew.
    A copy kept already (by its content's name: one read ahead, say) is not written again."""
    rel = archive_path(sha256, source.suffix)
    dest = warehouse / rel
    if dest.exists():
        return rel
    try:
        src = open_regular(source)
    except OSError:  # gone, or no longer a regular file (a link swapped in): not read
        return None
    digest = hashlib.sha256()
    try:
        with src, written_whole(dest) as tmp, tmp.open("wb") as out:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
            if digest.hexdigest() != sha256:
                raise _Changed
    except _Changed:
        return None
    return rel


class _Changed(Exception):
    """The file's content is no longer the one it was found with."""


def discard_build(warehouse: Path) -> None:
    """Remove what a pass left in `.build/` (nothing after a publish)."""
    build = build_path(warehouse)
    for leftover in (build, build.with_name(DB_NAME + ".wal")):
        leftover.unlink(missing_ok=True)
    shutil.rmtree(build.parent / ".spill", ignore_errors=True)


def connect_build(build: Path) -> duckdb.DuckDBPyConnection:
    """A connection to a pass's private build, its memory bounded (settings.BUILD_MEMORY): every
    connection to a build opens it so (DuckDB refuses a second configuration of an open file)."""
    limit = os.environ.get("HUIZONG_BUILD_MEMORY") or BUILD_MEMORY
    # and what DuckDB's allocator frees goes back to the system (its own default keeps up to
    # 128 MB, and 512 MB freed at once, for reuse: a pass's process would keep it to the end)
    return duckdb.connect(str(build), config={
        "memory_limit": limit, "temp_directory": str(Path(build).parent / ".spill"),
        "allocator_flush_threshold": "32MB", "allocator_bulk_deallocation_flush_threshold": "32MB",
        "allocator_background_threads": True})


def publish(build: Path, warehouse: Path) -> None:
    """Swap the finished build in as the published warehouse, atomically and durably."""
    if not build.exists():  # never let DuckDB create an empty one to publish (say, on a retry)
        raise FileNotFoundError(f"no build to publish at {build}")
    con = connect_build(build)
    try:
        con.execute("checkpoint")
    finally:
        con.close()  # also when the checkpoint fails (a full disk): the build is discarded next
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


def statement(folder: str, name: str) -> str:
    """A statement of `sql/<folder>/`, ready to execute or nest: `setup/` holds the warehouse's
    own tables and the ledger's steps, `commands/` the command line's read-only queries, `export/` the 汇总表's."""
    return (SQL_DIR / folder / name).read_text(encoding="utf-8").strip().rstrip(";")


def setup_sql(name: str) -> str:
    return statement("setup", name)
