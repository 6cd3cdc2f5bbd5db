"""The rules by which the summary writes a figure, table-tested on their boundaries (no warehouse):
近 is never below the truth and at most 10% above it; 余 and 多 are a round number below the truth,
dropped when exact; %以上 is never written of a whole share; the template asserts no fixed fact
silently; a partial year says which quarters it covers."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest

from huizong.outputs.summary import (
    CONFIRM,
    INCOMPLETE_MARK,
    TEMPLATE,
    Coverage,
    Figure,
    fill,
    near_in_wan,
    rounded_down,
    write_figure,
)
from huizong.schemas import catalog as cat


def written(value, before: str, template: str) -> str:
    """The phrase `template` (one ** with `before` just before it) as the summary writes it."""
    at = template.index("**")
    shown, drop_before, drop_after = write_figure(None if value is None else Decimal(value),
                                                  before, template[at + 2:at + 5])
    head = template[:at]
    return head[:len(head) - drop_before] + shown + template[at + 2 + drop_after:]


@pytest.mark.parametrize("value, text", [
    (93421, "受教师生近9.4万人"),
    (93401, "受教师生近9.4万人"),
    (94001, "受教师生近9.5万人"),   # 9.4万 would be below the truth
    (94000, "受教师生9.4万人"),     # exact: no 近
    (50000, "受教师生5万人"),
    (9001, "受教师生9000余人"),     # 近1万 would be 11.1% above
    (9091, "受教师生近1万人"),      # 10000 / 9091 = 1.09999: within 10%
    (9090, "受教师生9000余人"),     # 10000 / 9090 = 1.1001: beyond 10%, written as 余
    (1600, "受教师生1600人"),       # 近0.2万 is 25% above: written plainly
    (1643, "受教师生1600余人"),
    (640, "受教师生640人"),
    (7, "受教师生7人"),
    (0, "受教师生0人"),
    (471001, "受教师生近47.2万人"),
    (None, "受教师生（暂无数据）人"),
])
def test_near_is_never_below_and_at_most_ten_percent_above(value, text):
    assert written(value, "近", "受教师生近**万人") == text
    match = re.fullmatch(r"受教师生(近)?([\d.]+)(万)?(余)?人", text)
    if value and match:
        near, number, wan, yu = match.groups()
        shown = Decimal(number) * (10000 if wan else 1)
        if near:
            assert value <= shown <= Decimal(value) * Decimal("1.1")
            assert shown != value
        elif yu:
            assert shown < value
        else:
            assert shown == value


@pytest.mark.parametrize("value", [1, 9, 10, 99, 100, 101, 999, 1000, 1599, 1600, 1601, 9999, 10000, 93421,
                                   99999, 100000, 123456])
def test_near_in_wan_bounds(value):
    shown = near_in_wan(Decimal(value))
    if shown is not None:
        assert value <= shown * 10000 <= value * 1.1
        assert shown * 10 == int(shown * 10)  # one decimal
    else:  # the next tenth of a 万 is more than 10% above
        assert (Decimal(value) / 1000).__ceil__() * 1000 > value * 1.1


@pytest.mark.parametrize("value, yu, duo", [
    (7, "大型宣传喷绘7面", "组织7名机关干部"),
    (20, "大型宣传喷绘20面", "组织20名机关干部"),
    (23, "大型宣传喷绘20余面", "组织20多名机关干部"),
    (99, "大型宣传喷绘90余面", "组织90多名机关干部"),
    (100, "大型宣传喷绘100面", "组织100名机关干部"),
    (156, "大型宣传喷绘150余面", "组织150多名机关干部"),
    (1234, "大型宣传喷绘1200余面", "组织1200多名机关干部"),
    (1200, "大型宣传喷绘1200面", "组织1200名机关干部"),
    (42196, "大型宣传喷绘42000余面", "组织42000多名机关干部"),
])
def test_yu_and_duo_are_a_round_number_below_dropped_when_exact(value, yu, duo):
    assert written(value, "绘", "大型宣传喷绘**余面") == yu
    assert written(value, "组", "组织**多名机关干部") == duo
    assert rounded_down(Decimal(value)) <= value


@pytest.mark.parametrize("value, text", [
    (0, "0%以上的村达到"), (57, "57%以上的村达到"), (99, "99%以上的村达到"), (100, "100%的村达到"),
    (None, "（暂无数据）的村达到"),
])
def test_a_share_never_reads_100_percent_and_more(value, text):
    assert written(value, "", "**%以上的村达到") == text


def test_every_fixed_fact_of_the_template_is_marked_or_named_in_form():
    """The seed's facts that the data does not give are marks for the office, not bare text."""
    text = TEMPLATE.read_text(encoding="utf-8")
    body = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    marked = "".join(re.findall(r"⟦([^⟧]*)⟧", body))
    for fact in ("第二届大型集体婚礼", "5个志愿者服务分队", "{year}创文测评体系", "临川市美德少年",
                 "云岭县中学、南道巷中学、西关小学", "临川日报、临川电视台等媒体进行了报道", "公安局、文广局",
                 "红白理事会", "年初召开创文工作动员会", "四中全会"):
        assert fact in marked, fact
    bare = re.sub(r"⟦[^⟧]*⟧|⟨[^⟩]*⟩|⟪[^⟫]*⟫", "", body)
    for fact in ("第二届", "5个志愿者", "美德少年荣誉", "南道巷", "三里营村"):
        assert fact not in bare, fact
    # the seed's sentences whole: the second scenic area, the three programmes
    assert "在⟦云岭草原⟧、⟨景区名称⟩等景区" in body
    assert "宣讲《脱贫路上》**期、《⟨节目名称⟩》⟨期数⟩期，《⟨节目名称⟩》⟨期数⟩期" in body


