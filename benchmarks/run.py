"""Benchmark: huizong against its baselines, measured in the same run (never in tests).

Generates (once, cached) an inbox of 2,000 town workbooks: 10 towns x 4 quarters x 50 years,
each (unit, period) distinct, whose figures vary as real towns' do (about 6% of values warn). Then runs, each as its own process, timing wall time and peak
memory (max RSS of the process and the children it waited for):

  null flow     a Prefect flow that does nothing: the fixed cost of starting Prefect
  bare pandas   the least a user would write: pandas.read_excel every sheet, melt, concat,
                one DuckDB insert; no validation, no ledger, no models
  cold run      `huizong run` into an empty warehouse
  second run    `huizong run` again, nothing new
  rerun unit    `huizong rerun --unit <town>` in the 2,000-workbook warehouse (its 200 versions,
                all valid under the current rules: none is read again)
  rerun forced  the same with --force: its 200 versions read, validated and recorded again

  parse limit   python-calamine reading every sheet of the same workbooks on one core, nothing else
  cold run, half  the same cold run on the first 1,000 workbooks (cost linear in the workbooks)
  served        against a running `prefect server start`: a pass with nothing new, and
                `rerun --unit --period` with a corrected file (read, record, rebuild, publish, reports)

Processes run in rounds (--cold-repeat, --repeat), one of each per round, so that drift in
Prefect's start time falls on all alike; each difference to the null flow is the median over
rounds of the difference within a round.
Usage: python benchmarks/run.py [--workdir DIR] [--years N] [--repeat N]

The growth round (`--growth`, on its own): cold passes of 2,000 and 8,000 workbooks (and 20,000
with `--big`: minutes), each beside a null flow, with the peak RSS of the largest process and of
the whole process tree sampled every 0.2 s over the pass, and the warehouse's size after it.
Usage: python benchmarks/run.py --growth [--big] [--workdir DIR]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NULL_FLOW = """
import os
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
from prefect import flow

@flow
def nothing():
    return 0

nothing()
"""

BARE_PANDAS = """
import sys
from pathlib import Path
import duckdb, pandas as pd

frames = []
for path in sorted(Path(sys.argv[1]).glob("*.xlsx")):
    sheets = pd.read_excel(path, sheet_name=None)
    villages = sheets["村级指标"].melt(id_vars=["村（社区）代码", "村（社区）名称"],
                                     var_name="indicator", value_name="value")
    villages["file"] = path.name
    town = sheets["镇级指标"].rename(columns={"指标名称": "indicator", "数值": "value"})
    town["file"] = path.name
    frames += [villages[["file", "indicator", "value"]].astype(str),
               town[["file", "indicator", "value"]].astype(str)]
data = pd.concat(frames, ignore_index=True)
con = duckdb.connect(sys.argv[2])
con.execute("create table values_ as select * from data")
print(len(data))
"""


SPIKE_SHARE = 0.15  # of flow and flag cells: a flow x7 (over 5x the median), a flag back to 否


def volatile(town, period: str) -> dict:
    """Overrides that make a town's figures vary the way real towns' do: about 6% of all values
    warn (flows far above their usual, flags back to 否), some 15 warnings a workbook."""
    from huizong.outputs.demo import _draw, true_value
    from huizong.schemas import catalog as cat

    out = {}
    for sheet in cat.sheets_of(town):
        holders = cat.villages_of(town.code, period) if sheet == cat.VILLAGE_SHEET else (town,)
        for holder in holders:
            for ind in cat.indicators_for(town, sheet, period):
                if ind.kind not in ("flow", "flag") or _draw(holder.code, period, ind.code, "spike") >= SPIKE_SHARE:
                    continue
                value = true_value(holder.code, period, ind.code)
                if ind.kind == "flag":
                    out[(holder.code, ind.code)] = "否"
                elif value > 0:
                    out[(holder.code, ind.code)] = int(min(ind.max, value * 7 + 1))
    return out


def generate_inbox(inbox: Path, years: int) -> None:
    from huizong.outputs.demo import write_unit_workbook
    from huizong.schemas import catalog as cat

    marker = inbox / f".complete-{years}-volatile"
    if marker.exists():
        return
    shutil.rmtree(inbox, ignore_errors=True)
    inbox.mkdir(parents=True)
    for year in range(2019 - years + 1, 2020):
        for q in range(1, 5):
            for town in cat.towns():
                period = f"{year}Q{q}"
                write_unit_workbook(inbox / f"{town.code}_{period}.xlsx", town, period, volatile(town, period))
    marker.touch()


def measure(label: str, argv: list[str], env: dict | None = None) -> dict:
    """Run a process to its end; its wall time (s), peak memory (MiB) and exit status."""
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a full pipe would block it
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=errors,
                                env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        errors.seek(0)
        err = errors.read().decode("utf-8", "replace")
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 2):
        print(f"{label} failed ({code}):\n{err[-3000:]}", file=sys.stderr)
    return {"label": label, "wall": wall, "mib": usage.ru_maxrss / 1024, "code": code}


PARSE_LIMIT = """
import sys
from pathlib import Path
import python_calamine

