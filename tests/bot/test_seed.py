from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import Counter
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

import bot.order_sources.demo
from bot.__main__ import main
from bot.returns.eligibility import holiday_deadline, item_eligibility, return_deadline
from bot.order_sources.demo import build_demo_store, demo_orders, demo_orders_markdown, seed_command
from bot.store.engine import Store
from bot.store.models import (
    IN_TRANSIT,
    ORDER_STATUSES,
    AgentAccount,
    AuditEntry,
    Customer,
    Order,
    OrderItem,
    Product,
    Refund,
    ReturnItem,
    Shipment,
)
from bot.support import accounts as agents

# Store dates the demo must make sense on: the off season, the season's first days (so the
# previous season supplies the holiday purchases), mid-season, Christmas week, January.
STORE_DATES = [
    dt.date(2026, 6, 15),
    dt.date(2026, 11, 5),
    dt.date(2026, 11, 20),
    dt.date(2026, 12, 23),
    dt.date(2027, 1, 20),
    dt.date(2028, 3, 1),
]


def _on(settings, day: dt.date):
    return dataclasses.replace(settings, today_override=day)


def _orders(s) -> list[Order]:
    return list(
        s.execute(
            select(Order)
            .options(selectinload(Order.items).selectinload(OrderItem.product),
                     selectinload(Order.shipment).selectinload(Shipment.events),
                     selectinload(Order.customer))
            .order_by(Order.number)
        ).scalars()
    )


def _delivered_on(order: Order) -> dt.date:
    return order.shipment.delivered_at.date()


def _snapshot(store: Store) -> dict:
    with store.session() as s:
        return {
            "products": [
                (p.sku, p.style, p.name, p.category, p.price, p.stock, p.slug, p.final_sale,
                 sorted(p.tag_names), sorted(c.sku for c in p.complements))
                for p in s.execute(select(Product).order_by(Product.sku)).scalars()
            ],
            "customers": [
                (c.email, c.name, c.birthday, c.loyalty_points, c.created_at)
                for c in s.execute(select(Customer).order_by(Customer.email)).scalars()
            ],
            "orders": [
                (o.number, o.customer.email, o.status, o.placed_at, o.total_paid, o.is_gift,
                 [(i.product.sku, i.quantity, i.unit_price) for i in o.items],
                 o.shipment and (o.shipment.carrier, o.shipment.tracking_number, o.shipment.eta,
                                 [(e.at, e.status, e.location, e.description) for e in o.shipment.events]),
                 [(r.amount, r.status, r.required_level) for r in o.refunds])
                for o in _orders(s)
            ],
        }


# ------------------------------------------------------------------------------ catalog


def test_catalog_is_big_and_varied_enough_to_shop_from(store, settings):
    build_demo_store(store, settings)
    with store.session() as s:
        products = s.execute(select(Product)).scalars().all()
        categories = Counter(p.category for p in products)
        assert len(products) >= 44
        assert len(categories) >= 9 and min(categories.values()) >= 3
        assert len({p.slug for p in products}) == len(products)
        # a link's path is its product's handle; a variant adds its options as a query
        assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", urlsplit(p.slug).path) for p in products)
        assert all(p.price > 0 and p.price == p.price.quantize(Decimal("0.01")) for p in products)
        assert all(p.tags and p.description and 0 <= p.min_age <= p.max_age for p in products)
        tags = {t for p in products for t in p.tag_names}
        assert {"art", "reading", "football", "cooking", "gaming", "music", "science", "outdoors",
                "fashion", "coffee", "tea", "pets", "baking"} <= tags
        assert any(p.max_age <= 12 for p in products) and any(p.min_age >= 18 for p in products)


def test_prices_reach_past_both_refund_limits(store, settings):
    build_demo_store(store, settings)
    with store.session() as s:
        prices = [p.price for p in s.execute(select(Product)).scalars()]
        assert any(price > settings.agent_refund_limit for price in prices)
        assert sum(price > settings.bot_refund_limit for price in prices) >= 5


def test_apparel_comes_in_variants_some_sold_out(store, settings):
    build_demo_store(store, settings)
    with store.session() as s:
        apparel = s.execute(select(Product).where(Product.category == "apparel")).scalars().all()
        styles = Counter(p.style for p in apparel)
        multi = [style for style, n in styles.items() if n >= 2]
        assert len(multi) >= 3
        sold_out = [p for p in apparel if p.stock == 0]
        assert len({p.style for p in sold_out}) >= 2
        for p in sold_out:
            assert any(o.stock > 0 for o in apparel if o.style == p.style and o.id != p.id)
        assert all(p.size or p.color for p in apparel)


