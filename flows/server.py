"""The Prefect API a command's flow runs talk to: a configured server, or a temporary one of ours.

Without PREFECT_API_URL, Prefect starts a temporary server itself, with a 20 s start-up limit
that a busy machine or a fresh PREFECT_HOME (its database migrations) exceeds, and as a child
that outlives a pass killed by a signal (RELIABILITY.md). `prefect_api()` starts that server
instead, as Prefect's own command would, and the flow runs reach it by PREFECT_API_URL: with
minutes to start, one retry, its output in `<warehouse>/logs/prefect-server.log`, and a
parent-death signal, so that it ends with the pass however the pass ends. A pass launches it
before importing Prefect (`start_early`), and never imports Prefect's server modules.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from huizong.core.errors import HuizongError
from huizong.core.failpoints import failpoint

STARTUP_TIMEOUT_SECONDS = 600  # minutes, not Prefect's 20 s: migrations on a busy 2-core machine
STARTUP_ATTEMPTS = 2  # one retry
LOG_NAME = "prefect-server.log"
ADVICE = ("run `prefect server start` in another terminal and set "
          "PREFECT_API_URL=http://127.0.0.1:4200/api")
PR_SET_PDEATHSIG = 1


class ServerUnavailable(HuizongError, RuntimeError):
    """Prefect's API cannot be reached or started; the message is one sentence for the user."""


def quiet_settings() -> None:
    """No telemetry, from us or from a server we start."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")


def configured_api_url() -> str | None:
    """PREFECT_API_URL from the environment or the Prefect profile; None when there is none."""
    from prefect.settings import PREFECT_API_URL

    return os.environ.get("PREFECT_API_URL") or PREFECT_API_URL.value() or None


def prefect_database() -> Path | None:
    """The SQLite file of the Prefect server's database, or None when it is not SQLite."""
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    url = settings.server.database.connection_url
    url = url.get_secret_value() if url is not None else f"sqlite+aiosqlite:///{settings.home}/prefect.db"
    if not url.startswith("sqlite") or ":memory:" in url:
        return None
    return Path(url.split(":///", 1)[1].split("?", 1)[0]).expanduser()


def _die_with_parent(parent: int) -> Callable[[], None]:
    """A preexec_fn: SIGTERM when the parent dies; exit at once if it already has."""
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here: little to do after fork

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)
    return preexec


def launch(port: int, log_path: Path | None, settings_env: dict[str, str]) -> subprocess.Popen:
    """The server's process (uvicorn running Prefect's app) on `port`, its output appended to
    `log_path`, ending with this process: Prefect's own command, with our settings."""
    import importlib.util

    env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1",
           **settings_env, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    env.pop("PREFECT_API_URL", None)
    packages = Path(importlib.util.find_spec("prefect").origin).parent.parent  # found, not imported
    args = [sys.executable, "-m", "uvicorn", "--app-dir", str(packages),
            "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1",
            "--port", str(port), "--log-level", "error", "--lifespan", "on"]
    out = log_path.open("ab") if log_path else subprocess.DEVNULL
    try:
        # a process group of its own: a terminal's Ctrl-C, which signals the whole foreground
        # group, reaches the pass alone, which then tells the server its crashed run and stops it
        return subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, process_group=0,
                                preexec_fn=_die_with_parent(os.getpid()))
    finally:
        if log_path:
            out.close()


# --- starting early -----------------------------------------------------------------------------
# Importing Prefect takes this process a second, and the server's start five more (its own
# imports, on the other core). A pass launches the server's process first, then imports Prefect.

class _Early:
    def __init__(self, process: subprocess.Popen, port: int, fresh_database: bool) -> None:
        self.process, self.port, self.fresh_database = process, port, fresh_database


_early: _Early | None = None


def start_early(warehouse: Path) -> None:
    """Launch the temporary server's process now, before Prefect is imported, if nothing says
    that an API is configured (PREFECT_API_URL in the environment, the Prefect profile, or a
    settings file here); `prefect_api` takes it over, or stops it if an API is configured after
    all. Best effort: whatever is unusual is left to `prefect_api`."""
    global _early
    if _early is not None or _api_may_be_configured():
        return
    quiet_settings()
    try:
        port = free_port()
        log_path = Path(warehouse) / "logs" / LOG_NAME
        log_path.parent.mkdir(parents=True, exist_ok=True)
        home = Path(os.environ.get("PREFECT_HOME") or "~/.prefect").expanduser()
        fresh = not any(k.endswith("DATABASE_CONNECTION_URL") for k in os.environ) and not (home / "prefect.db").exists()
        process = launch(port, log_path, {})
    except Exception:
        return
    import atexit

    _early = _Early(process, port, fresh)
    atexit.register(_discard_early)


