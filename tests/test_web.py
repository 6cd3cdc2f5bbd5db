"""The web page through its routes (Starlette's TestClient over the real app, a real warehouse made
by a real pass, real accounts, real workbooks uploaded): every route without a session and with
another unit's, the login pause, CSRF, uploads told by content and bounded in size, a broken
workbook's cells and escaped text, a valid one placed in the inbox under huizong's name."""
from __future__ import annotations

import os
import re

import pytest
from conftest import query, run_pass
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from huizong.office import accounts
from huizong.outputs.demo import write_unit_workbook
from huizong.schemas import catalog as cat
from huizong.web.app import create_app

TOWN, OTHER = cat.towns()[0], cat.towns()[1]
VILLAGE = cat.villages_of(TOWN.code)[0]
PASSWORD = "correct horse 1"
ROUTES = [("get", "/"), ("get", "/unit"), ("get", "/unit/template?period=2019Q4"), ("post", "/unit/upload"), ("post", "/unit/explain"),
          ("get", "/unit/feedback/abcdef0123456789"), ("get", "/office"), ("post", "/office/review"),
          ("post", "/office/signoff"), ("post", "/office/unlock"), ("post", "/office/rerun"),
          ("get", "/office/download/summary_2019.md"), ("get", "/office/export?year=2019"), ("post", "/logout")]
OFFICE_ROUTES = [r for r in ROUTES if r[1].startswith("/office")]


@pytest.fixture(scope="module")
def site(tmp_path_factory, prefect_harness):
    root = tmp_path_factory.mktemp("web")
    inbox, warehouse = root / "inbox", root / "warehouse"
    for town in (TOWN, OTHER):
        for period in ("2019Q1", "2019Q2"):
            write_unit_workbook(inbox / f"{town.name}_{period}.xlsx", town, period)
    run_pass(inbox, warehouse)
    accounts.add(warehouse, "王芳", "office", PASSWORD)
    accounts.add(warehouse, "城关", "unit", PASSWORD, TOWN.code)
    accounts.add(warehouse, "西关", "unit", PASSWORD, OTHER.code)
    return root, inbox, warehouse


def client(site) -> TestClient:
    _, inbox, warehouse = site
    return TestClient(create_app(warehouse, inbox, start_passes=False), follow_redirects=False)


def logged_in(site, name: str) -> tuple[TestClient, str]:
    c = client(site)
    r = c.post("/login", data={"name": name, "password": PASSWORD})
    assert r.status_code == 303, r.text
    page = c.get("/", follow_redirects=True)
    return c, re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def upload(c: TestClient, csrf: str | None, name: str, data: bytes):
    """POST /unit/upload as the browser sends it: the form's token and one file."""
    return c.post("/unit/upload", data={"csrf": csrf} if csrf is not None else None, files={"file": (name, data)})


def test_the_routes_tried_are_every_route_of_the_app(site):
    """The security tests below try ROUTES: a route added to the app and not to them fails here."""
    _, inbox, warehouse = site
    public = {"/login", "/healthz", "/font/sans.otf"}
    served = {(m.lower(), r.path) for r in create_app(warehouse, inbox, start_passes=False).routes
              if r.path not in public and not r.path.startswith(("/docs", "/openapi", "/redoc"))
              for m in getattr(r, "methods", ()) if m != "HEAD"}
    tried = {(m, re.sub(r"/abcdef0123456789$", "/{upload_id}", re.sub(r"/summary_2019\.md$", "/{name}", route.split("?")[0])))
             for m, route in ROUTES}
    assert served == tried


def test_every_route_needs_a_session(site):
    c = client(site)
    for method, route in ROUTES:
        r = getattr(c, method)(route)
        assert r.status_code == 303 and r.headers["location"] == "/login", (route, r.status_code)
    forged = client(site)
    forged.cookies.set("huizong_session", "eyJuYW1lIjoi546L6IqzIn0.forged.sig")
    assert forged.get("/office").status_code == 303


def test_a_units_account_is_refused_the_office_and_other_units(site):
    c, csrf = logged_in(site, "西关")
    for method, route in OFFICE_ROUTES:
        r = getattr(c, method)(route, **({"data": {"csrf": csrf}} if method == "post" else {}))
        assert r.status_code == 403, route
        assert TOWN.name not in r.text and "990101" not in r.text
    page = c.get("/unit").text
    assert OTHER.name in page and TOWN.name not in page
    # another unit's upload feedback is not found for it
    town, town_csrf = logged_in(site, "城关")
    broken = write_unit_workbook(site[0] / "broken.xlsx", TOWN, "2019Q3", {(VILLAGE.code, "V03"): "-2"})
    done = upload(town, town_csrf, "城关镇.xlsx", broken.read_bytes())
    upload_id = re.search(r"/unit/feedback/([0-9a-f]+)", done.text).group(1)
    assert town.get(f"/unit/feedback/{upload_id}").status_code == 200
    assert c.get(f"/unit/feedback/{upload_id}").status_code == 404
    assert c.get("/unit/feedback/..%2F..%2Faccounts.sqlite").status_code == 404