def test_final_sale_consumables_and_complements_exist(store, settings):
    build_demo_store(store, settings)
    with store.session() as s:
        products = {p.sku: p for p in s.execute(select(Product)).scalars()}
        assert sum(p.final_sale for p in products.values()) >= 3
        beauty = [p for p in products.values() if p.category == "beauty & bath"]
        assert sum(p.replenish_days is not None and p.replenish_days > 0 for p in beauty) >= 3
        assert "ART-SKETCH" in {c.sku for c in products["ART-WATERCOLOR"].complements}
        assert "ART-WATERCOLOR" in {c.sku for c in products["ART-SKETCH"].complements}
        assert "FOO-BEANS" in {c.sku for c in products["KIT-GRINDER"].complements}
        assert "KIT-GRINDER" in {c.sku for c in products["FOO-BEANS"].complements}
        assert all(c.id != p.id for p in products.values() for c in p.complements)


# ---------------------------------------------------------------------------- customers


def test_customers_have_realistic_identities_and_upcoming_birthdays(store, settings):
    build_demo_store(store, settings)
    today = settings.today()
    with store.session() as s:
        customers = s.execute(select(Customer)).scalars().all()
        assert len(customers) == 25
        assert len({c.email for c in customers}) == 25
        for c in customers:
            first, last = c.name.lower().replace("'", "").split(" ", 1)
            assert c.email == f"{first}.{last}@example.com"
            assert c.birthday and c.loyalty_points >= 0
            assert c.created_at <= min(o.placed_at for o in c.orders)

        def days_to_birthday(c):
            day = 28 if (c.birthday.month, c.birthday.day) == (2, 29) else c.birthday.day
            upcoming = dt.date(today.year, c.birthday.month, day)
            if upcoming < today:
                upcoming = dt.date(today.year + 1, c.birthday.month, day)
            return (upcoming - today).days

        assert sum(days_to_birthday(c) <= 35 for c in customers) >= 3
        order_counts = Counter(len(c.orders) for c in customers)
        assert order_counts[1] >= 5 and sum(n for k, n in order_counts.items() if k >= 3) >= 5
        assert order_counts[0] == 0


# ------------------------------------------------------------------------------- orders


def test_orders_cover_every_status_several_times(store, settings):
    build_demo_store(store, settings)
    with store.session() as s:
        orders = _orders(s)
        assert len(orders) == 60
        assert len({o.number for o in orders}) == 60
        assert all(re.fullmatch(r"[1-9]\d{5}", o.number) for o in orders)
        statuses = Counter(o.status for o in orders)
        assert set(statuses) == set(ORDER_STATUSES)
        assert min(statuses.values()) >= 3
        assert all(o.total_paid > 0 and o.items for o in orders)
        assert all(i.unit_price > 0 and i.quantity >= 1 for o in orders for i in o.items)
        assert sum(len(o.items) >= 2 for o in orders) >= 10
        assert any(i.quantity >= 2 for o in orders for i in o.items)
        assert sum(o.is_gift for o in orders) >= 5
        assert {o.shipping_method for o in orders} == {"standard", "express", "overnight"}
        assert any(o.shipping_paid == 0 for o in orders) and any(o.shipping_paid > 0 for o in orders)
        assert any(i.unit_price < i.product.price for o in orders for i in o.items), "a sale-price purchase"


def _check_the_story_holds(store, settings):
    """Everything the demo promises, on the store's date in `settings`."""
    today, now = settings.today(), settings.now()
    with store.session() as s:
        orders = _orders(s)
        for o in orders:
            assert o.placed_at <= now, o.number
            sh = o.shipment
            if o.status == "cancelled":
                assert sh is None
                continue
            if o.status == "processing":
                assert sh is None or ([e.status for e in sh.events] == ["label_created"]
                                      and sh.shipped_at is None), o.number
                continue
            assert sh is not None and sh.status == o.status, o.number
            assert sh.carrier in ("UPS", "FedEx", "USPS", "DHL") and sh.tracking_number
            times = [e.at for e in sh.events]
            assert times == sorted(times) and times[0] > o.placed_at and times[-1] <= now, o.number
            kinds = [e.status for e in sh.events]
            assert kinds[:2] == ["label_created", "picked_up"] and sh.shipped_at == sh.events[1].at
            assert any(e.status == "in_transit" and e.location for e in sh.events)
            if o.status in IN_TRANSIT:
                assert sh.delivered_at is None and "delivered" not in kinds
            if o.status == "shipped":
                assert sh.eta > today and kinds[-1] == "in_transit"
            if o.status == "out_for_delivery":
                assert sh.eta == today and kinds[-1] == "out_for_delivery"
                assert sh.events[-1].at.date() == today
            if o.status == "delayed":
                assert sh.eta > today and kinds[-1] == "delayed" and kinds.count("delayed") == 1
                assert re.search(r"weather|storm|volume|vehicle|connection", sh.events[-1].description, re.I)
            if o.status in ("delivered", "returned"):
                assert "delivered" in kinds and sh.delivered_at == sh.events[kinds.index("delivered")].at
                assert sh.delivered_at.date() < today
            if o.status == "returned":
                assert kinds[-1] == "returned"

        delivered = [o for o in orders if o.status == "delivered"]
        window = dt.timedelta(days=settings.standard_return_days)
        in_window = [o for o in delivered if today <= _delivered_on(o) + window]
        assert len(in_window) >= 5
        assert any(i.product.final_sale for o in in_window for i in o.items)
        assert any(o.total_paid > settings.bot_refund_limit for o in in_window)
        assert any(o.total_paid > settings.agent_refund_limit for o in in_window)
        holiday = [o for o in delivered if holiday_deadline(o.placed_at.date(), settings)]
        assert len(holiday) >= 3
        assert any(today > return_deadline(o, _delivered_on(o), settings) for o in delivered), "one too old"
        assert any(today > _delivered_on(o) + window for o in delivered)


