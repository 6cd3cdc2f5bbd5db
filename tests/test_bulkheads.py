"""One file never stops the night: a pass over valid files mixed with files that crash, exhaust or
hang their reader, links, special files, copies, odd names and clocks publishes the valid files and
records every other one, with its reason."""
from __future__ import annotations

import datetime as dt
import os
import random
import resource
import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import query, run_pass

from huizong.flows.result import Copy
from huizong.outputs.demo import write_unit_workbook
from huizong.schemas import catalog as cat

TOWNS = cat.towns()


@pytest.fixture(scope="module")
def hostile_pass(tmp_path_factory, prefect_harness):
    """One pass over an inbox of two valid files and every hostile case; then a second pass."""
    root = tmp_path_factory.mktemp("hostile")
    inbox, warehouse = root / "inbox", root / "warehouse"
    good = write_unit_workbook(inbox / "城关镇_2019Q1.xlsx", TOWNS[0], "2019Q1")
    write_unit_workbook(inbox / "按镇分类" / "东坪镇_2019Q1.xlsx", TOWNS[5], "2019Q1")  # a subfolder
    shutil.copy(good, inbox / "城关镇_2019Q1 - 副本.xlsx")  # byte-identical, another name
    os.utime(inbox / "城关镇_2019Q1 - 副本.xlsx", (good.stat().st_mtime + 60,) * 2)
    for i, fault in enumerate(("abort", "hog", "hang")):  # the reader dies, eats memory, hangs
        write_unit_workbook(inbox / f"{fault}.xlsx", TOWNS[1 + i], "2019Q1")
    (inbox / "passwd.xlsx").symlink_to("/etc/passwd")
    os.mkfifo(inbox / "管道.xlsx")
    gbk = write_unit_workbook(root / "gbk.xlsx", TOWNS[4], "2019Q1")
    shutil.copy(gbk, os.fsencode(inbox) + b"/" + "草原镇_一季度.xlsx".encode("gbk"))
    long_name = ("关于城关镇二〇一九年第一季度精神文明建设各项工作指标完成情况的统计报表" * 2)[:80] + ".xlsx"
    village = cat.villages_of(TOWNS[6].code)[0]
    write_unit_workbook(inbox / long_name, TOWNS[6], "2019Q2", {(village.code, "V03"): "-1"})
    future = write_unit_workbook(inbox / "钟表错误.xlsx", TOWNS[7], "2019Q2")
    os.utime(future, (dt.datetime(2030, 1, 1).timestamp(),) * 2)

    env = {"HUIZONG_FAILPOINT": "reader", "HUIZONG_FILE_SECONDS": "5"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        first = run_pass(inbox, warehouse)
    finally:
        for k, v in saved.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    second = run_pass(inbox, warehouse)
    return inbox, warehouse, first, second, long_name


def test_valid_files_are_published(hostile_pass):
    _, warehouse, first, _, _ = hostile_pass
    loaded = {f["file_name"] for f in first.files if f["status"] == "loaded"}
    assert loaded == {"城关镇_2019Q1.xlsx", "按镇分类/东坪镇_2019Q1.xlsx", "草原镇_一季度.xlsx", "钟表错误.xlsx"}
    assert query(warehouse, "select count(distinct unit_code) from marts.town_totals where value is not null "
                            "and year = 2019") == [(4,)]


@pytest.mark.parametrize("name, words, cause", [
    ("abort.xlsx", "读取程序异常终止", "SIGABRT"),
    ("hog.xlsx", "占用内存过大", "MemoryError"),
    ("hang.xlsx", "超过 5 秒仍未读完", "no answer within 5 s"),
])
def test_a_file_that_kills_its_reader_is_rejected_with_the_cause(hostile_pass, name, words, cause):
    _, warehouse, _, _, _ = hostile_pass
    (reason, feedback), = query(warehouse, "select first_reason, feedback_path from ops.imports "
                                           "where file_name = ? and status = 'rejected'", [name])
    assert words in reason and cause in reason
    assert (warehouse / f"{feedback}.txt").exists()


def test_links_and_special_files_are_refused_never_followed(hostile_pass):
    _, warehouse, first, _, _ = hostile_pass
    assert sorted(r.file_name for r in first.refused) == ["passwd.xlsx", "管道.xlsx"]
    assert sorted(query(warehouse, "select inbox_path, sha256 from ops.arrivals where status = 'refused'")) == [
        ("passwd.xlsx", None), ("管道.xlsx", None)]
    passwd = Path("/etc/passwd").read_bytes()
    assert not any(p.read_bytes() == passwd for p in (warehouse / "files").rglob("*") if p.is_file())


def test_every_arrival_is_recorded_copies_included(hostile_pass):
    _, warehouse, first, _, _ = hostile_pass
    assert first.copies == [Copy(file_name="城关镇_2019Q1 - 副本.xlsx", same_as="城关镇_2019Q1.xlsx")]
    arrivals = dict(query(warehouse, "select inbox_path, status from ops.arrivals"))
    versions = {name for (name,) in query(warehouse, "select file_name from ops.imports")}
    assert arrivals["城关镇_2019Q1 - 副本.xlsx"] == "copy"
    assert {name for name, status in arrivals.items() if status == "received"} == versions
    assert len(arrivals) == 11  # every file that landed, under its own name


def test_a_name_that_is_not_utf8_and_a_long_name(hostile_pass):
    _, warehouse, _, _, long_name = hostile_pass
    assert query(warehouse, "select status from ops.imports where file_name = '草原镇_一季度.xlsx'") == [("loaded",)]
    (feedback,) = query(warehouse, "select feedback_path from ops.imports where file_name = ?", [long_name])[0]
    path = warehouse / f"{feedback}.xlsx"
    assert path.exists() and len(path.name.encode()) <= 255


def test_a_clock_in_the_future_never_counts(hostile_pass):
    _, warehouse, _, _, _ = hostile_pass
    (received,) = query(warehouse, "select received_at from ops.imports where file_name = '钟表错误.xlsx'")[0]
    assert received <= dt.datetime.now(dt.timezone.utc)


def test_the_next_pass_finds_nothing_new_and_no_process_passed_one_gib(hostile_pass):
    _, _, _, second, _ = hostile_pass
    assert second.files == [] and second.refused == [] and second.copies == []
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss < 1 << 20  # KiB: under 1 GiB
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < 1 << 20


def mutated(source: Path, out: Path, rng: random.Random) -> Path:
    """A valid workbook with its bytes or its sheet XML damaged at random."""
    data = bytearray(source.read_bytes())
    if rng.random() < 0.5:
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        out.write_bytes(bytes(data))
        return out
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            xml = zin.read(item.filename)
            if item.filename.startswith("xl/worksheets/") and xml:
                cut = rng.randrange(len(xml))
                xml = rng.choice([xml[:cut], xml[:cut] + xml[cut + rng.randint(1, 50):],
                                  xml.replace(b'r="', b'r="Z', 1), xml.replace(b"<v>", b"<v>x", 3)])
            zout.writestr(item, xml)
    return out


def test_a_pass_over_damaged_workbooks_always_finishes_with_every_file_recorded(tmp_path, prefect_harness):
    rng = random.Random(20261129)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    sources = [write_unit_workbook(tmp_path / f"src{i}.xlsx", TOWNS[i], f"2019Q{1 + i % 4}") for i in range(4)]
    names = [mutated(sources[i % 4], inbox / f"damaged_{i:02d}.xlsx", rng).name for i in range(24)]
    summary = run_pass(inbox, tmp_path / "warehouse")
    recorded = {f["file_name"] for f in summary.files} | {c.file_name for c in summary.copies}
    assert recorded == set(names)
    assert all(f["status"] in ("loaded", "rejected", "duplicate", "superseded") for f in summary.files)
