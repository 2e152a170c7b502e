"""The integration lab 09 launches, and the tools its test plan and go-live checklist use.

Three endpoints on one mock MOM, held by a `Kit`: `mdc`, Magento Commerce with the MCOM connector
(`momlab.connector.Connector`, lab 06); `wms`, a `Warehouse` integration for two sources; `psp`, a payment
integration that acknowledges every payment command. `Kit.prepare()` runs the pre-launch set-up (register,
map websites to stock aggregates, export shipping methods and the catalog, an initial FULL stock snapshot
per source). A test plan is a set of scenario functions `scenario(kit, run)` that record checks with
`run.expect(what, passed, evidence)`; `run_plan` runs them all into one table and `summary` gives one row
per scenario. `fresh_kit(mom)` makes a throwaway copy on a mock of its own, for breaking things.

    kit = Kit(mom).prepare()
    results = run_plan({"create": scenario_create}, kit)
    summary(results)

Everything here is the course's: the secrets, the websites and the store's module list are this lab's
example installation, not values from MOM.
"""

from __future__ import annotations

import hashlib
import itertools
import threading

import pandas as pd

from momlab import data
from momlab.connector import SUBSCRIBES, Connector
from momlab.faults import FaultyReceiver
from momlab.mock import Mock
from momlab.orders import return_params
from momlab.topics import AUTHORIZE_RETURN as AUTHORIZE
from momlab.topics import (
    CHANGE_STATUS,
    LINES_DECLINED,
    LINES_SHIPPED,
    REGISTER,
    REQUEST_SHIPMENT,
    STOCK_UPDATE,
)

# validate, revalidate and capture are documented; refund and cancel are seen in the CyberSource integration's
# code. The mock sends all five, so the payment integration subscribes to all five.
PAYMENT_COMMANDS = [f"magento.payments.payments_management.{op}" for op in ("validate", "revalidate", "capture", "refund", "cancel")]

# Secrets: production values come from the project's vault; pre-production ones were used while testing.
PRODUCTION_SECRETS = {"mdc": "mdc-prod-Qm7T2x", "wms": "wms-prod-V9xkR4", "psp": "psp-prod-3LmPz8"}
PREPRODUCTION_SECRETS = {"mdc": "mdc-preprod", "wms": "wms-preprod", "psp": "psp-preprod"}
WEBSITES = {"base": "WEB-US", "eu": "WEB-EU"}  # Commerce website -> OMS sales channel
CONNECTOR_TOPICS = list(SUBSCRIBES)  # what the connector subscribes to: it is a sales channel

# The store's app/etc/config.php (its module list), as deployed to production.
CONFIG_PHP = """<?php
return [
    'modules' => [
        'Magento_Store' => 1,
        'Magento_Catalog' => 1,
        'Magento_Sales' => 1,
        'Magento_Inventory' => 0,
        'Magento_InventoryApi' => 0,
        'Magento_InventoryCatalog' => 0,
        'Magento_InventorySales' => 0,
        'Magento_InventoryShipping' => 0,
        'Magento_ServiceBus' => 1,
        'Magento_CommonMessageBus' => 1,
        'Magento_CatalogMessageBus' => 1,
        'Magento_InventoryMessageBus' => 1,
        'Magento_SalesMessageBus' => 1,
        'Magento_PostsalesMessageBus' => 1,
        'Magento_MessageBusLog' => 1,
    ],
];
"""


def fingerprint(secret):
    """A short, one-way fingerprint of a secret: compare these, never print a secret."""
    return None if not secret else hashlib.sha256(secret.encode()).hexdigest()[:12]