def test_order_history_is_consistent_on_the_default_date(store, settings):
    settings = _on(settings, settings.today())  # at noon: today's scans are all in the past
    build_demo_store(store, settings)
    _check_the_story_holds(store, settings)


@pytest.mark.parametrize("store_date", STORE_DATES, ids=str)
def test_order_history_is_consistent_whatever_the_store_date(store, settings, store_date):
    settings = _on(settings, store_date)
    build_demo_store(store, settings)
    _check_the_story_holds(store, settings)


def test_returned_and_cancelled_orders_show_their_refunds(store, settings):
    build_demo_store(store, settings)
    with store.session() as s:
        for o in _orders(s):
            if o.status == "cancelled":
                assert [(r.amount, r.status) for r in o.refunds] == [(o.total_paid, "issued")]
            elif o.status == "returned":
                assert [(r.amount, r.status) for r in o.refunds] == [(o.items_total, "issued")]
                returned = s.execute(
                    select(ReturnItem).where(ReturnItem.order_item_id.in_([i.id for i in o.items]))
                ).scalars().all()
                assert sorted(r.quantity for r in returned) == sorted(i.quantity for i in o.items)
            else:
                assert o.refunds == []
        refunds = s.execute(select(func.count(Refund.id))).scalar_one()
        audited = s.execute(
            select(func.count(func.distinct(AuditEntry.refund_id))).where(AuditEntry.refund_id.is_not(None))
        ).scalar_one()
        undone = s.execute(
            select(func.count(Order.id)).where(Order.status.in_(("cancelled", "returned")))
        ).scalar_one()
        assert refunds == audited == undone


# ---------------------------------------------------------------------------- demo table


def test_demo_orders_exist_with_their_email_and_status(store, settings):
    build_demo_store(store, settings)
    worth_trying = demo_orders()
    assert 8 <= len(worth_trying) <= 12
    with store.session() as s:
        shown, emails = set(), []
        for number, _what in worth_trying:
            order = s.execute(select(Order).where(Order.number == number)).scalar_one()
            emails.append(order.customer.email)
            shown.add(order.status)
    assert shown == set(ORDER_STATUSES)
    table = demo_orders_markdown(store).splitlines()
    assert table[0] == "| Order | Email | Status | Try |"
    assert len(table) == 2 + len(worth_trying)
    for (number, what), email, row in zip(worth_trying, emails, table[2:]):
        assert row.startswith(f"| {number} | {email} | ") and row.endswith(f"| {what} |")
    assert "(missing)" not in "\n".join(table)


def test_demo_orders_show_what_their_description_promises(store, settings):
    build_demo_store(store, settings)
    today = settings.today()
    with store.session() as s:
        def order(number):
            return s.execute(select(Order).where(Order.number == number)).scalar_one()

        mixed = {e.name: e for e in item_eligibility(s, order("104719"), settings)}
        assert mixed["Fair Isle Holiday Sweater"].eligible
        assert mixed["Cozy Cabin Socks (3 pairs)"].reason == "final_sale"
        sweater_m = s.execute(select(Product).where(Product.sku == "APP-SWEATER-M")).scalar_one()
        assert sweater_m.stock == 0

        assert settings.bot_refund_limit < order("104701").total_paid <= settings.agent_refund_limit
        assert order("104725").total_paid > settings.agent_refund_limit
        for number in ("104701", "104725"):
            assert all(e.eligible for e in item_eligibility(s, order(number), settings))

        assert holiday_deadline(order("104385").placed_at.date(), settings) is not None
        assert {e.reason for e in item_eligibility(s, order("102418"), settings)} == {"window_closed"}
        assert "storm" in order("104731").shipment.events[-1].description
        assert order("104770").shipment.eta == today
        assert order("104802").shipment is None


