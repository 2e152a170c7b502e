"""A mock without a database file of its own keeps its state in a temporary folder, removed when it stops
(a notebook may start many: lab 09 starts one per scenario)."""

from __future__ import annotations

from pathlib import Path

from momlab.mock import Mock
from tests.support import mocks


def test_a_temporary_database_is_removed_when_the_mock_stops():
    mock = Mock(None, mocks.fast_config()).start()
    folder = Path(mock.store.path).parent
    try:
        assert folder.name.startswith("momlab-") and (folder / "mom.sqlite").exists()
        assert len(mock.state("sources")) > 0  # the course's set-up was seeded into it
    finally:
        mock.stop()
    assert not folder.exists()


def test_a_named_database_is_kept(tmp_path):
    db = tmp_path / "kept.sqlite"
    Mock(db, mocks.fast_config()).start().stop()
    assert db.exists()
