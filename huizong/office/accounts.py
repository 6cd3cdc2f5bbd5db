"""Who may use the web page, and what each did there: one account per submitting unit (a town or a
department) and the office's accounts, with every action that changes something recorded.

They live beside the warehouse, in `<warehouse>/accounts.sqlite` (SQLite from the standard library:
the DuckDB warehouse is locked by each pass, and the web page must log people in while one runs).
Passwords are hashed with scrypt (memory-hard, standard library); a name that fails to log in five
times in a row is refused for a while that doubles with each further failure.

Relations (CONTRACT.md):
- `accounts`: name, role (`office` | `unit`), unit_code (a unit's account), password hash,
  disabled, failed logins in a row and until when logins are refused, created_at.
- `actions`: one row per change made from the web page or by `huizong users`: at, account, action
  (`upload`, `explain`, `accept`, `return`, `signoff`, `unlock`, `rerun`, `account`), unit_code,
  period and what (the file, the cell, the reason: the action's details as text).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from huizong.core.errors import HuizongError
from huizong.schemas import catalog as cat

ACCOUNTS_FILE = "accounts.sqlite"
ROLES = ("office", "unit")
MIN_PASSWORD = 8
FAILURES_BEFORE_PAUSE = 5
PAUSE_SECONDS = 30  # doubled with each failure past FAILURES_BEFORE_PAUSE, at most MAX_PAUSE_SECONDS
MAX_PAUSE_SECONDS = 15 * 60
# scrypt with 16 MiB of memory per hash (n * r * 128 bytes): a guess costs an attacker as much
SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1}

SCHEMA = """
create table if not exists accounts (
    name text primary key,
    role text not null check (role in ('office', 'unit')),
    unit_code text,
    password_hash text not null,
    disabled integer not null default 0,
    failed_logins integer not null default 0,
    refused_until text,
    created_at text not null
);
create table if not exists actions (
    action_id integer primary key autoincrement,
    at text not null,
    account text not null,
    action text not null,
    unit_code text,
    period text,
    what text
);
"""


class AccountError(HuizongError, ValueError):
    """An account that cannot be made, changed or found, in one sentence."""


class LoginRefused(HuizongError):
    """A login that fails: the same sentence whether the name or the password was wrong."""


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    unit_code: str | None
    disabled: bool = False

    @property
    def is_office(self) -> bool:
        return self.role == "office"

    @property
    def unit(self) -> cat.Unit | None:
        return cat.unit_by_code().get(self.unit_code) if self.unit_code else None


@dataclass(frozen=True)
class Action:
    at: dt.datetime
    account: str
    action: str
    unit_code: str | None
    period: str | None
    what: str | None


def store_path(warehouse: Path) -> Path:
    return Path(warehouse) / ACCOUNTS_FILE


def _connect(warehouse: Path) -> sqlite3.Connection:
    path = store_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=30, isolation_level=None)  # autocommit; `begin` where needed
    con.execute("pragma journal_mode = wal")  # readers while one writes: the page serves on
    con.executescript(SCHEMA)
    try:
        os.chmod(path, 0o600)  # password hashes: the office's machine account only
    except OSError:
        pass
    return con


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, maxmem=64 * 2 ** 20, **SCRYPT)
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if kind != "scrypt":
        return False
    got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                         maxmem=64 * 2 ** 20)
    return hmac.compare_digest(got.hex(), digest)


_DUMMY_HASH = None  # hashed once: a login with an unknown name costs as much as a wrong password


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")


def _row_account(row) -> Account:
    return Account(row[0], row[1], row[2], bool(row[3]))


def add(warehouse: Path, name: str, role: str, password: str, unit_code: str | None = None,
        by: str = "huizong users") -> Account:
    """A new account: an office account, or a submitting unit's (its code from the registry)."""
    name = " ".join((name or "").split())
    if not name:
        raise AccountError("an account needs a name")
    if role not in ROLES:
        raise AccountError(f"role {role!r}: one of {', '.join(ROLES)}")
    if role == "unit":
        unit = cat.unit_by_code().get((unit_code or "").strip())
        if unit is None or unit not in cat.submitters():
            raise AccountError(f"not a submitting unit's code: {unit_code} (a town's or department's code, "
                               "e.g. 990101100)")
        unit_code = unit.code
    elif unit_code:
        raise AccountError("an office account belongs to no unit: leave out --unit")
    _check_password(password)
    with closing(_connect(warehouse)) as con:
        if con.execute("select 1 from accounts where name = ?", (name,)).fetchone():
            raise AccountError(f"an account named {name} exists already (huizong users reset changes its password)")
        con.execute("insert into accounts (name, role, unit_code, password_hash, created_at) values (?, ?, ?, ?, ?)",
                    (name, role, unit_code, hash_password(password), _now().isoformat()))
        _record(con, by, "account", unit_code, None, f"added {role} account {name}")
    return Account(name, role, unit_code)


