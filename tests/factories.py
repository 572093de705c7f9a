"""Minimal rows for tests: each helper adds one object to the session, flushes and returns it.

    with store.session() as s:
        shopper = make_customer(s)
        mug = make_product(s, price="12.50")
        order = make_order(s, shopper, items=[(mug, 2, Decimal("12.50"))], status="delivered")
        make_shipment(s, order, delivered_at=order.placed_at + dt.timedelta(days=3))

Every unspecified value is unique or harmless, so tests only spell out what they assert on.
"""
from __future__ import annotations

import datetime as dt
import itertools
import json
import time
from decimal import Decimal

from sqlalchemy import insert
from sqlalchemy.orm import Session

from bot.rasa_link import rasa_api
from bot.settings import load_settings
from bot.store.models import Customer, Order, OrderItem, Product, ProductTag, Shipment, ShipmentEvent

_serial = itertools.count(1)


def _now() -> dt.datetime:
    return load_settings().now()


def make_customer(session: Session, name: str = "Test Shopper", email: str | None = None, **fields) -> Customer:
    n = next(_serial)
    customer = Customer(
        name=name,
        email=email or f"shopper{n}@example.com",
        created_at=fields.pop("created_at", _now() - dt.timedelta(days=365)),
        loyalty_points=fields.pop("loyalty_points", 0),
        **fields,
    )
    session.add(customer)
    session.flush()
    return customer


def make_product(
    session: Session,
    name: str = "Test Product",
    price: Decimal | str = "20.00",
    stock: int = 10,
    style: str | None = None,
    tags: tuple[str, ...] = (),
    **fields,
) -> Product:
    """A product; `style` defaults to its own sku (a product without other variants)."""
    n = next(_serial)
    sku = fields.pop("sku", f"TEST-{n}")
    product = Product(
        sku=sku,
        style=style or sku,
        name=name,
        category=fields.pop("category", "toys"),
        price=Decimal(price),
        stock=stock,
        slug=fields.pop("slug", f"test-product-{n}"),
        tags=[ProductTag(tag=t) for t in tags],
        **fields,
    )
    session.add(product)
    session.flush()
    return product


def make_order(
    session: Session,
    customer: Customer,
    items=(),
    status: str = "delivered",
    placed_at: dt.datetime | None = None,
    shipping_paid: Decimal | str = "0.00",
    shipping_method: str = "standard",
    number: str | None = None,
    is_gift: bool = False,
) -> Order:
    """An order with `items` as (product, quantity, unit_price); unit_price defaults to the price."""
    order = Order(
        number=number or str(900000 + next(_serial)),
        customer=customer,
        placed_at=placed_at or _now() - dt.timedelta(days=3),
        status=status,
        shipping_method=shipping_method,
        shipping_paid=Decimal(shipping_paid),
        is_gift=is_gift,
    )
    for product, quantity, *price in items:
        unit_price = Decimal(price[0]) if price else product.price
        order.items.append(OrderItem(product=product, quantity=quantity, unit_price=unit_price))
    session.add(order)
    session.flush()
    return order


def make_shipment(
    session: Session,
    order: Order,
    carrier: str = "UPS",
    status: str | None = None,
    eta: dt.date | None = None,
    shipped_at: dt.datetime | None = None,
    delivered_at: dt.datetime | None = None,
    events=(),
    tracking_number: str | None = None,
) -> Shipment:
    """The order's shipment (status defaults to the order's); `events` are
    (at, status, location, description) tuples."""
    shipment = Shipment(
        order=order,
        carrier=carrier,
        tracking_number=tracking_number or f"TEST{next(_serial):010d}",
        status=status or order.status,
        eta=eta,
        shipped_at=shipped_at,
        delivered_at=delivered_at,
        events=[ShipmentEvent(at=at, status=s, location=where, description=text) for at, s, where, text in events],
    )
    session.add(shipment)
    session.flush()
    return shipment


def add_events(store, conversation_id, *events):
    """(type_name, text) events in Rasa's tracker table (fixture tracker_table), one second
    apart, the way Rasa stores them."""
    start = time.time() - len(events)
    with store.engine.begin() as conn:
        for n, (type_name, text) in enumerate(events):
            data = {"event": type_name, "timestamp": start + n}
            if text is not None:
                data["text"] = text
            conn.execute(
                insert(rasa_api.tracker_events).values(
                    sender_id=conversation_id, type_name=type_name, timestamp=start + n, data=json.dumps(data)
                )
            )
