"""`python -m momlab serve`: options, clear refusals, clean shutdown."""

from __future__ import annotations

import signal
import socket

import pytest
import requests
from conftest import REGISTER, run_cli

SEARCH = {"jsonrpc": "2.0", "id": 1, "method": "magento.inventory.source_repository.search", "params": {}}


def test_help():
    done = run_cli("serve", "--help")
    assert done.returncode == 0
    for option in ("--port", "--db", "--no-auth", "--delay", "--host", "--client-id"):
        assert option in done.stdout


def test_a_command_is_required():
    done = run_cli()
    assert done.returncode == 2
    assert "usage" in done.stderr and "serve" in done.stderr


def test_port_in_use_gives_a_clear_message(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_cli("serve", "--port", str(port), "--db", str(tmp_path / "m.sqlite"))
    assert done.returncode == 1
    assert f"127.0.0.1:{port}" in done.stderr and "--port" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert "listening" not in done.stdout


@pytest.mark.parametrize(
    "args, code, words",
    [
        (["--delay", "-1"], 2, "--delay must be 0 or more"),
        (["--delay", "nan"], 2, "--delay must be 0 or more"),
        (["--delay", "soon"], 2, "--delay"),
        (["--port", "70000"], 2, "is not a port"),
        (["--port", "-5"], 2, "is not a port"),
        (["--db", "/nonexistent-folder/x/mom.sqlite"], 1, "cannot use"),
        (["--bogus"], 2, "unrecognized arguments"),
    ],
)
def test_bad_options_are_refused_without_a_traceback(tmp_path, args, code, words):
    base = ["serve", "--port", "0", "--db", str(tmp_path / "m.sqlite")]
    done = run_cli(*base, *args)
    assert done.returncode == code, done.stderr
    assert words in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_with_auth(tmp_path, serve):
    served = serve("--port", "0", "--db", str(tmp_path / "m.sqlite"), "--delay", "0")
    assert served.first_line.startswith("momlab mock MOM listening on http://127.0.0.1:")
    assert "client_id=momlab" in served.proc.stdout.readline()
    assert requests.post(served.url + "/api", json=SEARCH, timeout=5).status_code == 401
    token = requests.post(served.url + "/oauth/token", data={"grant_type": "client_credentials", "client_id": "momlab",
                                                             "client_secret": "momlab-secret"}, timeout=5).json()["access_token"]
    answer = requests.post(served.url + "/api", json=SEARCH, headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert answer.json()["result"]["total"] == 3
    assert served.stop() == 0


def test_serve_no_auth(tmp_path, serve):
    served = serve("--port", "0", "--db", str(tmp_path / "m.sqlite"), "--no-auth")
    assert "OAuth is off" in served.proc.stdout.readline()
    answer = requests.post(served.url + "/api", timeout=5, json={"jsonrpc": "2.0", "id": 1, "method": REGISTER,
                                                                 "params": {"id": "tool", "url": "http://127.0.0.1:9/x"}})
    assert answer.status_code == 200 and answer.json()["result"]["id"] == "tool"
    assert requests.get(served.url + "/health", timeout=5).json()["auth"] is False
    assert served.stop() == 0


def test_custom_credentials(tmp_path, serve):
    served = serve("--port", "0", "--db", str(tmp_path / "m.sqlite"), "--client-id", "acme", "--client-secret", "pw")
    demo = requests.post(served.url + "/oauth/token", data={"grant_type": "client_credentials", "client_id": "momlab",
                                                           "client_secret": "momlab-secret"}, timeout=5)
    assert demo.status_code == 401
    ours = requests.post(served.url + "/oauth/token", data={"grant_type": "client_credentials"}, auth=("acme", "pw"), timeout=5)
    assert ours.status_code == 200
    assert served.stop() == 0


def test_ctrl_c_stops_cleanly(tmp_path, serve):
    served = serve("--port", "0", "--db", str(tmp_path / "m.sqlite"))
    served.proc.send_signal(signal.SIGINT)
    assert served.proc.wait(10) == 0
    assert "Traceback" not in served.proc.stderr.read()
    with pytest.raises(requests.ConnectionError):
        requests.get(served.url + "/health", timeout=2)
