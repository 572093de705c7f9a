"""The side file: what a store knows that Shopify's CSV exports cannot carry, as plain records.

A YAML file (demo_store/extras.yml is one) with any of these sections:

    recorded_on: 2025-12-29          # the dates below and in the orders file are as of this day;
                                     # the import moves them to today (order_sources.date_shift)
    products:                        # by Handle: every variant of the product
      maple-the-fox-plush: {ages: [0, 10], final_sale: false, replenish_days: 30}
    complements:                     # bought together: each suggests the other
      - [artist-watercolor-set-36-pans, hardbound-sketchbook-a4]
    customers:                       # by email
      emma.lawson@example.com: {birthday: 1986-03-01, loyalty_points: 412,
                                signed_up_before_first_order: {days: 40, hours: 3}}
      (birthday "in 3 days" with born: 1986 makes a birthday that is always coming up)
    orders:                          # by Name
      "104385":
        gift: true
        season: true                 # a holiday-season purchase (moves with the season)
        parcel: {carrier: USPS, tracking_number: "9400...", status: delivered, eta: 2025-11-30,
                 scans: [[2025-11-25 10:17, label_created, "Columbus, OH", "Label created"], ...]}
        return: {reason: wrong_size, opened: 2025-12-03 15:10, refunded: 2025-12-07 11:40,
                 decided_by: agent.riley}   # a finished return of the whole order
    try_these:                       # orders worth trying, for the README's table
      - ["104802", "Processing, not shipped yet: cancel it or ask when it ships"]

Times are the shop's wall clock, "YYYY-MM-DD HH:MM". A bad entry is a RecordError naming where it is
("orders.104385.parcel.scans[2]").
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TypeVar

import yaml

from bot.order_sources.records import RecordError
from bot.returns.return_request import RETURN_REASONS
from bot.store.models import ORDER_STATUSES

T = TypeVar("T")
SCAN_STATUSES = ("label_created", "picked_up", "in_transit", "out_for_delivery", "delivered", "delayed",
                 "return_in_transit", "returned")


@dataclass(frozen=True)
class ProductDetails:
    handle: str
    min_age: int | None = None
    max_age: int | None = None
    final_sale: bool | None = None
    replenish_days: int | None = None


@dataclass(frozen=True)
class CustomerDetails:
    email: str
    birthday: dt.date | None = None
    birthday_in_days: int | None = None  # with born: a birthday this many days after today
    born: int | None = None
    loyalty_points: int | None = None
    signed_up_before_first_order: dt.timedelta | None = None


@dataclass(frozen=True)
class Scan:
    at: dt.datetime
    status: str
    location: str
    description: str


@dataclass(frozen=True)
class ParcelDetails:
    carrier: str
    tracking_number: str
    status: str
    eta: dt.date | None
    scans: tuple[Scan, ...]


@dataclass(frozen=True)
class PastReturn:
    """The whole order came back and its items' price was refunded."""

    reason: str
    opened: dt.datetime
    refunded: dt.datetime
    decided_by: str


@dataclass(frozen=True)
class OrderDetails:
    number: str
    gift: bool | None = None
    season: bool = False
    parcel: ParcelDetails | None = None
    past_return: PastReturn | None = None


@dataclass(frozen=True)
class Extras:
    recorded_on: dt.date | None
    products: tuple[ProductDetails, ...] = ()
    complements: tuple[tuple[str, str], ...] = ()
    customers: tuple[CustomerDetails, ...] = ()
    orders: dict[str, OrderDetails] | None = None
    try_these: tuple[tuple[str, str], ...] = ()

    def order(self, number: str) -> OrderDetails | None:
        return (self.orders or {}).get(number)


# ------------------------------------------------------------------------------- values


def _expect(value: Any, kind: type | tuple, where: str, what: str) -> Any:
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise RecordError(where, f"expected {what}, found {value!r}")
    return value


