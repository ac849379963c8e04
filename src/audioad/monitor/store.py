"""The history store: the small interface every backend has, its schema, and the migrations run on open.

A store is opened by :func:`audioad.monitor.backends.open_store`, which picks the backend.

A store holds, for a plant:

- ``sources``: one row a machine and model (its name and the model file's SHA-256), with the
  thresholds and rule its watch uses and its last row, so the plant's overview reads one row a machine;
- ``segments``: one row a scored segment, unique on (source, file, start): a source is one machine
  scored by one model, so a segment scored twice (a restart, two watches on one folder) is
  refused by the database itself, not just unlikely;
- ``alerts``: raised, cleared, acknowledged (when, by whom, with a note);
- ``watch_state``: what a watch keeps across restarts (:class:`audioad.watch.WatchState`).

A watch's rows, alerts and state go in by :meth:`Store.record`, one transaction a batch: a watch
killed at any moment leaves every committed batch whole, and its state says exactly which rows
are in. Several watches write into one store at once (SQLite serialises their short
transactions; PostgreSQL runs them side by side).

The SQL is the part of SQL both SQLite and PostgreSQL speak (``ON CONFLICT``, ``RETURNING``);
a backend supplies the connection, the column types and its parameter style. The schema
version is kept in ``meta``; opening a store migrates an older one and refuses a newer one.

Examples
--------
>>> import os, tempfile
>>> from audioad.monitor.backends import open_store
>>> store = open_store(os.path.join(tempfile.mkdtemp(), "plant.sqlite"))
>>> press = store.source_id("press3", "ab" * 32, threshold=1.0, alert_threshold=2.0)
>>> store.record(press, [Segment("a.wav", 0.0, 2.0, 0.5, 0, 0, 1700000000.0, "")], [], '{"rows": 1}')
1
>>> store.record(press, [Segment("a.wav", 0.0, 2.0, 0.9, 0, 0, 1700000001.0, "")], [], '{"rows": 1}')  # scored twice
0
>>> [(s["name"], s["segments"], s["last_score"], s["state"]) for s in store.sources()]
[('press3', 1, 0.5, 'normal')]
>>> store.load_state(press)
'{"rows": 1}'
>>> store.close()
"""

from __future__ import annotations

import math
import threading
import time
from contextlib import contextmanager, suppress
from typing import NamedTuple

__all__ = ["SCHEMA_VERSION", "MIGRATIONS", "StoreError", "Segment", "AlertChange", "Store", "state_of"]

#: The schema this audioad writes; a store of a later version is refused.
SCHEMA_VERSION = 1

#: The statements taking a store from version ``i`` to ``i + 1``; ``{id}`` and ``{real}`` are the backend's types.
MIGRATIONS = [
    [
        """CREATE TABLE sources (
            id {id}, name TEXT NOT NULL, model TEXT NOT NULL, model_path TEXT,
            threshold {real}, alert_threshold {real}, rule TEXT, segment {real}, hop {real},
            segments BIGINT NOT NULL DEFAULT 0, last_file TEXT, last_start {real}, last_score {real},
            last_label INTEGER, last_alert INTEGER, last_at {real}, last_error TEXT,
            UNIQUE (name, model))""",
        """CREATE TABLE segments (
            id {id}, source_id BIGINT NOT NULL REFERENCES sources (id), file TEXT NOT NULL,
            start {real}, stop {real}, score {real}, label INTEGER, alert INTEGER,
            scored_at {real} NOT NULL, error TEXT NOT NULL DEFAULT '',
            UNIQUE (source_id, file, start))""",
        "CREATE INDEX segments_by_time ON segments (scored_at)",
        "CREATE INDEX segments_by_source_time ON segments (source_id, scored_at)",
        """CREATE TABLE alerts (
            id {id}, source_id BIGINT NOT NULL REFERENCES sources (id), file TEXT NOT NULL,
            start {real}, stop {real}, score {real}, raised_at {real} NOT NULL, cleared_at {real},
            acknowledged_at {real}, acknowledged_by TEXT, note TEXT)""",
        "CREATE INDEX alerts_by_source ON alerts (source_id, cleared_at)",
        "CREATE TABLE watch_state (source_id BIGINT PRIMARY KEY REFERENCES sources (id), state TEXT NOT NULL)",
    ],
]

