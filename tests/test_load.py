"""Load and crash, in short form (bench/load.py runs the full 8 x 2,500).

Four clients send a mix of order creates, stock updates, shipments, queries and invalid messages to
a standalone `momlab serve` with three signed subscribers, one of which refuses a share of its
deliveries once. The checks read the SQLite journal itself (tests/support/load.py).
"""

from __future__ import annotations

import pytest

from tests.support import load as lt

pytestmark = pytest.mark.slow

CLIENTS = 4
MESSAGES = 150


def test_mixed_load_loses_and_doubles_nothing_and_every_delivery_ends(tmp_path):
    result = lt.scenario(CLIENTS, MESSAGES, crash=False, folder=tmp_path, refuse=0.03, settle=120)
    assert result["findings"] == {}
    assert result["waiting_at_end"] == 0 and result["clients_stuck"] == 0
    assert result["answered"] == CLIENTS * MESSAGES and result["unknown"] == 0
    # the mix really had both kinds of answer, and the subscribers really made the bus retry
    assert result["acknowledged"] > CLIENTS * MESSAGES // 2 and result["refused"] > CLIENTS * MESSAGES // 10
    assert result["refused_once_by_subscribers"] > 0
    assert set(result["deliveries"]) <= {"delivered", "failed"} and result["deliveries"]["delivered"] > CLIENTS * MESSAGES
    assert result["received"] == result["deliveries"]["delivered"] and result["received_again"] == 0


def test_kill_9_during_load_then_restart_keeps_every_acknowledged_message_once(tmp_path):
    result = lt.scenario(CLIENTS, MESSAGES, crash=True, folder=tmp_path, refuse=0.0, settle=120)
    assert result["findings"] == {}
    assert result["waiting_at_end"] == 0 and result["clients_stuck"] == 0
    # the kill hit mid-load: some answers came before it, the clients went on after the restart
    assert 0 < result["answered_before_kill"] < result["answered"]
    assert result["unknown"] <= CLIENTS  # at most the one message each client had in flight
    assert result["answered"] + result["unknown"] == CLIENTS * MESSAGES
    # the deliveries owed when the mock died were sent after the restart, each under its own id
    assert result["owed_at_kill"] > 0
    assert result["received_by_erp_after_restart"] > 0
    assert set(result["deliveries"]) <= {"delivered", "failed"}
