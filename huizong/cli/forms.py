"""The commands that write workbooks to fill: template and demo."""
from __future__ import annotations

import argparse
from pathlib import Path

from huizong.cli.common import EXIT_OK, Mistake, quarter, say, submitting_unit


def cmd_template(args: argparse.Namespace) -> int:
    from huizong.outputs.templates import template_name, write_template
    from huizong.schemas import catalog as cat

    period = quarter(args.period)
    units = [submitting_unit(args.unit)] if args.unit else cat.submitters()
    folder = args.warehouse / "templates" / period
    if args.out and len(units) == 1 and args.out.suffix == ".xlsx":
        targets = {units[0]: args.out}
    else:
        targets = {u: (args.out or folder) / template_name(u, period) for u in units}
    for unit, path in targets.items():
        write_template(unit, period, path)
        say(f"wrote {path}")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from huizong.outputs.demo import DEMO_PERIODS, generate, write_demo_inbox

    if args.out.exists() and not args.out.is_dir():
        raise Mistake(f"{args.out} is a file, not a folder: --out names the folder to write into")
    if args.changing_form:
        return changing_form_demo(args.out)
    if args.demo_inbox:
        paths = write_demo_inbox(args.out)
    else:
        periods = tuple(dict.fromkeys(quarter(p) for p in args.periods)) if args.periods else DEMO_PERIODS
        paths = generate(args.out, periods)
    say(f"wrote {len(paths)} workbooks to {args.out}")
    return EXIT_OK


def changing_form_demo(out: Path) -> int:
    """OUT/catalog: the catalog and registry changed for 2020; OUT/inbox: 2019 and 2020 written
    against them (by a second huizong that reads that catalog: it is read once, when huizong starts)."""
    import os
    import subprocess
    import sys

    from huizong.outputs.demo import CHANGING_PERIODS, write_changing_catalog

    catalog = write_changing_catalog(out / "catalog")
    done = subprocess.run([sys.executable, "-m", "huizong.cli", "demo", "--out", str(out / "inbox"),
                           "--periods", *CHANGING_PERIODS], env={**os.environ, "HUIZONG_CATALOG": str(catalog)})
    if done.returncode:
        return done.returncode
    say(f"the changed catalog and registry are in {catalog}; load the inbox with them:\n"
        f"  HUIZONG_CATALOG={catalog} huizong run --inbox {out / 'inbox'} --warehouse {out / 'warehouse'}")
    return EXIT_OK