class Warehouse(FaultyReceiver):
    """The warehouse integration (a WMS adapter): MOM's shipment requests in; the warehouse's answers
    (acknowledge, ship, decline) and its stock feed out. A FaultyReceiver, so a test can break it."""

    def __init__(self, client, id="wms", secret=PRODUCTION_SECRETS["wms"], sources=("WH-EAST", "WH-WEST"), **fault):
        super().__init__(secret=secret, id=id, **fault)
        self.client = client
        self.sources = list(sources)
        self.received = {}  # request_id -> the shipment request, as the warehouse stored it
        self.on(REQUEST_SHIPMENT)(self.take)

    def take(self, params):
        self.received[params["request_id"]] = params  # a real WMS would create a pick job here
        return {}

    def requests_for(self, order_id):
        return [r for r in self.received.values() if r["order_id"] == str(order_id)]

    def acknowledge(self, request_id):
        request = self.received[request_id]
        items = [{"order_line_id": i["order_line_id"], "order_line_number": i["order_line_number"], "sku": i["sku"],
                  "status": "RECEIVEDBYLOGISTICS", "status_reason": "OSREPORTREC", "quantity": 1} for i in request["items"]]
        return self.client.call(CHANGE_STATUS, {"shipment_request_id": request_id, "user": self.id, "items": items})

    def ship(self, request_id, line_ids=None, carrier="UPS"):
        """lines_shipped for the request's lines (all of them, or the order-line ids given), in one package."""
        request = self.received[request_id]
        items = [i for i in request["items"] if line_ids is None or i["order_line_id"] in [str(x) for x in line_ids]]
        tracking = f"1Z{abs(hash((request_id, len(items)))) % 10**10:010d}"
        package = {"id": f"PKG-{request_id}-{len(items)}", "items": [i["order_line_number"] for i in items],
                   "aggregated_items": [{"aggregated_line_id": i["order_line_id"], "sku": i["sku"], "quantity": 1, "order_lines": [i["order_line_id"]]} for i in items],
                   "carrier": carrier, "tracking_number": tracking, "tracking_link": f"https://www.ups.com/track?tracknum={tracking}"}
        lines = [{"order_line_id": i["order_line_id"], "order_line_number": i["order_line_number"], "sku": i["sku"],
                  "status": "SHIPPED", "status_reason": "OSREPORT"} for i in items]
        return self.client.call(LINES_SHIPPED, {"request_id": request_id, "packages": [package], "items": lines})

    def decline(self, request_id, line_ids):
        """lines_declined: these lines cannot ship from here (on the mock, OMS cancels them)."""
        return self.client.call(LINES_DECLINED, {"request_id": request_id, "items": [str(x) for x in line_ids]})

    def snapshots(self, source_id, stock, mode, batch_size=None):
        """The stock feed's messages: absolute quantities {sku: quantity}, split in batches when asked."""
        entries = [{"sku": sku, "quantity": quantity} for sku, quantity in stock.items()]
        size = batch_size or max(1, len(entries))
        parts = [entries[i:i + size] for i in range(0, len(entries), size)] or [[]]
        run = f"{self.id}-{source_id}-{mode}-{next(_feed_runs)}"
        messages = []
        for number, part in enumerate(parts, start=1):
            snapshot = {"source_id": source_id, "mode": mode, "created_on": pd.Timestamp.now(tz="UTC").isoformat(), "stock": part}
            if len(parts) > 1:
                snapshot["batch"] = {"process_id": run, "process_number": number, "process_total": len(parts)}
            messages.append({"snapshot": snapshot})
        return messages

    def send_stock(self, source_id, stock, mode, batch_size=None):
        """Send a stock snapshot for one source; returns OMS's answer to each message."""
        return [self.client.call(STOCK_UPDATE, params) for params in self.snapshots(source_id, stock, mode, batch_size)]


_feed_runs = itertools.count(1)
_kits = itertools.count(1)


