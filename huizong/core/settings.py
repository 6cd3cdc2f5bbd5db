"""huizong's settings: every number that tunes a pass, in one place, with why it is what it is.

None needs changing for the demo or a county of the form's size; each is a module constant that a
test or an unusual office can override.
"""
from __future__ import annotations

# --- finding files --------------------------------------------------------------------------
SETTLE_SECONDS = 2.0  # a file modified more recently than this may still be being copied in

# --- reading (huizong/intake/package.py, workbook.py): bounds checked from a file's bytes before any reader runs -
# A real submission unzips to well under 1 MB; the ratio check is kept to large entries because
# small styles.xml files compress very well and are legitimate (RELIABILITY.md).
MAX_UNZIPPED_BYTES = 20 * 1024 * 1024
MAX_ZIP_ENTRIES = 500
LARGE_ENTRY_BYTES = 1024 * 1024
MAX_RATIO = 100
MAX_ROWS = 5_000
MAX_COLS = 200

# --- reading workers (huizong/bulkheads/isolation.py) ----------------------------------------------------
BATCH_SIZE = 200  # files per read-and-validate task: one pandera call per batch, not per file
WORKER_MEMORY_BYTES = 1 << 30  # address space of a worker: its imports take about 470 MB of it
FILE_SECONDS = 60.0  # a real workbook reads in milliseconds; a hung reader is given up on
VALIDATE_SECONDS = 120.0  # a batch's validation and feedback, after its files are read
WORKER_START_SECONDS = 120.0  # a worker's imports, on a busy machine
# Read ahead (while Prefect starts): chunks as large as a batch (one pandera call each); a file
# that takes longer than a real workbook ever does is left to the pass's reading.
READ_AHEAD_CHUNK = 200
READ_AHEAD_FILE_SECONDS = 5.0
# Workers yield the CPU to the pass's own process and to Prefect's server starting beside them
# (the kernel shares CPU between sessions first: a busy machine's other work is not affected).
WORKER_NICE = 19
MAX_WORKERS = 4  # one per core, at most this many (HUIZONG_READERS sets the number)

# --- the warehouse (huizong/store/warehouse.py) ------------------------------------------------
# DuckDB's memory for a pass's build: past it, DuckDB writes its working data to disk (the build's
# .spill folder) instead of growing. Its default, 80% of the machine, would let the pass's process
# grow with the inbox (1.7 GiB at 8,000 workbooks while the models are built); a city's rebuild
# of 50,000 workbooks must stay under 1 GiB. HUIZONG_BUILD_MEMORY overrides it (DuckDB's units).
BUILD_MEMORY = "256MB"
