"""Signing a year off, and unlocking it: how the office closes a year (issue 16).

`huizong signoff --year Y --by NAME` signs what is published: the year's three summary files as
the passes write them (`<warehouse>/reports/summary_Y.{md,html,docx}`). Files that are missing,
or older than the published build (a pass published after they were written), are written again
from the published build first: a summary is a function of the published data, so a stale one
describes figures the warehouse no longer holds and is never what should be signed. The sign-off
records who, when, the build and each file's sha256 (ops.signoffs, ops.signed_files), copies the
files to `<warehouse>/signed/Y/<n>/` (a new folder for every sign-off, never overwritten) and
snapshots the year's figures (ops.signed_figures) and file versions (ops.signed_versions).

From then on the year is locked (ops.locked_years) until unlocked:
- a valid file for one of its quarters is recorded `locked`: kept, read and checked, not in force
  (sql/setup/resolve_versions.sql). An invalid one is `rejected` with its feedback as always: it
  could never be in force, and the town needs to know what to correct;
- a rerun leaves the recorded versions of its quarters alone (flows/rerun.py);
- no pass rewrites its summary (huizong.outputs.report.years_to_report), `huizong report` writes it only
  elsewhere (--out);
- a build whose figures of it differ from those signed fails its checks and publishes nothing
  (sql/checks/assert_signed_figures_unchanged.sql).

`huizong unlock --year Y --by NAME --reason TEXT` records the unlock; the next pass lets the held
versions in (`let_in`) by FORM.md's version rules, as if they had just arrived, rebuilds the
models and writes the year's summary again.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from huizong.core import clock
from huizong.core.errors import HuizongError
from huizong.core.files import sha256_of
from huizong.store.locks import SIGNED_DIR, locked_years, year_of
from huizong.store.warehouse import (
    connect_build,
    connect_read_only,
    discard_build,
    models_version_of,
    pass_lock,
    publish,
    recorded_versions,
    setup_sql,
    statement,
)

SUMMARY_SUFFIXES = (".md", ".html", ".docx")  # huizong.outputs.report.FORMATS, without importing charts


class SignoffError(HuizongError, ValueError):
    """A sign-off or unlock that cannot be done, in one sentence."""


def summary_files(warehouse: Path, year: int) -> list[Path]:
    """The year's summary as the passes write it: <warehouse>/reports/summary_2019.{md,html,docx}."""
    return [Path(warehouse) / "reports" / f"summary_{year}{suffix}" for suffix in SUMMARY_SUFFIXES]


# --- signing off -----------------------------------------------------------------------------------

@dataclass
class Signed:
    signoff_id: int
    year: int
    by: str
    at: dt.datetime
    built_at: dt.datetime
    models_version: str
    folder: str  # relative to the warehouse
    files: list[tuple[str, str, int]] = field(default_factory=list)  # (name, sha256, size)
    written_again: bool = False
    unfilled: str | None = None  # signed with --force: the marks left, as recorded

    def lines(self) -> list[str]:
        at = self.at.astimezone(clock.OFFICE_TZ)
        built = self.built_at.astimezone(clock.OFFICE_TZ)
        out = [f"signed off {self.year} by {self.by} at {at:%Y-%m-%d %H:%M} (sign-off {self.signoff_id}); "
               f"build {built:%Y-%m-%d %H:%M:%S}, models {self.models_version}"]
        if self.written_again:
            out.append("the summary files were missing or older than the published build: "
                       "written again from it before signing")
        if self.unfilled:
            out.append(f"signed as it is (--force), recorded with the sign-off: {self.unfilled}")
        out += [f"  {name}  sha256 {sha}  -> {self.folder}/{name}" for name, sha, _ in self.files]
        out.append(f"{self.year} is locked: a file that comes for one of its quarters is kept as `locked`, "
                   f"not loaded; huizong unlock --year {self.year} --by NAME --reason TEXT reopens it")
        return out


