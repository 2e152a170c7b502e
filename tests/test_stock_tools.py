"""momlab.stock: the warehouse exports of lab 04 (deterministic, shaped like the course files), and what
the mock does with snapshots built from them in each mode.

The lab's answers (the DELTA, the NONZERO rows, batches, the prediction of a mode) are the exercises':
they live in the solution notebook, not in the package. The small helpers below are this test's own,
written only to drive the mock; they are not shipped."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from momlab import data, stock
from momlab.topics import STOCK_UPDATE

MODES = ("DELTA", "FULL", "NONZERO")


def tidy(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[stock.COLUMNS].astype({"sku": str, "unlimited": bool})
    out["quantity"] = pd.to_numeric(out["quantity"]).round().astype("int64")
    return out.sort_values("sku", kind="stable").reset_index(drop=True)


def delta(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    both = before.merge(after, on="sku", how="outer", suffixes=("_old", ""), indicator=True)
    gone = both["_merge"] == "left_only"
    changed = (both["_merge"] == "right_only") | (both["quantity_old"] != both["quantity"]) | (both["unlimited_old"] != both["unlimited"])
    both.loc[gone, ["quantity", "unlimited"]] = [0, False]
    return tidy(both[gone | changed])


def messages(source_id: str, mode: str, frame: pd.DataFrame, size: int, process_id: str = "run") -> list[dict]:
    entries = [{"sku": s, "quantity": int(q), **({"unlimited": True} if u else {})}
               for s, q, u in zip(frame["sku"], frame["quantity"], frame["unlimited"], strict=True)]
    chunks = [entries[i : i + size] for i in range(0, len(entries), size)]
    out = []
    for number, chunk in enumerate(chunks, start=1):
        snapshot = {"source_id": source_id, "mode": mode, "created_on": "2026-11-27T06:00:00+00:00", "stock": chunk}
        if len(chunks) > 1:
            snapshot["batch"] = {"process_id": process_id, "process_number": number, "process_total": len(chunks)}
        out.append({"snapshot": snapshot})
    return out


def held(mock, source_id: str) -> pd.DataFrame:
    return tidy(pd.DataFrame(mock.client.state("source_stock", source_id=source_id)))


def test_export_is_deterministic_and_shaped():
    one, two = stock.warehouse_export(3000, seed=9), stock.warehouse_export(3000, seed=9)
    pd.testing.assert_frame_equal(one, two)
    assert list(one.columns) == stock.COLUMNS and one["sku"].is_unique and len(one) == 3000
    assert one["quantity"].dtype == np.int64 and one["unlimited"].dtype == bool
    assert not stock.warehouse_export(3000, seed=10).equals(one)


def test_a_later_export_changes_a_little():
    before = stock.warehouse_export(20_000, seed=9)
    after = stock.warehouse_export(20_000, seed=9, moment=1)
    assert after["sku"].is_unique
    gone = set(before["sku"]) - set(after["sku"])
    new = set(after["sku"]) - set(before["sku"])
    assert 40 < len(gone) < 200 and len(new) == 200
    kept = before.merge(after, on="sku", suffixes=("_old", ""))
    changed = (kept["quantity_old"] != kept["quantity"]).sum()
    assert 0.03 * len(kept) < changed < 0.07 * len(kept)
    assert (kept.loc[kept["unlimited"], "quantity"] == kept.loc[kept["unlimited"], "quantity_old"]).all()  # unlimited SKUs do not change


def test_course_files_are_the_generated_exports():
    for moment, name in ((0, "wh_west_stock_0600"), (1, "wh_west_stock_1800")):
        pd.testing.assert_frame_equal(tidy(data.load(name)), tidy(stock.warehouse_export(40_000, seed=404, moment=moment)))
    assert data.path("wh_west_stock_0600.csv").stat().st_size < 2_000_000


@pytest.mark.parametrize("mode", MODES)
def test_the_mock_applies_each_mode(mock, mode):
    """FULL keeps what it leaves out, with one warning each; NONZERO zeroes it, except unlimited SKUs,
    once the whole batch is in; DELTA touches only what it lists."""
    source = "STORE-BCN"
    first = stock.warehouse_export(1200, seed=21, prefix="BCN")
    for message in messages(source, "FULL", first, size=500):
        mock.client.call(STOCK_UPDATE, message)
    current = held(mock, source)
    later = stock.warehouse_export(1200, seed=21, prefix="BCN", moment=1)
    sent = {"DELTA": delta(first, later), "FULL": tidy(later), "NONZERO": tidy(later[(later["quantity"] > 0) | later["unlimited"]])}[mode]
    left_out = current[~current["sku"].isin(sent["sku"])]
    omitted = [] if mode == "DELTA" else sorted(left_out.loc[~left_out["unlimited"], "sku"])
    kept = left_out.copy()
    if mode == "NONZERO":
        kept.loc[~kept["unlimited"], "quantity"] = 0
    predicted = tidy(pd.concat([kept, sent], ignore_index=True))

    parts = messages(source, mode, sent, size=400)
    answers = []
    for number, message in enumerate(parts, start=1):
        answers.append(mock.client.call(STOCK_UPDATE, message))
        if number < len(parts) and mode == "NONZERO":
            pd.testing.assert_frame_equal(held(mock, source).set_index("sku").loc[omitted], current.set_index("sku").loc[omitted])  # not before the last part
    pd.testing.assert_frame_equal(held(mock, source), predicted)
    if len(parts) > 1:
        assert [a["batch_complete"] for a in answers] == [False] * (len(parts) - 1) + [True]
    if mode == "FULL":
        assert sum(a["warning_count"] for a in answers) == len(omitted) > 0
    if mode == "NONZERO":
        assert answers[-1]["zeroed"] == len(omitted) > 0
    if mode == "DELTA":
        assert len(sent) < len(later) / 5 and all(a["warning_count"] == 0 and a["zeroed"] == 0 for a in answers)
