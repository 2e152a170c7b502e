"""Checks of app/etc/config.php's `modules` list for the connector (exam objectives 8.3, 8.4).

- With Magento Commerce 2.3, Multi-Source Inventory (MSI) must be disabled [doc: setup tutorial].
  MSI's modules are the `Magento_Inventory*` modules; `Magento_InventoryMessageBus` is not one of
  them: it belongs to the connector and must stay enabled [doc: Adobe's page on disabling MSI].
- The connector's modules: ServiceBus, CommonMessageBus, AmqpMessageBus, CatalogMessageBus,
  InventoryMessageBus, SalesMessageBus, PostsalesMessageBus, MessageBusLog, and
  McomMultipleLocationInventory, McomTransactionalEmails [code: an install script; KB trace]. Their
  Magento module names (`Magento_ServiceBus`...) follow from the PHP namespaces [inferred].
- The rule is stated for 2.3; for other Commerce versions the sources say nothing [unverified].

config.php is read with phparray: never run.
"""

from __future__ import annotations

from momlab.connector import phparray, versions
from momlab.connector.envphp import Finding

MESSAGE_BUS = "Magento_InventoryMessageBus"
CONNECTOR_MODULES = (
    "Magento_ServiceBus", "Magento_CommonMessageBus", "Magento_AmqpMessageBus", "Magento_CatalogMessageBus", MESSAGE_BUS,
    "Magento_SalesMessageBus", "Magento_PostsalesMessageBus", "Magento_MessageBusLog",
    "Magento_McomMultipleLocationInventory", "Magento_McomTransactionalEmails",
)
ESSENTIAL = ("Magento_ServiceBus", "Magento_CatalogMessageBus", MESSAGE_BUS, "Magento_SalesMessageBus")


def read(source: str | bytes | dict) -> dict:
    """The `modules` array of config.php: {module name: 0 or 1}."""
    doc = source if isinstance(source, dict) else phparray.loads(source, "app/etc/config.php")
    modules = doc.get("modules") if isinstance(doc, dict) else None
    if not isinstance(modules, dict):
        raise ValueError("app/etc/config.php has no 'modules' array; it lists every module as 'Vendor_Module' => 1 (enabled) or 0.")
    return modules


def is_msi(module: str) -> bool:
    """An MSI module: Magento_Inventory*, except the connector's Magento_InventoryMessageBus."""
    return module.startswith("Magento_Inventory") and module != MESSAGE_BUS


def enabled(modules: dict, name: str) -> bool:
    return bool(modules.get(name)) and modules.get(name) not in ("0", 0, False)


def check_modules(source: str | bytes | dict, commerce: str = "2.3") -> list[Finding]:
    modules = read(source)
    out: list[Finding] = []

    def add(level, where, problem, fix):
        out.append(Finding(level, where, problem, fix, "app/etc/config.php"))

    line = versions.parse(commerce)[:2]
    msi_on = sorted(m for m in modules if is_msi(m) and enabled(modules, m))
    if line == (2, 3) and msi_on:
        add("error", "modules", f"{len(msi_on)} MSI module(s) are enabled ({', '.join(msi_on[:4])}{'...' if len(msi_on) > 4 else ''}). "
            "With Commerce 2.3 the connector needs MSI disabled.",
            f"bin/magento module:disable {' '.join(msi_on)}")
    elif line != (2, 3) and msi_on:
        add("info", "modules", f"MSI modules are enabled. The sources state the rule 'disable MSI' for Commerce 2.3; for {commerce} they say "
            "nothing [unverified].", "check the connector's release notes for this Commerce version.")
    if MESSAGE_BUS in modules and not enabled(modules, MESSAGE_BUS):
        add("error", f"modules.{MESSAGE_BUS}", f"{MESSAGE_BUS} is disabled. Its name starts like MSI's modules, but it belongs to the "
            "connector: without it the store receives no stock from OMS.", f"bin/magento module:enable {MESSAGE_BUS}")
    if "Magento_ServiceBus" not in modules:
        add("error", "modules", "the connector's modules are not installed (no Magento_ServiceBus).",
            f'composer require "{versions.PACKAGE}", then bin/magento setup:upgrade')
        return out
    if MESSAGE_BUS not in modules:
        add("error", "modules", f"{MESSAGE_BUS} is missing, so the store cannot receive stock from OMS.",
            f'composer require "{versions.PACKAGE}" (it brings the module), then bin/magento setup:upgrade')
    for name in CONNECTOR_MODULES:
        if name != MESSAGE_BUS and name in modules and not enabled(modules, name):
            add("error" if name in ESSENTIAL else "warning", f"modules.{name}", f"{name}, a module of the connector, is disabled.",
                f"bin/magento module:enable {name}")
    return out
