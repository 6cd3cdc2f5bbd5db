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

The short processes (null flow, second run, reruns) run in --repeat rounds of one each, so that
drift in Prefect's start time falls on all alike; each difference to the null flow is the median
over rounds of the difference within a round.
Usage: python benchmarks/run.py [--workdir DIR] [--years N] [--repeat N]
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
    from huizong.demo import _draw, true_value
    from huizong.schemas import catalog as cat

    out = {}
    for sheet in cat.sheets_of(town):
        holders = cat.villages_of(town.code) if sheet == cat.VILLAGE_SHEET else (town,)
        for holder in holders:
            for ind in cat.indicators_for(town, sheet):
                if ind.kind not in ("flow", "flag") or _draw(holder.code, period, ind.code, "spike") >= SPIKE_SHARE:
                    continue
                value = true_value(holder.code, period, ind.code)
                if ind.kind == "flag":
                    out[(holder.code, ind.code)] = "否"
                elif value > 0:
                    out[(holder.code, ind.code)] = int(min(ind.max, value * 7 + 1))
    return out


def generate_inbox(inbox: Path, years: int) -> None:
    from huizong.demo import write_unit_workbook
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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workdir", type=Path, default=Path("/tmp/huizong-bench"))
    p.add_argument("--years", type=int, default=50, help="years of 40 workbooks each (default 50)")
    p.add_argument("--cold-repeat", type=int, default=3, help="rounds of bare pandas and cold run")
    p.add_argument("--repeat", type=int, default=5, help="rounds of the short processes, medians kept")
    args = p.parse_args()
    inbox, warehouse = args.workdir / "inbox", args.workdir / "warehouse"
    t = time.perf_counter()
    generate_inbox(inbox, args.years)
    n_files = len(list(inbox.glob("*.xlsx")))
    print(f"inbox: {n_files} workbooks ({time.perf_counter() - t:.0f} s to make or find)")
    py = sys.executable
    huizong = [py, "-m", "huizong.cli"]
    where = ["--inbox", str(inbox), "--warehouse", str(warehouse)]
    short = {  # run in rounds, each round one of each, so that drift in Prefect's start time
        # (a second or two here) falls on all of them alike; medians and paired differences kept
        "null flow": [py, "-c", NULL_FLOW],
        "second run": huizong + ["run"] + where,
        "rerun unit": huizong + ["rerun", "--unit", "990101105"] + where,
        "rerun forced": huizong + ["rerun", "--unit", "990101105", "--force"] + where,
    }
    cold_rounds = []
    for _ in range(args.cold_repeat):  # bare pandas and a cold run side by side, from scratch
        shutil.rmtree(warehouse, ignore_errors=True)
        (args.workdir / "bare.duckdb").unlink(missing_ok=True)
        cold_rounds.append({
            "bare pandas": measure("bare pandas", [py, "-c", BARE_PANDAS, str(inbox), str(args.workdir / "bare.duckdb")]),
            "cold run": measure("cold run", huizong + ["run"] + where)})
    results = []
    for label in ("bare pandas", "cold run"):
        runs = sorted((r[label] for r in cold_rounds), key=lambda r: r["wall"])
        results.append({**runs[len(runs) // 2], "runs": [round(r["wall"], 2) for r in runs]})
    cold_ratio = statistics.median(r["cold run"]["wall"] / r["bare pandas"]["wall"] for r in cold_rounds)
    rounds = [{label: measure(label, argv) for label, argv in short.items()} for _ in range(args.repeat)]
    for label in short:
        runs = sorted((r[label] for r in rounds), key=lambda r: r["wall"])
        results.append({**runs[len(runs) // 2], "runs": [round(r["wall"], 2) for r in runs]})
    over_null = {label: statistics.median(r[label]["wall"] - r["null flow"]["wall"] for r in rounds)
                 for label in short}
    by = {r["label"]: r for r in results}
    print(f"\n{'process':<20}{'wall s':>9}{'peak MiB':>10}{'exit':>6}  runs")
    for r in results:
        print(f"{r['label']:<20}{r['wall']:>9.2f}{r['mib']:>10.0f}{r['code']:>6}  {r.get('runs', '')}")
    rounds_text = ", ".join(f"{r['cold run']['wall'] / r['bare pandas']['wall']:.2f}" for r in cold_rounds)
    print(f"\ncold run / bare pandas        {cold_ratio:.2f}x  (target <= 0.5x; median of the rounds' "
          f"ratios: {rounds_text})")
    print("differences: median over rounds of (process - null flow of the same round)")
    print(f"second run - null flow        {over_null['second run']:+.2f} s (target <= +1 s)")
    print(f"rerun unit - null flow        {over_null['rerun unit']:+.2f} s (target <= +2 s)")
    print(f"rerun forced - null flow      {over_null['rerun forced']:+.2f} s (200 versions read again)")
    print(f"peak memory of huizong        {max(by[k]['mib'] for k in ('cold run', 'second run', 'rerun unit', 'rerun forced')):.0f} MiB (target <= 1024)")
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
