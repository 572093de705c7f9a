"""Shopify's CSV exports into the store (issue #17), on SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import datetime as dt
import urllib.parse
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

import bot.order_sources.cli as import_cli
from bot.__main__ import main
from bot.order_sources.cli import ImportFile, import_files
from bot.gifting.catalog import product_url
from bot.order_sources.records import RecordError
from bot.orders import lookup as orders
from bot.settings import load_settings
from bot.store.engine import Store
from bot.store.models import Customer, Order, OrderItem, Product, ProductTag

EXPORTS = Path(__file__).parent / "shopify_exports"
PRODUCTS = ImportFile("products", EXPORTS / "products_export.csv")
ORDERS = ImportFile("orders", EXPORTS / "orders_export.csv")
TABLES = (Product, ProductTag, Customer, Order, OrderItem)


def row_counts(store: Store) -> dict[str, int]:
    with store.session() as s:
        return {t.__tablename__: s.execute(select(func.count()).select_from(t)).scalar_one() for t in TABLES}


def edited(tmp_path: Path, file: ImportFile, edit) -> ImportFile:
    """A copy of a fixture export with `edit(rows)` applied to its rows (dicts by header)."""
    with file.path.open(newline="") as f:
        reader = csv.DictReader(f)
        header, rows = reader.fieldnames, list(reader)
    rows = edit(rows) or rows
    path = tmp_path / file.path.name
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return ImportFile(file.kind, path)


def test_products_have_their_variants_and_image_rows_add_none(store):
    counts = import_files(store, [PRODUCTS])
    assert (counts.products.created, counts.products.updated) == (3, 0)
    with store.session() as s:
        by_sku = {p.sku: p for p in s.execute(select(Product)).scalars()}
        small, medium, fox = by_sku["SWEATER-S-RED"], by_sku["SWEATER-M-RED"], by_sku["TOY-FOX"]
        assert set(by_sku) == {"SWEATER-S-RED", "SWEATER-M-RED", "TOY-FOX"}
        assert small.style == medium.style == "fair-isle-sweater"
        assert (small.size, small.color, medium.size, medium.stock) == ("S", "Red", "M", 0)
        assert small.name == medium.name == "Fair Isle Holiday Sweater"
        assert small.description == "A lambswool-blend crew neck\nwith a snowflake yoke & ribbed cuffs."
        assert (small.category, small.price, small.tag_names) == ("apparel", Decimal("68.00"), {"fashion", "winter"})
        assert (fox.size, fox.color, fox.category, fox.stock) == (None, None, "toys", 40)


def test_every_variants_link_opens_its_products_page_on_the_shop(store, settings):
    """Shopify serves a product at /products/<handle> and ignores a query it does not know."""
    import_files(store, [PRODUCTS])
    with store.session() as s:
        links = {p.sku: urllib.parse.urlsplit(product_url(p, settings)) for p in s.execute(select(Product)).scalars()}
    shop = urllib.parse.urlsplit(settings.store_url)
    assert {link.netloc for link in links.values()} == {shop.netloc}
    assert {sku: link.path for sku, link in links.items()} == {
        "SWEATER-S-RED": "/products/fair-isle-sweater", "SWEATER-M-RED": "/products/fair-isle-sweater",
        "TOY-FOX": "/products/fox-plush"}
    assert urllib.parse.parse_qs(links["SWEATER-M-RED"].query) == {"size": ["M"], "color": ["Red"]}
    assert links["TOY-FOX"].query == ""


def _long_handle(rows):
    for row in rows:
        if row["Handle"] == "fox-plush":
            row["Handle"] = "maple-the-fox-" + "extra-soft-" * 25  # 289 characters; Shopify allows 255


@pytest.mark.parametrize("file, edit, line, reason", [
    (PRODUCTS, _long_handle, 5, "style 'maple-the-fox-extra-soft-extra'... is 289 characters long; the store keeps at most 255"),
    (ORDERS, lambda rows: rows[0].update({"Lineitem sku": "S" * 300}), 2, "sku 'SSSSSSSSSSSSSSSSSSSSSSSSSSSSSS'... is 300 characters long"),
])
def test_a_value_too_long_for_the_store_is_the_rows_error_not_a_database_failure(store, tmp_path, file, edit, line, reason):
    if file is ORDERS:
        import_files(store, [PRODUCTS])
    before = row_counts(store)
    with pytest.raises(RecordError) as error:
        import_files(store, [edited(tmp_path, file, edit)])
    assert error.value.origin == f"{file.path.name} line {line}" and reason in error.value.reason
    assert row_counts(store) == before


def test_an_order_of_several_rows_is_one_order_with_its_lines(store):
    import_files(store, [PRODUCTS, ORDERS])
    with store.session() as s:
        order = s.execute(select(Order).where(Order.number == "5301")).scalar_one()
        assert [(i.product.sku, i.quantity, i.unit_price) for i in order.items] == [
            ("SWEATER-S-RED", 1, Decimal("68.00")), ("TOY-FOX", 2, Decimal("24.00"))]
        assert (order.status, order.shipping_method, order.shipping_paid) == ("shipped", "express", Decimal("14.99"))
        assert order.placed_at == dt.datetime(2026, 11, 28, 10, 14, 55)
        assert (order.customer.email, order.customer.name) == ("ann.lee@example.com", "Ann Lee")
        statuses = dict(s.execute(select(Order.number, Order.status)).all())
        assert statuses == {"5301": "shipped", "5302": "processing", "5303": "cancelled"}
        ann = s.execute(select(Customer).where(Customer.email == "ann.lee@example.com")).scalar_one()
        assert [o.number for o in ann.orders] == ["5301", "5303"]  # one customer whatever the email's case
    assert row_counts(store)["customers"] == 2


def test_the_order_name_is_stored_without_its_hash(store):
    import_files(store, [PRODUCTS, ORDERS])
    with store.session() as s:
        numbers = set(s.execute(select(Order.number)).scalars())
    assert numbers == {"5301", "5302", "5303"}


def test_a_shopper_finds_a_shopify_order_by_its_name(store, settings, conversation_id):
    import_files(store, [PRODUCTS, ORDERS])
    with store.session() as s:
        result = orders.verify(s, conversation_id, "#5301", "ann.lee@example.com", settings)
    assert result.outcome == "verified"


def test_importing_again_changes_nothing(store):
    import_files(store, [PRODUCTS, ORDERS])
    before = row_counts(store)
    again = import_files(store, [PRODUCTS, ORDERS])
    for kind in (again.products, again.customers, again.orders):
        assert (kind.created, kind.updated) == (0, 0) and kind.unchanged > 0
    assert row_counts(store) == before


def test_a_changed_row_updates_its_order_and_product(store, tmp_path):
    import_files(store, [PRODUCTS, ORDERS])

    def ship_bobs_order(rows):
        bob = next(r for r in rows if r["Name"] == "#5302")
        bob.update({"Fulfillment Status": "fulfilled", "Lineitem quantity": "3"})

    def reprice_the_fox(rows):
        next(r for r in rows if r["Variant SKU"] == "TOY-FOX")["Variant Price"] = "19.50"

    counts = import_files(store, [edited(tmp_path, PRODUCTS, reprice_the_fox),
                                  edited(tmp_path, ORDERS, ship_bobs_order)])
    assert (counts.products.updated, counts.products.unchanged) == (1, 2)
    assert (counts.orders.updated, counts.orders.unchanged) == (1, 2)
    with store.session() as s:
        order = s.execute(select(Order).where(Order.number == "5302")).scalar_one()
        assert (order.status, [i.quantity for i in order.items]) == ("shipped", [3])
        assert s.execute(select(Product.price).where(Product.sku == "TOY-FOX")).scalar_one() == Decimal("19.50")


def _bad_price(rows):
    rows[1]["Lineitem price"] = "12,5O"


def _unknown_date(rows):
    rows[2]["Created at"] = "02/12/2026 18:02"


def _no_email(rows):
    rows[3]["Email"] = ""


def _unknown_sku(rows):
    rows[1]["Lineitem sku"] = "NOT-SOLD-HERE"


@pytest.mark.parametrize("edit, line, reason", [
    (_bad_price, 3, "Lineitem price '12,5O' is not a price"),
    (_unknown_date, 4, "Created at '02/12/2026 18:02' is not a date"),
    (_no_email, 5, "Email is empty"),
    (_unknown_sku, 3, "SKU 'NOT-SOLD-HERE' is neither in the products file nor in the store"),
])
def test_a_bad_row_names_its_line_and_reason_and_nothing_is_written(store, tmp_path, edit, line, reason):
    import_files(store, [PRODUCTS])
    before = row_counts(store)
    with pytest.raises(RecordError) as error:
        import_files(store, [edited(tmp_path, ORDERS, edit)])
    assert error.value.origin == f"orders_export.csv line {line}"
    assert reason in error.value.reason
    assert row_counts(store) == before


def test_a_bad_row_after_many_good_orders_leaves_the_database_unchanged(store, tmp_path):
    """Past the first batches (500 orders each), already flushed, everything still rolls back."""
    import_files(store, [PRODUCTS, ORDERS])
    before = row_counts(store)

    def many_then_bad(rows):
        template = rows[2]  # Bob's one-line order
        good = [{**template, "Name": f"#{60000 + n}"} for n in range(1200)]
        return rows + good + [{**template, "Name": "#69999", "Lineitem quantity": "two"}]

    with pytest.raises(RecordError) as error:
        import_files(store, [edited(tmp_path, ORDERS, many_then_bad)])
    assert error.value.origin == f"orders_export.csv line {4 + 1200 + 2}"
    assert "Lineitem quantity 'two' is not a whole number" in error.value.reason
    assert row_counts(store) == before


def test_a_line_number_is_the_files_own_line_even_after_a_multi_line_description(store, tmp_path):
    def multi_line_body_then_bad_price(rows):
        rows[0]["Body (HTML)"] = "<p>Line one</p>\n<p>Line two</p>\n<p>Line three</p>"
        rows[3]["Variant Price"] = "free"

    with pytest.raises(RecordError) as error:
        import_files(store, [edited(tmp_path, PRODUCTS, multi_line_body_then_bad_price)])
    assert error.value.origin == "products_export.csv line 7"  # rows 2 (3 lines), 5, 6, 7
    assert row_counts(store)["products"] == 0


def test_a_dry_run_counts_the_changes_and_writes_nothing(store):
    counts = import_files(store, [PRODUCTS, ORDERS], dry_run=True)
    assert (counts.products.created, counts.customers.created, counts.orders.created) == (3, 2, 3)
    assert set(row_counts(store).values()) == {0}


def test_a_fresh_database_gets_its_schema(database_url):
    fresh = Store(database_url)
    fresh.drop_schema()
    try:
        counts = import_files(fresh, [PRODUCTS, ORDERS])
        assert counts.orders.created == 3
        assert row_counts(fresh)["orders"] == 3
    finally:
        fresh.drop_schema()
        fresh.dispose()


@pytest.fixture
def cli_database(tmp_path, monkeypatch) -> str:
    """The CLI's settings name a temp SQLite file; the developer's .env is never read."""
    url = f"sqlite:///{tmp_path / 'imported.db'}"
    monkeypatch.setattr(import_cli, "get_settings", lambda: load_settings({"DATABASE_URL": url}))
    return url


def test_the_command_imports_into_a_fresh_database_then_changes_nothing(cli_database, capsys):
    args = ["import", "shopify", "--products", str(PRODUCTS.path), "--orders", str(ORDERS.path), "--quiet"]
    assert main(args) == 0
    assert "orders: 3 created, 0 updated, 0 unchanged" in capsys.readouterr().out
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "products: 0 created, 0 updated, 3 unchanged" in out
    assert "orders: 0 created, 0 updated, 3 unchanged" in out
    assert row_counts(Store(cli_database))["order_items"] == 4


def test_the_command_reports_a_bad_row_and_a_dry_run(cli_database, tmp_path, capsys):
    bad = edited(tmp_path, ORDERS, _unknown_date)
    assert main(["import", "shopify", "--products", str(PRODUCTS.path), "--orders", str(bad.path), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "orders_export.csv line 4: Created at '02/12/2026 18:02' is not a date" in err
    assert (row_counts(Store(cli_database))["products"], row_counts(Store(cli_database))["orders"]) == (3, 0)
    assert main(["import", "shopify", "--orders", str(ORDERS.path), "--dry-run", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "Dry run, nothing written" in out and "orders: 3 created" in out
    assert row_counts(Store(cli_database))["orders"] == 0
