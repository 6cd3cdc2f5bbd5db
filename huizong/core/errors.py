"""The one base of every expected failure: a user's mistake, a bad catalog or template, a lock
held, a year signed off. Its text is the one sentence an interface shows (the command line with
exit 1, the web page as a message); anything else that escapes is a bug."""
from __future__ import annotations


class HuizongError(Exception):
    """An expected failure, told by `str(error)` in one sentence."""
