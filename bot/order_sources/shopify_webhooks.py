"""Shopify webhooks as an order source: who may deliver, and what a delivery changes.

No web framework here (bot/order_sources/webhook_server.py serves it). A delivery is accepted
only when all of these hold, in this order:

* `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw body keyed with the app's client
  secret (SHOPIFY_WEBHOOK_SECRET), compared in constant time; else refused (401).
* `X-Shopify-Webhook-Id`, `X-Shopify-Topic` and `X-Shopify-Triggered-At` are present (400).
* The body is a JSON object (400).
* `X-Shopify-Triggered-At`, and the payload's own `updated_at` when it has one, are at most
  FRESHNESS_WINDOW old (and not from the future beyond CLOCK_SKEW); else refused as stale (401,
  like an expired credential). Shopify retries a failed delivery 8 times over 4 hours with the
  payload of the first attempt; 12 hours covers every retry with margin for clocks and queues,
  while a delivery captured on the way cannot be replayed for ever (the id table below stops
  replays within the window, and is pruned after it: see `forget_expired_deliveries`). The signature covers the
  body only, so the headers (id, Triggered-At) of a captured delivery can be forged: the signed
  `updated_at` is what bounds such a replay and orders an order's deliveries (below).

Idempotent on `X-Shopify-Webhook-Id`: each handled delivery is a ShopifyWebhookDelivery row,
written in the same transaction as the order changes it brings; a delivery whose id is already
there is acknowledged and changes nothing. A delivery about an order whose signed `updated_at` is
older than that of one already applied for the order is acknowledged as "superseded" (retries
arrive out of order; a replay under a new id must not roll the order back).

Order topics (orders/create, orders/updated, orders/cancelled) map the REST order JSON to the
records of `records` and write them with `apply.apply_orders`, the CSV import's code path:

    number           name without "#" ("#5301" -> "5301")
    customer         email (else contact_email, customer.email), lowercased; name from
                     customer first/last name, else billing or shipping address name
    placed_at        created_at, the shop's wall-clock time (offset dropped, as the CSV import)
    lines            line_items[].sku / quantity / price; a SKU the store lacks comes in as a
                     minimal product (title, price, category "other") so the order lands
    shipping         shipping_lines[].price summed; method from their title, as the CSV import
    status           cancelled_at, financial_status, fulfillment_status as the CSV import; an
                     order sent with a tracked parcel takes the parcel's status (below)
    shipment         the newest fulfillment with a tracking number (not cancelled)

Fulfillment topics (fulfillments/create, fulfillments/update) name their order in `name`
("#5301.1"); the order is read back from the store as a record, given the parcel, and written
with `apply_orders` too. A fulfillment for an order the store does not have yet is refused with
409 (not recorded), so Shopify's retry lands it once orders/create has. Parcel status from
shipment_status: delivered, out_for_delivery -> themselves; attempted_delivery, delayed,
failure -> delayed; anything else -> shipped. A cancelled or failed fulfillment is ignored.

Privacy topics run bot/privacy/data_requests.py (in its own transactions; both are idempotent, so
the delivery row follows them): customers/data_request writes the shopper's export as a JSON file
(mode 600) under SHOPIFY_DATA_REQUEST_DIR and logs its path (never the data) for the operator to
send to the merchant; customers/redact forgets the shopper (operator "shopify"). shop/redact comes
48 hours after the store uninstalled the app: Tinsel is a one-store install (the secret is that
store's own app's), so the store has left and every shopper it knew is forgotten the same way;
orders, amounts and products stay, anonymous, for the books. Any other topic is acknowledged,
recorded and ignored (logged). A signed delivery whose data cannot be imported is acknowledged with
its reason recorded and logged (Shopify resending the same data would not help).
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable, Mapping

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from bot.engagement import order_updates
from bot.order_sources.apply import ImportCounts, apply_orders, apply_products
from bot.order_sources.records import (
    CustomerRecord,
    OrderLineRecord,
    OrderRecord,
    ProductRecord,
    RecordError,
    ShipmentRecord,
)
from bot.order_sources.shopify_csv import shipping_method, slug, status_from
from bot.privacy import data_requests as privacy
from bot.settings import PROJECT_ROOT, Settings
from bot.store.engine import Store
from bot.store.models import Customer, Order, OrderItem, Product, ShopifyWebhookDelivery

log = logging.getLogger(__name__)

FRESHNESS_WINDOW = dt.timedelta(hours=12)
CLOCK_SKEW = dt.timedelta(minutes=5)
ORDER_TOPICS = ("orders/create", "orders/updated", "orders/cancelled")
FULFILLMENT_TOPICS = ("fulfillments/create", "fulfillments/update")
PRIVACY_OPERATOR = "shopify"
APPLIED_OUTCOMES = ("applied", "unchanged")
PARCEL_STATUSES = {"delivered": "delivered", "out_for_delivery": "out_for_delivery",
                   "attempted_delivery": "delayed", "delayed": "delayed", "failure": "delayed"}
DEAD_FULFILLMENTS = ("cancelled", "failure", "error")
CENT = Decimal("0.01")
MONEY_LIMIT = Decimal("1e10")  # Numeric(12, 2)
_FRACTION = re.compile(r"\.(\d+)")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_-]")
Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class DeliveryRefused(Exception):
    """A delivery not acted on, with the HTTP status that says why (Shopify's app review expects
    401 for a bad signature, on the privacy topics too)."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


