"""`huizong`'s entry: parse, call the command, and turn what it raises into one sentence and an exit status; Ctrl-C and SIGTERM."""
from __future__ import annotations

import errno
import os
import signal
import sys

from rich.markup import escape

from huizong.cli.common import EXIT_FAILED, EXIT_OK, err_console
from huizong.cli.parser import parser
from huizong.core.errors import HuizongError


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that context managers (the temporary server) and atexit run."""


def _on_sigterm(signum, frame) -> None:
    _on_stop_signal(Terminated())


def _on_sigint(signum, frame) -> None:
    _on_stop_signal(KeyboardInterrupt())


_verbose = False  # --verbose: a stop keeps Prefect's lines about it


_command: str | None = None  # the command running (its stop's sentence)


_signalled = False


def _on_stop_signal(stop: KeyboardInterrupt) -> None:
    """Raise `stop`, Prefect's lines about it kept off the terminal; a second signal while the
    first unwinds (Ctrl-C pressed twice) ends the command at once, with the same sentence."""
    global _signalled
    again, _signalled = _signalled, True  # first: the relay (below) watches it
    _mute_prefect_console()
    if again and _command is not None:
        _stop_now(_stop_sentence(_command, stop), _verbose)
    raise stop


RELAY_AFTER_SECONDS = 0.2


def _relay_stop_signals_to_the_main_thread() -> None:
    """A signal that the kernel hands to another thread (it may, to any thread) runs its Python
    handler only once the main thread runs Python again: a main thread waiting for a task's
    result, a lock or a long sleep would not stop until that wait ended. The handlers' wakeup
    fd tells a watching thread of every signal; a stop signal still unhandled a moment later is
    sent to the main thread itself, whose wait it interrupts. Best effort: if something else
    takes the wakeup fd over (an event loop's signal handlers), the relay falls silent, and a
    SIGTERM during a flow run, which Prefect's handler takes, is left to it."""
    import threading
    import time

    try:
        read_end, write_end = os.pipe()
        os.set_blocking(write_end, False)
        signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    except (OSError, ValueError):
        return
    main = threading.main_thread().ident

    def watch() -> None:
        while True:
            try:
                received = os.read(read_end, 64)
            except OSError:
                return
            if not received:
                return
            stop = next((s for s in received if s in (signal.SIGINT, signal.SIGTERM)), None)
            if stop is None:
                continue
            # at once, from here: a SIGTERM during a flow run goes to Prefect's handler first,
            # whose crash lines would reach the terminal before ours (`_on_stop_signal`) mutes them
            _mute_prefect_console()
            deadline = time.monotonic() + RELAY_AFTER_SECONDS
            while not _signalled and time.monotonic() < deadline:
                time.sleep(0.02)
            # only to our own handler: another's (Prefect's SIGTERM bridge, during a flow run) may
            # have run already, unseen here, and would be raised again mid-unwinding
            if not _signalled and signal.getsignal(stop) in (_on_sigint, _on_sigterm):
                signal.pthread_kill(main, stop)
            return  # the stop is under way: a second signal finds the main thread unwinding

    threading.Thread(target=watch, name="huizong-signal-relay", daemon=True).start()


def _mute_prefect_console() -> None:
    """A stop (Ctrl-C, SIGTERM): Prefect's lines about it (its task and flow runs crashed, at
    ERROR, from every thread) stay off the terminal, which gets one sentence (`main`). In a
    signal handler: never raise."""
    handlers = sys.modules.get("prefect.logging.handlers")
    if _verbose or handlers is None:
        return
    import logging

    try:
        loggers = [logging.getLogger(), *list(logging.Logger.manager.loggerDict.values())]
        for lg in loggers:
            for handler in list(getattr(lg, "handlers", ())):
                if isinstance(handler, handlers.PrefectConsoleHandler):
                    handler.setLevel(logging.CRITICAL + 1)
    except Exception:
        pass


def _quiet_stdout() -> None:
    """The reader of our stdout went away (`huizong query ... | head`): stop writing, like Unix
    tools, and spare the interpreter's "Exception ignored" at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def explain(e: BaseException) -> str | None:
    """The one sentence for an expected error; None for a bug."""
    import duckdb

    if isinstance(e, HuizongError):  # every expected error of the library, the flows and the catalog
        return str(e)
    if isinstance(e, OSError):
        what = e.strerror or str(e)
        names = " -> ".join(str(n) for n in (e.filename, e.filename2) if n is not None)
        advice = {errno.ENOSPC: "free some space and run it again",
                  errno.EROFS: "the file system is read-only",
                  errno.EACCES: "check who may write there",
                  errno.EPERM: "check who may write there",
                  errno.EEXIST: "a file stands where a folder is needed",
                  errno.ENOTDIR: "a file stands where a folder is needed"}.get(e.errno)
        return f"{what}" + (f": {names}" if names else "") + (f" ({advice})" if advice else "")
    if isinstance(e, duckdb.IOException):
        return "the warehouse could not be read or written: " + " ".join(str(e).split())
    return None


DATED = ("run", "rerun", "status", "check", "report", "remind", "review", "signoff", "unlock")  # commands that read the clock


def main(argv: list[str] | None = None) -> int:
    global _verbose, _command
    args = parser().parse_args(argv)
    verbose = _verbose = getattr(args, "verbose", False)
    _command = args.command
    if argv is None:  # the command line, not a caller in Python: SIGTERM stops it like Ctrl-C
        signal.signal(signal.SIGTERM, _on_sigterm)
        signal.signal(signal.SIGINT, _on_sigint)
        _relay_stop_signals_to_the_main_thread()
        _exit_without_teardown()
    try:
        if args.command in DATED:
            from huizong.core.clock import today

            today()  # a bad HUIZONG_TODAY is one sentence here, not a failed flow run
        return _exiting(args.func(args))
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_OK
    except KeyboardInterrupt as e:
        _stop_now(_stop_sentence(args.command, e), verbose, exit_now=argv is None)
        return EXIT_FAILED
    except Exception as e:
        sentence = explain(e)
        if verbose:
            err_console.print_exception()
        if sentence is None:
            sentence = (f"huizong {args.command} stopped on a bug ({type(e).__name__}: "
                        f"{' '.join(str(e).split())[:300]}); run with --verbose for details")
        err_console.print(escape(sentence), soft_wrap=True, highlight=False)
        return EXIT_FAILED


_exit_status: int | None = None


def _exiting(status: int) -> int:
    global _exit_status
    _exit_status = status
    return status


def _exit_without_teardown() -> None:
    """At the command's end, once every exit handler has run (Prefect's, the reading workers',
    the temporary server's: registered later, they run first) and the output and logs are
    flushed, end the process without tearing down the interpreter's objects: half a second
    after a pass that held its data. Only when `main` returned its status normally."""
    import atexit

    def end() -> None:
        if _exit_status is None:
            return
        import logging

        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(_exit_status)

    atexit.register(end)


def _stop_sentence(command: str, stop: KeyboardInterrupt) -> str:
    name = "SIGTERM" if isinstance(stop, Terminated) else "Ctrl-C (SIGINT)"
    after = ("; the published warehouse is whole and the next pass takes up what this one left"
             if command in ("run", "rerun") else "")
    return f"huizong {command} was stopped by {name}{after}."


_said = False  # the stop's sentence, once


def _stop_now(sentence: str, verbose: bool, exit_now: bool = True) -> None:
    """Say why, then, on the command line (`exit_now`), end the reading workers and Prefect's
    temporary server and the process at once: a task still running in a worker thread would
    otherwise hold the exit, and Prefect's exit handlers would wait for, and print their
    errors about, the server just stopped."""
    import threading

    global _said
    if exit_now:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the stop itself is not stopped
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if verbose:
        err_console.print_exception()
    try:
        if not (_said and exit_now):  # a second signal's stop says nothing new
            _said = True
            err_console.print(escape(sentence), soft_wrap=True, highlight=False)
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    if exit_now:
        _end_children()
        os._exit(EXIT_FAILED)
    if threading.active_count() > 1:
        os._exit(EXIT_FAILED)


def _end_children() -> None:
    """The reading workers and Prefect's temporary server, if this process started them, ended
    now."""
    for module, stop in (("huizong.bulkheads.isolation", "stop_shared_pool_now"), ("huizong.flows.server", "stop_now")):
        if module in sys.modules:
            try:
                getattr(sys.modules[module], stop)()
            except Exception:  # the process ends anyway; the server and workers end with it
                pass