def sign_off(warehouse: Path, year: int, by: str, force: bool = False) -> Signed:
    """Sign the year's published summary off and lock the year (see the module's docstring).
    A summary that still holds the marks of what the office must confirm or fill (【请核实】,
    【待填：…】) is signed only with `force`, which is recorded with the sign-off."""
    from huizong.outputs.report import ReportError, read_warehouse, write_year_reports, years_with_data
    from huizong.store.versions import models_version

    warehouse, by = Path(warehouse), _named(by, "--by")
    _published(warehouse).close()  # before the lock, which would create the folder
    with pass_lock(warehouse):
        con = _published(warehouse)
        try:
            if year in (locked := locked_years(con)):
                raise SignoffError(f"{locked[year].says()}; to sign it again, unlock it first "
                                   f"(huizong unlock --year {year} --by NAME --reason TEXT)")
            if year > clock.today().year:
                raise SignoffError(f"{year} has not begun (today is {clock.today()}): there is nothing to sign")
            years = years_with_data(con)
            if year not in years:
                have = ", ".join(map(str, years)) or "none"
                raise SignoffError(f"no valid submission for {year} in the warehouse (years with data: {have}): "
                                   "there is nothing to sign")
            if models_version_of(con) != models_version():
                raise SignoffError("the published warehouse was built under another catalog or other SQL models "
                                   "than this huizong's: run `huizong run` (it rebuilds them), read the "
                                   "summary, then sign it")
            built_at, built_under = con.execute(
                "select built_at, models_version from ops.builds order by built_at desc limit 1").fetchone()
            signoff_id, earlier = _numbers(con, year)
        finally:
            con.close()
        try:
            coverage = read_warehouse(warehouse, year).coverage
        except ReportError as e:
            raise SignoffError(str(e)) from None
        if not coverage.full:
            raise SignoffError(f"{year}'s summary covers only {coverage.months} (its later quarters are not "
                               "due yet): a year is signed off once its four quarters are due")
        reports = summary_files(warehouse, year)
        stale = [p for p in reports if not p.exists() or _mtime(p) < built_at]
        if stale:
            write_year_reports(warehouse, year)
        unfilled = unfilled_marks(reports)
        if unfilled and not force:
            raise SignoffError(f"{year}'s summary still holds {unfilled}: confirm or fill them in the summary "
                               f"files under {warehouse / 'reports'}, or sign it as it is with --force "
                               "(recorded with the sign-off)")
        folder, files = _archive(warehouse, year, reports, earlier + 1)
        at = clock.now()
        recorded = f"signed with --force, unfilled: {unfilled}" if unfilled else None
        signoff = (signoff_id, year, "signed", by, at, recorded, built_at, built_under,
                   folder.relative_to(warehouse).as_posix())
        rows = [(signoff_id, year, name, sha, size, (folder / name).relative_to(warehouse).as_posix())
                for name, sha, size in files]
        try:
            _record(warehouse, signoff, rows, setup_sql("record_signoff.sql"))
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)  # ours, just made: not a sign-off without its record
            raise
    return Signed(signoff_id, year, by, at, built_at, built_under, signoff[-1], files, bool(stale), unfilled or None)


# --- what the office has not filled in ------------------------------------------------------------

# 【请核实】 after a sentence the office must confirm, 【待填：…】 a blank to fill (huizong.outputs.summary);
# not when quoted (“【请核实】”), as the summary's own notes name them
MARKS = re.compile(r"(?<!“)(【请核实】|【待填[:：][^】]*】)")
PLACES_NAMED = 8  # sections named per file; the rest are counted


def _lines(path: Path) -> list[tuple[str, bool]]:
    """The text of a summary file, one (line, is a heading) per line of Markdown or paragraph of
    Word (whose headings are styled 公文标题, 一级标题, …)."""
    if path.suffix == ".docx":
        import docx

        def heading(p) -> bool:
            name = (p.style.name if p.style is not None else "").lower()
            return "标题" in name or name.startswith(("heading", "title"))

        return [(p.text, heading(p)) for p in docx.Document(str(path)).paragraphs]
    text = path.read_text(encoding="utf-8", errors="replace")
    return [(line, line.lstrip().startswith("#")) for line in text.splitlines()]


