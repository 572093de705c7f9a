"""The demo store is Shopify exports plus a side file, imported like a real store's (issue #17).

tests/bot/test_seed.py checks the demo's story on many store dates; this file checks the way in:
the side file's entries and errors, the date move, idempotency, and a cancelled order's refund.
"""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from bot.__main__ import main
import bot.order_sources.cli as import_cli
from bot.order_sources.cli import ImportFile, import_files
from bot.order_sources.date_shift import latest_season
from bot.order_sources.demo import DEMO_EXTRAS, DEMO_ORDERS_FILE, DEMO_PRODUCTS, build_demo_store
from bot.order_sources.extras import read_extras
from bot.order_sources.records import RecordError
from bot.settings import load_settings
from bot.store.engine import Store
from bot.store.models import AuditEntry, Customer, Order, Product, Refund, Return, Shipment, ShipmentEvent

FILES = [ImportFile("products", DEMO_PRODUCTS), ImportFile("orders", DEMO_ORDERS_FILE)]
TABLES = (Product, Customer, Order, Shipment, ShipmentEvent, Return, Refund, AuditEntry)
SIDE_FILE = yaml.safe_load(DEMO_EXTRAS.read_text())


def _counts(store: Store) -> dict[str, int]:
    with store.reading() as s:
        return {t.__tablename__: s.execute(select(func.count()).select_from(t)).scalar_one() for t in TABLES}


def _side_file(tmp_path: Path, edit) -> Path:
    data = yaml.safe_load(DEMO_EXTRAS.read_text())
    edit(data)
    path = tmp_path / "extras.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_importing_the_demo_again_changes_nothing(store, settings):
    build_demo_store(store, settings)
    before = _counts(store)
    again = import_files(store, FILES, extras=DEMO_EXTRAS, settings=settings)
    for kind in (again.products, again.customers, again.orders, again.extras):
        assert (kind.created, kind.updated) == (0, 0) and kind.unchanged > 0
    assert _counts(store) == before


def test_every_side_file_entry_lands(store, settings):
    build_demo_store(store, settings)
    with store.reading() as s:
        orders = {o.number: o for o in s.execute(select(Order)).scalars()}
        for number, details in SIDE_FILE["orders"].items():
            order = orders[number]
            assert order.is_gift == bool(details.get("gift"))
            parcel = details.get("parcel")
            assert (order.shipment is None) == (parcel is None)
            if parcel:
                assert (order.shipment.carrier, order.shipment.tracking_number, order.shipment.status) == \
                       (parcel["carrier"], parcel["tracking_number"], parcel["status"])
                assert [e.description for e in order.shipment.events] == [scan[3] for scan in parcel["scans"]]
        for email, details in SIDE_FILE["customers"].items():
            customer = s.execute(select(Customer).where(Customer.email == email)).scalar_one()
            assert customer.loyalty_points == details["loyalty_points"]


def test_dates_move_to_today_by_whole_days_keeping_the_time_of_day(store, settings):
    recorded_on = read_extras(DEMO_EXTRAS).recorded_on
    later = dataclasses.replace(settings, today_override=recorded_on + dt.timedelta(days=100))
    build_demo_store(store, later)
    parcel = SIDE_FILE["orders"]["104770"]["parcel"]
    recorded_first_scan = dt.datetime.strptime(parcel["scans"][0][0], "%Y-%m-%d %H:%M")
    with store.reading() as s:
        out_today = s.execute(select(Order).where(Order.number == "104770")).scalar_one()
        assert out_today.shipment.eta == later.today()
        assert out_today.shipment.events[0].at == recorded_first_scan + dt.timedelta(days=100)


@pytest.mark.parametrize("today", [dt.date(2026, 11, 11), dt.date(2026, 11, 13), dt.date(2026, 12, 1),
                                   dt.date(2027, 1, 2), dt.date(2027, 7, 4)])
