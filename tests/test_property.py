"""Random cell contents thrown at the reader and the validator: a load or a clear rejection, never
an exception."""
from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from huizong.intake.feedback import write_feedback
from huizong.intake.validation import validate_batch
from huizong.intake.workbook import read_submission
from huizong.intake.writer import write_workbook
from huizong.schemas import catalog as cat

TOWN = cat.unit_by_code()["990101103"]
VILLAGES = cat.villages_of(TOWN.code)
CELLS = [(v.code, i.code) for v in VILLAGES[:3] for i in cat.indicators_for(TOWN, cat.VILLAGE_SHEET, "2019Q1")]
CELLS += [(TOWN.code, i.code) for i in cat.indicators_for(TOWN, cat.TOWN_SHEET, "2019Q1")]

contents = st.one_of(
    st.none(), st.booleans(), st.integers(-10**9, 10**9),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12),
    st.text(max_size=12),
    st.sampled_from(["是", "否", "无", "—", "/", "1,200", "１２", "十二", "约5", "5+", "#REF!", "县级",
                     "全国", "=1+1", "+5", "-0", "0.00", " 7 ", "1e3", "NaN", "inf", "\t", "\u3000"]),
)
cover_values = st.one_of(st.none(), st.text(max_size=15), st.integers(0, 10**12),
                         st.sampled_from(["2019Q1", "2019年第一季度", "990101103", "三里营镇"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.dictionaries(st.sampled_from(CELLS), contents, max_size=12),
       period=cover_values, code=st.one_of(st.just(TOWN.code), cover_values))
def test_any_cell_content_loads_or_is_rejected_clearly(values, period, code):
    with tempfile.TemporaryDirectory() as d:
        path = write_workbook(Path(d) / "f.xlsx", TOWN, period, values, unit_code=code)
        (outcome,), loadable = validate_batch([read_submission(path, "sha")])
        if not outcome.ok:  # the feedback for the town is written whatever the contents
            stem = write_feedback(path, "f.xlsx", outcome.unit_code, outcome.period, outcome.problems, Path(d))
            book = load_workbook(Path(d) / f"{stem}.xlsx")
            assert all(c.data_type != "f" for ws in book.worksheets for row in ws.iter_rows() for c in row)
    if outcome.ok:
        assert len(loadable) == len(VILLAGES) * 15 + 19
        assert loadable["value"].notna().sum() + loadable["level"].notna().sum() == len(loadable)
    else:
        assert loadable.empty
        for p in outcome.problems:
            assert p.message and p.check
