"""The words of the warehouse's status columns, in one place: what each status is called in the
ledger, on the terminal and in the clerk's Chinese."""
from __future__ import annotations

# ops.imports.status: a file version's fate (CONTRACT.md). `locked`: valid, but it came for a
# quarter of a year signed off (huizong/office/signoff.py): kept and held, not in force, until unlocked
VERSION_STATUSES = ("loaded", "duplicate", "superseded", "locked", "rejected")
VALID_VERSION_STATUSES = ("loaded", "duplicate", "superseded", "locked")  # checked valid; its values are kept

# ops.signoffs.action: what the office did to a year; it is locked while its latest is "signed"
SIGNOFF_ACTIONS = ("signed", "unlocked")

# ops.arrivals.status: what became of a file that landed in the inbox
ARRIVAL_STATUSES = ("received", "copy", "refused")

# marts.submission_status.status -> (the clerk's Chinese word, its colour in charts); not_open is
# the grids' word for a quarter the mart has no row for (the unit did not exist then)
SUBMISSION_LABELS = {
    "on_time": ("按时", "#4caf50"),
    "late": ("迟报", "#ffb300"),
    "rejected": ("退回", "#e53935"),
    "missing": ("未报", "#bdbdbd"),
    "not_due": ("未到报送期", "#eceff1"),  # no valid file yet, and its deadline has not passed
    "not_open": ("无需报送", "#ffffff"),  # the unit did not exist then (set up later, or merged away)
}
VALID_SUBMISSIONS = ("on_time", "late")  # a valid version is in force

# marts.submission_status.status -> (the terminal's word, its colour); CONTRACT.md's words: a
# valid version in force is "loaded" (on time) or "late"
SUBMISSION_WORDS = {
    "on_time": ("loaded", "green"),
    "late": ("late", "yellow"),
    "rejected": ("rejected", "red"),
    "missing": ("missing", "red"),
    "not_due": ("not due", "dim"),
    "not_open": ("not open", "dim"),
}
