"""The connector's settings in app/etc/env.php: the `serviceBus` block, read safely and checked.

The Magento Commerce connector finds the bus through seven keys under `serviceBus` in
app/etc/env.php (mom-reference.md 5.9, [code]: mom-mock and magento2-docker-mom-mock READMEs):

    'serviceBus' => [
        'url' => 'https://<mib-host>/',             // the bus (MIB) the connector sends to
        'oauth_server_url' => 'https://<oauth-host>/',
        'oauth_client_id' => '<client id>',
        'oauth_client_secret' => '<client secret>',
        'application_id' => 'mdc',                  // this store's id on the bus
        'secret' => '<shared secret>',              // signs what the bus delivers to the store
        'secure_endpoint' => true,
    ],

`check(env)` returns a `Report`: one `Finding` per mistake, each saying what is wrong, why it matters
and what to write instead. The file is read with `phparray`, never run.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from momlab.connector import phparray

BLOCK = "serviceBus"

# key -> what it is for (shown with every finding about it)
KEYS = {
    "url": "the base URL of the Magento Integration Bus (MIB): where the connector sends orders, products and its registration",
    "oauth_server_url": "where the connector asks for OAuth 2.0 access tokens (client credentials) before it calls the bus",
    "oauth_client_id": "the OAuth client id Magento issued for this store; with the client secret it buys the access tokens",
    "oauth_client_secret": "the OAuth client secret that goes with oauth_client_id",
    "application_id": "this store's id on the bus (e.g. 'mdc'): sent as `id` when the connector registers",
    "secret": "the shared secret sent when registering; the bus signs every delivery to the store with it",
    "secure_endpoint": "a true/false switch; the public samples set it to true",
}
REQUIRED = ("url", "oauth_server_url", "oauth_client_id", "oauth_client_secret", "application_id", "secret")
URL_KEYS = ("url", "oauth_server_url")
_PLACEHOLDER = re.compile(r"<[^<>]*>|\bchange[-_ ]?me\b|\byour[-_ ]", re.IGNORECASE)
_APP_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
_LOOPBACK = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class Finding:
    level: str  # "error" (the connector cannot work) or "warning" (it works, but look again)
    key: str  # where in the file: 'serviceBus', 'serviceBus.url', 'repositories[1]', ...
    problem: str
    fix: str
    file: str = "app/etc/env.php"

    def __str__(self) -> str:
        return f"{self.level.upper()} {self.file} {self.key}: {self.problem} Fix: {self.fix}"


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    settings: dict = field(default_factory=dict)  # the serviceBus block as read (secrets included)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "warning"]

    def keys(self, level: str | None = None) -> set[str]:
        """The settings with a finding, e.g. {'serviceBus.url'}."""
        return {f.key for f in self.findings if level is None or f.level == level}

    def frame(self):
        import pandas as pd

        return pd.DataFrame([f.__dict__ for f in self.findings], columns=["level", "file", "key", "problem", "fix"])

    def __str__(self) -> str:
        if not self.findings:
            return "serviceBus: all seven settings look right."
        return "\n".join(str(f) for f in self.findings)

    def __repr__(self) -> str:  # never print the secrets the settings hold
        return str(self)

    def _repr_html_(self) -> str:
        import html

        if not self.findings:
            return "<b>serviceBus</b>: all seven settings look right."
        rows = "".join(
            f"<tr><td style='color:{'#b00020' if f.level == 'error' else '#a06000'}'>{f.level}</td><td><code>{html.escape(f.key)}</code></td>"
            f"<td style='text-align:left'>{html.escape(f.problem)}</td><td style='text-align:left'>{html.escape(f.fix)}</td></tr>"
            for f in self.findings
        )
        return f"<table><tr><th>level</th><th>setting</th><th>problem</th><th>fix</th></tr>{rows}</table>"


def read(source: str | bytes, name: str = "app/etc/env.php") -> dict:
    """The whole env.php as data (PhpReadError when it is not a configuration array)."""
    value = phparray.loads(source, name)
    if not isinstance(value, dict):
        raise phparray.PhpReadError("env.php must return an array of named settings ('key' => value), not a plain list.", 1, 1, name=name)
    return value


def check(env: str | bytes | dict) -> Report:
    """Check the serviceBus block of env.php (its text, or the array already read)."""
    if not isinstance(env, dict):
        env = read(env)
    report = Report()
    add = report.findings.append
    block = env.get(BLOCK)
    if block is None:
        near = _near_key(BLOCK, [k for k in env if isinstance(k, str)])
        nested = [k for k, v in env.items() if isinstance(v, dict) and BLOCK in v]
        if near:
            add(Finding("error", BLOCK, f"there is no '{BLOCK}' key, but there is {near!r}. Array keys are case-sensitive, so the connector "
                        "never finds it.", f"rename {near!r} to '{BLOCK}'."))
        elif nested:
            add(Finding("error", BLOCK, f"'{BLOCK}' sits inside {nested[0]!r}; the connector reads it at the top level of the array.",
                        f"move the '{BLOCK}' block out of {nested[0]!r}, next to 'db' and 'backend'."))
        else:
            add(Finding("error", BLOCK, f"there is no '{BLOCK}' block, so the connector does not know the bus and cannot register.",
                        f"add a '{BLOCK}' => [...] block with the seven settings: {', '.join(KEYS)}."))
        return report
    if not isinstance(block, dict):
        add(Finding("error", BLOCK, f"'{BLOCK}' must be an array of named settings ('url' => '...'), not {_kind(block)}.",
                    "write it as [ 'url' => '...', 'oauth_server_url' => '...', ... ]."))
        return report
    report.settings = dict(block)
    renamed = set()  # known settings a misspelt key stands for: reported once, as the misspelling
    for key in block:
        if key not in KEYS:
            near = _near_key(str(key), list(KEYS))
            if near and near not in block:
                renamed.add(near)
                add(Finding("error", f"{BLOCK}.{key}", f"unknown setting {key!r}; the connector reads {near!r} ({KEYS[near]}).",
                            f"rename {key!r} to {near!r}."))
            else:
                add(Finding("warning", f"{BLOCK}.{key}", f"unknown setting {key!r}: the connector does not read it.",
                            f"remove it; the settings are {', '.join(KEYS)}."))
    for key in REQUIRED:
        if key not in block:
            if key not in renamed:
                add(Finding("error", f"{BLOCK}.{key}", f"'{key}' is missing: it is {KEYS[key]}.", f"add '{key}' => '...'."))
            continue
        _check_value(key, block[key], add)
    if "secure_endpoint" not in block:
        if "secure_endpoint" not in renamed:
            add(Finding("warning", f"{BLOCK}.secure_endpoint", "'secure_endpoint' is missing; the public samples set it to true.",
                        "add 'secure_endpoint' => true."))
    else:
        _check_secure_endpoint(block["secure_endpoint"], add)
    secret, client_secret = block.get("secret"), block.get("oauth_client_secret")
    if isinstance(secret, str) and secret and secret == client_secret:
        add(Finding("warning", f"{BLOCK}.secret", "'secret' is the same text as 'oauth_client_secret'. They are two different things: the "
                    "OAuth secret proves the store to the bus, the shared secret lets the store check what the bus delivers.",
                    "use a separate, random value for 'secret'."))
    return report


def _check_value(key: str, value: Any, add) -> None:
    where = f"{BLOCK}.{key}"
    if isinstance(value, bool) or not isinstance(value, str):
        add(Finding("error", where, f"'{key}' must be text in quotes, got {_kind(value)}.", f"write '{key}' => '...' (in quotes)."))
        return
    if not value.strip():
        add(Finding("error", where, f"'{key}' is empty: it is {KEYS[key]}.", f"fill in the value for '{key}'."))
        return
    if value != value.strip():
        add(Finding("error", where, f"'{key}' has spaces at its start or end, which become part of the value.", "remove the spaces inside the quotes."))
    if _PLACEHOLDER.search(value):
        add(Finding("error", where, f"'{key}' is still a placeholder ({value!r}).", f"replace it with the real value: {KEYS[key]}."))
        return
    if key in URL_KEYS:
        _check_url(key, value.strip(), add)
    elif key == "application_id" and not _APP_ID.match(value):
        add(Finding("error", where, f"application_id {value!r} has characters a bus id should not have (spaces, slashes...).",
                    "use letters, digits, '_', '-' or '.', e.g. 'mdc'."))


def _check_url(key: str, value: str, add) -> None:
    where = f"{BLOCK}.{key}"
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        parts, port_ok = None, False
    if parts is None or not port_ok or parts.scheme not in ("http", "https") or not parts.hostname:
        add(Finding("error", where, f"{value!r} is not an absolute http(s) URL.", f"write the full URL, e.g. 'https://mib.example.com/' ({KEYS[key]})."))
        return
    if parts.query or parts.fragment:
        add(Finding("error", where, f"{value!r} has a query or fragment ('?', '#'); the connector appends paths to this base URL.",
                    "keep only scheme, host, port and path."))
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        add(Finding("warning", where, f"{value!r} is plain http to another machine: tokens and secrets would cross the network unencrypted.",
                    "use https (plain http is only for a bus on this machine, like the course's mock)."))


def _check_secure_endpoint(value: Any, add) -> None:
    where = f"{BLOCK}.secure_endpoint"
    if isinstance(value, bool):
        if not value:
            add(Finding("warning", where, "'secure_endpoint' is false. What it switches is not in the public documentation "
                        "[unverified]; the public samples set it to true.", "set it to true unless you know why not."))
        return
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no", "on", "off"):
        add(Finding("error", where, f"'secure_endpoint' is the text {value!r}, not a boolean. In PHP any non-empty text except '0' "
                    "counts as true, so 'false' would switch it on.", "write true or false without quotes."))
        return
    add(Finding("error", where, f"'secure_endpoint' must be true or false, got {_kind(value)}.", "write 'secure_endpoint' => true."))


def _near_key(key: str, known: list[str]) -> str | None:
    folded = {k.lower().replace("_", ""): k for k in known}
    same = folded.get(key.lower().replace("_", ""))
    if same and same != key:
        return same
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
    return close[0] if close and close[0] != key else None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    return "an array"
