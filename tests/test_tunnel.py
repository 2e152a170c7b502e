"""Hosted mode and tunnels: a hosted MOM cannot call this machine; a tunnel's URL gets through.

Safety: every connection in these tests goes to 127.0.0.1. Private and public addresses appear only
as text for momlab.bus.hosted's classifier, or registered in hosted mode where the bus refuses them
before opening any connection (and the tests check nothing was opened).
"""

from __future__ import annotations

import re

import pytest
import requests

import momlab
from momlab.bus import catalog, hosted, jsonrpc, signing, tunnel
from momlab.client import MomError
from momlab.topics import REGISTER, UPDATED
from tests.support.mocks import register, wait_for
from tests.support.servers import free_port, run_cli

EVENT = catalog.example(UPDATED)


@pytest.fixture
def open_tunnel():
    """Open tunnels; each is closed after the test."""
    opened: list[tunnel.Tunnel] = []

    def start(target, **options) -> tunnel.Tunnel:
        t = tunnel.open(target, **options)
        opened.append(t)
        return t

    yield start
    for t in opened:
        t.close()


def publish(mock) -> int:
    """Publish one order update to its subscribers; return the inbound journal id."""
    answer = mock.client.send({"jsonrpc": "2.0", "id": 1, "method": UPDATED, "params": EVENT}, route="events")
    assert answer.status_code == 200, answer.text
    return int(answer.headers["X-Momlab-Journal-Id"])


def settled(mock, inbound: int) -> list[dict]:
    """The deliveries caused by `inbound`, once none is waiting any more."""
    assert mock.wait_idle(timeout=10)
    return mock.client.journal(caused_by=inbound)


# -- the classifier ---------------------------------------------------------------------------------


ADDRESS, NAME = "is not a public internet address", "is not a name the public DNS resolves"


@pytest.mark.parametrize(
    "url, words",
    [
        ("http://127.0.0.1:8001/mom", f"connection timed out: MOM cannot reach 127.0.0.1 from the internet (127.0.0.1 {ADDRESS})"),
        ("http://127.9.9.9/", ADDRESS),
        ("http://[::1]:8001/mom", f"::1 {ADDRESS}"),
        ("http://localhost:8001/mom", f"connection timed out: MOM cannot reach localhost from the internet (localhost {NAME})"),
        ("http://api.localhost/", "connection timed out"),
        ("http://10.0.2.2:8001/api", f"10.0.2.2 {ADDRESS}"),
        ("http://172.16.0.1/", ADDRESS),
        ("http://172.31.255.254/", ADDRESS),
        ("http://192.168.1.20:8080/", ADDRESS),
        ("http://[fd00::1]/", ADDRESS),
        ("http://169.254.169.254/", ADDRESS),
        ("http://[fe80::1]/", ADDRESS),
        ("http://0.0.0.0:8001/", ADDRESS),
        ("http://100.64.0.1/", ADDRESS),
        ("http://127.1/", "connection timed out"),  # old IPv4 spellings a resolver accepts without DNS
        ("http://2130706433/", "connection timed out"),
        ("http://0x7f.0.0.1/", "connection timed out"),
        ("http://[::ffff:192.168.0.1]/", ADDRESS),
        ("http://wms/", f"could not resolve wms: MOM cannot reach wms from the internet (wms {NAME})"),
        ("http://printer.local/", "could not resolve printer.local"),
        ("http://wms.corp/", "could not resolve wms.corp"),
        ("http://wms.acme.test/", "could not resolve wms.acme.test"),
        ("http://wms.example/", "could not resolve wms.example"),
        ("HTTP://LOCALHOST./mom", "connection timed out: MOM cannot reach localhost"),
    ],
)
def test_what_a_hosted_mom_cannot_reach(url, words):
    problem = hosted.problem(url)
    assert problem is not None and words in problem, problem
    assert "MOM cannot reach" in problem and "tunnel" in problem


@pytest.mark.parametrize("url", ["http://127.0.0.1/", "http://10.0.2.2/", "http://169.254.1.1/", "http://[fe80::1]/", "http://localhost/",
                                 "http://wms/", "http://wms.lan/", "http://wms.acme.test/", "http://0.0.0.0/"])
