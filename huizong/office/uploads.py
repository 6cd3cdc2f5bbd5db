"""A workbook uploaded from the web page: bounded, told by its content, checked at once by the
same bulkheads and rules as `huizong check` (in a reading worker, never in the web process), and,
if it passes and is the account's own unit's, placed in the inbox under a name huizong chooses
(written whole: a pass never sees half a file) and recorded as received from that account.
Then a pass is started to load it, unless one is running (the next pass loads it)."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from huizong.core.errors import HuizongError
from huizong.core.files import written_whole
from huizong.intake.package import OLE2_MAGIC, ZIP_MAGIC
from huizong.office import accounts
from huizong.office.checking import Checked, check_files
from huizong.store.warehouse import LockHeld, pass_lock

MAX_UPLOAD_BYTES = 20 * 2 ** 20
UPLOADS_DIR = "uploads"  # <warehouse>/uploads/<id>/: the uploaded file as received and its feedback


class UploadRefused(HuizongError, ValueError):
    """An upload refused before it is read: too large, or not a workbook by its content."""


@dataclass(frozen=True)
class Upload:
    upload_id: str
    file_name: str  # as the clerk's browser named it (shown, never used as a path)
    checked: Checked
    other_unit: bool  # a valid file whose cover names another unit than the account's
    placed: str | None  # its name in the inbox, once placed
    pass_started: bool  # a pass was started for it (else one is running: the next pass loads it)

    @property
    def accepted(self) -> bool:
        return self.placed is not None

    def feedback(self, warehouse: Path) -> Path | None:
        path = self.checked.outcome.feedback_path
        return upload_dir(warehouse, self.upload_id) / f"{path}.xlsx" if path else None


def upload_dir(warehouse: Path, upload_id: str) -> Path:
    if not upload_id.isalnum():
        raise UploadRefused("no such upload")
    return Path(warehouse) / UPLOADS_DIR / upload_id


def owner_of(warehouse: Path, upload_id: str) -> str | None:
    """The unit whose account uploaded `upload_id`, or None if there is no such upload."""
    try:
        return (upload_dir(warehouse, upload_id) / "unit").read_text(encoding="utf-8").strip()
    except (OSError, UploadRefused):
        return None


def receive(data: bytes, file_name: str, account: accounts.Account, warehouse: Path, inbox: Path,
            start_pass: bool = True) -> Upload:
    """Check an uploaded workbook and, if it is valid and the account's unit's, place it in the inbox."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadRefused(f"文件超过 {MAX_UPLOAD_BYTES // 2 ** 20} MB，请检查是否插入了图片等大对象后重新上传")
    if not data.startswith((ZIP_MAGIC, OLE2_MAGIC)):
        raise UploadRefused("上传的文件不是 Excel 工作簿（.xlsx 或 .xls），请用下发的模板填写后上传")
    upload_id = secrets.token_hex(8)
    folder = upload_dir(warehouse, upload_id)
    folder.mkdir(parents=True)
    (folder / "unit").write_text(account.unit_code or "", encoding="utf-8")
    received = folder / ("received.xls" if data.startswith(OLE2_MAGIC) else "received.xlsx")
    received.write_bytes(data)
    shown_name = file_name.replace("/", "_").replace("\\", "_")[:200] or received.name
    (checked,) = check_files([received], warehouse, feedback_into=folder, names=[shown_name])
    o = checked.outcome
    other_unit = o.ok and o.unit_code != account.unit_code
    placed, started = None, False
    if o.ok and not other_unit:
        sha = hashlib.sha256(data).hexdigest()
        stamp = dt.datetime.now().strftime("%Y%m%d%H%M%S")
        name = f"{o.unit_code}_{o.period}_网页上传_{stamp}_{sha[:8]}{received.suffix}"
        with written_whole(Path(inbox) / name) as tmp:
            tmp.write_bytes(data)
        placed = name
        accounts.record(warehouse, account.name, "upload", o.unit_code, o.period, f"{shown_name} -> inbox/{name}")
        started = start_pass and start_a_pass(inbox, warehouse)
    else:
        accounts.record(warehouse, account.name, "upload", account.unit_code, o.period,
                        f"{shown_name}: refused ({'another unit' if other_unit else 'not valid'})")
    return Upload(upload_id, shown_name, checked, other_unit, placed, started)


_passes_lock = threading.Lock()
_running: dict[Path, subprocess.Popen] = {}  # the pass this process started, per warehouse
_again: set[Path] = set()  # warehouses whose inbox got a file while our pass ran: one more pass
_waiting: set[Path] = set()  # warehouses held by another's pass, with a thread waiting to pass after it
WAIT_SECONDS = 10


def start_a_pass(inbox: Path, warehouse: Path, *args: str) -> bool:
    """Start `huizong run` (or `huizong rerun ARGS`) in a process of its own unless a pass holds
    the warehouse; False if one does. If the pass running is one this process started (uploads
    that come while it reads), another pass follows it, so that their files do not wait for the
    night."""
    warehouse = Path(warehouse).resolve()
    with _passes_lock:
        ours = _running.get(warehouse)
        if ours is not None and ours.poll() is None:
            if not args:
                _again.add(warehouse)
            return False
        try:
            with pass_lock(warehouse):
                pass
        except LockHeld:  # another's pass (the nightly, a command): ours follows when it ends
            if not args and warehouse not in _waiting:
                _waiting.add(warehouse)
                threading.Thread(target=_when_free, args=(inbox, warehouse), daemon=True).start()
            return False
        _running[warehouse] = proc = _spawn(inbox, warehouse, args)
    threading.Thread(target=_then_again, args=(proc, inbox, warehouse), daemon=True).start()
    return True


def _spawn(inbox: Path, warehouse: Path, args: tuple[str, ...]) -> subprocess.Popen:
    logs = warehouse / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    command = ["rerun", *args] if args else ["run"]
    with (logs / "web_passes.log").open("ab") as log:
        return subprocess.Popen([sys.executable, "-m", "huizong.cli", *command, "--inbox", str(inbox),
                                 "--warehouse", str(warehouse)], stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True, env={**os.environ})


def _then_again(proc: subprocess.Popen, inbox: Path, warehouse: Path) -> None:
    proc.wait()
    with _passes_lock:
        again = warehouse in _again
        _again.discard(warehouse)
    if again:
        start_a_pass(inbox, warehouse)


def _when_free(inbox: Path, warehouse: Path) -> None:
    """Wait for another's pass to let go of the warehouse, then start ours (the files uploaded
    meanwhile are not left for the night)."""
    while True:
        time.sleep(WAIT_SECONDS)
        with _passes_lock:
            try:
                with pass_lock(warehouse):
                    pass
            except LockHeld:
                continue
            _waiting.discard(warehouse)
        start_a_pass(inbox, warehouse)
        return