def test_a_season_purchase_lands_in_the_latest_season_and_has_arrived(store, settings, today):
    build_demo_store(store, dataclasses.replace(settings, today_override=today))
    start, end = latest_season(today, settings)
    season_orders = [n for n, d in SIDE_FILE["orders"].items() if d.get("season")]
    assert season_orders
    with store.reading() as s:
        for number in season_orders:
            order = s.execute(select(Order).where(Order.number == number)).scalar_one()
            assert start <= order.placed_at.date() <= end
            assert order.shipment.delivered_at.date() <= today - dt.timedelta(days=2)


def _unknown_handle(data):
    data["products"]["no-such-product"] = {"ages": [1, 2]}


def _unknown_email(data):
    data["customers"]["nobody@example.com"] = {"loyalty_points": 5}


def _unknown_order(data):
    data["orders"]["999999"] = {"gift": True}


def _bad_scan(data):
    data["orders"]["104770"]["parcel"]["scans"][1][1] = "teleported"


def _bad_time(data):
    data["orders"]["104770"]["parcel"]["scans"][0][0] = "yesterday"


@pytest.mark.parametrize("edit, where, reason", [
    (_unknown_handle, "products.no-such-product", "no product with Handle"),
    (_unknown_email, "customers.nobody@example.com", "no customer with that email"),
    (_unknown_order, "orders.999999", "no order with that Name"),
    (_bad_scan, "orders.104770.parcel.scans[1]", "'teleported' is not one of"),
    (_bad_time, "orders.104770.parcel.scans[0]", "expected a time"),
])
def test_a_bad_side_file_entry_is_named_and_nothing_of_it_is_written(store, settings, tmp_path, edit, where,
                                                                      reason):
    extras = _side_file(tmp_path, edit)
    with pytest.raises(RecordError) as error:
        import_files(store, FILES, extras=extras, settings=settings)
    assert error.value.origin == f"extras.yml {where}" and reason in error.value.reason
    with store.reading() as s:
        assert s.execute(select(func.count(Shipment.id))).scalar_one() == 0
        assert not any(s.execute(select(Order.is_gift)).scalars())


def test_a_side_file_that_is_not_yaml_is_refused(store, settings, tmp_path):
    path = tmp_path / "extras.yml"
    path.write_text("orders: [unclosed")
    with pytest.raises(RecordError, match="not readable as YAML"):
        import_files(store, FILES, extras=path, settings=settings)


def test_a_cancelled_orders_refund_from_the_export_is_issued_once(store, settings):
    build_demo_store(store, settings)
    import_files(store, FILES, extras=DEMO_EXTRAS, settings=settings)
    with store.reading() as s:
        cancelled = s.execute(select(Order).where(Order.status == "cancelled")).scalars().all()
        assert len(cancelled) >= 3
        for order in cancelled:
            assert [(r.amount, r.status, r.reason) for r in order.refunds] == \
                   [(order.total_paid, "issued", "order_cancelled")]
            audited = s.execute(select(AuditEntry).where(AuditEntry.refund_id == order.refunds[0].id)).scalars()
            assert [a.action for a in audited] == ["order_cancelled"]


def test_the_import_command_builds_the_demo_store_from_its_files(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    monkeypatch.setattr(import_cli, "get_settings", lambda: load_settings({"DATABASE_URL": url}))
    args = ["import", "shopify", "--products", str(DEMO_PRODUCTS), "--orders", str(DEMO_ORDERS_FILE),
            "--extras", str(DEMO_EXTRAS), "--quiet"]
    assert main(args) == 0
    out = capsys.readouterr().out
    with DEMO_ORDERS_FILE.open(newline="") as rows:
        names = {row["Name"] for row in csv.DictReader(rows)}
    assert f"orders: {len(names)} created" in out and "side-file entries:" in out
    demo = Store(url)
    try:
        with demo.reading() as s:
            assert s.execute(select(func.count(Shipment.id))).scalar_one() > 40
            returned = [n for n, d in SIDE_FILE["orders"].items() if "return" in d]
            assert s.execute(select(func.count(Return.id))).scalar_one() == len(returned) > 0
    finally:
        demo.dispose()
