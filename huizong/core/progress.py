"""A pass's progress as events, for whichever interface shows it (the command line's bar, a web
page): the flow says what it is about to read and each batch it has read; a listener in the same
process hears it. Not a log: nothing is parsed from text, and a pass with no listener pays nothing.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Reading:
    """The pass is about to read `files` files (a rerun's stand-ins are a second round)."""
    files: int


@dataclass(frozen=True)
class Read:
    """A batch of `files` files was read, checked and validated."""
    files: int
    rejected: int


Event = Reading | Read
_listeners: list[Callable[[Event], None]] = []
_lock = threading.Lock()


@contextmanager
def listening(listener: Callable[[Event], None]) -> Iterator[None]:
    """`listener` hears every event emitted in this process while the block runs."""
    with _lock:
        _listeners.append(listener)
    try:
        yield
    finally:
        with _lock:
            _listeners.remove(listener)


def emit(event: Event) -> None:
    """Tell every listener; a listener's failure never stops the pass."""
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        try:
            listener(event)
        except Exception:
            pass
