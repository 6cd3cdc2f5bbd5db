"""What a pass returns: one typed result for the nightly and the rerun, read by every interface
(the command line's summary and exit status, the web page, the tests)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Copy:
    """A file with the same bytes as one already received: not loaded again."""
    file_name: str
    same_as: str


@dataclass(frozen=True)
class Refused:
    """An inbox entry that is not a regular file (a link, a pipe, a folder): never read."""
    file_name: str
    reason: str


@dataclass(frozen=True)
class PassResult:
    files: list[dict] = field(default_factory=list)  # the ledger's record of each version read or let in
    problems: list[dict] = field(default_factory=list)  # grouped by rule and by unit (intake/problems.py)
    skipped: int = 0  # already received, not read again
    arriving: list[str] = field(default_factory=list)  # still being written: the next pass takes them
    rebuilt: bool = False  # the models were rebuilt because the catalog or the SQL changed
    reports: list[str] = field(default_factory=list)  # the annual summaries written
    report_error: str | None = None  # why the summary was not written (the data is published)
    reminders: str | None = None  # the reminders workbook, when a quarter is due
    copies: list[Copy] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)
    unchanged: int | None = None  # a rerun: versions valid under the same rules, not read again
    held: int = 0  # a rerun: versions of a signed-off year, left as they are

    def with_status(self, status: str) -> list[dict]:
        return [f for f in self.files if f["status"] == status]

    @property
    def rejected(self) -> list[dict]:
        return self.with_status("rejected")

    @property
    def warnings(self) -> int:
        return sum(f.get("n_warnings") or 0 for f in self.files)