class Kit:
    """The whole integration on one mock: `mdc` (Commerce + connector), `wms` (Warehouse), `psp` (the
    payment integration). `prepare()` runs the pre-launch set-up; `close()` stops what the kit started."""

    def __init__(self, mock, warehouse=Warehouse, secrets=PRODUCTION_SECRETS, sources=("WH-EAST", "WH-WEST"), own_mock=False):
        self.mom = mock
        self.secrets = dict(secrets)
        self.own_mock = own_mock
        env = (f"<?php\nreturn ['serviceBus' => ['url' => '{mock.url}/', 'oauth_server_url' => '{mock.url}/', "
               f"'oauth_client_id' => 'momlab', 'oauth_client_secret' => 'momlab-secret', 'application_id' => 'mdc', "
               f"'secret' => '{self.secrets['mdc']}', 'secure_endpoint' => true]];\n")
        self.mdc = Connector(env, websites=WEBSITES, products=data.rows("products"), order_prefix=str(next(_kits)))
        self.mdc.incoming_processing = "sync"  # apply OMS's messages as they arrive
        self.wms = warehouse(mock.client, secret=self.secrets["wms"], sources=sources).start()
        self.psp = FaultyReceiver(secret=self.secrets["psp"], id="psp")
        for topic in PAYMENT_COMMANDS:
            self.psp.on(topic)(lambda params: {})  # acknowledged; the outcome would follow as a notification
        self.psp.start()

    # -- the pre-launch set-up (9.2) -----------------------------------------------------------------
    def prepare(self, registered=None):
        self.register_all(registered)
        self.configure_store()
        self.export_catalog()
        self.initial_stock()
        return self

    def register_all(self, secrets=None):
        """Register the three endpoints; `secrets` overrides what each one is registered with."""
        secrets = {**self.secrets, **(secrets or {})}
        self.mdc.settings["secret"] = secrets["mdc"]  # what env.php says is what the connector registers
        self.mdc.register()
        self.mdc.settings["secret"] = self.secrets["mdc"]  # ...and what its endpoint checks deliveries with
        self.mom.client.call(REGISTER, {"id": self.wms.id, "url": self.wms.url, "subscribes": [REQUEST_SHIPMENT], "secret": secrets["wms"]})
        self.mom.client.call(REGISTER, {"id": self.psp.id, "url": self.psp.url, "subscribes": PAYMENT_COMMANDS, "secret": secrets["psp"]})

    def configure_store(self):
        """MCOM > Manage Stock Aggregates: each website's stock comes from its sales channel's aggregate."""
        channels = self.mom.state("sales_channels").set_index("id")["aggregate_id"]
        for website, channel in WEBSITES.items():
            self.mdc.add_stock_aggregate(channels[channel], website)

    def export_catalog(self):
        """Sync the shipping methods and run Export Full Catalog; the message processor sends them."""
        self.mdc.sync_shipping_methods()
        self.mdc.export_full_catalog()
        self.mdc.process_messages()

    def initial_stock(self, batch_size=10):
        """One FULL snapshot per source, from the stock count (data/stock.csv), in batches."""
        counted = data.load("stock")
        for source_id, rows in counted.groupby("source_id", sort=False):
            stock = {r.sku: float(r.quantity) for r in rows.itertuples()}
            feed = self.wms if source_id in self.wms.sources else Warehouse(self.mom.client, id="pos-feed")
            feed.send_stock(source_id, stock, "FULL", batch_size=batch_size)
        self.settle()

    # -- for test plans (9.1) -------------------------------------------------------------------------
    def order(self, skus, website="base"):
        """A customer orders on the Commerce store; the connector sends it to OMS. Returns the order id."""
        order_id = self.mdc.place_order(website, list(skus))
        self.settle()
        return order_id

    def request_return(self, order_id, line_ids, reason="DAMAGED"):
        """The customer asks for a return in My Account: return_management.authorize."""
        answer = self.mom.client.call(AUTHORIZE, return_params(order_id, [str(x) for x in line_ids], reason=reason))
        self.settle()
        return answer

    def mark(self):
        """The id of the journal's newest row: pass it to journal() to see what happens after it."""
        return self.mom.mark()

    def journal(self, since=0, **filters):
        return self.mom.journal(since=since, **filters)

    def settle(self, timeout=10):
        """Wait until the bus has tried every delivery (a broken remote's ones end failed)."""
        self.mom.wait_idle(timeout=timeout)

    def close(self):
        """Stop the kit's endpoints (and its own mock), in the background: nothing waits for it."""
        threading.Thread(target=self._shut, daemon=True).start()

    def _shut(self):
        self.wms.stop()
        self.psp.stop()
        self.mdc.close()
        if self.own_mock:
            self.mom.stop()


