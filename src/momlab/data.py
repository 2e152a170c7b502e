"""The course's data sets, wherever a notebook runs.

A notebook may run in notebooks/, in nbgrader's autograded/<student>/<lab>/ or in a JupyterHub
home, so it never opens data by a relative path: it asks this module. An installed wheel carries
the repository's data/ as momlab/data; an editable install reads data/ beside src/.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path


@cache
def folder() -> Path:
    packaged = Path(str(resources.files("momlab"))) / "data"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "data"
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError("momlab's data folder is missing: reinstall the package (make lab does it).")


def path(name: str) -> Path:
    """The file `name` in the data folder (e.g. 'products.csv'); a clear error when there is none."""
    candidate = (folder() / name).resolve()
    if folder().resolve() not in candidate.parents:
        raise ValueError(f"{name!r} is outside momlab's data folder.")
    if not candidate.exists():
        known = ", ".join(sorted(p.name for p in folder().iterdir()))
        raise FileNotFoundError(f"No data file {name!r}. Available: {known}.")
    return candidate


def load(name: str):
    """A CSV file as a pandas DataFrame, a JSON file as Python data. `name` may omit '.csv'."""
    if "." not in name:
        name += ".csv"
    target = path(name)
    if target.suffix == ".json":
        return json.loads(target.read_text(encoding="utf-8"))
    import pandas as pd  # imported late: starting the mock must not pay for pandas

    return pd.read_csv(target, dtype={"sku": str, "id": str, "source_id": str})


def rows(name: str) -> list[dict]:
    """A CSV file as a list of dicts with text values, without pandas (used to seed the mock)."""
    import csv

    with path(name if name.endswith(".csv") else name + ".csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))
