"""Worked procedures: install or update the connector, and set up the Commerce back office
(exam objectives 8.2, 8.3, 8.4), as ordered steps computed from a project's files.

    plan = procedures.plan({"composer.json": ..., "auth.json": ..., "composer.lock": ...,
                            "app/etc/env.php": ..., "app/etc/config.php": ...}, target="4.3.0")
    plan.steps          # what to change or run, in order, with why
    plan.findings       # every problem found, per file

The order: keys and repositories first (Composer needs them), then Composer, then modules, then
env.php's serviceBus, then `bin/magento setup:upgrade` (not on Magento Cloud, whose deployment runs
it [doc]), which also registers the store on the bus [code: mom-mock README]; last, the checks in
the Admin. The facts are the reference's (5.9, 7.8); the order is the course's reading of them
[inferred]: each step needs what the steps before it set up.

`check_back_office(connector, oms_aggregates, oms_skus)` is the checklist for 8.4.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from momlab.connector import composer, envphp, modules, phparray, versions
from momlab.connector.envphp import Finding


@dataclass
class Step:
    title: str
    where: str
    do: list[str]
    why: str


@dataclass
class Plan:
    kind: str  # "install" or "update"
    target: str
    cloud: bool
    steps: list[Step] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    def titles(self) -> list[str]:
        return [s.title for s in self.steps]

    def frame(self):
        import pandas as pd

        return pd.DataFrame([{"step": n, "title": s.title, "where": s.where, "do": "\n".join(s.do), "why": s.why}
                             for n, s in enumerate(self.steps, start=1)])

    def findings_frame(self):
        import pandas as pd

        return pd.DataFrame([f.__dict__ for f in self.findings], columns=["level", "file", "key", "problem", "fix"])

    def __str__(self) -> str:
        lines = [f"{self.kind} of connector {self.target}{' on Magento Cloud' if self.cloud else ''}:"]
        for n, step in enumerate(self.steps, start=1):
            lines.append(f"{n}. {step.title} ({step.where})")
            lines += [f"     {line}" for line in step.do]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        import html

        rows = "".join(
            f"<tr><td>{n}</td><td style='text-align:left'><b>{html.escape(s.title)}</b><br><i>{html.escape(s.where)}</i></td>"
            f"<td style='text-align:left'><pre style='margin:0'>{html.escape(chr(10).join(s.do))}</pre></td>"
            f"<td style='text-align:left'>{html.escape(s.why)}</td></tr>"
            for n, s in enumerate(self.steps, start=1)
        )
        head = f"<b>{self.kind.capitalize()} of connector {html.escape(self.target)}{' on Magento Cloud' if self.cloud else ''}</b>"
        return f"{head}<table><tr><th>#</th><th>step</th><th>do</th><th>why</th></tr>{rows}</table>"


# Step titles, in the order they are carried out.
KEYS = "Composer keys"
REPOSITORIES = "Composer repositories"
COMPOSER = "Composer"
MODULES = "Modules"
SERVICE_BUS = "env.php serviceBus"
UPGRADE = "setup:upgrade"
DEPLOY = "Deploy"
REGISTER = "Registration"
VERIFY = "Verify in the Admin"
ORDER = (KEYS, REPOSITORIES, COMPOSER, MODULES, SERVICE_BUS, UPGRADE, DEPLOY, REGISTER, VERIFY)


def plan(files: dict, target: str, cloud: bool = False, commerce: str = "2.3") -> Plan:
    """The steps to install or update the connector to `target`, from the project's files (text)."""
    target_v = versions.parse(target)
    lock = files.get("composer.lock")
    config = files.get("app/etc/config.php")
    installed = composer.installed_version(lock)
    mods = modules.read(config) if config is not None else {}
    kind = "update" if installed or "Magento_ServiceBus" in mods else "install"
    result = Plan(kind, versions.show(target_v), cloud)
    auth_f = composer.check_auth(files["auth.json"], target) if "auth.json" in files else []
    comp_f = composer.check_composer(files["composer.json"], target) if "composer.json" in files else []
    lock_f = composer.check_lock(lock, target)
    mod_f = modules.check_modules(config, commerce) if config is not None else []
    env_f: list[Finding] = []
    if "app/etc/env.php" in files:
        try:
            env_f = envphp.check(files["app/etc/env.php"]).findings
        except phparray.PhpReadError as exc:
            env_f = [Finding("error", f"line {exc.line}", exc.reason, "correct the file; it must be '<?php return [ ... ];'.")]
    result.findings = auth_f + comp_f + lock_f + mod_f + env_f
    suggestion = f"^{target_v[0]}.{target_v[1]}"

    fixes = [f for f in auth_f if f.level != "info"]
    if fixes:
        result.steps.append(Step(KEYS, "auth.json", [f"{f.key}: {f.fix}" for f in fixes],
                                 "Composer reads the repositories' keys here; without the right ones it cannot download the packages."))
    repo_fixes = [f for f in comp_f if f.key.startswith("repositories")]
    if repo_fixes:
        result.steps.append(Step(REPOSITORIES, "composer.json", [f"{f.key}: {f.fix}" for f in repo_fixes],
                                 f"From {versions.REPOSITORY_CHANGE} the connector comes from repo.magento.com; older releases from "
                                 f"{versions.OLD_REPOSITORY_HOST}."))
    command = (f'composer require "{versions.PACKAGE}:{suggestion}"' if kind == "install" or any(f.key.startswith("require.") for f in comp_f)
               else f"composer update {versions.PACKAGE} --with-all-dependencies")
    result.steps.append(Step(COMPOSER, "the project's root", [command, "commit composer.json and composer.lock"],
                             "Composer installs the connector's modules (the meta package magento/mcom-connector brings them all)."))
    module_fixes = [f for f in mod_f if f.level in ("error", "warning") and f.fix.startswith("bin/magento module:")]
    if module_fixes:
        result.steps.append(Step(MODULES, "app/etc/config.php", [f.fix for f in module_fixes],
                                 "Commerce 2.3 runs the connector with MSI disabled; Magento_InventoryMessageBus is the connector's and stays enabled."))
    env_fixes = [f for f in env_f if f.level == "error"]
    if env_fixes:
        result.steps.append(Step(SERVICE_BUS, "app/etc/env.php", [f"{f.key}: {f.fix}" for f in env_fixes],
                                 "The connector finds the bus, its OAuth credentials and its own id there; registration reads them."))
    if cloud:
        result.steps.append(Step(DEPLOY, "Magento Cloud", ["git push the branch: the deployment runs the upgrade (no setup:upgrade by hand)"],
                                 "setup:upgrade is not needed on Magento Cloud [doc]."))
    else:
        result.steps.append(Step(UPGRADE, "the server", ["bin/magento setup:upgrade"],
                                 "Installs the modules' schema and data, and registers the store on the bus (it requests the first OAuth token)."))
    result.steps.append(Step(REGISTER, "Admin: MCOM > Integration", ["check it is registered and enabled",
                                                                   "if not: Register (or bin/magento oms:service-bus:register), then Enable"],
                             "The registration tells the bus where to deliver to the store, which topics, the secret, and the connector's version."))
    result.steps.append(Step(VERIFY, "Admin", [f"System Report: the 'OMS Connector' entry shows {versions.show(target_v)}",
                                               "MCOM > Changelog: the release's changes", "MCOM > Message Log: new messages end SUCCESS"],
                             "Confirms what is installed and that messages flow."))
    return result


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    where: str