def figures_for_all(value=Decimal(5), **kw) -> list[Figure]:
    figs = [Figure(i.code, 1, value, 40, 40, **kw) for i in cat.indicators()
            if i.summary_phrase and "**" in i.summary_phrase and i.code != "T19"]
    return figs + [Figure("V13", 2, value, 40, 40, **kw)] + [Figure("V07", s, value, 40, 40, **kw) for s in (2, 3, 4)]


def test_a_partial_year_says_what_it_covers():
    summary = fill(2020, list(cat.indicators()), figures_for_all(), coverage=Coverage(2020, 2))
    text = "\n".join(b.text for b in summary.blocks)
    assert summary.title == "县精神文明办2020年上半年工作总结暨下半年工作计划"
    assert text.splitlines()[1].startswith("2020年上半年（1—6月），我县")
    assert "下半年，县文明办将" in text and "2021年，县文明办将" not in text
    assert "**" not in text
    q1 = fill(2020, list(cat.indicators()), figures_for_all(), coverage=Coverage(2020, 1))
    assert q1.title == "县精神文明办2020年一季度工作总结暨后三个季度工作计划"
    q3 = fill(2020, list(cat.indicators()), figures_for_all(), coverage=Coverage(2020, 3))
    assert "2020年前三季度（1—9月）" in "\n".join(b.text for b in q3.blocks)
    assert Coverage(2020, 3).file_tag == "2020_1-9月" and Coverage(2019).file_tag == "2019"


def test_marks_and_names_in_the_text():
    summary = fill(2019, list(cat.indicators()), figures_for_all(), names={"V04": ["甲村", "乙村", "丙村"]})
    text = "\n".join(b.text for b in summary.blocks)
    assert "甲村、乙村等5个村建成核心价值观宣传长廊" in text and "三里营村" not in text
    assert f"第二届大型集体婚礼活动{CONFIRM}" in text
    assert "在云岭草原【请核实】、【待填：景区名称】等景区" in text
    assert "宣讲《脱贫路上》5期、《【待填：节目名称】》【待填：期数】期，《【待填：节目名称】》【待填：期数】期" in text
    # without the data's names, the seed's example names are kept, to confirm
    unnamed = "\n".join(b.text for b in fill(2019, list(cat.indicators()), figures_for_all()).blocks)
    assert f"三里营村、范家营村{CONFIRM}等5个村" in unnamed


def test_only_figures_that_may_change_are_marked():
    figs = [Figure(f.indicator_code, f.slot, f.value, 39, 40, may_change=f.indicator_code == "V03")
            for f in figures_for_all()]
    text = "\n".join(b.text for b in fill(2019, list(cat.indicators()), figs).blocks)
    assert f"各类道德讲堂5{INCOMPLETE_MARK}场次" in text
    assert text.count(INCOMPLETE_MARK) == 1