def test_an_office_account_is_refused_the_towns_upload(site):
    c, csrf = logged_in(site, "王芳")
    assert c.get("/unit").status_code == 403
    assert c.get("/office").status_code == 200


def test_five_failed_logins_pause_the_name(site):
    _, _, warehouse = site
    accounts.add(warehouse, "试错", "unit", PASSWORD, cat.towns()[2].code)
    c = client(site)
    for _ in range(5):
        assert "用户名或密码不正确" in c.post("/login", data={"name": "试错", "password": "wrong one"}).text
    r = c.post("/login", data={"name": "试错", "password": PASSWORD})
    assert r.status_code == 200 and "秒后再试" in r.text  # even the right password waits
    assert "用户名或密码不正确" in c.post("/login", data={"name": "nobody", "password": PASSWORD}).text


def test_a_form_without_its_csrf_token_is_refused(site):
    c, csrf = logged_in(site, "城关")
    ok = write_unit_workbook(site[0] / "ok.xlsx", TOWN, "2019Q3")
    r = upload(c, None, "a.xlsx", ok.read_bytes())
    assert r.status_code == 403
    r = upload(c, csrf + "x", "a.xlsx", ok.read_bytes())
    assert r.status_code == 403


def test_a_broken_workbook_is_told_cell_by_cell_with_its_text_escaped(site):
    c, csrf = logged_in(site, "城关")
    bad = write_unit_workbook(site[0] / "bad.xlsx", TOWN, "2019Q3", {
        (VILLAGE.code, "V03"): "<script>alert(1)</script>",
        (cat.villages_of(TOWN.code)[1].code, "V03"): '=HYPERLINK("http://evil.example","点")'})
    r = upload(c, csrf, "<b>报表</b>.xlsx", bad.read_bytes())
    assert r.status_code == 200
    assert "<script>alert" not in r.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert "<b>报表" not in r.text and "&lt;b&gt;报表" in r.text
    assert "村级指标" in r.text and re.search(r'class="cell">E\d+<', r.text)
    assert "文件未入库" in r.text
    feedback = re.search(r'href="(/unit/feedback/[0-9a-f]+)"', r.text).group(1)
    got = c.get(feedback)
    assert got.status_code == 200 and got.content.startswith(b"PK")
    _, inbox, _ = site
    assert not any("网页上传" in p.name for p in inbox.iterdir() if "2019Q3" in p.name and p.stat().st_size == len(bad.read_bytes()))


def test_a_valid_workbook_is_placed_in_the_inbox_under_huizongs_name(site):
    _, inbox, warehouse = site
    c, csrf = logged_in(site, "城关")
    before = set(os.listdir(inbox))
    ok = write_unit_workbook(site[0] / "good.xlsx", TOWN, "2019Q3")
    r = upload(c, csrf, "../../../etc/passwd", ok.read_bytes())
    assert "检查通过，已收到" in r.text
    (placed,) = set(os.listdir(inbox)) - before
    assert re.fullmatch(rf"{TOWN.code}_2019Q3_网页上传_\d{{14}}_[0-9a-f]{{8}}\.xlsx", placed)
    assert (inbox / placed).read_bytes() == ok.read_bytes()
    assert not any(p.name.endswith(".tmp") for p in inbox.iterdir())
    last = accounts.actions(warehouse, TOWN.code, limit=1)[0]
    assert (last.account, last.action, last.period) == ("城关", "upload", "2019Q3") and placed in last.what


def test_another_units_workbook_is_not_taken(site):
    _, inbox, _ = site
    c, csrf = logged_in(site, "西关")
    before = set(os.listdir(inbox))
    theirs = write_unit_workbook(site[0] / "theirs.xlsx", TOWN, "2019Q3")
    r = upload(c, csrf, "x.xlsx", theirs.read_bytes())
    assert "不是本账号的单位" in r.text and set(os.listdir(inbox)) == before


@pytest.mark.parametrize("name, content, accepted", [
    ("报表.xlsx", b"just text, named as a workbook", False),
    ("报表.txt", None, True),  # a real workbook named otherwise: told by its bytes
])
def test_uploads_are_told_by_their_content(site, name, content, accepted):
    c, csrf = logged_in(site, "城关")
    data = content or write_unit_workbook(site[0] / "named.xlsx", TOWN, "2019Q4").read_bytes()
    r = upload(c, csrf, name, data)
    assert ("检查通过" in r.text) == accepted
    if not accepted:
        assert "不是 Excel 工作簿" in r.text


