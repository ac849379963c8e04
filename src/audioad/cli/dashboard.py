"""``audioad dashboard``: a live page of a history store."""

from __future__ import annotations

from contextlib import closing

import click

from .errors import Refused
from .group import main
from .history import check_store_exists


@main.command()
@click.argument("store", metavar="STORE")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every network).")
@click.option("--port", type=click.IntRange(0, 65535), default=8050, show_default=True, help="Port (0: a free one).")
@click.option("--allow-ack", is_flag=True, help="Let the page acknowledge alerts with a note (read-only otherwise).")
def dashboard(store, host, port, allow_ack):
    """Serve a live page of a history store: each machine's state and scores, the alerts, their sound.

    STORE is what audioad watch --db wrote into: a SQLite file or
    postgresql://...; /metrics gives Prometheus metrics. Needs
    pip install 'audioad[dashboard]'.

    \b
    Examples:
      audioad dashboard plant.sqlite
      audioad dashboard plant.sqlite --allow-ack --port 8080
    """
    import signal

    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        raise Refused("audioad dashboard needs prometheus_client: pip install 'audioad[dashboard]'") from None
    from ..monitor.backends import open_store
    from ..monitor.dashboard import make_server, serve
    from ..monitor.store import StoreError

    check_store_exists(store)
    try:
        opened = open_store(store)
    except StoreError as exc:
        raise Refused(str(exc)) from exc
    with closing(opened):
        try:
            server = make_server(
                opened, host, port, allow_ack,
                read_only="read-only: start audioad dashboard with --allow-ack to acknowledge alerts",
            )  # fmt: skip
        except OSError as exc:
            raise Refused(f"cannot listen on {host}:{port} ({exc.strerror})") from exc

        def stop(signum, frame):
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
        shown = f"[{host}]" if ":" in host else host
        mode = "acknowledging allowed" if allow_ack else "read-only"
        click.echo(f"serving {store} on http://{shown}:{server.server_port}/ ({mode}); Ctrl-C stops", err=True)
        serve(server)
