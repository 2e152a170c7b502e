"""One running mock MOM: store, bus, deliverer and HTTP server, embedded in a notebook or standalone.

    import momlab
    mom = momlab.start()          # in a notebook: own thread, free port, its own database
    mom.client.call(...)
    mom.journal()                 # every message so far, as a DataFrame
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import time
import weakref
from pathlib import Path

from momlab.bus import seed
from momlab.bus.app import create_app
from momlab.bus.config import Config, default_config
from momlab.bus.delivery import Deliverer
from momlab.bus.dispatch import Bus
from momlab.bus.server import ServerThread
from momlab.bus.store import Store
from momlab.client import MomClient


class Mock:
    def __init__(self, db: str | Path | None, config: Config, host: str = "127.0.0.1", port: int = 0):
        """`db` is the SQLite file to keep the bus's state in; None: a temporary one, removed when the mock stops."""
        self.config = config
        if db is None:
            scratch = tempfile.mkdtemp(prefix="momlab-")
            self._remove_scratch = weakref.finalize(self, shutil.rmtree, scratch, True)  # at stop, or at exit at the latest
            db = Path(scratch) / "mom.sqlite"
        else:
            self._remove_scratch = None
        self.store = Store(db)
        self.store.start_checkpointer()
        seed.seed(self.store)
        self.bus = Bus(self.store, config)
        self.deliverer = Deliverer(self.store, config)
        self.bus.after_commit.append(self.deliverer.wake)
        self._server = ServerThread(create_app(self.bus, self.deliverer), host, port)
        self.client = MomClient(self._server.url, config.client_id, config.client_secret, auth=config.auth)

    def start(self) -> Mock:
        self.deliverer.start()
        self._server.start()
        return self

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def running(self) -> bool:
        return self._server.running

    def stop(self) -> None:
        self._server.stop()
        self.deliverer.stop()
        self.store.close()
        if self._remove_scratch is not None:
            self._remove_scratch()

    def create_sales_channel(self, id: str, name: str, aggregate_id: str) -> dict:
        """Create (or update) a sales channel and its one stock aggregate: the mock's stand-in for OMS
        Admin > System > Stock aggregates and Sales channels (the create / update messages' topic names
        are not public). Also POST /admin/sales_channels. Raises MomError with what to fix."""
        from momlab.bus import sales_channels as admin
        return admin.save_sales_channel(self.store, {"id": id, "name": name, "aggregate_id": aggregate_id})

    @property
    def admin(self):
        """OMS screens and jobs that no bus message drives (sourcing waves, the In-Store Interface),
        as Python calls: see momlab.bus.admin."""
        from momlab.bus.admin import Admin

        return Admin(self)

    def reset(self) -> None:
        """Back to the course's starting state: no messages, remotes or orders; stock from data/."""
        self.wait_idle(timeout=2)
        seed.reset(self.store)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no delivery is waiting to be sent; True when that happened within `timeout`."""
        deadline = time.monotonic() + timeout
        while self.deliverer.pending():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    # -- views as DataFrames, for notebooks -----------------------------------------------------
    def mark(self) -> int:
        """The id of the journal's newest row: `journal(since=mom.mark())` later shows what happened since."""
        from momlab.bus import journal

        return journal.newest_id(self.store)

    def journal(self, **filters):
        """The journal as a DataFrame, oldest first; filter by method, direction, status, remote,
        order_id, route or caused_by (the inbound row an outbound message came from)."""
        import pandas as pd

        from momlab.bus import views

        rows = views.journal(self.store, {k: v for k, v in filters.items() if v is not None})
        columns = ["id", "at", "direction", "route", "method", "remote", "status", "attempts", "error_code", "error", "order_id", "caused_by", "request_id", "body", "response"]
        frame = pd.DataFrame(rows, columns=columns).astype({"caused_by": "Int64", "error_code": "Int64", "attempts": "Int64"})
        return frame.set_index("id")

    def state(self, view: str, **query):
        """A state view (orders, order_lines, shipment_requests, shipments, remotes, source_stock,
        aggregate_stock, sources, aggregates, sales_channels, products, returns, return_lines, refunds)
        as a DataFrame."""
        import pandas as pd

        from momlab.bus import views

        return pd.DataFrame(views.state(self.store, view, query))

    def _repr_html_(self) -> str:
        status = "running" if self.running else "stopped"
        return f"<b>momlab mock MOM</b> {status} at <a href='{self.url}/' target='_blank'>{self.url}</a> (journal page: open the link)"

    def __repr__(self) -> str:
        return f"<momlab mock MOM at {self.url}>"


_current: Mock | None = None


def start(db: str | Path | None = None, fresh: bool = False, **settings) -> Mock:
    """Start a mock MOM on a free port of this machine and return it.

    Running the cell again returns the mock already running (pass fresh=True for a new one). Each
    mock gets its own database in a temporary folder unless `db` names a file. `settings` are
    Config fields, e.g. auth=False or step_delay=0; while nbgrader grades, delays are zero.
    """
    global _current
    if _current is not None and _current.running and not fresh and db is None and (not settings or _current.config == default_config(**settings)):
        return _current  # the same settings as the mock already running: running the cell again is safe
    if _current is not None:
        _current.stop()
    _current = Mock(db, default_config(**settings)).start()
    return _current


@atexit.register
def _stop_on_exit() -> None:
    if _current is not None:
        _current.stop()
