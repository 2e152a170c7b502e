"""Restart loses nothing: a standalone mock killed with SIGKILL comes back with every message it
acknowledged, its state, and the deliveries it still owed."""

from __future__ import annotations

import threading

import pytest
import requests

import momlab
from momlab import MomClient
from momlab.topics import ORDER_CREATE, REGISTER, UPDATED
from tests.support.builders import order_params
from tests.support.mocks import wait_for
from tests.support.servers import free_port

pytestmark = pytest.mark.slow

ORDERS = 24
THREADS = 4


def _send_orders(url: str, ids: list[str], acknowledged: list[str], lock: threading.Lock) -> None:
    client = MomClient(url)
    for order_id in ids:
        result = client.call(ORDER_CREATE, order_params(order_id))
        assert result["order_id"] == order_id
        with lock:
            acknowledged.append(order_id)


def test_kill_and_restart_keeps_every_acknowledged_message(tmp_path, serve, start_receiver):
    db = str(tmp_path / "mom.sqlite")
    first = serve("--port", "0", "--db", db, "--delay", "0")
    client = MomClient(first.url)
    # the warehouse is down while the orders come in: its deliveries wait in the journal
    port = free_port()
    client.call(REGISTER, {"id": "erp", "url": f"http://127.0.0.1:{port}/mom", "subscribes": [UPDATED], "secret": "k"})
    old_token = client.token()

    ids = [f"R-{n:03d}" for n in range(ORDERS)]
    acknowledged: list[str] = []
    lock = threading.Lock()
    workers = [threading.Thread(target=_send_orders, args=(first.url, ids[n::THREADS], acknowledged, lock)) for n in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert sorted(acknowledged) == ids
    owed = [r for r in client.journal(method=UPDATED, direction="out") if r["status"] in ("pending", "retrying")]
    assert len(owed) == 2 * ORDERS
    first.kill()
    assert first.proc.returncode == -9

    erp = start_receiver(id="erp", secret="k", handlers={UPDATED: lambda params: None}, port=port)
    second = serve("--port", "0", "--db", db, "--delay", "0")
    client = MomClient(second.url)

    inbound = client.journal(method=ORDER_CREATE, direction="in")
    assert sorted(r["body"]["params"]["order"]["id"] for r in inbound) == ids  # each exactly once
    assert {r["status"] for r in inbound} == {"ok"}
    assert sorted(o["id"] for o in client.state("orders")) == ids
    assert {o["status"] for o in client.state("orders")} == {"LOGISTICS"}
    assert len(client.state("shipment_requests")) == ORDERS

    # the deliveries owed to the warehouse resume after the restart, each arriving once
    def all_delivered():
        rows = client.journal(method=UPDATED, direction="out")
        return rows if rows and all(r["status"] == "delivered" for r in rows) else None

    rows = wait_for(all_delivered, timeout=30, what="the owed deliveries")
    assert len(rows) == 2 * ORDERS
    assert len(erp.log) == 2 * ORDERS
    assert not any(entry["duplicate"] for entry in erp.log)
    assert {entry["delivery_id"] for entry in erp.log} == {r["request_id"] for r in rows}
    assert {entry["signature"] for entry in erp.log} == {"ok"}

    # a token issued before the crash is still good
    answer = requests.post(second.url + "/api", timeout=5, headers={"Authorization": f"Bearer {old_token}"},
                           json={"jsonrpc": "2.0", "id": 1, "method": "magento.inventory.source_repository.search", "params": {}})
    assert answer.status_code == 200
    assert second.stop() == 0


def test_a_graceful_stop_and_start_keeps_state(tmp_path, serve):
    db = str(tmp_path / "mom.sqlite")
    first = serve("--port", "0", "--db", db, "--no-auth")
    MomClient(first.url, auth=False).call(ORDER_CREATE, order_params("G-1", ("JEAN-IND-34",)))
    stock_before = MomClient(first.url, auth=False).state("aggregate_stock", aggregate_id="AGG-WEB")
    assert first.stop() == 0
    second = serve("--port", "0", "--db", db, "--no-auth")
    client = MomClient(second.url, auth=False)
    assert [o["id"] for o in client.state("orders")] == ["G-1"]
    assert client.state("aggregate_stock", aggregate_id="AGG-WEB") == stock_before  # not re-seeded
    assert client.call("magento.sales.order_management.create_comment", {"order_comment": {"order_id": "G-1", "comment": "ok"}})["accepted"]


def test_embedded_mock_restarts_on_the_same_file(tmp_path, start_receiver):
    db = tmp_path / "embedded.sqlite"
    mock = momlab.start(db=db, fresh=True, step_delay=0, backoff=0.02, max_attempts=50)
    try:
        port = free_port()
        mock.client.call(REGISTER, {"id": "mdc", "url": f"http://127.0.0.1:{port}/mom", "subscribes": [UPDATED]})
        mock.client.call(ORDER_CREATE, order_params("E-1"))
        wait_for(lambda: any(r["status"] == "retrying" for r in mock.client.journal(direction="out")), what="a retry")
    finally:
        mock.stop()
    mdc = start_receiver(id="mdc", secret=None, handlers={UPDATED: lambda p: None}, port=port)
    again = momlab.start(db=db, fresh=True, step_delay=0)
    try:
        assert again is not mock and again.running
        wait_for(lambda: len(mdc.log) == 2, what="the owed deliveries")
        assert [e["params"]["order"]["status"] for e in mdc.log] == ["RECEIVED", "LOGISTICS"]
        assert momlab.start() is again  # running it again returns the same mock
    finally:
        again.stop()
