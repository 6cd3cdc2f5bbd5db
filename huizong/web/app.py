"""The routes of the web page (CONTRACT.md lists them). Every page needs a session; a unit's account
sees and changes only its own unit; the office's pages refuse a unit's account (403). Every form
carries the session's CSRF token. Reads open the published warehouse read-only; what writes goes
through the library, which takes the pass lock (a change while a pass runs is told so).
"""
from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

from fastapi import FastAPI, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from huizong.core import clock
from huizong.core.errors import HuizongError
from huizong.core.vocabulary import SUBMISSION_LABELS
from huizong.office import accounts, review, uploads
from huizong.office.status import read_status
from huizong.schemas import catalog as cat
from huizong.store.warehouse import connect_read_only, has_marts
from huizong.web import passes
from huizong.web.session import COOKIE, SESSION_SECONDS, Sessions, csrf_ok

TEMPLATES = Path(__file__).with_name("templates")
STATE_WORDS = {"open": "待核实", "explained": "已说明", "accepted": "已认可", "returned": "已退回"}
STATUS_CN = {status: word for status, (word, _) in SUBMISSION_LABELS.items()}  # the clerk's words
STATUS_CLASS = {"on_time": "ok", "late": "late", "rejected": "bad", "missing": "bad", "not_due": "none", "not_open": "none"}
HEADERS = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
           "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; form-action 'self'"}


class NotAllowed(Exception):
    """A session that may not see the page: none (to the login page) or another role (403)."""


