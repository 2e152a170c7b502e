"""`python -m momlab serve`: options, clear refusals, clean shutdown."""

from __future__ import annotations

import signal
import socket

import pytest
import requests

from momlab.cli import main
from momlab.topics import REGISTER
from tests.support.servers import run_cli

SEARCH = {"jsonrpc": "2.0", "id": 1, "method": "magento.inventory.source_repository.search", "params": {}}


def test_help():
    done = run_cli("serve", "--help")
    assert done.returncode == 0
    for option in ("--port", "--db", "--no-auth", "--delay", "--host", "--client-id"):
        assert option in done.stdout


def test_a_command_is_required(capsys):
    with pytest.raises(SystemExit) as refused:
        main([])
    assert refused.value.code == 2
    assert "serve" in capsys.readouterr().err


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


# in-process: the same code path as the command, without paying for a new interpreter each time
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
def test_bad_options_are_refused_with_a_message(tmp_path, capsys, args, code, words):
    try:
        returned = main(["serve", "--port", "0", "--db", str(tmp_path / "m.sqlite"), *args])
    except SystemExit as exit_:  # argparse's own refusals
        returned = exit_.code
    assert returned == code
    err = capsys.readouterr().err
    assert words in err
    assert "Traceback" not in err


def test_serve_with_auth_and_own_credentials(tmp_path, serve):
    served = serve("--port", "0", "--db", str(tmp_path / "m.sqlite"), "--delay", "0", "--client-id", "acme", "--client-secret", "pw")
    assert served.first_line.startswith("momlab mock MOM listening on http://127.0.0.1:")
    assert "client_id=acme" in served.proc.stdout.readline()
    assert requests.post(served.url + "/api", json=SEARCH, timeout=5).status_code == 401
    demo = requests.post(served.url + "/oauth/token", data={"grant_type": "client_credentials", "client_id": "momlab",
                                                           "client_secret": "momlab-secret"}, timeout=5)
    assert demo.status_code == 401
    token = requests.post(served.url + "/oauth/token", data={"grant_type": "client_credentials"}, auth=("acme", "pw"),
                          timeout=5).json()["access_token"]
    answer = requests.post(served.url + "/api", json=SEARCH, headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert answer.json()["result"]["total"] == 3
    assert served.stop() == 0  # SIGTERM


def test_serve_no_auth_and_ctrl_c(tmp_path, serve):
    served = serve("--port", "0", "--db", str(tmp_path / "m.sqlite"), "--no-auth")
    assert "OAuth is off" in served.proc.stdout.readline()
    answer = requests.post(served.url + "/api", timeout=5, json={"jsonrpc": "2.0", "id": 1, "method": REGISTER,
                                                                 "params": {"id": "tool", "url": "http://127.0.0.1:9/x"}})
    assert answer.status_code == 200 and answer.json()["result"]["id"] == "tool"
    assert requests.get(served.url + "/health", timeout=5).json()["auth"] is False
    served.proc.send_signal(signal.SIGINT)
    assert served.proc.wait(10) == 0
    assert "Traceback" not in served.stderr()
    with pytest.raises(requests.ConnectionError):
        requests.get(served.url + "/health", timeout=2)
