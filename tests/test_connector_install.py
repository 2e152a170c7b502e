"""Install, update and back-office checks: versions, composer.json, auth.json, composer.lock,
config.php and the ordered plan, on the sample projects in data/connector/."""

from __future__ import annotations

import json

import pytest

from momlab import data
from momlab.connector import composer, modules, procedures, versions

FILES = {"composer.json": "composer.json", "auth.json": "auth.json", "composer.lock": "composer.lock",
         "app/etc/env.php": "env.php", "app/etc/config.php": "config.php"}


def project(name: str) -> dict:
    out = {}
    for key, file in FILES.items():
        path = data.folder() / "connector" / name / file
        if path.exists():
            out[key] = path.read_text(encoding="utf-8")
    return out


@pytest.mark.parametrize("version, constraint, expected", [
    ("4.3.0", "^4.3", True), ("4.9.2", "^4.3", True), ("5.0.0", "^4.3", False), ("4.2.9", "^4.3", False),
    ("3.3.4", "~3.3.0", True), ("3.4.0", "~3.3.0", False), ("3.9.0", "~3.3", True), ("4.0.0", "~3.3", False),
    ("0.1.5", "~0.1", True), ("0.2.0", "^0.1", False), ("0.1.9", "^0.1", True),
    ("3.3.0", "3.3.*", True), ("3.4.0", "3.3.*", False), ("4.3.0", "*", True),
    ("4.3.0", "4.3.0", True), ("4.3.1", "4.3.0", False), ("4.3.0", "v4.3.0", True),
    ("3.5.0", ">=3.3 <4.0", True), ("4.0.0", ">=3.3 <4.0", False), ("3.5.0", ">=3.3, <4.0", True),
    ("4.3.0", "^3.4 || ^4.3", True), ("4.0.0", "^3.4 || ^4.3", False), ("4.3.0", "^3.4 | ^4.3", True),
    ("3.2.0", "3.0 - 3.2", True), ("3.3.0", "3.0 - 3.2", False), ("3.2.9", "3.0 - 3.2", True),
    ("4.3.0", "!=4.3.0", False), ("4.3.0", "> = 4.0", True),
])
def test_constraints(version, constraint, expected):
    assert versions.satisfies(version, constraint) is expected


@pytest.mark.parametrize("bad", ["", "dev-master", "^4.3@beta", "latest", ">=", "^*"])
def test_unreadable_constraints_say_so(bad):
    with pytest.raises(ValueError):
        versions.satisfies("4.3.0", bad)


def test_release_facts():
    assert versions.needs_new_repository("4.3.0") and not versions.needs_new_repository("4.2.9")
    assert [i.title for i in versions.bugs("3.2.1")] == [versions.GET_MODE.title]
    assert versions.EXPORT_ORDER_404 in versions.bugs("3.3.0") and versions.GET_MODE not in versions.bugs("3.3.0")
    assert versions.bugs("3.4.0") == [] and versions.bugs("2.5.0") == []
    assert versions.lowest("~3.3.0", ["3.2.0", "3.3.0", "3.3.2", "3.4.0"]) == "3.3.0"
    with pytest.raises(ValueError):
        versions.parse("four")


def keys(findings, level=None) -> set[str]:
    return {(f.file, f.key) for f in findings if level is None or f.level == level}


def test_update_project_findings():
    files = project("update")
    comp = composer.check_composer(files["composer.json"], "4.3.0")
    assert keys(comp, "error") == {("composer.json", "repositories[1]"), ("composer.json", "require.magento/mcom-connector")}
    auth = composer.check_auth(files["auth.json"], "4.3.0")
    assert keys(auth) == {("auth.json", "http-basic.mcom-connector.bcn.magento.com")} and auth[0].level == "warning"
    # the same files are right for a 3.x update that stays on the old repository
    assert keys(composer.check_composer(files["composer.json"], "3.3.2")) == set()
    assert keys(composer.check_composer(files["composer.json"], "3.4.0")) == {("composer.json", "require.magento/mcom-connector")}
    assert composer.check_auth(files["auth.json"], "3.4.0") == []
    assert composer.installed_version(files["composer.lock"]) == "3.3.0"
    lock = composer.check_lock(files["composer.lock"], "4.3.0")
    assert any("Export Order" in f.problem for f in lock) and any("crosses 4.3.0" in f.problem for f in lock)
    mods = modules.check_modules(files["app/etc/config.php"])
    assert keys(mods, "error") == {("app/etc/config.php", "modules"), ("app/etc/config.php", "modules.Magento_InventoryMessageBus")}
    assert mods[0].fix == "bin/magento module:disable Magento_InventorySalesAdminUi"


def test_update_plan_is_ordered():
    plan = procedures.plan(project("update"), "4.3.0")
    assert plan.kind == "update"
    assert plan.titles() == [procedures.KEYS, procedures.REPOSITORIES, procedures.COMPOSER, procedures.MODULES,
                             procedures.SERVICE_BUS, procedures.UPGRADE, procedures.REGISTER, procedures.VERIFY]
    assert plan.steps[2].do[0] == 'composer require "magento/mcom-connector:^4.3"'
    assert plan.steps[3].do == ["bin/magento module:disable Magento_InventorySalesAdminUi", "bin/magento module:enable Magento_InventoryMessageBus"]
    assert "secure_endpoint" in plan.steps[4].do[0]
    cloud = procedures.plan(project("update"), "4.3.0", cloud=True)
    assert procedures.UPGRADE not in cloud.titles() and procedures.DEPLOY in cloud.titles()
    assert "<table>" in plan._repr_html_() and str(plan).startswith("update of connector 4.3.0")
    assert len(plan.frame()) == 8 and not plan.findings_frame().empty


