"""Checks of a project's composer.json, auth.json and composer.lock for installing or updating the
connector to a target version (exam objectives 8.2, 8.3). Facts in versions.py.

    findings = composer.check_composer(text, target="4.3.0") + composer.check_auth(auth_text, "4.3.0")

Each finding says which file, where in it, what is wrong and what to write instead.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from momlab.connector import versions
from momlab.connector.envphp import Finding

_PLACEHOLDER = re.compile(r"<[^<>]*>|\byour[-_ ]|\bchange[-_ ]?me\b|^x+$", re.IGNORECASE)


def read_json(source: str | bytes | dict, name: str) -> dict:
    """A JSON file as a dict; ValueError saying where the JSON breaks."""
    if isinstance(source, dict):
        return source
    if isinstance(source, (bytes, bytearray)):
        try:
            source = bytes(source).decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"{name} is not UTF-8 text.") from None
    try:
        doc = json.loads(source)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{name} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.") from None
    if not isinstance(doc, dict):
        raise ValueError(f"{name} must hold a JSON object {{...}}.")
    return doc


def repositories(composer: dict) -> list[tuple[str, dict]]:
    """(where, entry) of each repository; composer.json allows a list or an object of them."""
    repos = composer.get("repositories") or []
    if isinstance(repos, dict):
        return [(f"repositories.{name}", entry) for name, entry in repos.items() if isinstance(entry, dict)]
    return [(f"repositories[{i}]", entry) for i, entry in enumerate(repos) if isinstance(entry, dict)]


def host(url: Any) -> str | None:
    try:
        return (urlsplit(str(url)).hostname or "").lower() or None
    except ValueError:
        return None


def check_composer(source: str | bytes | dict, target: str) -> list[Finding]:
    """composer.json for connector `target`: repositories, the require of magento/mcom-connector,
    and the Commerce line."""
    doc = read_json(source, "composer.json")
    target_v = versions.parse(target)
    new_repo = versions.needs_new_repository(target_v)
    out: list[Finding] = []

    def add(level, where, problem, fix):
        out.append(Finding(level, where, problem, fix, "composer.json"))

    repos = repositories(doc)
    old = [(where, e) for where, e in repos if host(e.get("url")) == versions.OLD_REPOSITORY_HOST]
    magento = [(where, e) for where, e in repos if host(e.get("url")) == versions.NEW_REPOSITORY_HOST]
    if new_repo:
        for where, _ in old:
            add("error", where, f"this is the old connector repository ({versions.OLD_REPOSITORY}). From {versions.REPOSITORY_CHANGE} the "
                "connector's packages come from repo.magento.com, and the old repository should be removed.", "delete this entry.")
    elif not old:
        add("error", "repositories", f"connector {target} is older than {versions.REPOSITORY_CHANGE}, so its packages come from "
            f"{versions.OLD_REPOSITORY}, which is not listed.", f'add {{"type": "composer", "url": "{versions.OLD_REPOSITORY}"}}.')
    if not magento:
        add("error", "repositories", "repo.magento.com is not listed: Magento's packages (and the connector's, from 4.3.0) come from it.",
            f'add {{"type": "composer", "url": "{versions.NEW_REPOSITORY}"}}.')
    for where, entry in repos:
        if host(entry.get("url")) in (versions.OLD_REPOSITORY_HOST, versions.NEW_REPOSITORY_HOST) and entry.get("type") != "composer":
            add("error", f"{where}.type", f"type is {entry.get('type')!r}; a Composer package repository has type \"composer\".",
                'write "type": "composer".')

    require = doc.get("require") if isinstance(doc.get("require"), dict) else {}
    suggestion = f"^{target_v[0]}.{target_v[1]}"
    constraint = require.get(versions.PACKAGE)
    modules = [p for p in versions.MODULE_PACKAGES if p in require]
    if constraint is None:
        if modules:
            add("warning", "require", f"the connector is required module by module ({', '.join(modules)}); each module has its own "
                "version line (e.g. ~0.1), so check each against the release notes of the target version.",
                f'or require the whole connector: "{versions.PACKAGE}": "{suggestion}".')
        else:
            add("error", f"require.{versions.PACKAGE}", "the connector is not required.",
                f'run composer require "{versions.PACKAGE}:{suggestion}" (it adds "{versions.PACKAGE}": "{suggestion}").')
    else:
        try:
            allowed = versions.satisfies(target_v, str(constraint))
        except ValueError as exc:
            add("error", f"require.{versions.PACKAGE}", str(exc), f'write "{suggestion}".')
        else:
            if not allowed:
                add("error", f"require.{versions.PACKAGE}", f"the constraint {constraint!r} does not allow {target}, so Composer will not "
                    "install it.", f'change it to "{suggestion}" (composer require "{versions.PACKAGE}:{suggestion}").')
    line = versions.COMMERCE_LINE.get(target_v[0])
    for package in versions.COMMERCE_PACKAGES:
        found = re.search(r"(\d+)\.(\d+)", str(require.get(package, "")))
        if found and line and f"{found.group(1)}.{found.group(2)}" != line and package != "magento/magento-cloud-metapackage":
            add("error", f"require.{package}", f"connector {target_v[0]}.x is for Magento Commerce {line}, but this project requires "
                f"Commerce {found.group(1)}.{found.group(2)}.", f"pick the connector line for Commerce {found.group(1)}.{found.group(2)} "
                "(2.x for 2.2, 3.x for 2.3).")
    return out


def check_auth(source: str | bytes | dict, target: str) -> list[Finding]:
    """auth.json for connector `target`: keys for each repository the install needs, none left over."""
    doc = read_json(source, "auth.json")
    new_repo = versions.needs_new_repository(target)
    out: list[Finding] = []

    def add(level, where, problem, fix):
        out.append(Finding(level, where, problem, fix, "auth.json"))

    basic = doc.get("http-basic")
    if not isinstance(basic, dict):
        add("error", "http-basic", "there is no \"http-basic\" object: Composer finds repository keys there.",
            f'add "http-basic": {{"{versions.NEW_REPOSITORY_HOST}": {{"username": "<public key>", "password": "<private key>"}}}} with your real keys.')
        return out
    needed = [versions.NEW_REPOSITORY_HOST] + ([] if new_repo else [versions.OLD_REPOSITORY_HOST])
    for name in needed:
        entry = basic.get(name)
        where = f"http-basic.{name}"
        if not isinstance(entry, dict):
            near = [k for k in basic if isinstance(k, str) and (name in k or k in name) and k != name]
            if near:
                add("error", f"http-basic.{near[0]}", f"the keys are stored under {near[0]!r}; Composer looks them up by the exact host {name!r}.",
                    f"rename {near[0]!r} to {name!r} (no scheme, no slash).")
            else:
                what = "Magento's" if name == versions.NEW_REPOSITORY_HOST else "the old connector repository's"
                add("error", where, f"no keys for {name}, so Composer cannot download {what} packages.",
                    f'add "{name}": {{"username": ..., "password": ...}}' + (" with your Commerce Marketplace public key as username and private "
                                                                          "key as password." if name == versions.NEW_REPOSITORY_HOST else "."))
            continue
        for field in ("username", "password"):
            value = entry.get(field)
            if not isinstance(value, str) or not value.strip():
                add("error", f"{where}.{field}", f"{field} is missing or empty.", f"fill in the {'public' if field == 'username' else 'private'} key.")
            elif _PLACEHOLDER.search(value.strip()):
                add("error", f"{where}.{field}", f"{field} is still a placeholder ({value!r}).", "write the real key.")
    if new_repo and versions.OLD_REPOSITORY_HOST in basic:
        add("warning", f"http-basic.{versions.OLD_REPOSITORY_HOST}", f"keys for the old connector repository are no longer used from "
            f"{versions.REPOSITORY_CHANGE}.", "remove the entry: keys nobody uses should not sit in files.")
    return out


def installed_version(lock: str | bytes | dict | None) -> str | None:
    """The connector version in composer.lock (the `packages` list), or None."""
    if lock is None:
        return None
    doc = read_json(lock, "composer.lock")
    for package in (doc.get("packages") or []) + (doc.get("packages-dev") or []):
        if isinstance(package, dict) and package.get("name") == versions.PACKAGE:
            return str(package.get("version", "")).lstrip("v") or None
    return None


def check_lock(lock: str | bytes | dict | None, target: str) -> list[Finding]:
    """What the installed version (composer.lock) says about this update: known bugs it fixes."""
    installed = installed_version(lock)
    out: list[Finding] = []
    if installed is None:
        return out
    now, goal = versions.parse(installed), versions.parse(target)
    if goal <= now:
        out.append(Finding("warning", f"packages.{versions.PACKAGE}", f"{installed} is installed; {target} is not newer.",
                           "pick a newer target version.", "composer.lock"))
    for bug in versions.bugs(now):
        if not bug.hits(goal):
            out.append(Finding("info", f"packages.{versions.PACKAGE}", f"{installed} has a known bug: {bug.title} ({bug.affected}); "
                               f"{target} fixes it.", bug.fix, "composer.lock"))
    if versions.needs_new_repository(goal) and not versions.needs_new_repository(now):
        out.append(Finding("info", f"packages.{versions.PACKAGE}", f"this update crosses {versions.REPOSITORY_CHANGE}: the packages move to "
                           "repo.magento.com.", "change composer.json's repositories and auth.json's keys before running Composer.", "composer.lock"))
    return out