@dataclass(frozen=True)
class Delivery:
    webhook_id: str
    topic: str
    triggered_at: dt.datetime  # X-Shopify-Triggered-At, UTC, naive
    changed_at: dt.datetime  # the payload's signed updated_at, else triggered_at; UTC, naive
    payload: dict[str, Any]


# ----------------------------------------------------------------------------- verification


def signature(secret: str, body: bytes) -> str:
    """The X-Shopify-Hmac-Sha256 value Shopify sends for `body`."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def is_signed(secret: str, body: bytes, header: str | None) -> bool:
    if not secret or not header:
        return False
    return hmac.compare_digest(signature(secret, body).encode(), header.strip().encode("utf-8", "replace"))


def parse_instant(text: str) -> dt.datetime:
    """ISO 8601 as Shopify writes it (offset or Z, up to nanoseconds); ValueError otherwise."""
    text = _FRACTION.sub(lambda digits: "." + digits.group(1)[:6].ljust(6, "0"), text.strip())
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    return dt.datetime.fromisoformat(text)


def _utc(instant: dt.datetime) -> dt.datetime:
    if instant.tzinfo is None:
        return instant
    return instant.astimezone(dt.timezone.utc).replace(tzinfo=None)


def _check_fresh(instant: dt.datetime, now: dt.datetime, what: str) -> None:
    if now - instant > FRESHNESS_WINDOW or instant - now > CLOCK_SKEW:
        raise DeliveryRefused(401, f"stale delivery: {what} {instant:%Y-%m-%d %H:%M:%S} UTC")


def _signed_change_time(payload: Mapping[str, Any], triggered_at: dt.datetime) -> dt.datetime:
    try:
        return _utc(parse_instant(payload["updated_at"]))
    except (KeyError, TypeError, AttributeError, ValueError):
        return triggered_at


def read_delivery(secret: str, headers: Mapping[str, str], body: bytes, now: dt.datetime) -> Delivery:
    """The delivery, once signed, complete, JSON and fresh; DeliveryRefused otherwise."""
    headers = {name.lower(): value for name, value in headers.items()}
    if not is_signed(secret, body, headers.get("x-shopify-hmac-sha256")):
        raise DeliveryRefused(401, "missing or wrong X-Shopify-Hmac-Sha256")
    webhook_id, topic = headers.get("x-shopify-webhook-id", "").strip(), headers.get("x-shopify-topic", "").strip()
    if not webhook_id or not topic or len(webhook_id) > 100 or len(topic) > 60:
        raise DeliveryRefused(400, "missing X-Shopify-Webhook-Id or X-Shopify-Topic")
    try:
        triggered_at = _utc(parse_instant(headers.get("x-shopify-triggered-at", "")))
    except ValueError:
        raise DeliveryRefused(400, "missing or unreadable X-Shopify-Triggered-At") from None
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise DeliveryRefused(400, "the body is not JSON") from None
    if not isinstance(payload, dict):
        raise DeliveryRefused(400, "the body is not a JSON object")
    changed_at = _signed_change_time(payload, triggered_at)
    _check_fresh(triggered_at, now, "triggered at")
    _check_fresh(changed_at, now, "updated at")
    return Delivery(webhook_id, topic, triggered_at, changed_at, payload)


# ---------------------------------------------------------------------------------- mapping


class OrderNotInStore(RecordError):
    """A fulfillment for an order that has not arrived yet: worth Shopify's retry."""


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _objects(value: Any) -> list[dict]:
    """The JSON objects of a list field; anything else reads as none."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _money(value: Any, origin: str, what: str) -> Decimal:
    try:
        amount = Decimal(str(value if value is not None else "0"))
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or not 0 <= amount < MONEY_LIMIT:
        raise RecordError(origin, f"{what} {value!r} is not a price")
    return amount.quantize(CENT)


def _wall_clock(value: Any, origin: str, what: str) -> dt.datetime:
    """The shop's local time, offset dropped (the store keeps local times, as the CSV import)."""
    try:
        return parse_instant(_text(value)).replace(tzinfo=None)
    except ValueError:
        raise RecordError(origin, f"{what} {value!r} is not a date") from None


