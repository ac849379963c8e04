"""The plant's live page, served from a history store by the standard library's HTTP server.

``audioad dashboard plant.sqlite`` serves, on 127.0.0.1 unless told otherwise:

- ``/``: the page (``dashboard_assets/``: one HTML, one script, one style sheet; nothing from
  another host). Every machine with its state (normal, unusual, alarm), its last score against
  its thresholds and its highest score over the last hour, day or week; the alert list. The
  page asks for ``/api/state`` four times a second and redraws when it changed, so a row
  shows within half a second of its commit.
- ``/api/state?range=hour|day|week``: the same, as JSON.
- ``/api/alerts/ID``: one alert with its segment's explanation (:mod:`audioad.monitor.media`),
  or why its sound is unavailable; ``/api/alerts/ID/audio.wav`` and ``.../spectrogram.png``.
- ``POST /api/alerts/ID/ack`` (JSON ``{"by": ..., "note": ...}``): acknowledge, only where the
  server was started with ``allow_ack``; the page is read-only otherwise. Nothing can be deleted.
- ``/metrics``: Prometheus metrics (:mod:`audioad.monitor.metrics`).

Examples
--------
What ``/api/state`` answers (``make_server(store)`` serves it; ``serving(server)`` runs it in a thread):

>>> import json, os, tempfile
>>> from audioad.monitor.backends import open_store
>>> store = open_store(os.path.join(tempfile.mkdtemp(), "plant.sqlite"))
>>> _ = store.source_id("press3", "ab" * 32, threshold=1.0, alert_threshold=2.0)
>>> state = json.loads(Dashboard(store).state("day"))
>>> [(s["name"], s["state"]) for s in state["sources"]], state["allow_ack"]
([('press3', 'normal')], False)
>>> Dashboard(store).acknowledge(1, b'{"by": "ann"}')
(<HTTPStatus.FORBIDDEN: 403>, 'read-only: this dashboard was started without allow_ack')
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from contextlib import contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import parse_qs, urlsplit

from . import media
from .metrics import CONTENT_TYPE, metrics_text

__all__ = ["RANGES", "Dashboard", "make_server", "serving", "serve"]

log = logging.getLogger("audioad.dashboard")
log.addHandler(logging.NullHandler())

#: The chart's time ranges, in seconds.
RANGES = {"hour": 3600, "day": 86400, "week": 7 * 86400}
# Points a chart draws: each the highest score of its span of the range.
_BUCKETS = 120
# An unchanged store's answer is built again this often: its time range moves on.
_REBUILD_SECONDS = 5.0
_ALERTS_SHOWN = 50
_ASSETS = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/static/style.css": ("style.css", "text/css; charset=utf-8"),
}
_ALERT_PATH = re.compile(r"^/api/alerts/(\d+)(/audio\.wav|/spectrogram\.png|/ack)?$")


class Dashboard:
    """What the page shows, read from ``store``; the answers to its requests, as bytes.

    Parameters
    ----------
    store : audioad.monitor.store.Store
    allow_ack : bool
        Whether alerts may be acknowledged from the page.
    """

    def __init__(self, store, allow_ack=False, read_only="read-only: this dashboard was started without allow_ack"):
        self.store, self.allow_ack, self.read_only = store, bool(allow_ack), read_only
        self._cache = {}  # range -> (store version, built at, body)
        self._cache_lock = threading.Lock()

    def state(self, range_name="hour"):
        """``/api/state``: every source with its chart, and the latest alerts, as JSON bytes."""
        version = self.store.version()
        with self._cache_lock:
            cached = self._cache.get(range_name)
            if cached and cached[0] == version and time.monotonic() - cached[1] < _REBUILD_SECONDS:
                return cached[2]
        since = time.time() - RANGES[range_name]
        series = self.store.series(since, _BUCKETS)
        sources = []
        for s in self.store.sources():
            keep = ("id", "name", "state", "threshold", "alert_threshold", "rule", "segments", "last_score", "last_at",
                    "last_file", "last_start", "last_error")  # fmt: skip
            shown = {k: s[k] for k in keep}
            shown["model"] = s["model"][:12]
            shown["series"] = [[round(t, 3), score, n] for t, score, n in series.get(s["id"], [])]
            sources.append(shown)
        body = json.dumps(
            {
                "version": list(version),
                "range": range_name,
                "since": since,
                "allow_ack": self.allow_ack,
                "sources": sources,
                "alerts": self.store.alerts(_ALERTS_SHOWN),
            }
        ).encode()
        with self._cache_lock:
            self._cache[range_name] = (version, time.monotonic(), body)
        return body

    def alert(self, alert_id):
        """``/api/alerts/ID``: the alert, its source, and its segment's explanation or why there is none; or None."""
        alert = self.store.alert(alert_id)
        if alert is None:
            return None
        try:
            alert["explanation"] = media.explanation(alert)
        except media.MediaUnavailable as exc:
            alert["unavailable"] = str(exc)
        return json.dumps(alert).encode()

    def acknowledge(self, alert_id, body):
        """``POST /api/alerts/ID/ack``: the status and a one-line answer."""
        if not self.allow_ack:
            return HTTPStatus.FORBIDDEN, self.read_only
        try:
            sent = json.loads(body)
            by, note = str(sent.get("by", "")).strip(), str(sent.get("note", "")).strip()
        except (ValueError, AttributeError):
            return HTTPStatus.BAD_REQUEST, 'send JSON: {"by": "your name", "note": "what you found"}'
        if not by:
            return HTTPStatus.BAD_REQUEST, "say who acknowledges it (by)"
        if not self.store.acknowledge(alert_id, by[:100], note[:2000]):
            return HTTPStatus.NOT_FOUND, f"no alert {alert_id}"
        log.info("alert %d acknowledged by %s: %s", alert_id, by, note)
        return HTTPStatus.OK, "acknowledged"


