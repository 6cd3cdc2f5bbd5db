"""Files as they arrive in the inbox: which ones count, their names as people read them, and
their content hash.

Everything in the inbox is looked at without following links: a symbolic link could point at any
file the service can read (it would be copied under the warehouse, where analysts read), so links
and other files that are not regular are refused, never opened. Files in subfolders count like the
others (offices sort files into folders by town). Names are kept as they came: one that is not
UTF-8 (GBK bytes, as unzipping a Windows archive leaves them) is decoded as GBK where that works
and escaped otherwise.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import stat
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Iterator

REFUSED_LINK = "符号链接：为安全起见不读取链接指向的文件，请放入文件本身"
REFUSED_SPECIAL = "不是普通文件（管道、设备或套接字），未读取"
REFUSED_UNREADABLE = "无法读取该文件（权限不足或已损坏的磁盘），请检查文件权限"


@dataclass(frozen=True)
class Entry:
    """One thing found in the inbox."""
    path: Path  # to open it (its name as the file system holds it)
    inbox_path: str  # relative to the inbox, as people read it
    size: int
    mtime_ns: int
    refused: str | None = None  # why it is not read, for a link or a special file


def is_ignored(name: str) -> bool:
    """Excel's lock files (~$x.xlsx) and hidden files or folders are not submissions."""
    return name.startswith(("~$", "."))


def display_name(name: str) -> str:
    """A file name as people read it: surrogate-escaped bytes (not UTF-8) decoded as GBK per
    path part where that works, else shown as \\x escapes. Never raises."""
    parts = []
    for part in name.split("/"):
        raw = part.encode("utf-8", "surrogateescape")
        try:
            parts.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            try:
                parts.append(raw.decode("gbk"))
            except UnicodeDecodeError:
                parts.append(raw.decode("utf-8", "backslashreplace"))
    return "/".join(parts)


def bounded(text: str, max_bytes: int) -> str:
    """`text` cut at a character boundary so that it takes at most `max_bytes` in UTF-8: names
    derived from a town's file name stay within a file system's 255 bytes."""
    data = text.encode("utf-8", "surrogateescape")
    if len(data) <= max_bytes:
        return text
    return data[:max_bytes].decode("utf-8", "ignore")


def scan_inbox(inbox: Path) -> list[Entry]:
    """Every file under `inbox` that may be a submission, subfolders included, sorted by path;
    links and special files come back with `refused` set."""
    found: list[Entry] = []

    def walk(folder: Path, prefix: str) -> None:
        with os.scandir(folder) as entries:
            for e in entries:
                if is_ignored(e.name):
                    continue
                rel = display_name(prefix + e.name)
                st = e.stat(follow_symlinks=False)
                if e.is_symlink():
                    found.append(Entry(Path(e.path), rel, st.st_size, st.st_mtime_ns, REFUSED_LINK))
                elif stat.S_ISDIR(st.st_mode):
                    walk(Path(e.path), prefix + e.name + "/")
                elif stat.S_ISREG(st.st_mode):
                    found.append(Entry(Path(e.path), rel, st.st_size, st.st_mtime_ns))
                else:
                    found.append(Entry(Path(e.path), rel, st.st_size, st.st_mtime_ns, REFUSED_SPECIAL))

    walk(inbox, "")
    return sorted(found, key=lambda e: e.inbox_path)


def open_regular(path: Path):
    """`path` opened for reading if it is a regular file itself: a link swapped in after the
    inbox was scanned is refused (OSError), never followed."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(f"{path} is not a regular file")
    return os.fdopen(fd, "rb")


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open_regular(path) as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


WEB_UPLOAD_MARK = "_网页上传_"  # in the name of every file the web page places


def upload_name(unit_code: str, period: str, sha256: str, suffix: str, at: dt.datetime) -> str:
    """The inbox name of a workbook the web page places: its unit, quarter, time of arrival and
    the start of its hash. The page writes it whole (`written_whole`) before the name appears."""
    return f"{unit_code}_{period}{WEB_UPLOAD_MARK}{at:%Y%m%d%H%M%S}_{sha256[:8]}{suffix}"


def placed_whole(name: str, sha256: str) -> bool:
    """Whether `name` is the page's name for these very bytes (`upload_name`): such a file was
    renamed into place whole and needs no wait to settle, while a file still being copied in
    under such a name does not hash to the start its name claims."""
    stem = PurePath(name).stem
    return WEB_UPLOAD_MARK in stem and stem.rsplit("_", 1)[-1] == sha256[:8]


def still_settling(entries: list[Entry], settle_seconds: float, now: float) -> bool:
    """Whether a file of `entries` was modified less than `settle_seconds` before `now` (seconds
    since the epoch) and may still be being copied in: the pass then waits and looks again. A file
    the page placed whole under its name for its bytes (`placed_whole`) never is."""
    for e in entries:
        if e.refused or now - e.mtime_ns / 1e9 >= settle_seconds:
            continue
        if WEB_UPLOAD_MARK not in e.inbox_path:
            return True
        try:
            if not placed_whole(e.inbox_path, sha256_of(e.path)):
                return True
        except OSError:
            return True
    return False


def archive_path(sha256: str, suffix: str) -> Path:
    """Where a received file is kept, relative to the warehouse: by its hash (and its ending,
    when that is a plausible one: the rest of a town's file name never reaches the path)."""
    suffix = suffix.lower() if re.fullmatch(r"\.[A-Za-z0-9]{1,8}", suffix) else ""
    return Path("files") / sha256[:2] / f"{sha256}{suffix}"


def keep_copy(data: bytes, sha256: str, suffix: str, warehouse: Path) -> Path:
    """Keep `data`, the bytes of a received file whose hash is `sha256`, under the warehouse
    (written whole, unless a copy of that content is kept already); where, relative to it."""
    rel = archive_path(sha256, suffix)
    if not (warehouse / rel).exists():
        with written_whole(warehouse / rel) as tmp:
            tmp.write_bytes(data)
    return rel


@contextmanager
def written_whole(out: Path) -> Iterator[Path]:
    """A temporary path beside `out` to write to, renamed over `out` when the block ends and
    removed when it fails: whoever opens `out` finds the old file or the new one, never half
    (two writers of the same file: each renames its own whole copy)."""
    out = Path(out)
    if not out.parent.is_dir():  # a look, not a mkdir: that costs as much as writing a small file
        out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, _mode_for(out))  # mkstemp's 0600 would hide it from the office's other readers
        os.replace(tmp, out)
    finally:
        Path(tmp).unlink(missing_ok=True)  # after a failure; after the rename there is none


def _mode_for(out: Path) -> int:
    """The mode of the file being replaced, or what the umask gives a new file."""
    try:
        return stat.S_IMODE(out.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
