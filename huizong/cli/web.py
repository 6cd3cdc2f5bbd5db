"""The web page's commands: `huizong web` serves it; `huizong users` manages who may log in."""
from __future__ import annotations

import argparse
import getpass
import os
import secrets

from huizong.cli.common import EXIT_OK, Mistake, check_folders, say


def cmd_web(args: argparse.Namespace) -> int:
    """Serve the page with uvicorn until stopped (Ctrl-C)."""
    import uvicorn

    from huizong.office import accounts
    from huizong.web import passes
    from huizong.web.app import create_app

    check_folders(args.inbox, args.warehouse)
    from huizong.office.uploads import sweep_unfinished

    if removed := sweep_unfinished(args.inbox):  # a page killed mid-upload: nothing it placed
        say(f"removed {removed} unfinished upload(s) a stopped page left in the inbox (hidden, never read)")
    if not any(a.is_office for a in accounts.accounts(args.warehouse)):
        say("no office account yet: huizong users add --name NAME --role office (or huizong users demo)")
    from huizong.flows.server import prefect_api

    # The passes the uploads start share one Prefect server (the configured one, or a temporary
    # one that lives as long as the page): each would otherwise start its own, 8-14 s here.
    with prefect_api(args.warehouse, say=say):
        say(f"huizong web: http://{args.host}:{args.port}/ (inbox {args.inbox}, warehouse {args.warehouse}); "
            "Ctrl-C stops it")
        passes.keep_spares(args.warehouse)  # a pass's process ready for the first upload
        try:
            uvicorn.run(create_app(args.warehouse, args.inbox), host=args.host, port=args.port, log_level="warning")
        finally:
            passes.let_spares_go()
    return EXIT_OK


def _password(args: argparse.Namespace) -> str:
    """From --password, HUIZONG_PASSWORD, or asked for twice at the terminal."""
    if args.password:
        return args.password
    if os.environ.get("HUIZONG_PASSWORD"):
        return os.environ["HUIZONG_PASSWORD"]
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise Mistake("the two passwords differ")
    return first


def cmd_users(args: argparse.Namespace) -> int:
    from huizong.office import accounts

    if args.action == "list":
        for a in accounts.accounts(args.warehouse):
            unit = f" {a.unit.name} {a.unit_code}" if a.unit else ""
            say(f"{a.name}: {a.role}{unit}" + (" (disabled)" if a.disabled else ""))
        return EXIT_OK
    if args.action == "demo":
        return demo_accounts(args)
    if not args.name:
        raise Mistake(f"huizong users {args.action} needs --name NAME")
    if args.action == "add":
        role = args.role or ("unit" if args.unit else None)
        if role is None:
            raise Mistake("say whose account it is: --role office, or --unit CODE for a town or department")
        made = accounts.add(args.warehouse, args.name, role, _password(args), args.unit)
        say(f"added {made.role} account {made.name}" + (f" for {made.unit.name} {made.unit_code}" if made.unit else ""))
    elif args.action == "reset":
        accounts.reset(args.warehouse, args.name, _password(args))
        say(f"new password for {args.name}")
    elif args.action == "disable":
        accounts.disable(args.warehouse, args.name)
        say(f"disabled {args.name}: it can no longer log in")
    return EXIT_OK


def demo_accounts(args: argparse.Namespace) -> int:
    """An office account and one per submitting unit, with passwords printed once (the demo)."""
    from huizong.office import accounts
    from huizong.schemas import catalog as cat

    existing = {a.name for a in accounts.accounts(args.warehouse)}
    wanted = [("文明办", "office", None)] + [(u.name, "unit", u.code) for u in cat.submitters()]
    for name, role, unit in wanted:
        if name in existing:
            say(f"{name}: exists already (huizong users reset --name {name} gives it a new password)")
            continue
        password = secrets.token_urlsafe(9)
        accounts.add(args.warehouse, name, role, password, unit)
        say(f"{name} ({role}{' ' + unit if unit else ''}): password {password}")
    return EXIT_OK
