"""Files as they arrive in the inbox: which ones count, and their content hash."""
from __future__ import annotations

import hashlib
from pathlib import Path


def is_ignored(path: Path) -> bool:
    """Excel's lock files (~$x.xlsx), hidden files and folders are not submissions."""
    return path.name.startswith(("~$", ".")) or not path.is_file()


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
