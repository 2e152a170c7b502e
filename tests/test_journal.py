"""The journal's owner (momlab.bus.journal), one way to send to a remote (delivery.call_now), and the
SQLite plumbing both stores share (momlab.bus.sqlite), on a real mock and real SQLite files."""

from __future__ import annotations

import socket
import threading

import pytest

from momlab import MomError
from momlab.bus import catalog, delivery, journal, jsonrpc
from momlab.bus.journal import Status
from momlab.bus.sqlite import SQLiteFile
from momlab.connector.store import ConnectorStore
from tests.support.builders import order_params
from tests.support.rpc import post, rpc

DETAILS = "magento.logistics.carrier_management.request_shipping_details"
UNREGISTER = "magento.service_bus.remote.unregister"
STOCK_UPDATE = "magento.inventory.source_stock_management.update"
ORDER_CREATE = "magento.sales.order_management.create"


def test_statuses_are_stored_as_their_text(mock):
    mock.client.call("magento.inventory.source_repository.search", {})
    (row,) = mock.store.query("SELECT status, typeof(status) AS kind FROM journal")
    assert (row["status"], row["kind"]) == ("ok", "text") and Status(row["status"]) is Status.OK
    assert [str(s) for s in journal.WAITING] == ["pending", "retrying"]


def test_queue_out_returns_its_own_row_id_whatever_was_written_after(mock):
    with mock.store.transaction() as db:
        first = journal.queue_out(db, 1.0, "m.one", "{}", None, Status.NO_SUBSCRIBER, 1.0, None, None)
        second = journal.queue_out(db, 1.0, "m.two", "{}", None, Status.NO_SUBSCRIBER, 1.0, None, None)
        body = journal.mark_sending(db, first)
    assert second == first + 1
    assert '"method":"m.one"' in body
    statuses = dict(mock.store.query("SELECT method, status FROM journal"))
    assert statuses == {"m.one": "sending", "m.two": "no_subscriber"}


