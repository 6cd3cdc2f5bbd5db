"""The words of the warehouse's status columns, in one place: what each status is called in the
ledger, on the terminal and in the clerk's Chinese."""
from __future__ import annotations

# ops.imports.status: a file version's fate (CONTRACT.md)
VERSION_STATUSES = ("loaded", "duplicate", "superseded", "rejected")
VALID_VERSION_STATUSES = ("loaded", "duplicate", "superseded")  # checked valid; its values are kept

# ops.arrivals.status: what became of a file that landed in the inbox
ARRIVAL_STATUSES = ("received", "copy", "refused")

# marts.submission_status.status -> (the terminal's word, its colour); CONTRACT.md's words: a
# valid version in force is "loaded" (on time) or "late"
SUBMISSION_WORDS = {
    "on_time": ("loaded", "green"),
    "late": ("late", "yellow"),
    "rejected": ("rejected", "red"),
    "missing": ("missing", "red"),
    "not_due": ("not due", "dim"),
}
