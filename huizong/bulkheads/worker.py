"""A reading worker: one process that reads, checks and validates batches of workbooks.

Started by `huizong.bulkheads.isolation` as `python -m huizong.bulkheads.worker`, it lives apart from the pass so
that a file that crashes a reader (python-calamine aborts the process on some sheets), exhausts
memory or hangs takes down this process only. It imports only what reading needs.

Protocol on stdin/stdout: length-prefixed pickles. The parent sends a job dict or None (stop);
the worker answers ("ready",) once, then for each job ("start", i) before reading file i,
("validating",) before validating the batch, and ("done", outcomes, values); a job of
{"covers": [paths]} is answered ("done", [(unit_code, period) of each cover], None), and one of
{"ahead": [{"path", "file_name"}]} (files read before the pass asks for them) as a batch is,
without feedback. A job of {"report": (data, out)} writes one file of the annual summary and is
answered ("done", out, None), or ("done", None, what went wrong). A job with "reports_after"
set means that the pass will write reports: the worker imports what they need once it is idle.
"""
from __future__ import annotations

import os
import pickle
import resource
import select
import struct
import sys
from pathlib import Path
from typing import BinaryIO

_HEADER = struct.Struct("!Q")
IDLE_SECONDS = 0.2  # no job for this long: the pass is busy elsewhere (recording, building)


def send(stream: BinaryIO, message: object) -> None:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    data = memoryview(_HEADER.pack(len(body)) + body)
    while data:  # an unbuffered pipe may take part of it at a time
        data = data[stream.write(data) or 0:]
    stream.flush()


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    """`size` bytes (an unbuffered pipe may give fewer per read); EOFError if the writer is gone."""
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def receive(stream: BinaryIO) -> object:
    """The next message, or raises EOFError when the other side is gone."""
    size = _HEADER.unpack(_read_exactly(stream, _HEADER.size))[0]
    return pickle.loads(_read_exactly(stream, size))


def _limit_memory() -> None:
    limit = int(os.environ.get("HUIZONG_WORKER_MEMORY_BYTES", "0"))
    if limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run_covers(job: dict, out: BinaryIO) -> None:
    """Only who and which quarter each file's cover states (a rerun's choice of inbox files)."""
    from huizong.intake.workbook import read_cover

    covers = []
    for i, path in enumerate(job["covers"]):
        send(out, ("start", i))
        covers.append(read_cover(Path(path)))
    send(out, ("done", covers, None))


def run_ahead(job: dict, out: BinaryIO) -> None:
    """Inbox files read before the pass asks for them (`ReaderPool.read_ahead`). Each is opened
    only if it is a regular file itself, and its sha256 is that of the very bytes read, so that
    the pass takes a reading only for the content it keeps; the copy the pass keeps of each is
    written here too. A file that cannot be opened, or is too large to read, is left to the
    pass, which says so."""
    import hashlib

    from huizong.core.failpoints import reader_failpoint
    from huizong.core.files import keep_copy, open_regular
    from huizong.core.settings import MAX_UNZIPPED_BYTES
    from huizong.intake.validation import validate_batch
    from huizong.intake.workbook import read_submission

    subs = []
    for i, f in enumerate(job["ahead"]):
        send(out, ("start", i))
        path = Path(f["path"])
        try:
            with open_regular(path) as stream:
                data = stream.read(MAX_UNZIPPED_BYTES + 1)
            if len(data) > MAX_UNZIPPED_BYTES:
                continue
            sha256 = hashlib.sha256(data).hexdigest()
            # the kept copy the pass would write (writing small files is slow on some disks)
            keep_copy(data, sha256, path.suffix, Path(job["warehouse"]))
        except OSError:
            continue
        reader_failpoint(f["file_name"])
        subs.append(read_submission(path, sha256, f["file_name"], data))
    send(out, ("validating",))
    outcomes, values = validate_batch(subs)
    send(out, ("done", outcomes, values))


def run_report(job: dict, out: BinaryIO) -> None:
    """One file of the annual summary, written here while the pass writes the others."""
    try:
        from huizong.outputs.report import write_file

        data, path = job["report"]
        send(out, ("done", str(write_file(data, Path(path))), None))
    except Exception as e:  # the pass writes it itself, and says what fails
        send(out, ("done", None, f"{type(e).__name__}: {e}"))


def run_job(job: dict, out: BinaryIO) -> None:
    if job.get("noop"):  # only its "reports_after" counts: answered at once
        return send(out, ("done", None, None))
    if "report" in job:
        return run_report(job, out)
    if "covers" in job:
        return run_covers(job, out)
    if "ahead" in job:
        return run_ahead(job, out)
    from huizong.core.failpoints import reader_failpoint
    from huizong.intake import feedback
    from huizong.intake.validation import validate_batch
    from huizong.intake.workbook import read_submission

    subs = []
    for i, f in enumerate(job["files"]):
        send(out, ("start", i))
        reader_failpoint(f["file_name"])
        subs.append(read_submission(Path(f["read_path"]), f["sha256"], f["file_name"]))
    send(out, ("validating",))
    outcomes, values = validate_batch(subs)
    warehouse = job.get("warehouse")
    by_sha = {f["sha256"]: f for f in job["files"]}
    for o in outcomes:
        if not o.ok and warehouse:  # the town's feedback: openpyxl opens its file, so here too
            o.feedback_path = str(feedback.write_feedback(
                Path(by_sha[o.sha256]["read_path"]), o.file_name, o.unit_code, o.period, o.problems,
                Path(warehouse)))
    send(out, ("done", outcomes, values))


def main() -> None:
    _limit_memory()
    from huizong.core.settings import WORKER_NICE

    os.nice(WORKER_NICE)
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must never corrupt the protocol
    inp = sys.stdin.buffer
    import huizong.intake.validation  # noqa: F401  (imports done before "ready": pandas, pandera)
    import huizong.intake.workbook  # noqa: F401

    send(out, ("ready",))
    reports_after = False
    while True:
        # idle for a moment, with reports to come: import what they need now, not then
        if reports_after and not select.select([inp], [], [], IDLE_SECONDS)[0]:
            from huizong.outputs.report import import_libraries

            import_libraries()
            reports_after = False
        try:
            job = receive(inp)
        except EOFError:
            return
        if job is None:
            return
        run_job(job, out)
        reports_after = reports_after or bool(job.get("reports_after"))


if __name__ == "__main__":
    main()
