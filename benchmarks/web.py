"""The web page's benchmark, against the running app (`huizong web` in a process of its own, over
HTTP on 127.0.0.1): upload-to-result for one normal workbook (the check's answer; then until it is
loaded and shown on the unit's page), and 50 uploads from 10 concurrent clients (all recorded, none
lost), with the peak memory of the app's process and of its process tree. Not a test: it prints a
table of figures against their goals (docs/web.md).

    .venv/bin/python benchmarks/web.py
"""
from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil

from huizong.office import accounts
from huizong.outputs.demo import write_unit_workbook
from huizong.schemas import catalog as cat

PASSWORD = "benchmark pass"
TOWNS = cat.towns()[:10]
CLIENTS, UPLOADS = 10, 50


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def logged_in(base: str, name: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=base, timeout=120, follow_redirects=True)
    client.post("/login", data={"name": name, "password": PASSWORD})
    page = client.get("/unit").text
    return client, re.search(r'name="csrf" value="([^"]+)"', page).group(1)


class Peak(threading.Thread):
    """Peak RSS of a process and of it with its children, sampled every 50 ms."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.proc, self.top, self.tree, self.stop = psutil.Process(pid), 0, 0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                rss = self.proc.memory_info().rss
                kids = sum(c.memory_info().rss for c in self.proc.children(recursive=True))
            except psutil.Error:
                break
            self.top, self.tree = max(self.top, rss), max(self.tree, rss + kids)
            time.sleep(0.05)


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="huizong-web-bench-"))
    inbox, warehouse = root / "inbox", root / "warehouse"
    for town in TOWNS:
        for period in ("2019Q1", "2019Q2"):
            write_unit_workbook(inbox / f"{town.name}_{period}.xlsx", town, period)
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_HOME": str(root / "prefect")}
    subprocess.run([sys.executable, "-m", "huizong.cli", "run", "--inbox", str(inbox), "--warehouse", str(warehouse)],
                   env=env, check=True, capture_output=True)
    for town in TOWNS:
        accounts.add(warehouse, town.name, "unit", PASSWORD, town.code)
    port = free_port()
    web = subprocess.Popen([sys.executable, "-m", "huizong.cli", "web", "--port", str(port), "--inbox", str(inbox),
                            "--warehouse", str(warehouse)], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        peak = Peak(web.pid)
        peak.start()

        # one normal workbook: the check's answer, then loaded and shown; first just after the
        # page started (its reading worker and its spare pass process still starting), then as a
        # page that has been up a while answers (another town's)
        def upload_one(town: cat.Unit) -> tuple[float, float]:
            client, csrf = logged_in(base, town.name)
            book = write_unit_workbook(root / f"one_{town.code}.xlsx", town, "2019Q3").read_bytes()
            start = time.perf_counter()
            answer = client.post("/unit/upload", data={"csrf": csrf}, files={"file": ("one.xlsx", book)})
            checked = time.perf_counter() - start
            assert "检查通过" in answer.text, answer.text[:500]
            while True:
                row = re.search(r"<td>2019Q3</td><td>(按时|迟报)</td>", client.get("/unit").text)
                if row:
                    break
                if time.perf_counter() - start > 300:
                    raise SystemExit("the upload was not loaded within 300 s")
                time.sleep(0.2)
            return checked, time.perf_counter() - start

        first_checked, first_visible = upload_one(TOWNS[0])
        time.sleep(10)  # the pass ends and the page's next spare is ready
        checked, visible = upload_one(TOWNS[1])

        # 50 uploads from 10 clients at once: each town sends its 2019Q4, then corrections of it
        books = {t.code: [write_unit_workbook(root / f"{t.code}_{i}.xlsx", t, "2019Q4",
                                              {(cat.villages_of(t.code)[0].code, "V03"): 1 + i}).read_bytes()
                          for i in range(UPLOADS // CLIENTS)] for t in TOWNS}

        def send(t: cat.Unit) -> list[float]:
            c, token = logged_in(base, t.name)
            took = []
            for i, data in enumerate(books[t.code]):
                s = time.perf_counter()
                r = c.post("/unit/upload", data={"csrf": token}, files={"file": (f"{i}.xlsx", data)})
                took.append(time.perf_counter() - s)
                assert "检查通过" in r.text, re.findall(r"<(?:p|td)[^>]*>([^<]{4,})<", r.text)[:8]
            return took

        before = {p.name for p in inbox.iterdir()}
        start = time.perf_counter()
        with ThreadPoolExecutor(CLIENTS) as pool:
            times = [x for ts in pool.map(send, TOWNS) for x in ts]
        burst = time.perf_counter() - start
        placed = {p.name for p in inbox.iterdir()} - before
        recorded = [a for a in accounts.actions(warehouse, limit=1000)
                    if a.action == "upload" and a.period == "2019Q4" and "-> inbox/" in (a.what or "")]
        peak.stop.set()
        peak.join()
    finally:
        web.terminate()
        web.wait(timeout=30)

    rows = [
        ("upload to the check's answer, one workbook", f"{checked:.2f} s", "under 2 s"),
        ("upload until loaded and shown on the unit's page", f"{visible:.2f} s", "under 5 s"),
        ("the same, the first upload after the page started", f"{first_checked:.2f} s / {first_visible:.2f} s", ""),
        (f"{UPLOADS} uploads from {CLIENTS} clients at once", f"{burst:.1f} s in all, median {statistics.median(times):.2f} s, "
         f"slowest {max(times):.2f} s", ""),
        ("uploads placed in the inbox / recorded", f"{len(placed)} / {len(recorded)} of {UPLOADS}", f"{UPLOADS} / {UPLOADS}"),
        ("peak RSS: the app's process / with its reading workers and passes",
         f"{peak.top / 2**20:.0f} MiB / {peak.tree / 2**20:.0f} MiB", "app under 1 GiB"),
    ]
    print("| measure | this run | goal |\n| --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0 if len(placed) == len(recorded) == UPLOADS else 1


if __name__ == "__main__":
    sys.exit(main())