def order_number(name: Any, origin: str) -> str:
    number = _text(name).lstrip("#").strip()
    if not number or len(number) > 20:
        raise RecordError(origin, f"order name {name!r} is not an order number of 1-20 characters")
    return number


def order_status(financial: Any, fulfillment: Any, cancelled_at: Any) -> str:
    """Shopify's statuses as Tinsel's, by the table of shopify_csv (null fulfillment: unsent)."""
    return status_from(_text(financial).lower(), _text(fulfillment).lower(), cancelled=bool(cancelled_at))


def shipment_record(fulfillment: Mapping[str, Any]) -> ShipmentRecord | None:
    """The parcel a live fulfillment with a tracking number describes; None otherwise."""
    numbers = fulfillment.get("tracking_numbers")
    numbers = numbers if isinstance(numbers, list) and numbers else [""]
    tracking = _text(fulfillment.get("tracking_number")) or _text(numbers[0])
    if not tracking or _text(fulfillment.get("status")).lower() in DEAD_FULFILLMENTS:
        return None
    origin = f"fulfillment {fulfillment.get('id', '')}".strip()
    shipped_at = fulfillment.get("created_at")
    return ShipmentRecord(
        carrier=(_text(fulfillment.get("tracking_company")) or "unknown")[:40],
        tracking_number=tracking[:60],
        status=PARCEL_STATUSES.get(_text(fulfillment.get("shipment_status")).lower(), "shipped"),
        shipped_at=_wall_clock(shipped_at, origin, "created_at") if shipped_at else None,
    )


def _newest_shipment(fulfillments: Any) -> ShipmentRecord | None:
    parcels = [shipment_record(f) for f in _objects(fulfillments)]
    return next((p for p in reversed(parcels) if p), None)


def _customer(payload: Mapping[str, Any], origin: str) -> CustomerRecord:
    buyer = payload.get("customer") if isinstance(payload.get("customer"), dict) else {}
    email = (_text(payload.get("email")) or _text(payload.get("contact_email")) or _text(buyer.get("email"))).lower()
    if "@" not in email or len(email) > 254:
        raise RecordError(origin, "the order has no usable email (Tinsel verifies shoppers by it)")
    full_name = " ".join(filter(None, (_text(buyer.get("first_name")), _text(buyer.get("last_name")))))
    addresses = [a for a in (payload.get("billing_address"), payload.get("shipping_address")) if isinstance(a, dict)]
    name = full_name or next((_text(a.get("name")) for a in addresses if _text(a.get("name"))), "")
    return CustomerRecord(email=email, name=(name or email.split("@")[0])[:120])


