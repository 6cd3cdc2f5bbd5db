"""A reading worker: one process that reads, checks and validates batches of workbooks.

Started by `huizong.isolation` as `python -m huizong.worker`, it lives apart from the pass so
that a file that crashes a reader (python-calamine aborts the process on some sheets), exhausts
memory or hangs takes down this process only. It imports only what reading needs.

Protocol on stdin/stdout: length-prefixed pickles. The parent sends a job dict or None (stop);
the worker answers ("ready",) once, then for each job ("start", i) before reading file i,
("validating",) before validating the batch, and ("done", outcomes, values).
"""
from __future__ import annotations

import os
import pickle
import resource
import struct
import sys
from pathlib import Path
from typing import BinaryIO

_HEADER = struct.Struct("!Q")


def send(stream: BinaryIO, message: object) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def receive(stream: BinaryIO) -> object:
    """The next message, or raises EOFError when the other side is gone."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    size = _HEADER.unpack(header)[0]
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


def _limit_memory() -> None:
    limit = int(os.environ.get("HUIZONG_WORKER_MEMORY_BYTES", "0"))
    if limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run_job(job: dict, out: BinaryIO) -> None:
    from huizong import feedback
    from huizong.failpoints import reader_failpoint
    from huizong.validation import validate_batch
    from huizong.workbook import read_submission

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
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must never corrupt the protocol
    inp = sys.stdin.buffer
    import huizong.validation  # noqa: F401  (imports done before "ready": pandas, pandera)
    import huizong.workbook  # noqa: F401

    send(out, ("ready",))
    while True:
        try:
            job = receive(inp)
        except EOFError:
            return
        if job is None:
            return
        run_job(job, out)


if __name__ == "__main__":
    main()