def _day(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise RecordError(where, f"expected a date (2025-12-29), found {value!r}") from None


def _time(value: Any, where: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    try:
        return dt.datetime.strptime(str(value), "%Y-%m-%d %H:%M")
    except ValueError:
        raise RecordError(where, f"expected a time (2025-12-29 14:05), found {value!r}") from None


def _one_of(value: Any, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise RecordError(where, f"{value!r} is not one of {', '.join(allowed)}")
    return value


def _entries(section: Any, where: str, read: Callable[[str, dict, str], T]) -> tuple[T, ...]:
    """Each `key: {fields}` of a mapping section read by `read(key, fields, where)`."""
    _expect(section or {}, dict, where, "a mapping")
    return tuple(read(str(key), _expect(fields or {}, dict, f"{where}.{key}", "a mapping"), f"{where}.{key}")
                 for key, fields in (section or {}).items())


# ------------------------------------------------------------------------------ sections


def _product(handle: str, fields: dict, where: str) -> ProductDetails:
    ages = fields.get("ages")
    if ages is not None:
        _expect(ages, list, f"{where}.ages", "[youngest, oldest]")
        if len(ages) != 2 or not all(isinstance(a, int) for a in ages) or not 0 <= ages[0] <= ages[1]:
            raise RecordError(f"{where}.ages", f"expected [youngest, oldest], found {ages!r}")
    days = fields.get("replenish_days")
    return ProductDetails(handle, *(ages or (None, None)), final_sale=fields.get("final_sale"),
                          replenish_days=days if days is None else _expect(days, int, where, "a number of days"))


def _customer(email: str, fields: dict, where: str) -> CustomerDetails:
    birthday, in_days, born = fields.get("birthday"), None, fields.get("born")
    if isinstance(birthday, str) and birthday.startswith("in "):
        in_days = int(birthday.split()[1]) if birthday.split()[1].lstrip("-").isdigit() else None
        if in_days is None or born is None:
            raise RecordError(f"{where}.birthday", "\"in N days\" needs a whole N and born: YEAR")
        birthday = None
    elif birthday is not None:
        birthday = _day(birthday, f"{where}.birthday")
    gap = fields.get("signed_up_before_first_order")
    if gap is not None:
        gap = dt.timedelta(**_expect(gap, dict, f"{where}.signed_up_before_first_order", "{days: N, hours: N}"))
    points = fields.get("loyalty_points")
    return CustomerDetails(email.lower(), birthday, in_days, born,
                           points if points is None else _expect(points, int, where, "whole loyalty points"), gap)


def _scan(row: Any, where: str) -> Scan:
    if not isinstance(row, list) or len(row) != 4:
        raise RecordError(where, f"expected [time, status, location, description], found {row!r}")
    return Scan(_time(row[0], where), _one_of(row[1], SCAN_STATUSES, where), str(row[2]), str(row[3]))


def _parcel(fields: dict, where: str) -> ParcelDetails:
    scans = _expect(fields.get("scans") or [], list, f"{where}.scans", "a list of scans")
    eta = fields.get("eta")
    return ParcelDetails(
        carrier=str(fields.get("carrier") or ""), tracking_number=str(fields.get("tracking_number") or ""),
        status=_one_of(fields.get("status"), ORDER_STATUSES, f"{where}.status"),
        eta=None if eta is None else _day(eta, f"{where}.eta"),
        scans=tuple(_scan(row, f"{where}.scans[{n}]") for n, row in enumerate(scans)),
    )


def _past_return(fields: dict, where: str) -> PastReturn:
    return PastReturn(_one_of(fields.get("reason"), RETURN_REASONS, f"{where}.reason"),
                      _time(fields.get("opened"), f"{where}.opened"),
                      _time(fields.get("refunded"), f"{where}.refunded"), str(fields.get("decided_by") or "store"))


def _order(number: str, fields: dict, where: str) -> OrderDetails:
    parcel, past = fields.get("parcel"), fields.get("return")
    return OrderDetails(
        number=number.lstrip("#"), gift=fields.get("gift"), season=bool(fields.get("season")),
        parcel=None if parcel is None else _parcel(_expect(parcel, dict, f"{where}.parcel", "a mapping"),
                                                   f"{where}.parcel"),
        past_return=None if past is None else _past_return(_expect(past, dict, f"{where}.return", "a mapping"),
                                                           f"{where}.return"),
    )


def _pairs(section: Any, where: str) -> tuple[tuple[str, str], ...]:
    rows = _expect(section or [], list, where, "a list of pairs")
    for n, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != 2:
            raise RecordError(f"{where}[{n}]", f"expected a pair, found {row!r}")
    return tuple((str(a), str(b)) for a, b in rows)


def read_extras(path: Path) -> Extras:
    """The side file at `path` as records; RecordError names the first bad entry."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise RecordError("", f"not readable as YAML: {exc}") from None
    _expect(data, dict, "", "a mapping of sections")
    recorded = data.get("recorded_on")
    orders = _entries(data.get("orders"), "orders", _order)
    return Extras(
        recorded_on=None if recorded is None else _day(recorded, "recorded_on"),
        products=_entries(data.get("products"), "products", _product),
        complements=_pairs(data.get("complements"), "complements"),
        customers=_entries(data.get("customers"), "customers", _customer),
        orders={order.number: order for order in orders},
        try_these=_pairs(data.get("try_these"), "try_these"),
    )