def test_same_rows_every_build_and_on_both_databases(store, settings, tmp_path):
    build_demo_store(store, settings)
    first = _snapshot(store)
    store.drop_schema()
    store.create_schema()
    build_demo_store(store, settings)
    assert _snapshot(store) == first

    other = Store(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        other.create_schema()
        build_demo_store(other, settings)
        assert _snapshot(other) == first
    finally:
        other.dispose()


# ------------------------------------------------------------------------------- the CLI


@pytest.fixture
def cli_store(store, settings, monkeypatch):
    monkeypatch.setattr(bot.order_sources.demo, "get_store", lambda: store)
    monkeypatch.setattr(bot.order_sources.demo, "get_settings", lambda: settings)
    return store


def test_seed_command_builds_once_then_leaves_the_store_alone(cli_store, capsys):
    assert main(["seed", "--demo"]) == 0
    out = capsys.readouterr().out
    assert "67 products" in out and "60 orders" in out
    assert "| 104802 | mia.johnson@example.com | processing |" in out

    with cli_store.session() as s:
        s.execute(select(Order).where(Order.number == "104802")).scalar_one().status = "cancelled"
    assert seed_command(demo=True) == 0
    out = capsys.readouterr().out
    assert out.startswith("Demo store already seeded (67 products, 60 orders) in ")
    with cli_store.session() as s:
        assert s.execute(select(Order.status).where(Order.number == "104802")).scalar_one() == "cancelled"


def test_seed_command_force_rebuilds_from_scratch(cli_store, capsys):
    seed_command(demo=True)
    with cli_store.session() as s:
        s.execute(select(Order).where(Order.number == "104802")).scalar_one().status = "cancelled"
    assert seed_command(force=True, demo=True) == 0
    assert "Seeded the demo store" in capsys.readouterr().out
    with cli_store.session() as s:
        assert s.execute(select(Order.status).where(Order.number == "104802")).scalar_one() == "processing"
        assert s.execute(select(func.count(Order.id))).scalar_one() == 60


def test_seed_command_creates_missing_tables(cli_store, capsys):
    cli_store.drop_schema()
    assert seed_command(demo=True) == 0
    with cli_store.session() as s:
        assert s.execute(select(func.count(Product.id))).scalar_one() >= 44


def test_seed_shows_each_demo_password_once_and_later_says_how_to_set_one(cli_store, settings, capsys):
    seed_command(demo=True)
    first = capsys.readouterr().out
    passwords = {username: re.search(rf"{re.escape(username)} / (\S+) ", first).group(1)
                 for username, _ in agents.DEMO_ACCOUNTS}

    seed_command(demo=True)
    again = capsys.readouterr().out

    for username, password in passwords.items():
        with cli_store.session() as s:
            assert agents.log_in(s, username, password, settings) is not None
        assert password not in again
        assert f"reset-password {username}" in again and "printed when it was created" in again


def test_seed_without_demo_on_a_database_other_than_the_default_creates_tables_only(cli_store, capsys):
    cli_store.drop_schema()

    assert seed_command() == 0

    out = capsys.readouterr().out
    assert "No demo orders and no console accounts" in out
    with cli_store.session() as s:
        assert s.execute(select(func.count(Order.id))).scalar_one() == 0
        assert s.execute(select(func.count(Product.id))).scalar_one() == 0
        assert s.execute(select(func.count(AgentAccount.id))).scalar_one() == 0


def test_seed_force_without_demo_drops_nothing_outside_the_demo_store(cli_store, settings, capsys):
    seed_command(demo=True)

    assert seed_command(force=True) != 0

    with cli_store.session() as s:
        assert s.execute(select(func.count(Order.id))).scalar_one() == 60


def test_only_the_default_sqlite_file_is_the_demo_store_by_default():
    from bot.settings import PROJECT_ROOT, load_settings
    from bot.order_sources.demo import is_default_demo_database

    assert is_default_demo_database(load_settings({}).database_url)
    assert is_default_demo_database(f"sqlite:///{PROJECT_ROOT / 'tinsel.db'}")
    assert not is_default_demo_database("postgresql://postgres@127.0.0.1:5432/tinsel")
    assert not is_default_demo_database(f"sqlite:///{PROJECT_ROOT / 'elsewhere.db'}")