def test_the_error_does_not_classify_the_address(url):
    """Like a cloud's error, it does not say which kind of address or name it was (lab 03's exercise 1 asks for that)."""
    problem = hosted.problem(url).lower()
    assert not any(word in problem for word in ("loopback", "private", "link-local", "unspecified", "reserved", "this machine", "local network"))


@pytest.mark.parametrize(
    "url",
    ["https://wms.acme.com/mom", "http://8.8.8.8/", "http://[2001:4860:4860::8888]/", "https://a1b2c3d4.eu.tunnel.momlab.test/mom",
     "https://1e100.net/"],
)
def test_what_a_hosted_mom_can_reach(url):
    assert hosted.problem(url) is None


def test_a_url_without_host_is_a_problem():
    assert "names no host" in hosted.problem("http:///mom")


# -- hosted mode ------------------------------------------------------------------------------------


def test_hosted_mode_refuses_loopback_without_connecting(start_mock, raw_remote):
    mock = start_mock(hosted=True)
    remote = raw_remote()
    register(mock, "wms", remote.url, [UPDATED])
    rows = settled(mock, publish(mock))
    assert [r["status"] for r in rows] == ["failed"]
    assert rows[0]["attempts"] == mock.config.max_attempts, "a refused delivery goes through the normal retry path"
    assert rows[0]["error"].startswith("connection timed out: MOM cannot reach 127.0.0.1 from the internet")
    assert "tunnel" in rows[0]["error"]
    assert remote.requests == [], "hosted mode must refuse without opening a connection"


def test_hosted_mode_refuses_before_connecting_even_when_nothing_listens(start_mock):
    mock = start_mock(hosted=True)
    register(mock, "wms", f"http://127.0.0.1:{free_port()}/mom", [UPDATED])
    rows = settled(mock, publish(mock))
    assert "MOM cannot reach 127.0.0.1" in rows[0]["error"]
    assert "connection refused" not in rows[0]["error"]


def test_default_mode_still_delivers_to_loopback(start_mock, raw_remote):
    mock = start_mock()
    remote = raw_remote()
    register(mock, "wms", remote.url, [UPDATED])
    assert [r["status"] for r in settled(mock, publish(mock))] == ["delivered"]
    assert len(remote.requests) == 1


def test_register_warns_in_hosted_mode_only(start_mock):
    hosted_mock, plain = start_mock(hosted=True), start_mock()
    url = f"http://127.0.0.1:{free_port()}/mom"
    warned = register(hosted_mock, "wms", url, [])["warnings"]
    assert len(warned) == 1 and f"MOM is hosted and cannot reach {url}" in warned[0] and "tunnel" in warned[0]
    assert register(plain, "wms", url, [])["warnings"] == []
    stored = hosted_mock.client.state("remotes")
    assert stored[0]["url"] == url, "the registration is still stored: MOM cannot know, it only fails to deliver"


def test_register_of_a_private_address_warns_and_nothing_is_sent(start_mock):
    mock = start_mock(hosted=True)
    warned = register(mock, "vm_carrier", "http://10.0.2.2:8001/api", [UPDATED])["warnings"]
    assert any("MOM is hosted and cannot reach http://10.0.2.2:8001/api" in w for w in warned)
    rows = settled(mock, publish(mock))
    assert rows[0]["status"] == "failed" and "MOM cannot reach 10.0.2.2" in rows[0]["error"]


def test_health_says_whether_the_mock_is_hosted(start_mock):
    assert requests.get(start_mock(hosted=True).url + "/health", timeout=5).json()["hosted"] is True
    assert requests.get(start_mock().url + "/health", timeout=5).json()["hosted"] is False


def test_start_takes_hosted():
    mock = momlab.start(hosted=True, step_delay=0)
    try:
        assert mock.config.hosted is True
    finally:
        mock.stop()


def test_a_synchronous_call_is_refused_too(start_mock, raw_remote):
    mock = start_mock(hosted=True)
    remote = raw_remote()
    register(mock, "carrier", remote.url, [])
    with pytest.raises(MomError) as refused:
        mock.client.call(UPDATED, EVENT, route="remote", service="carrier")
    assert refused.value.code == jsonrpc.REMOTE_FAILED
    assert "MOM cannot reach 127.0.0.1 from the internet" in refused.value.message
    assert remote.requests == []