def reset(warehouse: Path, name: str, password: str, by: str = "huizong users") -> Account:
    """A new password for `name`, which is enabled again and may log in at once."""
    _check_password(password)
    with closing(_connect(warehouse)) as con:
        account = _find(con, name)
        con.execute("update accounts set password_hash = ?, disabled = 0, failed_logins = 0, refused_until = null "
                    "where name = ?", (hash_password(password), account.name))
        _record(con, by, "account", account.unit_code, None, f"reset the password of {account.name}")
    return Account(account.name, account.role, account.unit_code)


def disable(warehouse: Path, name: str, by: str = "huizong users") -> Account:
    with closing(_connect(warehouse)) as con:
        account = _find(con, name)
        con.execute("update accounts set disabled = 1 where name = ?", (account.name,))
        _record(con, by, "account", account.unit_code, None, f"disabled {account.name}")
    return Account(account.name, account.role, account.unit_code, True)


def accounts(warehouse: Path) -> list[Account]:
    if not store_path(warehouse).exists():
        return []
    with closing(_connect(warehouse)) as con:
        rows = con.execute("select name, role, unit_code, disabled from accounts order by role, unit_code, name")
        return [_row_account(r) for r in rows.fetchall()]


def account(warehouse: Path, name: str) -> Account | None:
    """The enabled account `name`, or None (a session of a disabled account ends)."""
    if not store_path(warehouse).exists():
        return None
    with closing(_connect(warehouse)) as con:
        row = con.execute("select name, role, unit_code, disabled from accounts where name = ?", (name,)).fetchone()
    found = _row_account(row) if row else None
    return found if found and not found.disabled else None


def _find(con: sqlite3.Connection, name: str) -> Account:
    row = con.execute("select name, role, unit_code, disabled from accounts where name = ?",
                      (" ".join((name or "").split()),)).fetchone()
    if row is None:
        raise AccountError(f"no account named {name} (huizong users list shows them)")
    return _row_account(row)


def log_in(warehouse: Path, name: str, password: str, now: dt.datetime | None = None) -> Account:
    """The account whose name and password these are; LoginRefused otherwise, in one sentence
    that does not say which was wrong. Five failures in a row pause the name's logins."""
    global _DUMMY_HASH
    now = now or _now()
    name = " ".join((name or "").split())
    with closing(_connect(warehouse)) as con:
        row = con.execute("select name, role, unit_code, disabled, password_hash, failed_logins, refused_until "
                          "from accounts where name = ?", (name,)).fetchone()
        if row is None:
            _DUMMY_HASH = _DUMMY_HASH or hash_password(secrets.token_hex(8))
            password_matches(password, _DUMMY_HASH)
            raise LoginRefused("用户名或密码不正确")
        refused_until = dt.datetime.fromisoformat(row[6]) if row[6] else None
        if refused_until and now < refused_until:
            wait = int((refused_until - now).total_seconds()) + 1
            raise LoginRefused(f"登录失败次数过多，请在 {wait} 秒后再试")
        if row[3] or not password_matches(password, row[4]):
            failures = row[5] + 1
            pause = None
            if failures >= FAILURES_BEFORE_PAUSE:
                seconds = min(PAUSE_SECONDS * 2 ** (failures - FAILURES_BEFORE_PAUSE), MAX_PAUSE_SECONDS)
                pause = (now + dt.timedelta(seconds=seconds)).isoformat()
            con.execute("update accounts set failed_logins = ?, refused_until = ? where name = ?",
                        (failures, pause, name))
            raise LoginRefused("用户名或密码不正确")
        con.execute("update accounts set failed_logins = 0, refused_until = null where name = ?", (name,))
        return _row_account(row[:4])


def record(warehouse: Path, account: str, action: str, unit_code: str | None = None,
           period: str | None = None, what: str | None = None) -> None:
    """One change made by `account`, kept in `actions`."""
    with closing(_connect(warehouse)) as con:
        _record(con, account, action, unit_code, period, what)


def _record(con: sqlite3.Connection, account: str, action: str, unit_code: str | None, period: str | None,
            what: str | None) -> None:
    con.execute("insert into actions (at, account, action, unit_code, period, what) values (?, ?, ?, ?, ?, ?)",
                (_now().isoformat(), account, action, unit_code, period, what))


def actions(warehouse: Path, unit_code: str | None = None, limit: int = 200) -> list[Action]:
    """The latest changes, of one unit or of all, newest first."""
    if not store_path(warehouse).exists():
        return []
    with closing(_connect(warehouse)) as con:
        rows = con.execute("select at, account, action, unit_code, period, what from actions "
                           "where ? is null or unit_code = ? order by action_id desc limit ?",
                           (unit_code, unit_code, limit)).fetchall()
    return [Action(dt.datetime.fromisoformat(r[0]), *r[1:]) for r in rows]