def _api_may_be_configured() -> bool:
    """Whether PREFECT_API_URL may be set somewhere Prefect reads it: the environment, the
    active profile, or a settings file in this folder (prefect.toml, .env, pyproject.toml)."""
    import tomllib

    if os.environ.get("PREFECT_API_URL") or os.environ.get("PREFECT_PROFILES_PATH"):
        return True
    if any(Path(name).exists() for name in ("prefect.toml", ".env")):
        return True
    try:
        if "tool.prefect" in Path("pyproject.toml").read_text(encoding="utf-8"):
            return True
    except OSError:
        pass
    home = Path(os.environ.get("PREFECT_HOME") or "~/.prefect").expanduser()
    try:
        profiles = tomllib.loads((home / "profiles.toml").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False
    except (OSError, ValueError):
        return True
    active = os.environ.get("PREFECT_PROFILE") or profiles.get("active") or "ephemeral"
    return "PREFECT_API_URL" in (profiles.get("profiles", {}).get(active) or {})


def _take_early() -> _Early | None:
    global _early
    early, _early = _early, None
    return early


def _discard_early() -> None:
    early = _take_early()
    if early is not None:
        _end(early.process)


def startup_timeout() -> float:
    """Ours, unless the user set Prefect's own limit."""
    from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS

    if os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"):
        return float(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value())
    return STARTUP_TIMEOUT_SECONDS


class TemporaryServer:
    """Prefect's server in a process of its own (`launch`), as Prefect's temporary server is,
    but never imported into this process (Prefect's server modules take seconds to import):
    the flow runs reach it through PREFECT_API_URL (`prefect_api`)."""

    def __init__(self, log_path: Path | None) -> None:
        self.log_path = log_path
        self.port = 0
        self.process: subprocess.Popen | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def start(self, timeout: float | None = None, launched: subprocess.Popen | None = None,
              port: int = 0) -> None:
        """Launch the server (or take over `launched`, already on `port`: `start_early`) and
        wait until it answers; a process that exits is not waited for."""
        import httpx

        try:
            if launched is None:
                self._launch()
            else:
                self.process, self.port = launched, port
            failpoint("server_start")
            deadline = time.monotonic() + (timeout or startup_timeout())
            with httpx.Client() as client:
                while True:
                    code = self.process.poll()
                    if code == 3:  # the port was taken meanwhile: another one
                        self._launch()
                    elif code is not None:
                        raise RuntimeError(f"the server exited with code {code}")
                    try:
                        if client.get(f"{self.api_url}/health", timeout=10).status_code == 200:
                            return
                    except httpx.HTTPError:
                        pass
                    if time.monotonic() > deadline:
                        raise TimeoutError("the server did not answer in time")
                    time.sleep(0.1)
        except BaseException:
            self.stop()
            raise

    def _launch(self) -> None:
        from prefect.settings import get_current_settings

        self.port = free_port()
        self.process = launch(self.port, self.log_path,
                              get_current_settings().to_environment_variables(exclude_unset=True))

    def stop(self, wait: bool = True) -> None:
        """Stop the server; without `wait`, it is asked to and ends by itself (at a pass's end:
        a fifth of a second sooner)."""
        process, self.process = self.process, None
        if process is not None and wait:
            _end(process)
        elif process is not None and process.poll() is None:
            process.terminate()
            _asked.append(process)


def free_port() -> int:
    """A port free now on the loopback interface, as the kernel picks one."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _end(process: subprocess.Popen) -> None:
    """Stop a server process: asked first (it closes its database), killed if it lingers."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def start_temporary_server(log_path: Path, say: Callable[[str], None] = print) -> TemporaryServer:
    """Our temporary server, running; ServerUnavailable if it cannot be started in two
    attempts. The first attempt takes over the process that `start_early` launched, if any."""
    import atexit

    early = _take_early()
    if early is not None:
        fresh = early.fresh_database
    else:
        database = prefect_database()
        fresh = database is not None and not database.exists()
    if fresh:
        say("Preparing Prefect's database (first run, this may take a minute)...")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    cause = None
    for _ in range(STARTUP_ATTEMPTS):
        server = TemporaryServer(log_path)
        try:
            if early is not None:
                early, launched = None, early
                server.start(launched=launched.process, port=launched.port)
            else:
                server.start()
        except (RuntimeError, TimeoutError, OSError) as e:
            cause = e
            continue
        atexit.register(server.stop)
        _running.append(server)
        return server
    raise ServerUnavailable(f"Prefect's temporary server could not be started ({cause}; see {log_path}): "
                            f"{ADVICE}")


_running: list[TemporaryServer] = []  # started by `start_temporary_server`
_asked: list[subprocess.Popen] = []  # servers' processes asked to stop, not waited for


def is_temporary(api_url: str) -> bool:
    """Whether `api_url` is a temporary server of this process (set as PREFECT_API_URL while a
    pass runs on it, `prefect_api`), not a configured one."""
    return any(server.api_url == api_url for server in _running)


def stop_now() -> None:
    """Every temporary server of this process stopped and waited for, the early one too: a pass
    stopped by Ctrl-C or SIGTERM ends without its exit handlers, which would."""
    _discard_early()
    while _running:
        _running.pop().stop()
    while _asked:
        _end(_asked.pop())


@contextmanager
def prefect_api(warehouse: Path, say: Callable[[str], None] = print) -> Iterator[str | None]:
    """A Prefect API for the flow runs inside: the configured one (yields None), or a temporary
    server of ours, stopped on exit (yields its URL, also set as PREFECT_API_URL for child
    processes such as Dask workers)."""
    quiet_settings()
    if configured_api_url():
        _discard_early()  # a profile or settings file named one after all
        yield None
        return
    server = start_temporary_server(Path(warehouse) / "logs" / LOG_NAME, say)
    before = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = server.api_url
    try:
        yield server.api_url
    finally:
        if before is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = before
        server.stop(wait=False)