def test_an_upload_over_the_bound_is_refused_unread(site):
    c, csrf = logged_in(site, "城关")
    r = upload(c, csrf, "big.xlsx", b"PK\x03\x04" + b"0" * (21 << 20))
    assert "文件超过 20 MB" in r.text


def test_the_office_downloads_the_template_and_the_consolidated_table(site):
    town, _ = logged_in(site, "城关")
    r = town.get("/unit/template?period=2019Q4")
    assert r.status_code == 200
    book = load_workbook(__import__("io").BytesIO(r.content))
    assert cat.COVER_SHEET in book.sheetnames
    office, _ = logged_in(site, "王芳")
    r = office.get("/office/export?year=2019")
    assert r.status_code == 200 and r.content.startswith(b"PK")


def test_a_disabled_accounts_session_ends(site):
    _, _, warehouse = site
    accounts.add(warehouse, "临时", "unit", PASSWORD, cat.towns()[5].code)
    c, _ = logged_in(site, "临时")
    assert c.get("/unit").status_code == 200
    accounts.disable(warehouse, "临时")
    assert c.get("/unit").status_code == 303


def test_a_town_explains_a_warned_figure_from_the_page(tmp_path, prefect_harness):
    """The town's explanation typed on the page reaches the office as the 情况说明 sheet would: the
    quarter's workbook, its figures unchanged, with the row written in; a pass loads it as a
    duplicate, and the warning is `explained` with that text. Another unit cannot explain it."""
    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse"
    from huizong.outputs.demo import true_value

    villages = cat.villages_of(TOWN.code)
    i = next(i for i, v in enumerate(villages) if all(true_value(v.code, p, "V03") > 0 for p in ("2019Q1", "2019Q2")))
    for period in ("2019Q1", "2019Q2"):
        write_unit_workbook(inbox / f"{TOWN.name}_{period}.xlsx", TOWN, period)
    write_unit_workbook(inbox / f"{TOWN.name}_2019Q3.xlsx", TOWN, "2019Q3", {(villages[i].code, "V03"): 60})
    run_pass(inbox, warehouse, write_summary=False)
    place = f"村级指标!E{i + 2}"  # V03 is column E; village rows from row 2 in the registry's order
    state = ("select state, explanation from marts.warning_reviews where unit_code = ? and period = '2019Q3' "
             "and sheet || '!' || cell = ?")
    assert query(warehouse, state, [TOWN.code, place]) == [("open", None)]
    accounts.add(warehouse, "王芳", "office", PASSWORD)
    accounts.add(warehouse, "城关", "unit", PASSWORD, TOWN.code)
    accounts.add(warehouse, "西关", "unit", PASSWORD, OTHER.code)
    site = (tmp_path, inbox, warehouse)
    town, csrf = logged_in(site, "城关")
    assert f'value="{place}"' in town.get("/unit").text  # the form is beside the warning
    before = set(os.listdir(inbox))

    other, other_csrf = logged_in(site, "西关")
    r = other.post("/unit/explain", data={"csrf": other_csrf, "period": "2019Q3", "cell": place, "text": "不是我的"})
    assert "没有这个单元格的提醒" in r.text and set(os.listdir(inbox)) == before

    text = "本季度开展“道德讲堂进农家”，每个村民小组各办一场 <b>"
    r = town.post("/unit/explain", data={"csrf": csrf, "period": "2019Q3", "cell": place, "text": text})
    assert "检查通过，已收到" in r.text and "<b>" not in r.text
    (placed,) = set(os.listdir(inbox)) - before
    sheet = load_workbook(inbox / placed)["情况说明"]
    assert [c.value for c in sheet[2][:3]] == ["村级指标", f"E{i + 2}", text]
    run_pass(inbox, warehouse, write_summary=False)
    assert query(warehouse, state, [TOWN.code, place]) == [("explained", text)]
    assert query(warehouse, "select status from ops.imports where file_name = ?", [placed]) == [("duplicate",)]
    value = ("select value from marts.unit_quarter_values where unit_code = ? and period = '2019Q3' "
             "and indicator_code = 'V03'")
    assert query(warehouse, value, [villages[i].code]) == [(60,)]
    last = accounts.actions(warehouse, TOWN.code, limit=1)[0]
    assert (last.account, last.action, last.period, last.what) == ("城关", "explain", "2019Q3", f"{place}: {text}")