_SOURCE_COLUMNS = (
    "id", "name", "model", "model_path", "threshold", "alert_threshold", "rule", "segment", "hop", "segments",
    "last_file", "last_start", "last_score", "last_label", "last_alert", "last_at", "last_error",
)  # fmt: skip
_SETTINGS = ("model_path", "threshold", "alert_threshold", "rule", "segment", "hop")
_ALERT_COLUMNS = (
    "id", "source_id", "file", "start", "stop", "score", "raised_at", "cleared_at", "acknowledged_at",
    "acknowledged_by", "note",
)  # fmt: skip


class StoreError(RuntimeError):
    """A store that cannot be opened or written: one line naming it and the cause."""


class Segment(NamedTuple):
    """One scored segment, as a store keeps it.

    Attributes
    ----------
    file : str
        The recording (``"-"`` for a pipe, the card's name for a sound card).
    start, stop : float
        Seconds from the start of ``file``; NaN for a file that could not be decoded.
    score : float
        NaN for such a file.
    label, alert : int or None
        Above the label threshold; the alert up after this segment.
    scored_at : float
        Seconds since the epoch.
    error : str
        Why the file could not be scored, or empty.
    """

    file: str
    start: float
    stop: float
    score: float
    label: int | None
    alert: int | None
    scored_at: float
    error: str


class AlertChange(NamedTuple):
    """An alert raised or cleared at a segment (:class:`audioad.watch.AlertEvent`, with its time)."""

    event: str
    file: str
    start: float
    stop: float
    score: float
    at: float


def state_of(source):
    """A source's state on the dashboard: ``"alarm"`` (an alert is up), ``"unusual"`` (its last segment is
    above the label threshold) or ``"normal"``.

    Examples
    --------
    >>> state_of({"last_alert": 1, "last_label": 1}), state_of({"last_alert": 0, "last_label": 1})
    ('alarm', 'unusual')
    """
    if source.get("last_alert"):
        return "alarm"
    return "unusual" if source.get("last_label") else "normal"


def _null(value):
    """NaN as NULL: SQL has no NaN, and an undecodable file's row has no times or score."""
    return None if isinstance(value, float) and math.isnan(value) else value


