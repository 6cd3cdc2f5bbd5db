"""A pass's process started before it is needed: `huizong web` keeps one ready (huizong/web/passes.py),
so that the pass an upload starts does not first spend seconds importing Prefect, pandas and DuckDB.

    python -m huizong.cli.spare

imports what a pass imports and starts its reading workers, then waits for one line on stdin: the command's arguments as a JSON
list (`["run", "--inbox", ...]`). It runs that command exactly as `python -m huizong.cli` would
(the same signals, output and exit status) and exits. At the end of its input without a line (the
page stopped, or let it go) it exits without running anything. The page uses it only while its own
environment is the one the spare was started with: anything read at import stays right.
"""
from __future__ import annotations

import json
import sys


def main() -> int:
    import huizong.flows.importing  # noqa: F401  (the pass's imports, done while nobody waits)
    import huizong.flows.nightly  # noqa: F401
    import huizong.flows.rerun  # noqa: F401
    import huizong.office.remind  # noqa: F401
    from huizong.bulkheads import isolation

    isolation.shared_pool()  # its reading workers too: the pass takes this pool (same environment)
    from huizong.cli.app import main as command_line

    line = sys.stdin.readline()
    if not line.strip():
        return 0
    sys.argv = ["huizong", *json.loads(line)]
    return command_line()


if __name__ == "__main__":
    sys.exit(main())