def create_app(warehouse: Path, inbox: Path, start_passes: bool = True) -> FastAPI:
    warehouse, inbox = Path(warehouse).resolve(), Path(inbox).resolve()
    app = FastAPI(title="huizong", docs_url=None, redoc_url=None, openapi_url=None)
    pages = Jinja2Templates(directory=str(TEMPLATES))  # autoescape on for .html
    sessions = Sessions(warehouse)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.update(HEADERS)
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(NotAllowed)
    async def not_allowed(request: Request, exc: NotAllowed):
        if str(exc) == "login":
            return RedirectResponse("/login", status_code=303)
        return HTMLResponse("<h1>403 无权访问</h1>", status_code=403)

    def who(request: Request) -> tuple[accounts.Account, dict]:
        session = sessions.read(request.cookies.get(COOKIE))
        found = accounts.account(warehouse, session["name"]) if session else None
        if found is None:
            raise NotAllowed("login")
        return found, session

    def office(request: Request) -> tuple[accounts.Account, dict]:
        account, session = who(request)
        if not account.is_office:
            raise NotAllowed("role")
        return account, session

    def unit_account(request: Request) -> tuple[accounts.Account, dict]:
        account, session = who(request)
        if account.is_office or account.unit is None:
            raise NotAllowed("role")
        return account, session

    def checked_form(session: dict, token: str | None) -> None:
        if not csrf_ok(session, token):
            raise HTTPException(403, "表单已过期，请刷新页面后重试")

    def page(request: Request, name: str, session: dict | None, **context) -> HTMLResponse:
        return pages.TemplateResponse(request, name, {"csrf": session["csrf"] if session else "",
                                                       "office_name": cat.office_name(), **context})

    def read_published():
        con = connect_read_only(warehouse)
        if con is not None and not has_marts(con):
            con.close()
            return None
        return con

    # --- logging in ---------------------------------------------------------------------------

    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request):
        return page(request, "login.html", None, error=None)

    @app.post("/login")
    def login(request: Request, name: str = Form(""), password: str = Form("")):
        try:
            account = accounts.log_in(warehouse, name, password)
        except accounts.LoginRefused as e:
            return page(request, "login.html", None, error=str(e))
        cookie, _ = sessions.make(account.name)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(COOKIE, cookie, max_age=SESSION_SECONDS, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")
        return response

    @app.post("/logout")
    def logout(request: Request, csrf: str = Form("")):
        _, session = who(request)
        checked_form(session, csrf)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    @app.get("/")
    def home(request: Request):
        account, _ = who(request)
        return RedirectResponse("/office" if account.is_office else "/unit", status_code=303)

    # --- the town clerk's page ----------------------------------------------------------------

    def unit_context(account: accounts.Account) -> dict:
        unit = account.unit
        con = read_published()
        grid, rejected, warned = [], [], []
        if con is not None:
            try:
                status = read_status(con)
                grid = [(p, *status.cells[(unit.code, p)]) for p in status.periods if (unit.code, p) in status.cells]
                rejected = [r for r in status.rejected if r.unit_name == unit.name]
                warned = review.warnings(con, unit=unit.code, states=review.STATES)
            finally:
                con.close()
        return {"unit": unit, "grid": grid, "rejected": rejected, "warned": warned,
                "actions": accounts.actions(warehouse, unit.code, limit=20),
                "period": clock.period_of(clock.quarter_index(clock.current_period()) - 1)}

    @app.get("/unit", response_class=HTMLResponse)
    def unit_page(request: Request):
        account, session = unit_account(request)
        return page(request, "unit.html", session, account=account, **unit_context(account))

    @app.get("/unit/template")
    def template(request: Request, period: str = ""):
        account, _ = unit_account(request)
        from huizong.core.cells import parse_period
        from huizong.outputs.templates import template_name, write_template

        period = parse_period(period)
        if period is None:
            raise HTTPException(400, "季度格式应如 2019Q3")
        out = _scratch(warehouse) / template_name(account.unit, period)
        write_template(account.unit, period, out)
        return _sent_then_removed(out)

    @app.post("/unit/upload", response_class=HTMLResponse)
    async def upload(request: Request, file: UploadFile | None = None, csrf: str = Form("")):
        account, session = unit_account(request)
        checked_form(session, csrf)
        if file is None:
            raise HTTPException(400, "请选择要上传的文件")
        data = await file.read(uploads.MAX_UPLOAD_BYTES + 1)
        try:
            # in a thread: the check waits on its reading worker, the other requests go on
            done = await run_in_threadpool(uploads.receive, data, file.filename or "", account, warehouse, inbox)
        except uploads.UploadRefused as e:
            return page(request, "uploaded.html", session, account=account, refused=str(e), done=None)
        return uploaded(request, session, account, done)

    @app.post("/unit/explain", response_class=HTMLResponse)
    async def explain(request: Request, period: str = Form(""), cell: str = Form(""), text: str = Form(""),
                      csrf: str = Form("")):
        account, session = unit_account(request)
        checked_form(session, csrf)
        try:
            done = await run_in_threadpool(uploads.explain, account, warehouse, inbox, period, cell, text)
        except uploads.UploadRefused as e:
            return page(request, "uploaded.html", session, account=account, refused=str(e), done=None)
        return uploaded(request, session, account, done, explained=cell)

    def uploaded(request: Request, session: dict, account: accounts.Account, done: uploads.Upload,
                 explained: str | None = None) -> HTMLResponse:
        problems = done.checked.outcome.problems
        return page(request, "uploaded.html", session, account=account, refused=None, done=done, explained=explained,
                    pass_started=bool(done.accepted and start_passes and passes.start_a_pass(inbox, warehouse)),
                    errors=[p for p in problems if p.severity == "error"],
                    warnings=[p for p in problems if p.severity != "error"],
                    feedback=uploads.feedback_of(warehouse, done.upload_id) is not None)

    @app.get("/unit/feedback/{upload_id}")
    def feedback(request: Request, upload_id: str):
        account, _ = who(request)
        owner = uploads.owner_of(warehouse, upload_id)
        found = uploads.feedback_of(warehouse, upload_id)
        if owner is None or found is None or not (account.is_office or owner == account.unit_code):
            raise HTTPException(404, "没有这份反馈")
        return FileResponse(found, filename=found.name)

    # --- the office's page --------------------------------------------------------------------

    @app.get("/office", response_class=HTMLResponse)
    def office_page(request: Request, message: str | None = None):
        account, session = office(request)
        con = read_published()
        status, awaiting = None, []
        if con is not None:
            try:
                status = read_status(con)
                awaiting = review.warnings(con, states=review.AWAITING)
            finally:
                con.close()
        reports = sorted(p.name for p in (warehouse / "reports").glob("summary_*.*")) \
            if (warehouse / "reports").is_dir() else []
        return page(request, "office.html", session, account=account, status=status, awaiting=awaiting,
                    reports=reports, actions=accounts.actions(warehouse, limit=30), message=message,
                    year=int(status.periods[-1][:4]) if status and status.periods else clock.today().year)

    def done(text: str) -> RedirectResponse:
        from urllib.parse import quote

        return RedirectResponse("/office?message=" + quote(text), status_code=303)

    @app.post("/office/review")
    def decide(request: Request, unit: str = Form(""), period: str = Form(""), cell: str = Form(""),
               decision: str = Form(""), note: str = Form(""), csrf: str = Form("")):
        account, session = office(request)
        checked_form(session, csrf)
        if decision not in review.DECISIONS:
            raise HTTPException(400, "未知的决定")
        try:
            decided = review.decide(warehouse, unit, period, [cell], decision, account.name, note or None)
        except HuizongError as e:
            return done(str(e))
        accounts.record(warehouse, account.name, "accept" if decision == "accepted" else "return", unit, period,
                        f"{cell}" + (f": {note}" if note else ""))
        return done(f"{STATE_WORDS[decision]}：{unit} {period} {cell}（{len(decided.warnings)} 处）")

    @app.post("/office/signoff")
    def sign_off(request: Request, year: int = Form(0), confirm: str = Form(""), force: str = Form(""),
                 csrf: str = Form("")):
        account, session = office(request)
        checked_form(session, csrf)
        if confirm != "yes":
            return done("签发需要勾选确认")
        from huizong.office.signoff import sign_off as sign

        try:
            signed = sign(warehouse, year, account.name, force=force == "yes")
        except HuizongError as e:
            return done(str(e))
        accounts.record(warehouse, account.name, "signoff", None, str(year), "; ".join(signed.lines()))
        return done(f"{year} 年已签发并锁定")

    @app.post("/office/unlock")
    def unlock(request: Request, year: int = Form(0), reason: str = Form(""), confirm: str = Form(""),
               csrf: str = Form("")):
        account, session = office(request)
        checked_form(session, csrf)
        if confirm != "yes":
            return done("解锁需要勾选确认")
        from huizong.office.signoff import unlock as reopen

        try:
            reopen(warehouse, year, account.name, reason)
        except HuizongError as e:
            return done(str(e))
        accounts.record(warehouse, account.name, "unlock", None, str(year), reason)
        return done(f"{year} 年已解锁：{reason}")

    @app.post("/office/rerun")
    def rerun(request: Request, unit: str = Form(""), period: str = Form(""), csrf: str = Form("")):
        account, session = office(request)
        checked_form(session, csrf)
        if unit not in {u.code for u in cat.submitters()}:
            raise HTTPException(400, "未知的单位")
        from huizong.core.cells import parse_period

        period = parse_period(period)
        if period is None:
            raise HTTPException(400, "季度格式应如 2019Q3")
        started = passes.start_a_pass(inbox, warehouse, "--unit", unit, "--period", period)
        accounts.record(warehouse, account.name, "rerun", unit, period, "started" if started else "a pass was running")
        return done(f"已开始重新导入 {unit} {period}" if started else "汇总正在进行，请稍后再试")

    @app.get("/office/download/{name}")
    def download(request: Request, name: str):
        office(request)
        reports = warehouse / "reports"
        allowed = {p.name: p for p in reports.glob("summary_*.*")} if reports.is_dir() else {}
        if name not in allowed:
            raise HTTPException(404, "没有这个文件")
        return FileResponse(allowed[name], filename=name)

    @app.get("/office/export")
    def export(request: Request, year: int = 0):
        office(request)
        from huizong.outputs.export import write_export

        con = read_published()
        if con is None:
            raise HTTPException(404, "尚无已发布的数据")
        out = _scratch(warehouse) / f"汇总表_{year}.xlsx"
        try:
            write_export(con, year, out)
        except LookupError as e:
            shutil.rmtree(out.parent)
            return done(str(e))
        finally:
            con.close()
        return _sent_then_removed(out)

    @app.get("/font/sans.otf")
    def font():
        """The Chinese font huizong's dependencies bring (Noto Sans SC, SIL OFL): a machine without
        a Chinese font of its own shows the page in it; the others never fetch it."""
        from huizong.outputs.charts import bundled_font

        path = bundled_font()
        if path is None:
            raise HTTPException(404, "no bundled font")
        return FileResponse(path, media_type="font/otf", headers={"Cache-Control": "public, max-age=604800"})

    @app.get("/healthz")
    def health() -> Response:
        return Response("ok", media_type="text/plain")

    pages.env.globals.update(status_words=STATUS_CN, status_class=STATUS_CLASS, state_words=STATE_WORDS, local=lambda t: t.astimezone(clock.OFFICE_TZ)
                             if isinstance(t, dt.datetime) else t)
    return app


def _scratch(warehouse: Path) -> Path:
    """A folder of its own for one file the page writes to send (a template, the 汇总表)."""
    folder = warehouse / "web_downloads"
    folder.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=folder))


def _sent_then_removed(out: Path) -> FileResponse:
    """`out` sent, then its folder removed."""
    return FileResponse(out, filename=out.name, background=BackgroundTask(shutil.rmtree, out.parent, True))
