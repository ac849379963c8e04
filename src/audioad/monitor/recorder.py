"""One watch's rows, alerts and state in a history store, committed together.

A :class:`~audioad.watch.Watcher` given a :class:`SourceHistory` hands it each row and alert
change as it makes them; they are held (a batch at most) until the watch saves its state, and
then go into the store in one transaction with that state. So the store's state always says
exactly which rows are in: a watch killed at any moment and started again scores the rest, no
segment twice, and its alert rule sees each segment once. The store's unique key on
(source, file, start) refuses a twice-scored segment besides (two watches on one folder).
"""

from __future__ import annotations

import datetime
import time
from pathlib import Path

from ..score_csv import model_sha256
from ..watch import WatchState
from .backends import open_store
from .store import AlertChange, Segment

__all__ = ["SourceHistory", "StoredWatchState"]


def _float(cell):
    return float(cell) if cell != "" else float("nan")


def _int(cell):
    return None if cell == "" else int(cell)


class SourceHistory:
    """Machine ``name``'s history in ``store``, scored by the model with SHA-256 ``model``.

    Parameters
    ----------
    store : audioad.monitor.store.Store
    name : str
        The machine, as the dashboard and ``audioad history --source`` name it.
    model : str
        The model file's SHA-256.
    **settings
        ``model_path``, ``threshold``, ``alert_threshold``, ``rule``, ``segment``, ``hop``: shown on the
        dashboard, and what it needs to cut and explain an alert's segment.

    Attributes
    ----------
    source_id : int
        The source's id in the store.
    written : int
        Rows committed through this history.

    Examples
    --------
    >>> import os, tempfile
    >>> from audioad.monitor.backends import open_store
    >>> store = open_store(os.path.join(tempfile.mkdtemp(), "plant.sqlite"))
    >>> history = SourceHistory(store, "pump3", "cd" * 32, threshold=1.0)
    >>> state = history.state()
    >>> history.write(("a.wav", "0.0", "2.0", "1.5", 1, 0, "2026-01-01T00:00:00.000+00:00", ""))
    >>> state.rows = 1
    >>> state.save()
    >>> [(s["name"], s["segments"], s["state"]) for s in store.sources()]
    [('pump3', 1, 'unusual')]
    >>> SourceHistory(store, "pump3", "cd" * 32).state().rows  # a restarted watch reads its state back
    1
    """

    def __init__(self, store, name, model, **settings):
        self.store, self.name = store, name
        self.source_id = store.source_id(name, model, **settings)
        self.written = 0
        self._segments, self._changes = [], []

    @classmethod
    def open(cls, where, name, model, **settings):
        """The history of machine ``name`` scored by the model file ``model``, in the store at ``where``.

        The model is named in the store by its SHA-256 and its absolute path (to explain alerts).
        """
        sha256 = model_sha256(model)
        return cls(open_store(where), name, sha256, model_path=str(Path(model).resolve()), **settings)

    def write(self, row):
        """Hold a row of :data:`audioad.watch.WATCH_COLUMNS` until the state is saved (the store keeps no warning)."""
        file, start, stop, score, label, alert, scored_at, error = row[:8]
        at = datetime.datetime.fromisoformat(scored_at).timestamp()
        self._segments.append(
            Segment(file, _float(start), _float(stop), _float(score), _int(label), _int(alert), at, error)
        )

    def alert(self, event):
        """Hold an :class:`audioad.watch.AlertEvent` until the state is saved."""
        self._changes.append(AlertChange(event.event, event.source, event.start, event.end, event.score, time.time()))

    def commit(self, state):
        """Put the rows and alert changes held, and ``state`` (JSON text), into the store in one transaction."""
        segments, changes = self._segments, self._changes
        self._segments, self._changes = [], []
        self.written += self.store.record(self.source_id, segments, changes, state)

    def state(self):
        """The watch's state, kept in the store: its ``save`` commits what is held with it."""
        return StoredWatchState(self)


class StoredWatchState(WatchState):
    """A :class:`~audioad.watch.WatchState` kept in a history store instead of a JSON file."""

    def __init__(self, history):
        self.history = history
        super().__init__(None)

    @property
    def where(self):
        return f"{self.history.store.where} (watch state of {self.history.name})"

    def _read(self):
        return self.history.store.load_state(self.history.source_id)

    def _write(self, text):
        self.history.commit(text)