def test_a_body_over_the_limit_is_refused_without_storing_it(mock):
    token = mock.client.token()
    port = int(mock.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        head = (f"POST /api HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {jsonrpc.MAX_BODY_BYTES + 10}\r\nConnection: close\r\n\r\n")
        sock.sendall(head.encode() + b"x" * 1000)
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413")
    (row,) = mock.client.journal(status="rejected")
    assert row["error_code"] == jsonrpc.LIMIT_EXCEEDED and row["method"] is None
    assert "x" not in row["body"] and len(row["body"]) < 100


def test_a_refused_request_keeps_what_the_envelope_said(mock):
    assert post(mock, "/api", rpc("magento.sales.order_management.crate", {})).status_code == 404
    silent = post(mock, "/api", rpc("magento.sales.order_management.crate", {}, id=None))
    assert silent.status_code == 204 and "crate" in silent.headers["X-Momlab-Error"]
    assert post(mock, "/api", {"jsonrpc": "1.0", "method": "m.old"}).status_code == 400
    rows = mock.client.journal(status="rejected")
    assert [(r["method"], r["request_id"], r["error_code"]) for r in rows] == [
        ("magento.sales.order_management.crate", 1, jsonrpc.METHOD_NOT_FOUND),
        ("magento.sales.order_management.crate", None, jsonrpc.METHOD_NOT_FOUND),
        ("m.old", None, jsonrpc.INVALID_REQUEST),
    ]


def test_unregistering_fails_what_still_waits_for_the_remote(mock):
    mock.client.call("magento.service_bus.remote.register", {"id": "gone", "url": "http://127.0.0.1:9/mom", "subscribes": [STOCK_UPDATE]})
    with mock.store.transaction() as db:
        waiting = journal.queue_out(db, 1.0, STOCK_UPDATE, "{}", "gone", Status.RETRYING, 9e12, None, None)
    mock.client.call(UNREGISTER, {"id": "gone"})
    (row,) = [r for r in mock.client.journal(remote="gone") if r["id"] == waiting]
    assert (row["status"], row["error"]) == ("failed", "remote unregistered")


def test_retry_puts_a_failed_delivery_back_and_refuses_the_rest(mock):
    mock.client.call("magento.service_bus.remote.register", {"id": "gone", "url": "http://127.0.0.1:9/mom", "subscribes": []})
    with mock.store.transaction() as db:
        row_id = journal.queue_out(db, 1.0, STOCK_UPDATE, "{}", "gone", Status.PENDING, 9e12, None, None)
        journal.settle(db, row_id, Status.FAILED, 3, "down", None)
    assert journal.retry(mock.store, row_id)["status"] == "pending"
    with pytest.raises(ValueError, match="only a failed or delivered"):
        journal.retry(mock.store, row_id)
    with pytest.raises(LookupError):
        journal.retry(mock.store, 2**63)


def test_call_now_settles_a_failed_call_instead_of_leaving_it_sending(mock):
    mock.client.call("magento.service_bus.remote.register", {"id": "gone", "url": "http://127.0.0.1:9/mom", "subscribes": []})
    row_id, outcome = delivery.call_now(mock.store, mock.config, "gone", DETAILS, catalog.example(DETAILS))
    assert not outcome.ok and "connection refused" in outcome.error
    (row,) = [r for r in mock.client.journal(direction="out") if r["id"] == row_id]
    assert (row["status"], row["attempts"], row["remote"]) == ("failed", 1, "gone")


# -- one way to send: mom.admin.pack() goes the way a bus call goes --------------------------------------


def _packable(mock, order_id: str) -> None:
    mock.admin.store_fulfilment("STORE-BCN")
    mock.client.call(STOCK_UPDATE, {"snapshot": {"source_id": "STORE-BCN", "mode": "DELTA", "stock": [{"sku": "CAP-NAVY", "quantity": 3}]}})
    mock.client.call(ORDER_CREATE, order_params(order_id, ("CAP-NAVY",), store="POS-BCN"))
    mock.admin.pick(order_id, confirm=["L1"])


def test_in_hosted_mode_pack_refuses_a_loopback_carrier_as_a_bus_call_does(start_mock, raw_remote):
    mock = start_mock(hosted=True)
    carrier = raw_remote()
    mock.client.call("magento.service_bus.remote.register", {"id": "carrier", "url": carrier.url, "subscribes": [DETAILS]})
    with pytest.raises(MomError) as by_bus:
        mock.client.call(DETAILS, catalog.example(DETAILS), route="api")
    _packable(mock, "H100")
    with pytest.raises(MomError) as by_pack:
        mock.admin.pack("H100")
    assert "MOM cannot reach 127.0.0.1" in by_bus.value.message and "MOM cannot reach 127.0.0.1" in by_pack.value.message
    assert by_pack.value.code == jsonrpc.REMOTE_FAILED
    assert carrier.requests == [], "hosted mode must refuse without opening a connection"
    calls = mock.client.journal(method=DETAILS, direction="out")
    assert [(r["status"], r["attempts"]) for r in calls] == [("failed", 1), ("failed", 1)]
    assert [r["status"] for r in mock.client.journal(route="admin/pack")] == ["failed"]


# -- the SQLite plumbing ---------------------------------------------------------------------------------


def test_a_nesting_file_joins_the_open_transaction_and_a_plain_one_refuses(tmp_path):
    nesting = SQLiteFile(tmp_path / "a.sqlite", nesting=True)
    nesting.connection().execute("CREATE TABLE t (x)")
    with nesting.transaction() as outer:
        outer.execute("INSERT INTO t VALUES (1)")
        with nesting.transaction() as inner:
            assert inner is outer
            inner.execute("INSERT INTO t VALUES (2)")
    assert [r[0] for r in nesting.query("SELECT x FROM t ORDER BY x")] == [1, 2]
    plain = SQLiteFile(tmp_path / "b.sqlite")
    with pytest.raises(Exception, match="within a transaction"), plain.transaction(), plain.transaction():
        pass
    nesting.close()
    plain.close()


def test_each_thread_gets_its_own_connection_with_the_same_settings(tmp_path):
    store = ConnectorStore(tmp_path / "c.sqlite")
    seen = {}

    def look(name):
        db = store.connection()
        seen[name] = (db.execute("PRAGMA journal_mode").fetchone()[0], db.execute("PRAGMA busy_timeout").fetchone()[0])
        store.close()

    look("main")
    worker = threading.Thread(target=look, args=("worker",))
    worker.start()
    worker.join()
    assert seen["main"] == seen["worker"] == ("wal", 10000)
    store.close()
