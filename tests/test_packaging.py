"""`pip install .` gives one package, huizong, that runs a pass from any folder: its flows,
schemas and SQL travel inside it, and nothing generic (`flows`, `schemas`) lands in site-packages."""
from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

from conftest import query

from huizong.outputs.demo import write_unit_workbook
from huizong.schemas import catalog as cat

ROOT = Path(__file__).resolve().parents[1]


def test_the_installed_wheel_runs_a_pass_from_another_folder(tmp_path, prefect_harness):
    from prefect.settings import PREFECT_API_URL

    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(dist), str(ROOT)], check=True, capture_output=True, timeout=300)
    (wheel,) = dist.glob("huizong-*.whl")
    fresh = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(fresh)], check=True, timeout=120)
    site = Path(subprocess.run([str(fresh / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               check=True, capture_output=True, text=True).stdout.strip())
    # The test environment's dependencies, without its editable huizong: a .pth line adds the
    # folder to sys.path, and .pth files of a folder added that way are not run.
    (site / "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    assert (site / "huizong" / "flows" / "nightly.py").exists()
    assert (site / "huizong" / "sql" / "marts" / "county_totals.sql").exists()
    assert not (site / "flows").exists() and not (site / "schemas").exists()

    elsewhere = tmp_path / "elsewhere"
    write_unit_workbook(elsewhere / "inbox" / "q1.xlsx", cat.towns()[0], "2019Q1")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PREFECT_API_URL"] = PREFECT_API_URL.value()
    run = subprocess.run([str(fresh / "bin" / "python"), "-c",
                          "import huizong, sys; from huizong.cli import main; print(huizong.__file__); sys.exit(main())",
                          "run"], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert run.stdout.splitlines()[0].startswith(str(site))  # the installed copy, not the checkout
    assert query(elsewhere / "warehouse", "select count(*) from marts.county_totals where value is not null") != [(0,)]
