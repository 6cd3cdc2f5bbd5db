"""A workbook uploaded from the web page: bounded, told by its content, checked at once by the
same bulkheads and rules as `huizong check` (in a reading worker, never in the web process), and,
if it passes and is the account's own unit's, placed in the inbox under a name huizong chooses
(written whole: a pass never sees half a file) and recorded as received from that account.
Which pass loads it is the web page's to start (huizong/web/passes.py)."""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from pathlib import Path

from huizong.core.errors import HuizongError
from huizong.core.failpoints import failpoint
from huizong.core.files import WEB_UPLOAD_MARK, upload_name, written_whole
from huizong.intake.package import OLE2_MAGIC, ZIP_MAGIC
from huizong.office import accounts
from huizong.office.checking import Checked, check_files

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

    @property
    def accepted(self) -> bool:
        return self.placed is not None



def sweep_unfinished(inbox: Path) -> int:
    """Remove what a page killed mid-upload left in the inbox: the hidden temporary copies of its
    own uploads (written_whole's `.<name>.<random>.tmp`; passes never read hidden files). Run when
    the page starts; returns how many it removed."""
    removed = 0
    for tmp in Path(inbox).glob(f".*{WEB_UPLOAD_MARK}*.tmp"):
        tmp.unlink(missing_ok=True)
        removed += 1
    return removed


def upload_dir(warehouse: Path, upload_id: str) -> Path:
    if not upload_id.isalnum():
        raise UploadRefused("no such upload")
    return Path(warehouse) / UPLOADS_DIR / upload_id


def feedback_of(warehouse: Path, upload_id: str) -> Path | None:
    """The feedback workbook of a rejected upload, as the reading worker wrote it into the upload's
    folder (huizong.intake.feedback.feedback_stem), or None."""
    try:
        found = sorted((upload_dir(warehouse, upload_id) / "feedback").rglob("*.xlsx"))
    except UploadRefused:
        return None
    return found[0] if found else None


def owner_of(warehouse: Path, upload_id: str) -> str | None:
    """The unit whose account uploaded `upload_id`, or None if there is no such upload."""
    try:
        return (upload_dir(warehouse, upload_id) / "unit").read_text(encoding="utf-8").strip()
    except (OSError, UploadRefused):
        return None


def receive(data: bytes, file_name: str, account: accounts.Account, warehouse: Path, inbox: Path,
            action: str = "upload", what: str | None = None) -> Upload:
    """Check an uploaded workbook and, if it is valid and the account's unit's, place it in the
    inbox; recorded as `action` (what it did: `what`, or where the file went)."""
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
    placed = None
    if o.ok and not other_unit:
        name = upload_name(o.unit_code, o.period, o.sha256, received.suffix, dt.datetime.now())
        with written_whole(Path(inbox) / name) as tmp:
            tmp.write_bytes(data)
            failpoint("mid_upload")  # the crash tests kill the page here: no file in the inbox yet
        placed = name
        accounts.record(warehouse, account.name, action, o.unit_code, o.period, what or f"{shown_name} -> inbox/{name}")
    else:
        accounts.record(warehouse, account.name, action, account.unit_code, o.period,
                        f"{shown_name}: refused ({'another unit' if other_unit else 'not valid'})")
    return Upload(upload_id, shown_name, checked, other_unit, placed)


MAX_EXPLANATION_CHARS = 500


def explain(account: accounts.Account, warehouse: Path, inbox: Path, period: str, place: str, text: str) -> Upload:
    """A town explains a warned figure from the page, as its 情况说明 sheet would: the version in
    force of its quarter, kept by huizong, with that row written in, is received as an upload
    (checked, placed, loaded as a duplicate of the version in force, whose explanation it then
    gives). One route for every explanation: the office's workbook always says what the page said."""
    from huizong.core.files import archive_path
    from huizong.intake.writer import with_explanation
    from huizong.office import review
    from huizong.store.warehouse import connect_read_only

    text = " ".join(text.split())
    if not text:
        raise UploadRefused("请写明情况说明")
    if len(text) > MAX_EXPLANATION_CHARS:
        raise UploadRefused(f"情况说明请控制在 {MAX_EXPLANATION_CHARS} 字以内")
    try:
        place = review.cell_reference(place)
    except review.ReviewError:
        raise UploadRefused("没有这个单元格的提醒") from None
    con = connect_read_only(warehouse)
    try:
        warned = review.warnings(con, unit=account.unit_code, period=period, states=review.STATES,
                                 cell=place) if con is not None else []
    finally:
        if con is not None:
            con.close()
    if not warned or "!" not in place:
        raise UploadRefused("没有这个单元格的提醒")
    w = warned[0]
    kept = Path(warehouse) / archive_path(w.sha256, ".xlsx")
    if not kept.is_file():
        raise UploadRefused("这份报表不是 .xlsx 格式，请在报表的“情况说明”表中写明后重新上传")
    data = with_explanation(kept.read_bytes(), w.sheet, w.cell, text)
    return receive(data, w.file_name, account, warehouse, inbox, action="explain", what=f"{w.place}: {text}")
