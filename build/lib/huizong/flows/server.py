"""The Prefect API a command's flow runs talk to: a configured server, or a temporary one of ours.

Without PREFECT_API_URL, Prefect starts a temporary server itself, with a 20 s start-up limit
that a busy machine or a fresh PREFECT_HOME (its database migrations) exceeds, and as a child
that outlives a pass killed by a signal (RELIABILITY.md). `prefect_api()` starts that server
instead: registered as Prefect's default temporary server (so Prefect's own `get_client()` finds
it running), with minutes to start, one retry, its output in `<warehouse>/logs/prefect-server.log`,
and a parent-death signal, so that it ends with the pass however the pass ends.
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

STARTUP_TIMEOUT_SECONDS = 600  # minutes, not Prefect's 20 s: migrations on a busy 2-core machine
STARTUP_ATTEMPTS = 2  # one retry
LOG_NAME = "prefect-server.log"
ADVICE = ("run `prefect server start` in another terminal and set "
          "PREFECT_API_URL=http://127.0.0.1:4200/api")
PR_SET_PDEATHSIG = 1


class ServerUnavailable(RuntimeError):
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


def startup_timeout() -> float:
    """Ours, unless the user set Prefect's own limit."""
    from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS

    if os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"):
        return float(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value())
    return STARTUP_TIMEOUT_SECONDS


def server_class():
    """A SubprocessASGIServer whose process logs to a file and dies with ours (imported late:
    Prefect's server modules take a second to import)."""
    from prefect.server.api.server import SubprocessASGIServer

    class TemporaryServer(SubprocessASGIServer):
        log_path: Path | None = None

        def _run_uvicorn_command(self) -> subprocess.Popen:
            from prefect.settings import get_current_settings

            env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1",
                   "PREFECT__SERVER_FINAL": "1",
                   **get_current_settings().to_environment_variables(exclude_unset=True),
                   "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
            env.pop("PREFECT_API_URL", None)
            import prefect

            args = [sys.executable, "-m", "uvicorn", "--app-dir", str(prefect.__module_path__.parent),
                    "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1",
                    "--port", str(self.port), "--log-level", "error", "--lifespan", "on"]
            out = self.log_path.open("ab") if self.log_path else subprocess.DEVNULL
            try:
                return subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                        stderr=subprocess.STDOUT, preexec_fn=_die_with_parent(os.getpid()))
            finally:
                if self.log_path:
                    out.close()

        def start(self, timeout: float | None = None) -> None:
            """Prefect's start, less its wait for a process that has already exited."""
            import httpx

            if self.running:
                return
            self.port = self.find_available_port()
            self.running = True
            try:
                self.server_process = self._run_uvicorn_command()
                deadline = time.monotonic() + (timeout or startup_timeout())
                with httpx.Client() as client:
                    while True:
                        code = self.server_process.poll()
                        if code == 3:  # the port was taken meanwhile: another one
                            self.port = self.find_available_port()
                            self.server_process = self._run_uvicorn_command()
                        elif code is not None:
                            raise RuntimeError(f"the server exited with code {code}")
                        try:
                            if client.get(f"{self.api_url}/health", timeout=10).status_code == 200:
                                return
                        except httpx.HTTPError:
                            pass
                        if time.monotonic() > deadline:
                            raise TimeoutError("the server did not answer in time")
                        time.sleep(0.2)
            except BaseException:
                self.stop()
                raise

        def stop(self) -> None:
            if self.server_process is not None:
                process, self.server_process = self.server_process, None
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            if SubprocessASGIServer._instances.get(None) is self:
                del SubprocessASGIServer._instances[None]
            self.running = False

    return TemporaryServer


def start_temporary_server(log_path: Path, say: Callable[[str], None] = print):
    """Our temporary server, running and registered as Prefect's default; ServerUnavailable if
    it cannot be started in two attempts."""
    import atexit

    from prefect.server.api.server import SubprocessASGIServer

    database = prefect_database()
    if database is not None and not database.exists():
        say("Preparing Prefect's database (first run, this may take a minute)...")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    cls = server_class()
    cause = None
    for _ in range(STARTUP_ATTEMPTS):
        server = object.__new__(cls)
        SubprocessASGIServer.__init__(server, None)
        server.log_path = log_path
        SubprocessASGIServer._instances[None] = server  # what Prefect's get_client() uses
        try:
            server.start()
        except (RuntimeError, TimeoutError, OSError) as e:
            cause = e
            continue
        atexit.register(server.stop)
        return server
    raise ServerUnavailable(f"Prefect's temporary server could not be started ({cause}; see {log_path}): "
                            f"{ADVICE}")


@contextmanager
def prefect_api(warehouse: Path, say: Callable[[str], None] = print) -> Iterator[str | None]:
    """A Prefect API for the flow runs inside: the configured one (yields None), or a temporary
    server of ours, stopped on exit (yields its URL, also set as PREFECT_API_URL for child
    processes such as Dask workers)."""
    quiet_settings()
    if configured_api_url():
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
        server.stop()