def unfilled_marks(paths: list[Path]) -> str:
    """`36 unfilled mark(s) (30 【请核实】 to confirm, 6 【待填：…】 to fill) in summary_2019.md:
    二、突出重点，深化各类专题… lines 13; …` for the Markdown and the Word file, where they hold
    any; "" when neither does."""
    said = []
    for path in paths:
        if not path.exists() or path.suffix not in (".md", ".docx"):  # the HTML is the Markdown's text
            continue
        places: dict[str, list[int]] = {}
        confirm = fill = 0
        section = "(before the first heading)"
        for number, (line, heading) in enumerate(_lines(path), start=1):
            if heading:
                section = line.lstrip("# ").strip()
                section = section if len(section) <= 14 else section[:13] + "…"
            for mark in MARKS.findall(line):
                confirm, fill = (confirm + 1, fill) if mark == "【请核实】" else (confirm, fill + 1)
                places.setdefault(section, []).append(number)
        if not places:
            continue
        where = "; ".join(f"{section} {'paragraphs' if path.suffix == '.docx' else 'lines'} "
                          f"{', '.join(map(str, sorted(set(numbers))))}"
                          for section, numbers in list(places.items())[:PLACES_NAMED])
        more = f"; and {len(places) - PLACES_NAMED} more section(s)" if len(places) > PLACES_NAMED else ""
        said.append(f"{confirm + fill} unfilled mark(s) ({confirm} 【请核实】 to confirm, {fill} 【待填：…】 to fill) "
                    f"in {path.name}: {where}{more}")
    return "; ".join(said)


def _archive(warehouse: Path, year: int, reports: list[Path], number: int) -> tuple[Path, list[tuple[str, str, int]]]:
    """Copy the summary files into a new folder signed/<year>/<n>/ (the first n from `number`
    that is free: a folder is never written twice), read-only; returns it and each copy's name,
    sha256 and size. The hash is of the copy kept, and must be the published file's."""
    while True:
        folder = warehouse / SIGNED_DIR / str(year) / str(number)
        try:
            folder.mkdir(parents=True)
            break
        except FileExistsError:  # left by a sign-off that was stopped before it was recorded
            number += 1
    files = []
    try:
        for source in reports:
            target = folder / source.name
            shutil.copyfile(source, target)
            with target.open("rb") as f:
                os.fsync(f.fileno())
            sha = sha256_of(target)
            if sha != sha256_of(source):
                raise OSError(f"{source} changed while it was being signed")
            target.chmod(0o444)
            files.append((target.name, sha, target.stat().st_size))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder, files


# --- unlocking -------------------------------------------------------------------------------------

@dataclass
class Unlocked:
    signoff_id: int
    year: int
    by: str
    at: dt.datetime
    reason: str
    held: int  # versions held `locked`, which the next pass lets in

    def lines(self) -> list[str]:
        at = self.at.astimezone(clock.OFFICE_TZ)
        out = [f"unlocked {self.year} by {self.by} at {at:%Y-%m-%d %H:%M} (record {self.signoff_id}): {self.reason}"]
        if self.held:
            out.append(f"{self.held} file version(s) held for {self.year} go in at the next pass (huizong run), "
                       "by the version rules, and the summary is written again")
        else:
            out.append(f"no file is held for {self.year}; the next pass that changes it writes its summary again")
        return out


def unlock(warehouse: Path, year: int, by: str, reason: str) -> Unlocked:
    """Record that `by` unlocked `year` and why; the next pass lets its held versions in."""
    warehouse, by, reason = Path(warehouse), _named(by, "--by"), _named(reason, "--reason")
    _published(warehouse).close()  # before the lock, which would create the folder
    with pass_lock(warehouse):
        con = _published(warehouse)
        try:
            if year not in locked_years(con):
                raise SignoffError(f"{year} is not signed off: there is nothing to unlock")
            built = con.execute("select built_at, models_version from ops.builds "
                                "order by built_at desc limit 1").fetchone() or (None, None)
            signoff_id, _ = _numbers(con, year)
            held = con.execute("select count(*) from ops.imports where status = 'locked' "
                               "and period_year(period) = ?", [year]).fetchone()[0]
        finally:
            con.close()
        at = clock.now()
        _record(warehouse, (signoff_id, year, "unlocked", by, at, reason, *built, None), [],
                "insert into ops.signoffs by name select * from this_signoff")
    return Unlocked(signoff_id, year, by, at, reason, held)


# --- letting held versions in (the next pass after an unlock) -----------------------------------

def released_versions(warehouse: Path) -> list[dict]:
    """The versions held `locked` whose year has been unlocked since, each with its kept copy
    (as flows/rerun.py selects recorded versions); [] without any."""
    con = connect_read_only(warehouse)
    if con is None:
        return []
    try:
        return recorded_versions(con, setup_sql("released_versions.sql"), warehouse=warehouse)
    except duckdb.CatalogException:  # a warehouse older than sign-offs holds nothing
        return []
    finally:
        con.close()