def check_back_office(connector, oms_aggregates: list[str], oms_skus: list[str]) -> list[Check]:
    """The back-office checklist (8.4) for a store: registration, each website's sales channel and
    stock aggregate, shipping methods and catalog known to OMS, no failed messages. The OMS side
    (aggregate ids, SKUs) is passed in: on a real installation you read it in the OMS Admin."""
    checks: list[Check] = []
    state = connector.integration()
    checks.append(Check("registered", state["registered"], "registered on the bus" if state["registered"] else "not registered",
                        "MCOM > Integration (Register) or bin/magento oms:service-bus:register"))
    checks.append(Check("enabled", state["enabled"], "enabled" if state["enabled"] else "disabled: nothing goes in or out", "MCOM > Integration (Enable)"))
    aggregates = set(oms_aggregates)
    for _, site in connector.websites().iterrows():
        channel_ok = bool(site["sales_channel_id"])
        checks.append(Check(f"website {site['code']}: sales channel", channel_ok,
                            site["sales_channel_id"] or "no OMS sales channel: its orders cannot be sent", "the connector's configuration"))
        code = site["stock_code"]
        stock_ok = isinstance(code, str) and code in aggregates
        detail = (f"stock code {code}" if stock_ok else
                  ("no stock aggregate mapped: its stock never arrives" if not isinstance(code, str) else f"stock code {code!r} is not an OMS aggregate"))
        checks.append(Check(f"website {site['code']}: stock aggregate", stock_ok, detail, "MCOM > Manage Stock Aggregates"))
    skus = set(oms_skus)
    products = connector.products()
    shipping = set(products.loc[products["type"] == "SHIPPING", "sku"])
    missing_shipping = sorted(shipping - skus)
    checks.append(Check("shipping methods in OMS", not missing_shipping, "all synced" if not missing_shipping else f"missing: {', '.join(missing_shipping)}",
                        "sync the shipping methods (they travel as products of type 'shipping')"))
    missing = len(set(products["sku"]) - skus)
    checks.append(Check("catalog in OMS", missing == 0, "every product is known to OMS" if not missing else f"{missing:,} products unknown to OMS",
                        "Catalog > Products > Export Full Catalog"))
    # A stock update for an aggregate no website is mapped to fails; once every website is mapped, such
    # failures are about aggregates this store does not sell from, and need no action.
    errors = connector.message_log(status="ERROR")
    mapped = set(connector.stock_aggregates()["stock_code"])
    unused = errors[(errors["topic"] == "magento.inventory.aggregate_stock_management.updated") & ~errors["reference"].isin(mapped)]
    others = len(errors) - len(unused)
    detail = "no failed messages" if not others else f"{others} message(s) in ERROR"
    if len(unused):
        detail += f" ({len(unused)} stock update(s) for aggregates no website sells from: nothing to do)"
    checks.append(Check("Message Log", others == 0, detail, "MCOM > Message Log"))
    return checks