def _line(item: Mapping[str, Any], origin: str) -> tuple[OrderLineRecord, ProductRecord]:
    """A line item, and the minimal product it describes (written only if the SKU is new)."""
    title = _text(item.get("title")) or _text(item.get("name")) or "Shopify product"
    sku = _text(item.get("sku"))
    if not sku or len(sku) > 40:
        raise RecordError(origin, f"line item {title!r} has no SKU of 1-40 characters (Tinsel finds products by SKU)")
    quantity = item.get("quantity")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        raise RecordError(origin, f"line item {sku!r} quantity {quantity!r} is not a whole number of at least 1")
    price = _money(item.get("price"), origin, f"line item {sku!r} price")
    style = f"shopify-{item['product_id']}" if item.get("product_id") else sku
    product = ProductRecord(sku=sku, style=style[:40], name=title[:160], category="other", price=price,
                            slug=slug(title, sku)[:160], origin=origin)
    return OrderLineRecord(sku=sku, quantity=quantity, unit_price=price, origin=origin), product


@dataclass(frozen=True)
class MappedOrder:
    order: OrderRecord
    products: tuple[ProductRecord, ...]  # what its line items say about products the store may lack


def order_from_payload(payload: Mapping[str, Any]) -> MappedOrder:
    """An orders/* payload (the REST Admin API order) as the records `apply` writes."""
    origin = f"webhook order {payload.get('id', '')}".strip()
    read = [_line(item, origin) for item in _objects(payload.get("line_items"))]
    if not read:
        raise RecordError(origin, "the order has no line items")
    lines, products = zip(*read)
    shipping_lines = _objects(payload.get("shipping_lines"))
    shipment = _newest_shipment(payload.get("fulfillments"))
    status = order_status(payload.get("financial_status"), payload.get("fulfillment_status"),
                          payload.get("cancelled_at"))
    if status == "shipped" and shipment:
        status = shipment.status
    return MappedOrder(OrderRecord(
        number=order_number(payload.get("name"), origin), customer=_customer(payload, origin),
        placed_at=_wall_clock(payload.get("created_at"), origin, "created_at"), status=status,
        shipping_method=shipping_method(" ".join(_text(s.get("title")) for s in shipping_lines)),
        shipping_paid=sum((_money(s.get("price"), origin, "shipping price") for s in shipping_lines), Decimal("0.00")),
        lines=tuple(lines), shipment=shipment, origin=origin, source_rows=len(lines),
    ), tuple(products))


def fulfillment_order_number(fulfillment: Mapping[str, Any]) -> str:
    """The order a fulfillment belongs to, from its name "#5301.1" (Shopify's order name, a dot,
    the fulfillment's number): Tinsel keeps the order name, not Shopify's order id."""
    origin = f"webhook fulfillment {fulfillment.get('id', '')}".strip()
    return order_number(_text(fulfillment.get("name")).rsplit(".", 1)[0], origin)


# ------------------------------------------------------------------------------- processing


def _is_handled(session: Session, webhook_id: str) -> bool:
    query = select(ShopifyWebhookDelivery.id).where(ShopifyWebhookDelivery.webhook_id == webhook_id)
    return session.execute(query).first() is not None


def _is_superseded(session: Session, number: str, changed_at: dt.datetime) -> bool:
    """True when a delivery about a later change has already been applied to the order."""
    newest = session.execute(
        select(func.max(ShopifyWebhookDelivery.changed_at)).where(
            ShopifyWebhookDelivery.order_number == number,
            ShopifyWebhookDelivery.outcome.in_(APPLIED_OUTCOMES))
    ).scalar()
    return newest is not None and newest > changed_at


def forget_expired_deliveries(session: Session, now: dt.datetime) -> int:
    """Delete the delivery rows whose signed change time has left the freshness window.

    Safe: a delivery is only accepted while its change time is inside the window, so every one
    still accepted is newer than every row deleted; the ids and times it could collide with or be
    superseded by are the rows kept. Without this the table grows by one row per delivery for ever.
    """
    expired = delete(ShopifyWebhookDelivery).where(ShopifyWebhookDelivery.changed_at < now - FRESHNESS_WINDOW)
    return session.execute(expired.execution_options(synchronize_session=False)).rowcount


