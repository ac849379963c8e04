"""The history store in one SQLite file, in WAL mode: readers (the dashboard) never block a watch writing.

Several watches, each in its own process, write into one file: each batch is one short
``BEGIN IMMEDIATE`` transaction, and a writer that finds the file locked waits for its turn
(up to ``timeout`` seconds). ``synchronous=FULL``: a committed batch is on disk before the
watch goes on, so ``kill -9`` (or a power cut) loses no committed row.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .store import Store, StoreError

__all__ = ["SQLiteStore"]

_HEADER = b"SQLite format 3\x00"


class SQLiteStore(Store):
    """A plant's history in the SQLite file ``path`` (made if missing).

    Parameters
    ----------
    path : str or pathlib.Path
        The database file.
    timeout : float
        Seconds a writer waits for another's transaction to end.

    Examples
    --------
    >>> import os, tempfile
    >>> with SQLiteStore(os.path.join(tempfile.mkdtemp(), "plant.sqlite")) as store:
    ...     store.schema_version(), store.sources()
    (1, [])
    """

    types = {"id": "INTEGER PRIMARY KEY", "real": "REAL"}
    # Times are at or after the range's start: CAST truncates, which is floor there.
    bucket = "CAST((scored_at - ?) / ? AS INTEGER)"

    def __init__(self, path, timeout=60.0):
        self.path = Path(path)
        self.where = str(self.path)
        self.timeout = float(timeout)
        super().__init__()

    def _connect(self):
        try:
            with open(self.path, "rb") as f:
                head = f.read(len(_HEADER))
        except FileNotFoundError:
            head = b""
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot read it ({exc.strerror})") from exc
        if head and head != _HEADER:
            raise StoreError(f"{self.path}: not a SQLite database; name a new file or an audioad history")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Transactions are begun explicitly (BEGIN IMMEDIATE) and the server's threads share the connection
            # under the store's lock.
            self._connection = sqlite3.connect(
                self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
            )
            self._run("PRAGMA journal_mode = WAL")
            self._run("PRAGMA synchronous = FULL")
            self._run("PRAGMA foreign_keys = ON")
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"{self.path}: cannot open it as a history ({exc})") from exc

    def _begin(self):
        # IMMEDIATE takes the write lock at once: two writers never both read and then both try to write.
        self._run("BEGIN IMMEDIATE")

    def _run(self, sql, params=()):
        try:
            return self._connection.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: {exc}") from exc