def test_install_plan():
    plan = procedures.plan(project("install"), "4.3.0")
    assert plan.kind == "install"
    assert plan.titles() == [procedures.COMPOSER, procedures.MODULES, procedures.SERVICE_BUS, procedures.UPGRADE,
                             procedures.REGISTER, procedures.VERIFY]
    assert "Magento_InventoryMessageBus" not in plan.steps[1].do[0] and plan.steps[1].do[0].count("Magento_Inventory") == 28


def test_fixed_files_pass():
    files = project("update")
    fixed = json.loads(files["composer.json"])
    fixed["repositories"] = [r for r in fixed["repositories"] if "bcn" not in r["url"]]
    fixed["require"]["magento/mcom-connector"] = "^4.3"
    assert composer.check_composer(fixed, "4.3.0") == []
    auth = json.loads(files["auth.json"])
    del auth["http-basic"]["mcom-connector.bcn.magento.com"]
    assert composer.check_auth(auth, "4.3.0") == []


@pytest.mark.parametrize("composer_json, auth_json, words", [
    ({"repositories": {"magento": {"type": "vcs", "url": "https://repo.magento.com/"}}, "require": {"magento/mcom-connector": "^4.3"}},
     {"http-basic": {"repo.magento.com": {"username": "<public key>", "password": "p"}}}, ["type is 'vcs'", "placeholder"]),
    ({"require": {"magento/mcom-connector": "^4.3@dev"}}, {"http-basic": {"https://repo.magento.com/": {"username": "a", "password": "b"}}},
     ["repo.magento.com is not listed", "stability", "exact host"]),
    ({"repositories": [{"type": "composer", "url": "https://repo.magento.com/"}], "require": {"magento/module-sales-message-bus": "~0.1"}},
     {}, ["module by module", "no \"http-basic\""]),
    ({"repositories": [{"type": "composer", "url": "https://repo.magento.com/"}],
      "require": {"magento/product-community-edition": "2.2.8", "magento/mcom-connector": "^3.4"}},
     {"http-basic": {"repo.magento.com": {"username": "a"}}}, ["is for Magento Commerce 2.3", "password is missing"]),
])
def test_other_mistakes(composer_json, auth_json, words):
    target = "3.4.0" if "2.2.8" in json.dumps(composer_json) else "4.3.0"
    found = composer.check_composer(composer_json, target) + composer.check_auth(auth_json, target)
    text = " ".join(f.problem for f in found)
    for word in words:
        assert word in text, text


def test_old_target_needs_the_old_repository_and_its_keys():
    found = composer.check_composer({"repositories": [{"type": "composer", "url": "https://repo.magento.com/"}],
                                     "require": {"magento/mcom-connector": "~3.4.0"}}, "3.4.0")
    assert [f.key for f in found] == ["repositories"] and "mcom-connector.bcn.magento.com" in found[0].fix
    auth = composer.check_auth({"http-basic": {"repo.magento.com": {"username": "a", "password": "b"}}}, "3.4.0")
    assert [f.key for f in auth] == ["http-basic.mcom-connector.bcn.magento.com"]


def test_broken_json_says_where():
    with pytest.raises(ValueError, match="line 1, column"):
        composer.check_composer('{"require": }', "4.3.0")
    with pytest.raises(ValueError, match="JSON object"):
        composer.check_auth("[]", "4.3.0")


def test_modules_rules():
    assert modules.is_msi("Magento_InventoryApi") and not modules.is_msi("Magento_InventoryMessageBus") and not modules.is_msi("Magento_Catalog")
    on_24 = modules.check_modules({"modules": {"Magento_Inventory": 1, "Magento_ServiceBus": 1, "Magento_InventoryMessageBus": 1}}, "2.4.2")
    assert [f.level for f in on_24] == ["info"]
    missing = modules.check_modules({"modules": {"Magento_ServiceBus": 1, "Magento_SalesMessageBus": 0, "Magento_MessageBusLog": 0}})
    assert {(f.level, f.key) for f in missing} == {("error", "modules"), ("error", "modules.Magento_SalesMessageBus"),
                                                   ("warning", "modules.Magento_MessageBusLog")}
    with pytest.raises(ValueError, match="no 'modules' array"):
        modules.check_modules("<?php return ['system' => []];")


def test_back_office_checklist(mock, mdc):
    aggregates = [a["id"] for a in mock.client.state("aggregates")]
    skus = [p["sku"] for p in mock.client.state("products")]
    checks = {c.name: c for c in procedures.check_back_office(mdc, aggregates, skus)}
    assert checks["registered"].ok and checks["enabled"].ok
    assert not checks["website base: stock aggregate"].ok and checks["shipping methods in OMS"].ok
    unknown = len({r["sku"] for r in data.rows("catalog_full")} - set(skus))
    assert unknown > 0 and not checks["catalog in OMS"].ok and f"{unknown:,} products" in checks["catalog in OMS"].detail
    mdc.add_stock_aggregate("AGG-WEB", "base")
    mdc.add_stock_aggregate("AGG-TYPO", "eu")
    checks = {c.name: c for c in procedures.check_back_office(mdc, aggregates, skus)}
    assert checks["website base: stock aggregate"].ok
    assert "not an OMS aggregate" in checks["website eu: stock aggregate"].detail