def _order_with_parcel(session: Session, number: str, fulfillment: Mapping[str, Any]) -> OrderRecord:
    """The stored order as a record, with what the fulfillment says about its parcel."""
    order = session.execute(
        select(Order).options(selectinload(Order.items).selectinload(OrderItem.product),
                              selectinload(Order.customer)).where(Order.number == number)
    ).scalar_one_or_none()
    origin = f"webhook fulfillment {fulfillment.get('id', '')}".strip()
    if order is None:
        raise OrderNotInStore(origin, f"order {number} is not in the store yet")
    parcel = shipment_record(fulfillment)
    status = order.status if order.status in ("cancelled", "returned") else (parcel.status if parcel else "shipped")
    return OrderRecord(
        number=order.number, customer=CustomerRecord(email=order.customer.email.lower(), name=order.customer.name),
        placed_at=order.placed_at, status=status, shipping_method=order.shipping_method,
        shipping_paid=order.shipping_paid, shipment=parcel, origin=origin,
        lines=tuple(OrderLineRecord(sku=i.product.sku, quantity=i.quantity, unit_price=i.unit_price)
                    for i in order.items),
    )


def _add_unknown_products(session: Session, products: tuple[ProductRecord, ...], counts: ImportCounts) -> None:
    """Products only the order names yet: the catalog's own records are never overwritten."""
    skus = {p.sku for p in products}
    known = set(session.execute(select(Product.sku).where(Product.sku.in_(skus))).scalars())
    new = {p.sku: p for p in products if p.sku not in known}
    apply_products(session, list(new.values()), counts)


def apply_order_delivery(session: Session, delivery: Delivery) -> tuple[str, str]:
    """Writes an order or fulfillment delivery into the caller's transaction: (outcome, order number)."""
    products: tuple[ProductRecord, ...] = ()
    if delivery.topic in FULFILLMENT_TOPICS:
        number = fulfillment_order_number(delivery.payload)
        if _text(delivery.payload.get("status")).lower() in DEAD_FULFILLMENTS:
            return "ignored: fulfillment cancelled or failed", number
        record = _order_with_parcel(session, number, delivery.payload)
    else:
        mapped = order_from_payload(delivery.payload)
        record, products = mapped.order, mapped.products
    if _is_superseded(session, record.number, delivery.changed_at):
        return "superseded", record.number
    counts = ImportCounts()
    _add_unknown_products(session, products, counts)
    apply_orders(session, [record], counts)
    changed = counts.orders.created + counts.orders.updated + counts.products.created
    if changed:  # issue #18: the shoppers following the order hear of it, in this same transaction
        order_updates.queue_status_update_of(session, record.number)
    return ("applied" if changed else "unchanged"), record.number


