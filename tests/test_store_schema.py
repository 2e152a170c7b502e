"""The store's schema version (PRAGMA user_version) and the migration steps that bring an older
database file up to it (momlab.bus.store)."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time

from momlab.bus.store import SCHEMA_VERSION, Store


def _file(path) -> tuple[int, set[str]]:
    """The file's schema version and its index names, read without momlab."""
    db = sqlite3.connect(path)
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        indexes = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    finally:
        db.close()
    return version, indexes


def _age(path, version: int) -> None:
    """Make the file look written by an older momlab: the indexes it had, and its version."""
    db = sqlite3.connect(path)
    db.execute("CREATE INDEX journal_method ON journal(method)")
    db.execute("CREATE INDEX order_lines_stock ON order_lines(sku, source_id)")
    db.execute(f"PRAGMA user_version = {version}")
    db.commit()
    db.close()


def test_a_new_store_is_at_the_current_version(tmp_path):
    path = tmp_path / "mom.sqlite"
    Store(path).close()
    version, indexes = _file(path)
    assert version == SCHEMA_VERSION
    assert "journal_order" in indexes


def test_an_old_store_loses_the_indexes_it_no_longer_needs(tmp_path):
    path = tmp_path / "mom.sqlite"
    Store(path).close()
    _age(path, 0)
    Store(path).close()
    version, indexes = _file(path)
    assert version == SCHEMA_VERSION
    assert {"journal_method", "order_lines_stock"}.isdisjoint(indexes)


def test_a_store_at_the_current_version_runs_no_migration(tmp_path):
    path = tmp_path / "mom.sqlite"
    Store(path).close()
    _age(path, SCHEMA_VERSION)  # an index the migration would drop, in a file that says it is up to date
    Store(path).close()
    version, indexes = _file(path)
    assert version == SCHEMA_VERSION
    assert "journal_method" in indexes


def test_the_checkpointer_ends_quietly_when_its_folder_is_removed(tmp_path):
    failures = []
    previous, threading.excepthook = threading.excepthook, failures.append
    try:
        folder = tmp_path / "sandbox-home"
        folder.mkdir()
        store = Store(folder / "mock.db")
        store.start_checkpointer(0.02)
        store.connection().execute("CREATE TABLE IF NOT EXISTS t (x)")
        shutil.rmtree(folder)
        deadline = time.monotonic() + 5
        while store._checkpointer.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not store._checkpointer.is_alive() and not failures, [f.exc_value for f in failures]
    finally:
        threading.excepthook = previous