# -- tunnels ----------------------------------------------------------------------------------------


def test_a_tunnel_gets_the_delivery_through_with_its_signature_intact(start_mock, raw_remote, open_tunnel):
    mock = start_mock(hosted=True)
    remote = raw_remote()
    t = open_tunnel(remote.url, region="eu")
    assert re.fullmatch(r"https://[0-9a-f]{8}\.eu\.tunnel\.momlab\.test/mom", t.url), t.url
    result = register(mock, "wms", t.url, [UPDATED], secret="tunnel-secret")
    assert result["warnings"] == []
    rows = settled(mock, publish(mock))
    assert [r["status"] for r in rows] == ["delivered"]
    (arrived,) = remote.requests
    sent = mock.store.query("SELECT body FROM journal WHERE id = ?", (rows[0]["id"],))[0]["body"].encode()
    assert arrived["body"] == sent, "the tunnel must pass the body on byte for byte"
    assert arrived["path"] == "/mom"
    assert signing.verify("tunnel-secret", arrived["body"], arrived["headers"]["X-Signature"])
    assert arrived["headers"]["X-Forwarded-Host"] == t.host
    assert arrived["headers"]["X-Forwarded-Proto"] == "https"
    assert [e["status"] for e in t.log] == [200] and t.log[0]["x_signature"] == arrived["headers"]["X-Signature"]


def test_a_receiver_checks_the_signature_through_a_tunnel(start_mock, start_receiver, open_tunnel):
    mock = start_mock(hosted=True)
    wms = start_receiver(id="wms", secret="s3cret", handlers={UPDATED: lambda params: {"seen": params["order"]["id"]}})
    t = open_tunnel(wms.url)
    register(mock, "wms", t.url, [UPDATED], secret="s3cret")
    settled(mock, publish(mock))
    assert [(e["signature"], e["outcome"]) for e in wms.log] == [("ok", "ok")]
    assert mock.client.journal(direction="out")[-1]["response"]["result"] == {"seen": EVENT["order"]["id"]}, "the answer comes back"


def test_a_wrong_secret_is_caught_by_the_receiver_behind_the_tunnel(start_mock, start_receiver, open_tunnel):
    mock = start_mock(hosted=True)
    wms = start_receiver(id="wms", secret="right", handlers={UPDATED: lambda params: {}})
    register(mock, "wms", open_tunnel(wms.url).url, [UPDATED], secret="wrong")
    rows = settled(mock, publish(mock))
    assert rows[0]["status"] == "failed" and "HTTP 401" in rows[0]["error"] and "X-Signature is bad" in rows[0]["error"]
    assert {e["signature"] for e in wms.log} == {"bad"}


def test_retry_by_hand_after_opening_a_tunnel(start_mock, raw_remote, open_tunnel):
    mock = start_mock(hosted=True)
    remote = raw_remote()
    register(mock, "wms", remote.url, [UPDATED])
    (failed,) = settled(mock, publish(mock))
    assert failed["status"] == "failed" and remote.requests == []
    register(mock, "wms", open_tunnel(remote.url).url, [UPDATED])  # same id: the url changes, nothing else
    mock.client.retry(failed["id"])
    assert mock.wait_idle(timeout=10)
    (row,) = mock.client.journal(caused_by=failed["caused_by"])
    assert row["status"] == "delivered" and row["attempts"] == 1 and row["error"] is None
    assert [b["id"] for b in remote.bodies()] == [failed["request_id"]], "a retry keeps the delivery's JSON-RPC id"


def test_a_closed_tunnel_makes_deliveries_fail_again(start_mock, raw_remote, open_tunnel):
    mock = start_mock(hosted=True)
    remote = raw_remote()
    t = open_tunnel(remote.url)
    register(mock, "wms", t.url, [UPDATED])
    assert settled(mock, publish(mock))[0]["status"] == "delivered"
    t.close()
    assert not t.running and tunnel.lookup(t.host) is None
    (row,) = settled(mock, publish(mock))
    assert row["status"] == "failed"
    assert row["error"].startswith(f"HTTP 404 from the tunnel service: tunnel {t.host} not found")
    assert len(remote.requests) == 1, "nothing reaches the remote once the tunnel is closed"
    warned = register(mock, "wms", t.url, [UPDATED])["warnings"]
    assert any("No tunnel" in w and t.host in w for w in warned)


