"""The plain records every order source yields and `apply` writes: no platform, no database.

`origin` says where a record came from ("line 12" of a CSV file, "webhook order 450789") so that
an error found while writing it names the place to fix.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal


class RecordError(ValueError):
    """A record (or the row it came from) that cannot be imported, and why."""

    def __init__(self, origin: str, reason: str):
        super().__init__(f"{origin}: {reason}" if origin else reason)
        self.origin = origin
        self.reason = reason


@dataclass(frozen=True)
class ProductRecord:
    """One sellable variant; variants of one design share `style`."""

    sku: str
    style: str
    name: str
    category: str
    price: Decimal
    slug: str
    description: str = ""
    size: str | None = None
    color: str | None = None
    stock: int = 0
    tags: tuple[str, ...] = ()
    origin: str = ""


@dataclass(frozen=True)
class CustomerRecord:
    email: str  # lowercased by the source
    name: str


@dataclass(frozen=True)
class OrderLineRecord:
    sku: str
    quantity: int
    unit_price: Decimal
    origin: str = ""


@dataclass(frozen=True)
class ShipmentRecord:
    """What a platform knows about the parcel (Shopify: a fulfillment)."""

    carrier: str
    tracking_number: str
    status: str  # one of bot.store.models.ORDER_STATUSES
    shipped_at: dt.datetime | None = None


@dataclass(frozen=True)
class OrderRecord:
    number: str  # as shoppers type it, without "#"
    customer: CustomerRecord
    placed_at: dt.datetime
    status: str  # one of bot.store.models.ORDER_STATUSES
    shipping_method: str  # standard | express | overnight
    shipping_paid: Decimal
    lines: tuple[OrderLineRecord, ...]
    shipment: ShipmentRecord | None = None
    cancelled_at: dt.datetime | None = None  # with `refunded`: what went back when it was cancelled
    refunded: Decimal = Decimal("0.00")
    origin: str = ""
    source_rows: int = field(default=1, compare=False)  # rows (or items) it was read from, for progress
