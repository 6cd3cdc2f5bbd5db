"""The `huizong` command: a thin layer over the library and the Prefect flows (CONTRACT.md), one
module per group of commands: parse, call the library, print."""
from huizong.cli.app import main

__all__ = ["main"]