for path in sorted(Path(sys.argv[1]).glob("*.xlsx")):
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    for name in book.sheet_names:
        book.get_sheet_by_name(name).to_python()
"""


def median_of(rounds: list[dict], label: str) -> dict:
    runs = sorted((r[label] for r in rounds), key=lambda r: r["wall"])
    return {**runs[len(runs) // 2], "runs": [round(r["wall"], 2) for r in runs]}


def paired(rounds: list[dict], label: str, base: str = "null flow") -> float:
    """Median over rounds of (label - base) within each round: drift falls on both alike."""
    return statistics.median(r[label]["wall"] - r[base]["wall"] for r in rounds)


def start_prefect_server(workdir: Path) -> tuple[subprocess.Popen, str]:
    """`prefect server start` on a port of its own, as an office runs it beside `huizong serve`."""
    import urllib.request

    port = 4299
    env = {**os.environ, "PREFECT_HOME": str(workdir / "prefect-home"),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_UI_ENABLED": "false"}
    log = (workdir / "prefect-server.log").open("wb")
    proc = subprocess.Popen([str(Path(sys.executable).with_name("prefect")), "server", "start",
                             "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/api"
    for _ in range(600):
        try:
            urllib.request.urlopen(f"{url}/health", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("the Prefect server did not start (see prefect-server.log)")


def write_correction(inbox: Path, n: int) -> Path:
    """A town's corrected file for 2019Q3: one village's V03 changed, a new version each time.
    It landed a minute ago: a file modified within SETTLE_SECONDS may still be being copied in,
    and every pass waits that long (2 s) before it reads one (see docs/performance.md)."""
    from huizong.outputs.demo import write_unit_workbook
    from huizong.schemas import catalog as cat

    town = cat.unit_by_code()["990101105"]
    village = cat.villages_of(town.code)[0]
    path = write_unit_workbook(inbox / f"correction_{n}.xlsx", town, "2019Q3", {(village.code, "V03"): 10 + n})
    os.utime(path, (time.time() - 60,) * 2)
    return path


def measure_tree(label: str, argv: list[str], env: dict | None = None) -> dict:
    """`measure`, with the process tree sampled every 0.2 s while it runs: the largest process's
    peak RSS and the whole tree's (MiB), and the CPU time (s) of the tree: each process's own, as
    last seen (the last 0.2 s of each is not seen: the same for every size)."""
    import psutil

    start = time.perf_counter()
    cpu: dict[int, float] = {}
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=errors, env={**os.environ, **(env or {})})
        root = psutil.Process(proc.pid)
        largest = tree = 0
        while proc.poll() is None:
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            rss = []
            for p in procs:
                try:
                    with p.oneshot():
                        rss.append(p.memory_info().rss)
                        times = p.cpu_times()
                        cpu[p.pid] = times.user + times.system
                except psutil.NoSuchProcess:
                    pass
            largest, tree = max(largest, max(rss, default=0)), max(tree, sum(rss))
            time.sleep(0.2)
        code = proc.wait()
        errors.seek(0)
        err = errors.read().decode("utf-8", "replace")
    if code not in (0, 2):
        print(f"{label} failed ({code}):\n{err[-3000:]}", file=sys.stderr)
    return {"label": label, "wall": time.perf_counter() - start, "largest": largest / 2**20,
            "tree": tree / 2**20, "cpu": sum(cpu.values()), "code": code}


def first_n(inbox: Path, n: int, out: Path) -> Path:
    """The first `n` workbooks of `inbox` (by period), as hard links in `out`."""
    files = sorted(inbox.glob("*.xlsx"), key=lambda p: (p.stem.split("_")[1], p.name))[:n]
    if out.exists() and len(list(out.glob("*.xlsx"))) == n:
        return out
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for path in files:
        os.link(path, out / path.name)
    return out


def growth_round(workdir: Path, big: bool) -> None:
    """Cold passes of growing inboxes, each beside a null flow: time and memory against size."""
    sizes = (2000, 8000, 20000) if big else (2000, 8000)
    inbox = workdir / "inbox-growth"
    t = time.perf_counter()
    generate_inbox(inbox, sizes[-1] // 40)
    print(f"inbox: {len(list(inbox.glob('*.xlsx')))} workbooks ({time.perf_counter() - t:.0f} s to make or find)")
    py = sys.executable
    rows = []
    for n in sizes:
        files = first_n(inbox, n, workdir / f"inbox-{n}")
        warehouse = workdir / f"warehouse-{n}"
        shutil.rmtree(warehouse, ignore_errors=True)
        null = measure_tree("null flow", [py, "-c", NULL_FLOW])
        cold = measure_tree(f"cold run, {n}", [py, "-m", "huizong.cli", "run", "--inbox", str(files),
                                              "--warehouse", str(warehouse)])
        size = sum(p.stat().st_size for p in warehouse.rglob("*.duckdb"))
        rows.append((n, null, cold, size))
        print(f"{n:>6} workbooks: {cold['wall']:.1f} s wall, own {cold['cpu'] - null['cpu']:.1f} s CPU, "
              f"largest process {cold['largest']:.0f} MiB, tree {cold['tree']:.0f} MiB, "
              f"warehouse {size / 2**20:.0f} MiB (exit {cold['code']})", flush=True)
    print(f"\n{'workbooks':>9}{'wall s':>9}{'own CPU s':>11}{'own wall s':>11}{'largest MiB':>13}{'tree MiB':>10}"
          f"{'duckdb MiB':>12}")
    for n, null, cold, size in rows:
        print(f"{n:>9}{cold['wall']:>9.1f}{cold['cpu'] - null['cpu']:>11.1f}{cold['wall'] - null['wall']:>11.1f}"
              f"{cold['largest']:>13.0f}{cold['tree']:>10.0f}{size / 2**20:>12.0f}")
    (n1, null1, cold1, _), (n2, null2, cold2, _) = rows[0], rows[1]
    print(f"own CPU, {n2:,} / {n1:,} workbooks: {(cold2['cpu'] - null2['cpu']) / (cold1['cpu'] - null1['cpu']):.2f}x "
          f"(linear: {n2 / n1:.1f}x; target <= 4.4x)")
    print(f"largest process at most {max(r[2]['largest'] for r in rows):.0f} MiB (target < 1024)")
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workdir", type=Path, default=Path("/tmp/huizong-bench"))
    p.add_argument("--years", type=int, default=50, help="years of 40 workbooks each (default 50)")
    p.add_argument("--cold-repeat", type=int, default=3, help="rounds of the cold processes")
    p.add_argument("--repeat", type=int, default=5, help="rounds of the short processes, medians kept")
    p.add_argument("--growth", action="store_true", help="only the growth round: cold passes of 2,000 and 8,000")
    p.add_argument("--big", action="store_true", help="the growth round with 20,000 workbooks too")
    args = p.parse_args()
    if args.growth:
        growth_round(args.workdir, args.big)
        return
    inbox, warehouse = args.workdir / "inbox", args.workdir / "warehouse"
    half, half_warehouse = args.workdir / "inbox-half", args.workdir / "warehouse-half"
    t = time.perf_counter()
    generate_inbox(inbox, args.years)
    first_n(inbox, len(list(inbox.glob("*.xlsx"))) // 2, half)  # the linearity check: 25 of the 50 years
    n_files = len(list(inbox.glob("*.xlsx")))
    print(f"inbox: {n_files} workbooks ({time.perf_counter() - t:.0f} s to make or find)")
    py = sys.executable
    huizong = [py, "-m", "huizong.cli"]
    where = ["--inbox", str(inbox), "--warehouse", str(warehouse)]
    cold_rounds = []
    for _ in range(args.cold_repeat):  # each round: every cold process once, from scratch
        shutil.rmtree(warehouse, ignore_errors=True)
        shutil.rmtree(half_warehouse, ignore_errors=True)
        (args.workdir / "bare.duckdb").unlink(missing_ok=True)
        cold_rounds.append({
            "null flow": measure("null flow", [py, "-c", NULL_FLOW]),
            "parse limit": measure("parse limit", [py, "-c", PARSE_LIMIT, str(inbox)]),
            "bare pandas": measure("bare pandas", [py, "-c", BARE_PANDAS, str(inbox), str(args.workdir / "bare.duckdb")]),
            "cold run": measure("cold run", huizong + ["run"] + where),
            "cold run, half": measure("cold run, half", huizong + ["run", "--inbox", str(half),
                                                                   "--warehouse", str(half_warehouse)]),
        })
    short = {
        "null flow": [py, "-c", NULL_FLOW],
        "second run": huizong + ["run"] + where,
        "rerun unit": huizong + ["rerun", "--unit", "990101105"] + where,
        "rerun forced": huizong + ["rerun", "--unit", "990101105", "--force"] + where,
    }
    rounds = [{label: measure(label, argv) for label, argv in short.items()} for _ in range(args.repeat)]

    server, url = start_prefect_server(args.workdir)
    served = {"PREFECT_API_URL": url}
    server_rounds = []
    try:
        measure("first run on the server", huizong + ["run"] + where, served)  # registers the flows
        for n in range(args.repeat):
            write_correction(inbox, n)
            server_rounds.append({
                "rerun --period, served": measure("rerun --period, served", huizong + [
                    "rerun", "--unit", "990101105", "--period", "2019Q3"] + where, served),
                "nothing new, served": measure("nothing new, served", huizong + ["run"] + where, served),
            })
    finally:
        server.terminate()
        server.wait()
        for leftover in inbox.glob("correction_*.xlsx"):
            leftover.unlink()

    results = [median_of(cold_rounds, label) for label in cold_rounds[0]]
    results += [median_of(rounds, label) for label in short if label != "null flow"]
    results += [median_of(server_rounds, label) for label in server_rounds[0]]
    print(f"\n{'process':<24}{'wall s':>9}{'peak MiB':>10}{'exit':>6}  runs")
    for r in results:
        print(f"{r['label']:<24}{r['wall']:>9.2f}{r['mib']:>10.0f}{r['code']:>6}  {r.get('runs', '')}")

    ratio = statistics.median(r["cold run"]["wall"] / r["bare pandas"]["wall"] for r in cold_rounds)
    own = paired(cold_rounds, "cold run")
    own_half = paired(cold_rounds, "cold run, half")
    parse = median_of(cold_rounds, "parse limit")["wall"]
    served_nothing = median_of(server_rounds, "nothing new, served")["wall"]
    served_rerun = median_of(server_rounds, "rerun --period, served")["wall"]
    peak = max(r["mib"] for r in results if r["label"] not in ("bare pandas", "parse limit", "null flow"))
    print("\n(differences and ratios: medians over rounds of the values within each round)")
    print(f"cold run / bare pandas              {ratio:.2f}x   (target <= 0.4x)")
    print(f"own work: cold run - null flow      {own:.2f} s = {own / parse:.1f}x the parse limit "
          f"{parse:.2f} s (target <= 6x)")
    print(f"own work, 1,000 / 2,000 workbooks   {own_half / own:.2f}   (target <= 0.55)")
    print(f"second run - null flow              {paired(rounds, 'second run'):+.2f} s (target <= +1 s)")
    print(f"rerun unit - null flow              {paired(rounds, 'rerun unit'):+.2f} s (issue 4: <= +2 s)")
    print(f"rerun forced - null flow            {paired(rounds, 'rerun forced'):+.2f} s (200 versions read again)")
    print(f"served: nothing new                 {served_nothing:.2f} s (target <= 2 s)")
    print(f"served: rerun --unit --period       {served_rerun:.2f} s with a corrected file (target <= 5 s)")
    print(f"peak memory of huizong              {peak:.0f} MiB (target <= 1024)")
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
