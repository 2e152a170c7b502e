"""A SQLite file shared by threads: one connection per thread, WAL, and write transactions that queue.

WAL mode with synchronous=NORMAL: a committed transaction survives the process being killed (it may
not survive a power cut, which a mock need not). `transaction()` takes the write lock up front
(BEGIN IMMEDIATE) so two writers queue instead of failing half way.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class SQLiteFile:
    """The plumbing both stores share. With `nesting`, a transaction opened inside another joins it
    (a connector handler inside the processor's transaction); without, that is an error."""

    def __init__(self, path: str | Path, nesting: bool = False):
        self.path = str(path)
        self._nesting = nesting
        self._local = threading.local()

    def connection(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=10000")
            self._opened(db)
            self._local.db = db
        return db

    def _opened(self, db: sqlite3.Connection) -> None:
        """Set up a new connection further (for subclasses)."""

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        db = self.connection()
        if self._nesting and db.in_transaction:
            yield db
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def query(self, sql: str, args: Sequence[Any] | Mapping[str, Any] = ()) -> list[sqlite3.Row]:
        return self.connection().execute(sql, args).fetchall()

    def tuples(self, sql: str, args: Sequence[Any] | Mapping[str, Any] = ()) -> list[tuple[Any, ...]]:
        """`query`'s rows as plain tuples: half the cost on tens of thousands of rows (a stock table)."""
        cursor = self.connection().cursor()
        cursor.row_factory = None
        return cursor.execute(sql, args).fetchall()

    def close(self) -> None:
        """Close this thread's connection."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
