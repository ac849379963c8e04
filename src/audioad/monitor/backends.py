"""Which history store a location names: a PostgreSQL server by its URL, or a SQLite file by its path.

Above the store's interface (:mod:`.store`) and both backends, which build on that interface.
"""

from __future__ import annotations

__all__ = ["open_store"]


def open_store(where):
    """The store at ``where``: a ``postgresql://`` URL, or the path of a SQLite file (made if missing).

    Raises
    ------
    StoreError
        For a store that cannot be opened, one of a newer schema, or a file that is not a SQLite database.

    Examples
    --------
    >>> import os, tempfile
    >>> store = open_store(os.path.join(tempfile.mkdtemp(), "plant.sqlite"))
    >>> type(store).__name__, store.sources()
    ('SQLiteStore', [])
    >>> store.close()
    """
    where = str(where)
    if where.startswith(("postgresql://", "postgres://")):
        from .postgres_store import PostgresStore

        return PostgresStore(where)
    from .sqlite_store import SQLiteStore

    return SQLiteStore(where)
