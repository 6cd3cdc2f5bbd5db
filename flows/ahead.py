"""Before a pass's flow runs: `huizong run` has the reading workers read the inbox while Prefect
starts (see ReaderPool.read_ahead). Imports no Prefect: it runs before Prefect is imported."""
from __future__ import annotations

from pathlib import Path

from huizong.core.settings import SETTLE_SECONDS


def read_ahead(inbox: Path, warehouse: Path) -> int:
    """Start the reading workers on the inbox's unread files; with nothing to read, nothing is
    started. Returns how many files are read ahead. Best effort: whatever fails here, the pass
    meets and says."""
    from huizong.bulkheads import isolation
    from huizong.store.warehouse import unread_files

    try:
        files = unread_files(Path(inbox), Path(warehouse), SETTLE_SECONDS)
        if files:
            pool = isolation.shared_pool()
            pool.reports_after = True  # `huizong run` writes them
            pool.read_ahead(files, Path(warehouse))
        return len(files)
    except Exception:
        return 0