def registrations(mock):
    """What the bus stored for each remote, its secret shown as a fingerprint (the mock's own record)."""
    stored = {r["id"]: fingerprint(r["secret"]) for r in mock.store.query("SELECT id, secret FROM remotes")}
    remotes = mock.state("remotes")
    if remotes.empty:
        return pd.DataFrame(columns=["id", "url", "subscribes", "secret_fingerprint", "registered_at"])
    remotes["secret_fingerprint"] = remotes["id"].map(stored)
    return remotes[["id", "url", "subscribes", "secret_fingerprint", "registered_at"]]


def launch_plan():
    """What production must look like: the endpoints, their topics and secrets (as fingerprints), and
    OMS's set-up: sources, aggregates with their sources, sales channels with their aggregate."""
    links, channels = data.load("aggregate_sources"), data.load("sales_channels")
    return {
        "remotes": {"mdc": sorted(CONNECTOR_TOPICS), "wms": [REQUEST_SHIPMENT], "psp": PAYMENT_COMMANDS},
        "secret_fingerprints": {remote: fingerprint(secret) for remote, secret in PRODUCTION_SECRETS.items()},
        "sources": list(data.load("sources")["id"]),
        "aggregates": {a: sorted(rows["source_id"]) for a, rows in links.groupby("aggregate_id")},
        "sales_channels": dict(zip(channels["id"], channels["aggregate_id"], strict=True)),
        "websites": dict(WEBSITES),
    }


def new_mock(like):
    """A mock MOM of its own (own database and port), with the same settings as the mock `like`."""
    return Mock(None, like.config).start()


def fresh_kit(like, warehouse=Warehouse, registered=None, prepare=True, **options):
    """A kit on a new mock of its own with the settings of the mock `like`, prepared (`registered`
    overrides the secrets it registers with), for trying things without touching `like`. Call its close()
    when done."""
    kit = Kit(new_mock(like), warehouse=warehouse, own_mock=True, **options)
    return kit.prepare(registered) if prepare else kit


# -- running a test plan ---------------------------------------------------------------------------------
class Run:
    """One scenario's run: every check it made, with its evidence."""

    def __init__(self, scenario):
        self.scenario = scenario
        self.checks = []

    def expect(self, what, passed, evidence=""):
        self.checks.append({"scenario": self.scenario, "check": what, "passed": bool(passed), "evidence": str(evidence)[:400]})
        return bool(passed)

    @property
    def passed(self):
        return bool(self.checks) and all(c["passed"] for c in self.checks)

    def frame(self):
        return pd.DataFrame(self.checks, columns=["scenario", "check", "passed", "evidence"])


def run_scenario(name, scenario, kit, *args):
    """Run one scenario function(kit, run, *args); an exception is a failed check, not a crash."""
    run = Run(name)
    try:
        scenario(kit, run, *args)
    except NotImplementedError:
        run.expect("the scenario ran to the end", False, "not written yet: finish its exercise above")
    except Exception as exc:  # a test plan reports a failure; it does not stop
        run.expect("the scenario ran to the end", False, f"it stopped: {type(exc).__name__}: {exc}")
    if not run.checks:
        run.expect("the scenario checked something", False, "no checks were made")
    return run


def run_plan(plan, kit):
    """Run every scenario of a plan {name: function(kit, run)}; one row per check."""
    runs = [run_scenario(name, scenario, kit) for name, scenario in plan.items()]
    return pd.concat([r.frame() for r in runs], ignore_index=True)


def summary(results):
    """Per scenario: passed or not, and the first failed check."""
    rows = []
    for name, checks in results.groupby("scenario", sort=False):
        failed = checks[~checks["passed"]]
        rows.append({"scenario": name, "passed": failed.empty, "first failure": "" if failed.empty else f"{failed['check'].iloc[0]}: {failed['evidence'].iloc[0]}"})
    return pd.DataFrame(rows)