class Store:
    """The history of a plant's watches: what every backend offers (see the module's description).

    A backend sets :attr:`where` (the store as messages name it), :attr:`types` (``id`` and
    ``real`` column types), :attr:`bucket` (the SQL of a time bucket's number) and implements
    :meth:`_connect`, :meth:`_begin` and :meth:`_run`. One store may be used by several threads:
    each call holds the store's lock.
    """

    where = "store"
    types = {}
    bucket = ""

    def __init__(self):
        self._lock = threading.RLock()
        self._connect()
        self._migrate()

    # What a backend implements.
    def _connect(self):
        raise NotImplementedError

    def _begin(self):
        """Start a write transaction that holds the store's write lock until it ends."""
        raise NotImplementedError

    def _run(self, sql, params=()):
        """Run one statement; its rows (a list of tuples) where it returns some."""
        raise NotImplementedError

    def _lock_schema(self):
        """Inside the migration's transaction: keep other connections from migrating at the same time.

        Nothing to do where :meth:`_begin` already takes the store's only write lock (SQLite).
        """

    def close(self):
        """Close the connection."""
        self._connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @contextmanager
    def _transaction(self):
        with self._lock:
            self._begin()
            try:
                yield
            except BaseException:
                # The first error is the one to report; a failed rollback (the connection gone) adds nothing.
                with suppress(StoreError):
                    self._run("ROLLBACK")
                raise
            self._run("COMMIT")

    def _migrate(self):
        with self._transaction():
            self._lock_schema()
            self._run("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            found = self._run("SELECT value FROM meta WHERE key = 'schema_version'")
            version = int(found[0][0]) if found else 0
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.where}: its schema is version {version}, newer than this audioad's "
                    f"({SCHEMA_VERSION}); upgrade audioad to read it"
                )
            for statements in MIGRATIONS[version:]:
                for statement in statements:
                    self._run(statement.format(**self.types))
            if version < SCHEMA_VERSION:
                self._run(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (str(SCHEMA_VERSION),),
                )

    def schema_version(self):
        """The schema version the store is at."""
        with self._lock:
            return int(self._run("SELECT value FROM meta WHERE key = 'schema_version'")[0][0])

    # Writing: one watch.
    def source_id(
        self, name, model, model_path=None, threshold=None, alert_threshold=None, rule=None, segment=None, hop=None
    ):
        """The id of machine ``name`` scored by the model whose SHA-256 is ``model``; added, or its settings updated.

        A setting passed as None keeps the one the store has.
        """
        with self._transaction():
            return self._run(
                "INSERT INTO sources (name, model, model_path, threshold, alert_threshold, rule, segment, hop) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name, model) DO UPDATE SET "
                + ", ".join(f"{c} = coalesce(excluded.{c}, sources.{c})" for c in _SETTINGS)
                + " RETURNING id",
                (name, model, model_path, threshold, alert_threshold, rule, segment, hop),
            )[0][0]

    def record(self, source_id, segments, changes, state):
        """Add a batch of segments (those already in are left as they are), alert changes and the watch's state,
        in one transaction.

        Returns
        -------
        int
            How many of ``segments`` were new.
        """
        added = 0
        with self._transaction():
            for s in segments:
                row = (source_id, s.file, _null(s.start), _null(s.stop), _null(s.score), s.label, s.alert)
                inserted = self._run(
                    "INSERT INTO segments (source_id, file, start, stop, score, label, alert, scored_at, error) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source_id, file, start) DO NOTHING RETURNING id",
                    (*row, s.scored_at, s.error),
                )
                if not inserted:
                    continue
                added += 1
                self._run(
                    "UPDATE sources SET segments = segments + 1, last_file = ?, last_start = ?, last_score = ?, "
                    "last_label = ?, last_alert = ?, last_at = ?, last_error = ? WHERE id = ?",
                    (s.file, _null(s.start), _null(s.score), s.label, s.alert, s.scored_at, s.error, source_id),
                )
            for change in changes:
                if change.event == "raised":
                    self._run(
                        "INSERT INTO alerts (source_id, file, start, stop, score, raised_at) VALUES (?, ?, ?, ?, ?, ?)",
                        (source_id, change.file, _null(change.start), _null(change.stop), change.score, change.at),
                    )
                else:
                    self._run(
                        "UPDATE alerts SET cleared_at = ? WHERE source_id = ? AND cleared_at IS NULL",
                        (change.at, source_id),
                    )
            if state is not None:
                self._run(
                    "INSERT INTO watch_state (source_id, state) VALUES (?, ?) "
                    "ON CONFLICT (source_id) DO UPDATE SET state = excluded.state",
                    (source_id, state),
                )
        return added

    def load_state(self, source_id):
        """The watch state last recorded for ``source_id`` (JSON text), or None."""
        with self._lock:
            found = self._run("SELECT state FROM watch_state WHERE source_id = ?", (source_id,))
        return found[0][0] if found else None

    def acknowledge(self, alert_id, by, note="", at=None):
        """Mark an alert acknowledged by ``by`` with ``note``; False where there is no such alert."""
        with self._transaction():
            done = self._run(
                "UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ?, note = ? WHERE id = ? RETURNING id",
                (time.time() if at is None else at, by, note, alert_id),
            )
        return bool(done)

    # Reading: the dashboard, the metrics, the export.
    def version(self):
        """A value that changes whenever a segment is added or an alert raised, cleared or acknowledged."""
        with self._lock:
            found = self._run(
                "SELECT (SELECT max(id) FROM segments), count(*), count(cleared_at), count(acknowledged_at) FROM alerts"
            )
        return tuple(found[0])

    def sources(self):
        """Every source, with its settings, segment count, last row and :func:`state_of`, by name."""
        with self._lock:
            found = self._run(f"SELECT {', '.join(_SOURCE_COLUMNS)} FROM sources ORDER BY name, id")
        sources = [dict(zip(_SOURCE_COLUMNS, row)) for row in found]
        for source in sources:
            source["state"] = state_of(source)
        return sources

    def series(self, since, buckets):
        """Each source's highest score in each of ``buckets`` equal spans from ``since`` (epoch seconds) to now.

        Returns
        -------
        dict
            source id -> list of ``(bucket start, highest score, segments)``, oldest first.
        """
        width = max(time.time() - since, 1e-3) / buckets
        with self._lock:
            found = self._run(
                f"SELECT source_id, {self.bucket} AS b, max(score), count(*) FROM segments "
                "WHERE scored_at >= ? AND score IS NOT NULL GROUP BY source_id, b ORDER BY source_id, b",
                (since, width, since),
            )
        series = {}
        for source_id, b, score, count in found:
            series.setdefault(source_id, []).append((since + b * width, score, count))
        return series

    def counts(self, since=None):
        """Per source id, since ``since`` (epoch seconds) or ever: ``(segments, above the label threshold, alerts)``."""
        since = -math.inf if since is None else since
        with self._lock:
            scored = self._run(
                "SELECT source_id, count(*), count(CASE WHEN label = 1 THEN 1 END) FROM segments "
                "WHERE scored_at >= ? GROUP BY source_id",
                (since,),
            )
            raised = dict(
                self._run("SELECT source_id, count(*) FROM alerts WHERE raised_at >= ? GROUP BY source_id", (since,))
            )
        counts = {source_id: (n, above, raised.get(source_id, 0)) for source_id, n, above in scored}
        for source_id, n in raised.items():
            counts.setdefault(source_id, (0, 0, n))
        return counts

    def segments(self, source=None, since=None, after=0, limit=None):
        """Segments scored since ``since`` (epoch seconds), of machine ``source`` or all, in the order they went in.

        ``after`` (a row's ``id``) and ``limit`` page through a long history without holding it all.

        Returns
        -------
        list of dict
            ``id``, ``source``, ``model``, ``file``, ``start``, ``stop``, ``score``, ``label``, ``alert``,
            ``scored_at``, ``error``.
        """
        columns = ("id", "source", "model", "file", "start", "stop", "score", "label", "alert", "scored_at", "error")
        where, params = ["segments.id > ?"], [after]
        if source is not None:
            where.append("sources.name = ?")
            params.append(source)
        if since is not None:
            where.append("segments.scored_at >= ?")
            params.append(since)
        with self._lock:
            found = self._run(
                "SELECT segments.id, sources.name, sources.model, file, start, stop, score, label, alert, scored_at, "
                f"error FROM segments JOIN sources ON sources.id = segments.source_id WHERE {' AND '.join(where)} "
                f"ORDER BY segments.id{'' if limit is None else ' LIMIT ' + str(int(limit))}",
                tuple(params),
            )
        return [dict(zip(columns, row)) for row in found]

    def alerts(self, limit=100):
        """The latest ``limit`` alerts, newest first, each with its source's name."""
        with self._lock:
            found = self._run(
                f"SELECT {', '.join('alerts.' + c for c in _ALERT_COLUMNS)}, sources.name FROM alerts "
                "JOIN sources ON sources.id = alerts.source_id ORDER BY alerts.raised_at DESC, alerts.id DESC LIMIT ?",
                (limit,),
            )
        return [dict(zip((*_ALERT_COLUMNS, "source"), row)) for row in found]

    def alert(self, alert_id):
        """One alert with its source's settings (``source``: a dict), or None."""
        with self._lock:
            found = self._run(f"SELECT {', '.join(_ALERT_COLUMNS)} FROM alerts WHERE id = ?", (alert_id,))
        if not found:
            return None
        alert = dict(zip(_ALERT_COLUMNS, found[0]))
        alert["source"] = next(s for s in self.sources() if s["id"] == alert["source_id"])
        return alert
