"""How fast, and in how much memory, Shopify CSV exports import (issue #17: 5,000 rows/s or more,
memory flat as the file grows).

Generates orders_export.csv files of 25k, 50k and 100k rows (plus one products_export.csv) in a
temp dir, imports each into a fresh SQLite file and a fresh PostgreSQL database, then imports the
same file again (the idempotent re-run). Each import runs in its own process: the schema and the
products file first, untimed; then the orders file, whose rows/s and peak RSS growth (ru_maxrss
after minus before) are printed, so flatness shows.

    .venv/bin/python bench/import_shopify.py [--sizes 25000,50000,100000] [--postgres URL | --no-postgres]
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.order_sources.cli import ImportFile, import_files  # noqa: E402
from bot.order_sources.shopify_csv import ORDER_COLUMNS, PRODUCT_COLUMNS  # noqa: E402
from bot.store.engine import Store, create_database_if_missing  # noqa: E402

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/tinsel_bench_import"
STYLES, SIZES = 200, ("S", "M", "L")


def write_products(path: Path) -> list[tuple[str, str]]:
    """200 products of 3 sizes each, with an image-only row each; returns (sku, price)."""
    skus = []
    with path.open("w", newline="") as f:
        out = csv.DictWriter(f, PRODUCT_COLUMNS)
        out.writeheader()
        for n in range(STYLES):
            price = f"{10 + n % 90}.00"
            for i, size in enumerate(SIZES):
                first = {"Title": f"Bench Product {n}", "Body (HTML)": f"<p>Product {n}</p>", "Type": "Toys",
                         "Tags": "bench", "Option1 Name": "Size"} if i == 0 else {}
                out.writerow({"Handle": f"bench-{n}", **first, "Option1 Value": size,
                              "Variant SKU": f"B{n}-{size}", "Variant Price": price, "Variant Inventory Qty": "9"})
                skus.append((f"B{n}-{size}", price))
            out.writerow({"Handle": f"bench-{n}", "Image Src": f"https://cdn.example/{n}.jpg"})
    return skus


def order_fields(number: int, rng: random.Random) -> dict:
    """What Shopify writes on an order's first row only."""
    created = f"2026-{1 + number % 12:02d}-{1 + number % 28:02d} 10:{number % 60:02d}:00 -0500"
    return {"Financial Status": "paid", "Fulfillment Status": rng.choice(("fulfilled", "unfulfilled")),
            "Created at": created, "Shipping": "5.99", "Shipping Method": "Standard",
            "Billing Name": f"Shopper {number}"}


def write_orders(path: Path, rows: int, skus: list[tuple[str, str]]) -> None:
    """`rows` line-item rows: orders of 1-4 lines, a customer for every ~5 orders."""
    rng = random.Random(rows)
    with path.open("w", newline="") as f:
        out = csv.DictWriter(f, ORDER_COLUMNS)
        out.writeheader()
        written, number = 0, 10000
        while written < rows:
            number += 1
            email = f"shopper{rng.randrange(max(rows // 12, 1))}@example.com"
            for line in range(min(rng.randint(1, 4), rows - written)):
                sku, price = rng.choice(skus)
                row = {"Name": f"#{number}", "Email": email, "Lineitem quantity": rng.randint(1, 3),
                       "Lineitem name": sku, "Lineitem price": price, "Lineitem sku": sku}
                if line == 0:
                    row.update(order_fields(number, rng))
                out.writerow(row)
                written += 1


def child(url: str, products: str, orders: str) -> None:
    """One import in this process: the schema and the products file first (untimed), then the
    orders file, timed; prints its seconds and the peak RSS growth (KiB) it caused as JSON."""
    store = Store(url)
    import_files(store, [ImportFile("products", Path(products))])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    counts = import_files(store, [ImportFile("orders", Path(orders))])
    seconds = time.perf_counter() - started
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    store.dispose()
    print(json.dumps({"seconds": seconds, "rss_growth_kib": growth, "orders": vars(counts.orders)}))


def run_import(url: str, products: Path, orders: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", url, str(products), str(orders)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def fresh(url: str) -> None:
    create_database_if_missing(url)
    store = Store(url)
    store.drop_schema()
    store.dispose()


def bench(name: str, url: str, products: Path, files: dict[int, Path]) -> None:
    for rows, orders in files.items():
        fresh(url)
        first = run_import(url, products, orders)
        again = run_import(url, products, orders)
        assert again["orders"]["created"] == again["orders"]["updated"] == 0, again
        print(f"{name:10} {rows:>7} rows  first {rows / first['seconds']:>7,.0f} rows/s  "
              f"peak RSS +{first['rss_growth_kib'] / 1024:5.1f} MiB   re-run {rows / again['seconds']:>7,.0f} rows/s  "
              f"peak RSS +{again['rss_growth_kib'] / 1024:5.1f} MiB", flush=True)
    fresh(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="25000,50000,100000")
    parser.add_argument("--postgres", default=POSTGRES_URL)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(*args.child)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        skus = write_products(folder / "products_export.csv")
        files = {}
        for rows in (int(size) for size in args.sizes.split(",")):
            files[rows] = folder / f"orders_export_{rows}.csv"
            write_orders(files[rows], rows, skus)
        bench("sqlite", f"sqlite:///{folder / 'bench.db'}", folder / "products_export.csv", files)
        if not args.no_postgres:
            bench("postgresql", args.postgres, folder / "products_export.csv", files)


if __name__ == "__main__":
    main()
