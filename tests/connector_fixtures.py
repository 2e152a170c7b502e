"""Fixtures shared by the connector tests: a connector configured against the test's mock."""

from __future__ import annotations

import pytest

from momlab.connector import Connector


def env_php(bus: str, **changes) -> str:
    settings = {"url": bus + "/", "oauth_server_url": bus + "/", "oauth_client_id": "momlab", "oauth_client_secret": "momlab-secret",
                "application_id": "mdc", "secret": "shared-s3cret", "secure_endpoint": True, **changes}
    body = "".join(f"        '{k}' => {'true' if v is True else repr(v)},\n" for k, v in settings.items())
    return f"<?php\nreturn [\n    'serviceBus' => [\n{body}    ],\n];\n"


@pytest.fixture
def make_connector(mock, tmp_path):
    made: list[Connector] = []

    def make(**kwargs) -> Connector:
        env = kwargs.pop("env", None) or env_php(mock.url, **kwargs.pop("settings", {}))
        connector = Connector(env, db=tmp_path / f"magento{len(made)}.sqlite", **kwargs)
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()


@pytest.fixture
def mdc(make_connector) -> Connector:
    connector = make_connector()
    connector.register()
    return connector
