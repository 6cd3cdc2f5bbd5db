"""The README is the front door and the docs site the reference (issue 24, item 5): the site
builds with `mkdocs build --strict` and no warning, the README stays under 10 KB with its two
Quick start commands, and the generated warehouse reference holds every relation the models'
YAML declares, with every column.

The declared relations are found here the simplest way, not by the docs hook's code: a model is
named by its file (`sql/marts/county_totals.yml` declares `marts.county_totals`, as the model
runner requires), and the warehouse's own tables are listed under `sources:` of
`sql/setup/warehouse.yml`."""
from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
QUICK_START = (
    'python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/huizong run',
    'python3 -m venv .venv && .venv/bin/pip install -e ".[test]" && .venv/bin/pytest -q',
)


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    site = tmp_path_factory.mktemp("site")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    return done, site


def declared_columns() -> dict[str, list[str]]:
    """Every relation the YAML under sql/ declares, with its column names."""
    declared = {}
    for path in sorted((ROOT / "sql").glob("*/*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for model in doc.get("models") or []:  # one, named as its file
            declared[f"{path.parent.name}.{path.stem}"] = [c["name"] for c in model["columns"]]
        for source in doc.get("sources") or []:
            for table in source["tables"]:
                declared[f"{source['name']}.{table['name']}"] = [c["name"] for c in table["columns"]]
    return declared


def test_the_site_builds_strict_without_a_warning(build):
    done, site = build
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "WARNING" not in output, output
    assert (site / "index.html").exists()


def test_readme_is_a_front_door_under_10_kb():
    text = README.read_text(encoding="utf-8")
    assert len(text.encode("utf-8")) <= 10_240
    for command in QUICK_START:
        assert command in text, command
    assert "中文快速上手" in text
    assert "(docs/index.md)" in text and "(CONTRACT.md)" in text


def test_every_declared_relation_and_column_is_on_the_reference_page(build):
    _, site = build
    page = html.unescape((site / "reference" / "warehouse" / "index.html").read_text(encoding="utf-8"))
    declared = declared_columns()
    assert len(declared) >= 40  # 25 models and the ledger's and seeds' tables
    assert {r.split(".")[0] for r in declared} == {"ops", "raw", "staging", "intermediate", "marts"}
    headings = re.findall(r'<h3 id="([^"]+)"', page)
    assert sorted(headings) == sorted(declared)  # each relation once, and nothing else
    sections = dict(zip(headings, re.split(r'<h3 id="[^"]+"', page)[1:]))
    for relation, columns in declared.items():
        section = sections[relation].split("<h2", 1)[0]
        missing = [c for c in columns if f"<code>{c}</code>" not in section]
        assert not missing, f"{relation}: columns not on the page: {missing}"


def test_the_reference_shows_the_declared_grain_and_key(build):
    _, site = build
    page = html.unescape((site / "reference" / "warehouse" / "index.html").read_text(encoding="utf-8"))
    section = page.split('<h3 id="marts.town_totals"', 1)[1].split("<h3", 1)[0]
    assert "One row per year, town and numeric indicator that towns report." in section
    assert re.search(r"Key:</strong>\s*<code>year</code>, <code>unit_code</code>, <code>indicator_code</code>", section)


def test_the_contract_and_the_form_are_pages_of_the_site(build):
    _, site = build
    for page, source in (("contract", "CONTRACT.md"), ("form", "FORM.md")):
        title = (ROOT / source).read_text(encoding="utf-8").splitlines()[0].removeprefix("# ")
        assert title in html.unescape((site / page / "index.html").read_text(encoding="utf-8"))
