"""The library's rooms stay layered (pyproject.toml's [tool.importlinter] contract): core <-
schemas <- intake <- store <- outputs <- bulkheads <- office <- flows <- web <- cli. A later change that
imports upwards fails here.

The repository maps its top-level flows/, schemas/ and sql/ into the package (huizong.flows, ...),
which an editable install resolves by a finder that import-linter's file walk cannot see: the test
lays the package out as an ordinary install would, in a temporary folder, and lints that."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_rooms_import_only_downwards(tmp_path):
    package = tmp_path / "huizong"
    shutil.copytree(ROOT / "huizong", package, ignore=shutil.ignore_patterns("__pycache__"))
    for mapped in ("flows", "schemas", "sql"):
        shutil.copytree(ROOT / mapped, package / mapped, ignore=shutil.ignore_patterns("__pycache__"))
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), str(ROOT / "pyproject.toml")], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(tmp_path)}, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 kept, 0 broken" in done.stdout
