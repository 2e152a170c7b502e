"""Write data/catalog_full.csv: the store's whole catalog for the full catalog export (labs 06, 08).

It is data/products.csv (the course's 22 products, shipping methods included) followed by generated
products up to 12,000 rows, so that an export goes out in three chunks of at most 5,000. Seeded:
running it again writes the same file.

    .venv/bin/python tools/make_catalog.py
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOTAL = 12_000

ITEMS = [("SHIRT", "Linen shirt"), ("TEE", "Cotton tee"), ("JACKET", "Rain jacket"), ("SCARF", "Wool scarf"), ("BOOT", "Leather boot"),
         ("BELT", "Canvas belt"), ("PLATE", "Stoneware plate"), ("BOWL", "Ceramic bowl"), ("CHAIR", "Oak chair"), ("RUG", "Jute rug"),
         ("LAMP", "Brass lamp"), ("VASE", "Glass vase"), ("KNIFE", "Chef knife"), ("PAN", "Iron pan"), ("TENT", "Trail tent")]
COLOURS = ["Black", "White", "Navy", "Olive", "Rust", "Sand", "Slate", "Teal"]


def main() -> None:
    rng = random.Random(6_2026)
    with (ROOT / "data" / "products.csv").open(newline="", encoding="utf-8") as handle:
        rows = [{k: r[k] for k in ("sku", "name", "type", "price")} for r in csv.DictReader(handle)]
    n = 0
    while len(rows) < TOTAL:
        n += 1
        code, item = ITEMS[n % len(ITEMS)]
        colour = COLOURS[(n // len(ITEMS)) % len(COLOURS)]
        rows.append({"sku": f"{code}-{n:05d}", "name": f"{colour} {item.lower()}", "type": "PHYSICAL",
                     "price": f"{rng.randrange(500, 25000) / 100:.2f}"})
    with (ROOT / "data" / "catalog_full.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["sku", "name", "type", "price"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} products")


if __name__ == "__main__":
    main()
