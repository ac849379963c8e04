"""``audioad history``: what the watches wrote into a history store."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from .errors import Refused
from .group import main
from .options import Duration


def check_store_exists(store):
    """Refuse a store that is not there (exit 2) rather than make an empty one."""
    # Reading must not make an empty store where a name was mistyped.
    if not store.startswith(("postgresql://", "postgres://")) and not Path(store).is_file():
        raise Refused(f"{store}: no such history store")


@main.command()
@click.argument("store", metavar="STORE")
@click.option("--source", help="Only this machine (its --name in audioad watch).")
@click.option(
    "--since",
    type=Duration(),
    metavar="DURATION",
    help="Only segments scored this long ago or later: 30min, 12h, 7d, 2w.",
)
@click.option("--csv", "as_csv", is_flag=True, help="Write the segments as CSV instead of a summary a machine.")
@click.option("--out", "-o", type=click.Path(dir_okay=False), help="Write the CSV to this file (default: stdout).")
def history(store, source, since, as_csv, out):
    """What the watches wrote into a history store (a SQLite file or postgresql://...).

    \b
    Examples:
      audioad history plant.sqlite
      audioad history plant.sqlite --source press3 --since 7d --csv > press3-week.csv
    """
    from ..monitor.backends import open_store
    from ..monitor.export import summary_lines, write_csv
    from ..monitor.store import StoreError

    if not (as_csv or out is None):
        raise click.UsageError("--out is for --csv")
    start = None if since is None else time.time() - since
    check_store_exists(store)
    try:
        with open_store(store) as opened:
            if not as_csv:
                lines = summary_lines(opened, source, start)
                click.echo("\n".join(lines) or f"{store}: no machine{'' if source is None else ' ' + source}")
            elif out is None:
                write_csv(opened, sys.stdout, source, start)
            else:
                with open(out, "w", newline="", encoding="utf-8") as f:
                    n = write_csv(opened, f, source, start)
                click.echo(f"wrote {n} rows to {out}", err=True)
    except StoreError as exc:
        raise Refused(str(exc)) from exc