RECORDED = ("file_name", "sha256", "unit_code", "period", "status", "first_reason", "feedback_path")


def let_in(build: Path) -> list[dict]:
    """In a build: resolve every (unit, period) holding a released version by FORM.md's rules
    (resolve_versions.sql), from the values recorded when it came, as if it had just arrived.
    Returns one row per released version, with its new status, as finish_imports does."""
    from huizong.store.ledger import apply_version_rules  # pandas: only when something is let in

    con = connect_build(build)
    try:
        con.execute("begin")
        con.execute(f"create temp table batch_files as select sha256 from ({setup_sql('released_versions.sql')})")
        con.execute("create temp table affected_keys as select distinct unit_code, period from ops.imports "
                    "where sha256 in (select sha256 from batch_files)")
        apply_version_rules(con)
        rows = con.execute(f"select {', '.join(RECORDED)} from ops.imports where sha256 in "
                           "(select sha256 from batch_files) order by received_at, file_name").fetchall()
        con.execute("drop table batch_files; drop table affected_keys")
        con.execute("commit")
    finally:
        con.close()
    return [dict(zip(RECORDED, r)) for r in rows]


# --- for `huizong status` --------------------------------------------------------------------------

def status_lines(con: duckdb.DuckDBPyConnection, period: str | None = None) -> list[str]:
    """The locked years and the files held for them, as `huizong status` prints them."""
    try:
        years = con.execute(statement("commands", "locked_years.sql")).fetchall()
        files = con.execute(statement("commands", "locked_files.sql"), {"period": period}).fetchall()
    except duckdb.CatalogException:
        return []
    lines = []
    for year, by, at, folder, held in years:
        lines.append(f"{year}: signed off by {by} on {at.astimezone(clock.OFFICE_TZ):%Y-%m-%d} "
                     f"(copies under {folder}), locked; {held} file version(s) held")
    if files:
        lines.append("files held as locked (valid, kept, not in force: their year was signed off when they came):")
    for unit_name, file_period, file_name, received_at, still_locked in files:
        day = received_at.astimezone(clock.OFFICE_TZ)
        what = (f"until {year_of(file_period)} is unlocked" if still_locked
                else f"{year_of(file_period)} was unlocked: the next pass lets it in")
        lines.append(f"  locked {unit_name} {file_period} {file_name} (received {day:%Y-%m-%d}): {what}")
    return lines


# --- shared ----------------------------------------------------------------------------------------

def _named(text: str | None, option: str) -> str:
    text = " ".join((text or "").split())
    if not text:
        what = "who" if option == "--by" else "why"
        raise SignoffError(f"{option} is empty: say {what}, it is recorded with the year")
    return text


def _published(warehouse: Path) -> duckdb.DuckDBPyConnection:
    con = connect_read_only(warehouse)
    if con is None:
        raise SignoffError(f"no warehouse yet at {warehouse}; run `huizong run` first")
    return con


def _numbers(con: duckdb.DuckDBPyConnection, year: int) -> tuple[int, int]:
    """The next action's number, and how many times `year` was signed before."""
    try:
        return con.execute("select coalesce(max(signoff_id), 0) + 1, count(*) filter (where year = ? "
                           "and action = 'signed') from ops.signoffs", [year]).fetchone()
    except duckdb.CatalogException:
        return 1, 0


def _mtime(path: Path) -> dt.datetime:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc)


def _record(warehouse: Path, signoff: tuple, files: list[tuple], sql: str) -> None:
    """Record one action (and its signed files) in a private build, then publish it whole."""
    from huizong.store.ledger import start_build

    build = start_build(warehouse)
    try:
        con = connect_build(build)
        try:
            con.execute("begin")
            con.execute("create temp table this_signoff as select * from ops.signoffs limit 0")
            con.execute("create temp table these_files as select * from ops.signed_files limit 0")
            con.execute(f"insert into this_signoff values ({', '.join('?' * len(signoff))})", list(signoff))
            if files:
                con.executemany(f"insert into these_files values ({', '.join('?' * len(files[0]))})",
                                [list(f) for f in files])
            con.execute(sql)
            con.execute("drop table this_signoff; drop table these_files")
            con.execute("commit")
        finally:
            con.close()
        publish(build, warehouse)
    finally:
        discard_build(warehouse)