def test_a_new_tunnel_gets_a_new_url_unless_named(raw_remote, open_tunnel):
    remote = raw_remote()
    first = open_tunnel(remote.url)
    first.close()
    second = open_tunnel(remote.url)
    assert second.url != first.url
    named = open_tunnel(remote.url, name="acme-wms", region="eu")
    assert named.url == "https://acme-wms.eu.tunnel.momlab.test/mom"
    with pytest.raises(ValueError, match="already open"):
        open_tunnel(remote.url, name="acme-wms", region="eu")
    named.close()
    assert open_tunnel(remote.url, name="acme-wms", region="eu").url == named.url


def test_tunnels_work_in_the_default_mode_too(start_mock, raw_remote, open_tunnel):
    mock = start_mock()
    remote = raw_remote()
    register(mock, "wms", open_tunnel(remote.url).url, [UPDATED])
    assert settled(mock, publish(mock))[0]["status"] == "delivered"
    assert len(remote.requests) == 1


def test_a_synchronous_call_through_a_tunnel_brings_the_answer_back(start_mock, start_receiver, open_tunnel):
    mock = start_mock(hosted=True)
    carrier = start_receiver(id="carrier", secret="c", handlers={UPDATED: lambda params: {"tracking_number": "1Z999"}})
    register(mock, "carrier", open_tunnel(carrier.url).url, [], secret="c")
    assert mock.client.call(UPDATED, EVENT, route="remote", service="carrier") == {"tracking_number": "1Z999"}


def test_a_tunnel_whose_local_server_is_down_says_so(start_mock, open_tunnel):
    mock = start_mock(hosted=True)
    t = open_tunnel(f"http://127.0.0.1:{free_port()}/mom")
    register(mock, "wms", t.url, [UPDATED])
    (row,) = settled(mock, publish(mock))
    assert row["status"] == "failed" and "HTTP 502" in row["error"] and "connection refused" in row["error"]
    assert "Is your local server running" in row["error"]
    assert t.log[-1]["status"] == 502


def test_a_far_tunnel_times_out_and_a_near_one_does_not(start_mock, start_receiver, open_tunnel):
    mock = start_mock(hosted=True, delivery_timeout=0.3, max_attempts=2)
    wms = start_receiver(id="wms", secret="s", handlers={UPDATED: lambda params: {}})
    register(mock, "wms", open_tunnel(wms.url, region="us", latency=0.6).url, [UPDATED], secret="s")
    (row,) = settled(mock, publish(mock))
    assert row["status"] == "failed" and row["error"] == "no answer within 0.3 s"
    register(mock, "wms", open_tunnel(wms.url, region="eu").url, [UPDATED], secret="s")
    mock.client.retry(row["id"])
    assert mock.wait_idle(timeout=10)
    assert mock.client.journal(caused_by=row["caused_by"])[0]["status"] == "delivered"
    wait_for(lambda: len(wms.log) == 3, what="the late copies forwarded by the slow tunnel")
    assert [e["duplicate"] for e in wms.log].count(True) == 2, "the remote saw the same delivery id again: drop duplicates by id"


def test_a_tunnel_forwards_any_method_path_and_query(start_receiver, open_tunnel):
    wms = start_receiver()
    t = open_tunnel(wms.url)
    probe = requests.options(t.local_url + "/mom", timeout=5)
    assert probe.status_code == 200 and probe.headers["X-Magento-Service-Bus"] == "*"
    missing = requests.get(t.local_url + "/elsewhere?x=1", timeout=5)
    assert missing.status_code in (404, 405)
    assert [(e["method"], e["path"]) for e in t.log] == [("OPTIONS", "/mom"), ("GET", "/elsewhere?x=1")]