class _Handler(BaseHTTPRequestHandler):
    server_version = "audioad-dashboard"
    dashboard: Dashboard  # set on the class make_server makes

    def log_message(self, format, *args):
        log.debug("%s %s", self.address_string(), format % args)

    def _send(self, status, body, content_type="text/plain; charset=utf-8"):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 (http.server's name)
        url = urlsplit(self.path)
        path, query = url.path, parse_qs(url.query)
        if path in _ASSETS:
            name, content_type = _ASSETS[path]
            asset = resources.files(__package__).joinpath("dashboard_assets", name)
            return self._send(HTTPStatus.OK, asset.read_bytes(), content_type)
        if path == "/api/state":
            range_name = query.get("range", ["hour"])[0]
            if range_name not in RANGES:
                return self._send(HTTPStatus.BAD_REQUEST, f"range is one of {', '.join(RANGES)}")
            return self._send(HTTPStatus.OK, self.dashboard.state(range_name), "application/json")
        if path == "/metrics":
            return self._send(HTTPStatus.OK, metrics_text(self.dashboard.store), CONTENT_TYPE)
        match = _ALERT_PATH.match(path)
        if match is None or match.group(2) == "/ack":
            return self._send(HTTPStatus.NOT_FOUND, f"nothing at {path}")
        alert_id, part = int(match.group(1)), match.group(2)
        if part is None:
            body = self.dashboard.alert(alert_id)
            if body is None:
                return self._send(HTTPStatus.NOT_FOUND, f"no alert {alert_id}")
            return self._send(HTTPStatus.OK, body, "application/json")
        alert = self.dashboard.store.alert(alert_id)
        if alert is None:
            return self._send(HTTPStatus.NOT_FOUND, f"no alert {alert_id}")
        try:
            if part == "/audio.wav":
                return self._send(HTTPStatus.OK, media.wav_bytes(alert), "audio/wav")
            return self._send(HTTPStatus.OK, media.spectrogram_png(alert), "image/png")
        except media.MediaUnavailable as exc:
            return self._send(HTTPStatus.NOT_FOUND, str(exc))

    def do_POST(self):  # noqa: N802
        match = _ALERT_PATH.match(urlsplit(self.path).path)
        if match is None or match.group(2) != "/ack":
            return self._send(HTTPStatus.NOT_FOUND, "only alerts can be acknowledged")
        # A form another site posts to this server cannot send JSON without the browser asking first (CORS).
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            return self._send(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send application/json")
        length = min(int(self.headers.get("Content-Length") or 0), 10_000)
        status, answer = self.dashboard.acknowledge(int(match.group(1)), self.rfile.read(length))
        return self._send(status, answer)


def make_server(store, host="127.0.0.1", port=8050, allow_ack=False, **dashboard):
    """A :class:`~http.server.ThreadingHTTPServer` serving the dashboard of ``store`` on ``host:port``.

    ``port=0`` takes a free port (``server.server_port``); ``server.dashboard`` is its :class:`Dashboard`,
    made with ``dashboard``'s further keyword arguments (``read_only``).
    Each request runs in its own thread and ends with it: :meth:`~socketserver.BaseServer.server_close`
    waits for those still running.
    """
    dashboard = Dashboard(store, allow_ack, **dashboard)
    server = ThreadingHTTPServer((host, port), type("DashboardHandler", (_Handler,), {"dashboard": dashboard}))
    server.dashboard = dashboard
    # Join request threads on close rather than leave them running as daemons.
    server.daemon_threads = False
    return server


@contextmanager
def serving(server):
    """Serve in a thread for the ``with`` block; stop and close the server on the way out."""
    thread = threading.Thread(target=server.serve_forever, name="audioad-dashboard")
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def serve(server):
    """Serve until Ctrl-C (or SIGTERM raised as KeyboardInterrupt), then close the server."""
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
