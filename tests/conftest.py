"""Fixtures: a real mock MOM on a free port, real remotes, standalone servers and connectors.

Everything runs over HTTP on 127.0.0.1 against a real SQLite file; nothing is patched. The helpers
these fixtures use live in tests/support.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator

import pytest

from momlab.connector import Connector
from momlab.mock import Mock
from momlab.receiver import Receiver
from tests.support import mocks
from tests.support.builders import env_php
from tests.support.remotes import HttpRemote
from tests.support.servers import StandaloneServer


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first: the long groups start while both workers are free and the many short tests
    fill in at the end, so one worker does not finish minutes before the other."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(scope="session", autouse=True)
def _join_stopping():
    yield
    for thread in mocks.stopping:
        thread.join(timeout=10)


@pytest.fixture
def teardown() -> Iterator[contextlib.ExitStack]:
    """What the test started, stopped when it ends (last started, first stopped): the factories below
    register each thing they start here."""
    with contextlib.ExitStack() as stack:
        yield stack


@pytest.fixture
def start_mock(tmp_path, teardown) -> Callable[..., Mock]:
    """Start mocks with Config overrides; every one is stopped after the test."""
    count = itertools.count()

    def start(**overrides) -> Mock:
        mock = Mock(tmp_path / f"mom{next(count)}.sqlite", mocks.fast_config(**overrides)).start()
        teardown.callback(mocks.stop_soon, mock)
        teardown.callback(mock.deliverer.stop)  # no delivery may outlive its test
        return mock

    return start


@pytest.fixture
def mock(start_mock) -> Mock:
    return start_mock()


@pytest.fixture
def start_receiver(teardown) -> Callable[..., Receiver]:
    """Start Receivers (the learner-side remote); each is stopped after the test."""

    def start(id: str = "wms", secret: str | None = "s3cret", handlers: dict | None = None, port: int = 0) -> Receiver:
        receiver = Receiver(handlers=handlers, secret=secret, id=id).start(port=port)
        teardown.callback(mocks.stop_soon, receiver)
        return receiver

    return start


@pytest.fixture
def raw_remote(teardown) -> Callable[[], HttpRemote]:
    """Start bare HTTP remotes that record every request; each is stopped after the test."""

    def start() -> HttpRemote:
        remote = HttpRemote().start()
        teardown.callback(remote.stop)
        return remote

    return start


@pytest.fixture
def serve(teardown) -> Callable[..., StandaloneServer]:
    """Start `python -m momlab serve ARGS`; each is killed after the test if still running."""

    def start(*args: str) -> StandaloneServer:
        served = StandaloneServer(*args)
        teardown.callback(_end_served, served)
        return served

    return start


def _end_served(served: StandaloneServer) -> None:
    served.kill()
    # shown by pytest only when the test failed: the server's own account of what went wrong
    print(f"--- stderr of momlab serve ({served.url}) ---\n{served.stderr()[-5000:]}")
    served.log_path.unlink(missing_ok=True)


@pytest.fixture
def make_connector(mock, tmp_path, teardown):
    """Make Connectors configured against the test's mock; each is closed after the test."""
    count = itertools.count()

    def make(**kwargs) -> Connector:
        env = kwargs.pop("env", None) or env_php(mock.url, **kwargs.pop("settings", {}))
        connector = Connector(env, db=tmp_path / f"magento{next(count)}.sqlite", **kwargs)
        teardown.callback(connector.close)
        return connector

    return make


@pytest.fixture
def mdc(make_connector) -> Connector:
    connector = make_connector()
    connector.register()
    return connector