def _write_private(path: Path, text: str) -> None:
    """A file only its owner reads: it holds a shopper's personal data."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)


def _shopper_email(payload: Mapping[str, Any]) -> str:
    shopper = payload.get("customer") if isinstance(payload.get("customer"), dict) else {}
    return _text(shopper.get("email")).lower()


class ShopifyWebhooks:
    """Verified deliveries in, store changes out: one unit of work per delivery."""

    def __init__(self, store: Store, settings: Settings, clock: Clock = utc_now):
        self.store = store
        self.settings = settings
        self.clock = clock
        self.export_dir = Path(settings.shopify_data_request_dir or PROJECT_ROOT / "var" / "shopify-data-requests")
        self._privacy_actions = {"customers/data_request": self._export, "customers/redact": self._forget,
                                 "shop/redact": self._forget_everyone}

    def read(self, headers: Mapping[str, str], body: bytes) -> Delivery:
        return read_delivery(self.settings.shopify_webhook_secret, headers, body, self.clock())

    def handle(self, delivery: Delivery) -> str:
        """The outcome ("applied", "duplicate", ...); DeliveryRefused(409) for a fulfillment
        whose order has not arrived yet, so that Shopify retries it."""
        with self.store.session() as session:
            forget_expired_deliveries(session, self.clock())
        if delivery.topic in ORDER_TOPICS + FULFILLMENT_TOPICS:
            return self._handle_order(delivery)
        action = self._privacy_actions.get(delivery.topic)
        if action is None:
            log.info("Shopify topic %s is not one Tinsel uses: acknowledged and ignored", delivery.topic)
            return self._record(delivery, None, "ignored: unknown topic")
        if self._is_handled(delivery.webhook_id):
            return "duplicate"
        return self._record(delivery, None, action(delivery))

    def _handle_order(self, delivery: Delivery) -> str:
        try:
            with self.store.session() as session:
                if _is_handled(session, delivery.webhook_id):
                    return "duplicate"
                outcome, number = apply_order_delivery(session, delivery)
                session.add(self._row(delivery, number, outcome))
            return outcome
        except OrderNotInStore as exc:
            raise DeliveryRefused(409, f"{exc.reason}; retry later") from None
        except RecordError as exc:
            reason = f"refused: {exc}"
        except IntegrityError as exc:
            if self._is_handled(delivery.webhook_id):  # a concurrent twin committed first
                return "duplicate"
            reason = f"refused: the database refused it ({type(exc.orig).__name__})"
        log.warning("Shopify %s delivery %s %s", delivery.topic, delivery.webhook_id, reason)
        return self._record(delivery, None, reason[:200])

    def _row(self, delivery: Delivery, number: str | None, outcome: str) -> ShopifyWebhookDelivery:
        return ShopifyWebhookDelivery(webhook_id=delivery.webhook_id, topic=delivery.topic, order_number=number,
                                      triggered_at=delivery.triggered_at, changed_at=delivery.changed_at,
                                      received_at=self.clock(), outcome=outcome)

    def _record(self, delivery: Delivery, number: str | None, outcome: str) -> str:
        """Only the delivery row (nothing else changed); "duplicate" when its id is there already."""
        try:
            with self.store.session() as session:
                if _is_handled(session, delivery.webhook_id):
                    return "duplicate"
                session.add(self._row(delivery, number, outcome))
        except IntegrityError:
            return "duplicate"
        return outcome

    def _is_handled(self, webhook_id: str) -> bool:
        with self.store.session() as session:
            return _is_handled(session, webhook_id)

    def _export(self, delivery: Delivery) -> str:
        """customers/data_request: the export goes to a private file; the log says where only."""
        request = delivery.payload.get("data_request")
        request_id = str(request.get("id", "")) if isinstance(request, dict) else ""
        request_id = _SAFE_NAME.sub("", request_id or delivery.webhook_id)[:80]
        with self.store.reading() as session:
            data = privacy.export_customer(session, _shopper_email(delivery.payload))
        if data is None:
            log.warning("Shopify data request %s: no customer with that email, nothing to send", request_id)
            return "no such customer"
        path = self.export_dir / f"data-request-{request_id}.json"
        _write_private(path, json.dumps(data, indent=2, ensure_ascii=False, default=str))
        log.warning("Shopify data request %s: the shopper's export is in %s; send it to the merchant", request_id, path)
        return "exported"

    def _forget(self, delivery: Delivery) -> str:
        email = _shopper_email(delivery.payload)
        if not email:
            return "no such customer"
        with self.store.session() as session:
            report = privacy.forget_customer(session, email, PRIVACY_OPERATOR, self.settings)
        return "no such customer" if report is None else f"forgot customer #{report.customer_id}"

    def _forget_everyone(self, delivery: Delivery) -> str:
        """shop/redact on a one-store install: every shopper the store knew is forgotten."""
        with self.store.reading() as session:
            emails = list(session.execute(
                select(Customer.email).where(Customer.name != privacy.FORGOTTEN_NAME)).scalars())
        for email in emails:  # one unit of work per shopper, as customers/redact
            with self.store.session() as session:
                privacy.forget_customer(session, email, PRIVACY_OPERATOR, self.settings)
        log.warning("Shopify shop/redact: %d customers forgotten", len(emails))
        return f"forgot {len(emails)} customers"
