"""The serviceBus block of env.php: every mistake is found, located and explained."""

from __future__ import annotations

import pytest

from momlab.connector import envphp
from momlab.connector.phparray import PhpReadError
from tests.support.builders import php_literal

GOOD = {
    "url": "https://mib.example.com/",
    "oauth_server_url": "https://mib.example.com/",
    "oauth_client_id": "acme-shop",
    "oauth_client_secret": "c1ient-s3cret",
    "application_id": "mdc",
    "secret": "shared-s3cret",
    "secure_endpoint": True,
}


def php(block: dict | None, key: str = "serviceBus", extra: str = "") -> str:
    body = "" if block is None else f"    '{key}' => [\n" + "".join(f"        '{k}' => {php_literal(v)},\n" for k, v in block.items()) + "    ],\n"
    return f"<?php\nreturn [\n    'backend' => ['frontName' => 'admin'],\n{extra}{body}    'MAGE_MODE' => 'production',\n];\n"


def test_a_correct_block_has_no_finding():
    report = envphp.check(php(GOOD))
    assert report.ok and report.findings == []
    assert report.settings == GOOD
    assert "look right" in str(report)


def test_http_on_this_machine_is_fine():
    report = envphp.check(php({**GOOD, "url": "http://127.0.0.1:8765/", "oauth_server_url": "http://localhost:8765"}))
    assert report.findings == []


@pytest.mark.parametrize("change, key, level, words", [
    ({"url": None}, "serviceBus.url", "error", "text in quotes"),
    ({"url": ""}, "serviceBus.url", "error", "empty"),
    ({"url": "mib.example.com"}, "serviceBus.url", "error", "not an absolute"),
    ({"url": "ftp://mib.example.com/"}, "serviceBus.url", "error", "not an absolute"),
    ({"url": "https://mib.example.com/?x=1"}, "serviceBus.url", "error", "query"),
    ({"url": "http://mib.example.com/"}, "serviceBus.url", "warning", "unencrypted"),
    ({"url": "https://<mib-host>/"}, "serviceBus.url", "error", "placeholder"),
    ({"oauth_server_url": "https://[::1/"}, "serviceBus.oauth_server_url", "error", "not an absolute"),
    ({"oauth_client_id": "<client id>"}, "serviceBus.oauth_client_id", "error", "placeholder"),
    ({"oauth_client_secret": 12345}, "serviceBus.oauth_client_secret", "error", "text in quotes"),
    ({"application_id": "my store"}, "serviceBus.application_id", "error", "characters"),
    ({"application_id": " mdc"}, "serviceBus.application_id", "error", "spaces"),
    ({"secret": "c1ient-s3cret"}, "serviceBus.secret", "warning", "two different things"),
    ({"secure_endpoint": "true"}, "serviceBus.secure_endpoint", "error", "not a boolean"),
    ({"secure_endpoint": "false"}, "serviceBus.secure_endpoint", "error", "switch it on"),
    ({"secure_endpoint": 1}, "serviceBus.secure_endpoint", "error", "true or false"),
    ({"secure_endpoint": False}, "serviceBus.secure_endpoint", "warning", "unverified"),
])
def test_each_mistake_is_found(change, key, level, words):
    report = envphp.check(php({**GOOD, **change}))
    found = [f for f in report.findings if f.key == key]
    assert found, report.findings
    assert found[0].level == level and words in found[0].problem, found[0]
    assert found[0].fix and found[0].file == "app/etc/env.php"
    assert report.ok == (level != "error")


@pytest.mark.parametrize("missing", envphp.REQUIRED)
def test_a_missing_key_is_an_error_that_says_what_it_is_for(missing):
    block = {k: v for k, v in GOOD.items() if k != missing}
    report = envphp.check(php(block))
    assert report.keys("error") == {f"serviceBus.{missing}"}
    assert envphp.KEYS[missing] in report.errors[0].problem


def test_secure_endpoint_missing_is_a_warning():
    report = envphp.check(php({k: v for k, v in GOOD.items() if k != "secure_endpoint"}))
    assert report.ok and report.keys("warning") == {"serviceBus.secure_endpoint"}


def test_a_misspelt_key_is_reported_once_as_a_rename():
    block = {**{k: v for k, v in GOOD.items() if k != "oauth_client_secret"}, "oauth_client_secrte": "x"}
    report = envphp.check(php(block))
    assert [f.key for f in report.errors] == ["serviceBus.oauth_client_secrte"]
    assert "rename 'oauth_client_secrte' to 'oauth_client_secret'" in report.errors[0].fix


def test_an_unknown_extra_key_is_a_warning():
    report = envphp.check(php({**GOOD, "timeout": 30}))
    assert report.ok and report.keys("warning") == {"serviceBus.timeout"}


@pytest.mark.parametrize("key, words", [("servicebus", "case-sensitive"), ("service_bus", "case-sensitive"), ("ServiceBus", "case-sensitive")])
def test_the_block_under_a_wrong_name(key, words):
    report = envphp.check(php(GOOD, key=key))
    assert report.keys() == {"serviceBus"} and words in report.errors[0].problem and key in report.errors[0].fix


def test_the_block_missing_or_nested_or_not_an_array():
    assert "no 'serviceBus' block" in envphp.check(php(None)).errors[0].problem
    nested = "<?php return ['system' => ['serviceBus' => ['url' => 'x']]];"
    assert "inside 'system'" in envphp.check(nested).errors[0].problem
    assert "not the text 'url'" in envphp.check("<?php return ['serviceBus' => 'url'];").errors[0].problem
    assert "must be an array" in envphp.check("<?php return ['serviceBus' => ['a', 'b']];").errors[0].problem


def test_code_in_env_php_is_refused_not_checked():
    with pytest.raises(PhpReadError, match="function call"):
        envphp.check(php({**GOOD, "oauth_client_secret": "x"}).replace("'x'", "getenv('MOM_SECRET')"))
    with pytest.raises(PhpReadError, match="named settings"):
        envphp.read("<?php return ['a', 'b'];")


def test_report_renders():
    report = envphp.check(php({**GOOD, "url": ""}))
    assert "<table>" in report._repr_html_()
    assert list(report.frame().columns) == ["level", "file", "key", "problem", "fix"]
    assert str(report).startswith("ERROR app/etc/env.php serviceBus.url")