@pytest.mark.parametrize(
    "target, words",
    [
        ("https://127.0.0.1:8001/mom", "plain HTTP"),
        ("ftp://127.0.0.1/x", "not an http URL"),
        ("127.0.0.1:8001", "not an http URL"),
        ("http://10.0.0.5:8001/mom", "on this machine"),
        ("http://wms.acme.com/mom", "on this machine"),
        ("http://[::1", "not a URL"),
        ("http://127.0.0.1:99999/", "not a URL"),
        ("http://127.0.0.1:0/", "port 0"),
        (70000, "not a port"),
        (None, "target"),
        (True, "target"),
    ],
)
def test_a_bad_target_gives_a_clear_error(target, words):
    before = len(tunnel.tunnels())
    with pytest.raises(ValueError, match=re.escape(words)):
        tunnel.open(target)
    assert len(tunnel.tunnels()) == before, "a refused target opens nothing"


@pytest.mark.parametrize(
    "options, words",
    [({"region": "mars"}, "region must be one of"), ({"latency": -1}, "latency"), ({"latency": float("nan")}, "latency"),
     ({"name": "Not_A_Label"}, "DNS label")],
)
def test_bad_options_give_a_clear_error(options, words):
    with pytest.raises(ValueError, match=words):
        tunnel.open(8001, **options)


def test_a_port_alone_is_a_target(open_tunnel):
    t = open_tunnel(8001)
    assert t.target == "http://127.0.0.1:8001" and t.url == t.public_url


# -- standalone -------------------------------------------------------------------------------------


def _lines(served, count: int, timeout: float = 60.0) -> list[str]:
    """The first `count` lines the server prints (a generous deadline: a busy machine starts it slowly)."""
    lines = served.read_lines(count, timeout)
    assert len(lines) == count, f"the server printed {len(lines)} of its {count} start-up lines in {timeout:.0f} s: {lines}"
    return lines


def test_serve_hosted_with_a_tunnel(tmp_path, serve, raw_remote):
    remote = raw_remote()
    served = serve("--port", "0", "--db", str(tmp_path / "m.sqlite"), "--delay", "0", "--no-auth", "--hosted", "--tunnel", remote.url)
    oauth, hosted_line, tunnel_line = _lines(served, 3)
    assert "OAuth is off" in oauth and hosted_line.startswith("Hosted mode")
    public = re.search(r"Tunnel (https://\S+) -> (\S+)", tunnel_line)
    assert public and public.group(2) == remote.url
    assert requests.get(served.url + "/health", timeout=5).json()["hosted"] is True

    def call(method, params, route="api"):
        return requests.post(f"{served.url}/{route}", json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, timeout=5).json()

    warned = call(REGISTER, {"id": "local", "url": remote.url, "subscribes": [UPDATED], "secret": "s"})["result"]["warnings"]
    assert warned and "cannot reach" in warned[0]
    assert call(REGISTER, {"id": "tunnelled", "url": public.group(1), "subscribes": [UPDATED], "secret": "s"})["result"]["warnings"] == []
    call(UPDATED, EVENT, route="events")

    def settled_rows():
        rows = requests.get(served.url + "/journal", params={"direction": "out"}, timeout=5).json()
        return rows if rows and all(r["status"] in ("delivered", "failed") for r in rows) and len(rows) == 2 else None

    rows = {r["remote"]: r for r in wait_for(settled_rows, timeout=20, what="both deliveries settled")}
    assert rows["tunnelled"]["status"] == "delivered"
    assert rows["local"]["status"] == "failed" and "MOM cannot reach 127.0.0.1" in rows["local"]["error"]
    assert len(remote.requests) == 1 and signing.verify("s", remote.requests[0]["body"], remote.requests[0]["headers"]["X-Signature"])
    assert served.stop() == 0


def test_serve_refuses_a_bad_tunnel_target(tmp_path):
    done = run_cli("serve", "--port", "0", "--db", str(tmp_path / "m.sqlite"), "--tunnel", "http://10.1.2.3:8001/mom")
    assert done.returncode == 2
    assert "--tunnel" in done.stderr and "on this machine" in done.stderr and "Traceback" not in done.stderr


def test_serve_help_lists_hosted():
    done = run_cli("serve", "--help")
    assert "--hosted" in done.stdout and "--tunnel" in done.stdout
