"""Shopify webhooks (issue #17): who may deliver, how a payload maps to records, and that each
delivery id changes the store at most once. Payloads are signed here with a test secret."""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import stat
import sys
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from bot.order_sources import shopify_webhooks as webhooks
from bot.order_sources.records import RecordError
from bot.order_sources.shopify_webhooks import DeliveryRefused, ShopifyWebhooks, read_delivery
from bot.settings import load_settings
from bot.store.models import Customer, Order, Product, ShopifyWebhookDelivery
from tests.factories import make_product
from tests.shopify_webhook_payloads import (
    SHOPPER_EMAIL,
    TEST_SECRET,
    fulfillment_payload,
    order_payload,
    shop_time,
    shopify_time,
    signed,
)

NOW = webhooks.utc_now().replace(microsecond=0)  # set again as each test starts (below)


@pytest.fixture(autouse=True)
def now_is_when_the_test_starts(monkeypatch):
    """Payloads carry the real time (a signed updated_at), so the tests' "now" is taken as each test
    starts, not when the file was collected: in a long run that was minutes earlier, and a fresh
    payload looked as if it came from the future."""
    monkeypatch.setattr(sys.modules[__name__], "NOW", webhooks.utc_now().replace(microsecond=0))


def _read(headers, body, secret=TEST_SECRET, now=None):
    return read_delivery(secret, headers, body, now or NOW)


def _at(hours_ago: float) -> str:
    return shopify_time((NOW - dt.timedelta(hours=hours_ago)).replace(tzinfo=dt.timezone.utc))


# ------------------------------------------------------------------------------ verification


def test_a_delivery_signed_with_the_secret_is_read():
    headers, body = signed("orders/create", order_payload(), webhook_id="wh-1", triggered_at=_at(0.1))
    delivery = _read(headers, body)
    assert (delivery.webhook_id, delivery.topic) == ("wh-1", "orders/create")
    assert delivery.payload["name"] == "#5301"
    assert delivery.triggered_at == NOW - dt.timedelta(hours=0.1)


def _unsigned(headers, body):
    del headers["X-Shopify-Hmac-Sha256"]
    return headers, body


def _tampered(headers, body):
    return headers, body.replace(b'"12.50"', b'"0.01"')


def _wrong_secret(headers, body):
    return signed("orders/create", json.loads(body), secret="not-the-secret", triggered_at=_at(0))


@pytest.mark.parametrize("attack", [_unsigned, _tampered, _wrong_secret])
def test_unsigned_tampered_or_wrongly_signed_deliveries_are_refused_with_401(attack):
    headers, body = attack(*signed("orders/create", order_payload(), triggered_at=_at(0)))
    with pytest.raises(DeliveryRefused) as refused:
        _read(headers, body)
    assert refused.value.status == 401


def test_no_secret_configured_accepts_nothing():
    headers, body = signed("orders/create", order_payload(), secret="", triggered_at=_at(0))
    with pytest.raises(DeliveryRefused):
        _read(headers, body, secret="")


@pytest.mark.parametrize("hours_ago", [12.5, 72, -0.5])
def test_stale_or_future_deliveries_are_refused(hours_ago):
    headers, body = signed("orders/create", order_payload(), triggered_at=_at(hours_ago))
    with pytest.raises(DeliveryRefused) as refused:
        _read(headers, body)
    assert refused.value.status == 401 and "stale" in refused.value.reason


def test_a_captured_delivery_replayed_with_fresh_headers_is_stale_by_its_signed_updated_at():
    old = order_payload(updated_at=shop_time(NOW - dt.timedelta(days=3)))
    headers, body = signed("orders/create", old, webhook_id="new-id", triggered_at=_at(0))
    with pytest.raises(DeliveryRefused) as refused:
        _read(headers, body)
    assert refused.value.status == 401 and "updated at" in refused.value.reason


def test_a_retry_within_shopifys_four_hour_retry_period_is_fresh():
    headers, body = signed("orders/create", order_payload(), triggered_at=_at(4.5))
    assert _read(headers, body).topic == "orders/create"


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"\xff\xfe"])
def test_signed_bodies_that_are_not_a_json_object_are_refused_with_400(body):
    headers, body = signed("orders/create", body, triggered_at=_at(0))
    with pytest.raises(DeliveryRefused) as refused:
        _read(headers, body)
    assert refused.value.status == 400


@pytest.mark.parametrize("header", ["X-Shopify-Webhook-Id", "X-Shopify-Topic", "X-Shopify-Triggered-At"])
def test_signed_deliveries_without_their_headers_are_refused_with_400(header):
    headers, body = signed("orders/create", order_payload(), triggered_at=_at(0))
    del headers[header]
    with pytest.raises(DeliveryRefused) as refused:
        _read(headers, body)
    assert refused.value.status == 400


def test_header_names_are_case_insensitive():
    headers, body = signed("orders/create", order_payload(), triggered_at=_at(0))
    assert _read({k.lower(): v for k, v in headers.items()}, body).topic == "orders/create"


# ----------------------------------------------------------------------------------- mapping


def test_an_order_maps_to_the_records_the_csv_import_writes():
    mapped = webhooks.order_from_payload(order_payload())
    order = mapped.order
    assert order.number == "5301"
    assert (order.customer.email, order.customer.name) == ("ada.lovelace@example.com", "Ada Lovelace")
    assert order.placed_at == dt.datetime(2026, 11, 28, 9, 50, 26)  # the shop's wall clock
    assert [(line.sku, line.quantity, line.unit_price) for line in order.lines] == [
        ("MUG-RED", 2, Decimal("12.50")), ("SCARF-1", 1, Decimal("30.00"))]
    assert (order.shipping_method, order.shipping_paid) == ("express", Decimal("9.99"))
    assert order.status == "processing" and order.shipment is None
    assert {p.sku: p.name for p in mapped.products} == {"MUG-RED": "Red Mug", "SCARF-1": "Wool Scarf"}


@pytest.mark.parametrize("changes, status", [
    ({"cancelled_at": "2026-11-29T08:00:00-05:00", "financial_status": "voided"}, "cancelled"),
    ({"financial_status": "refunded", "fulfillment_status": "fulfilled"}, "returned"),
    ({"fulfillment_status": "fulfilled"}, "shipped"),
    ({"fulfillment_status": "fulfilled", "fulfillments": [fulfillment_payload(shipment_status="delivered")]},
     "delivered"),
])
def test_order_statuses(changes, status):
    assert webhooks.order_from_payload(order_payload(**changes)).order.status == status


def test_an_order_carries_its_newest_tracked_fulfillment():
    order = webhooks.order_from_payload(order_payload(fulfillment_status="fulfilled", fulfillments=[
        fulfillment_payload(tracking="OLD-1"),
        fulfillment_payload(tracking="NEW-2", shipment_status="out_for_delivery"),
        fulfillment_payload(tracking="VOID-3", status="cancelled")])).order
    assert (order.shipment.tracking_number, order.shipment.carrier, order.shipment.status) == (
        "NEW-2", "UPS", "out_for_delivery")
    assert order.status == "out_for_delivery"


@pytest.mark.parametrize("changes", [
    {"line_items": [{"title": "Gift wrap", "quantity": 1, "price": "4.99", "sku": ""}]},
    {"line_items": []},
    {"email": None, "contact_email": None, "customer": None},
    {"name": "#" + "9" * 25},
    {"line_items": [{"sku": "MUG-RED", "quantity": 1, "price": "-3"}]},
])
def test_orders_tinsel_cannot_keep_are_record_errors(changes):
    with pytest.raises(RecordError):
        webhooks.order_from_payload(order_payload(**changes))


@pytest.mark.parametrize("shipment_status, status", [
    ("in_transit", "shipped"), (None, "shipped"), ("out_for_delivery", "out_for_delivery"),
    ("delivered", "delivered"), ("attempted_delivery", "delayed"), ("failure", "delayed"),
])
def test_parcel_statuses(shipment_status, status):
    assert webhooks.shipment_record(fulfillment_payload(shipment_status=shipment_status)).status == status


def test_a_fulfillment_names_its_order():
    assert webhooks.fulfillment_order_number(fulfillment_payload("#5301")) == "5301"
    assert webhooks.shipment_record(fulfillment_payload(tracking_number=None, tracking_numbers=[])) is None


# ------------------------------------------------------------------------ against the store


@pytest.fixture
def handler(store, tmp_path):
    settings = load_settings({"DATABASE_URL": store.url, "SHOPIFY_WEBHOOK_SECRET": TEST_SECRET,
                              "SHOPIFY_DATA_REQUEST_DIR": str(tmp_path / "requests")})
    return ShopifyWebhooks(store, settings, clock=lambda: NOW)


def deliver(handler, topic, payload, webhook_id=None, hours_ago=0.0):
    """Signed as Shopify sends it: triggered, and (orders, fulfillments) updated, `hours_ago`."""
    if "updated_at" in payload:
        payload = {**payload, "updated_at": shop_time(NOW - dt.timedelta(hours=hours_ago))}
    headers, body = signed(topic, payload, webhook_id=webhook_id, triggered_at=_at(hours_ago))
    return handler.handle(handler.read(headers, body))


def _order(store, number="5301"):
    with store.session() as s:
        order = s.execute(select(Order).where(Order.number == number)).scalar_one_or_none()
        if order is not None:
            _ = order.customer, order.shipment, [(i.product.sku, i.quantity, i.unit_price) for i in order.items]
        return order


def _count(store, model):
    with store.session() as s:
        return s.execute(select(func.count()).select_from(model)).scalar()


def test_orders_create_lands_an_order_found_by_its_number(store, handler):
    with store.session() as s:
        make_product(s, name="Catalog Mug", sku="MUG-RED", price="14.00", slug="catalog-mug")
    assert deliver(handler, "orders/create", order_payload()) == "applied"
    order = _order(store)
    assert order.customer.email == "ada.lovelace@example.com" and order.status == "processing"
    assert [(i.product.sku, i.quantity, i.unit_price) for i in order.items] == [
        ("MUG-RED", 2, Decimal("12.50")), ("SCARF-1", 1, Decimal("30.00"))]
    with store.session() as s:
        products = {p.sku: (p.name, p.price) for p in s.execute(select(Product)).scalars()}
    assert products["MUG-RED"] == ("Catalog Mug", Decimal("14.00"))  # the catalog's own record stays
    assert products["SCARF-1"] == ("Wool Scarf", Decimal("30.00"))  # a SKU only the order knew


def test_a_repeated_delivery_id_is_acknowledged_and_changes_nothing(store, handler):
    assert deliver(handler, "orders/create", order_payload(), webhook_id="wh-same") == "applied"
    cancelled = order_payload(cancelled_at="2026-11-29T08:00:00-05:00")
    assert deliver(handler, "orders/updated", cancelled, webhook_id="wh-same") == "duplicate"
    assert _order(store).status == "processing"
    assert (_count(store, Order), _count(store, ShopifyWebhookDelivery)) == (1, 1)
    assert deliver(handler, "orders/cancelled", cancelled, webhook_id="wh-new") == "applied"
    assert _order(store).status == "cancelled"


def test_the_same_order_again_under_a_new_id_is_unchanged(store, handler):
    deliver(handler, "orders/create", order_payload())
    assert deliver(handler, "orders/updated", order_payload()) == "unchanged"


def test_fulfillments_bring_the_tracking_number_and_the_parcels_progress(store, handler):
    deliver(handler, "orders/create", order_payload(), hours_ago=3)
    assert deliver(handler, "fulfillments/create", fulfillment_payload(), hours_ago=2) == "applied"
    order = _order(store)
    assert (order.shipment.tracking_number, order.shipment.carrier, order.status) == (
        "1Z999AA10123456784", "UPS", "shipped")
    assert len(order.items) == 2  # the lines are the stored order's
    delivered = fulfillment_payload(shipment_status="delivered")
    assert deliver(handler, "fulfillments/update", delivered, hours_ago=1) == "applied"
    assert (_order(store).status, _order(store).shipment.status) == ("delivered", "delivered")


def test_a_fulfillment_before_its_order_is_refused_for_a_retry(store, handler):
    with pytest.raises(DeliveryRefused) as refused:
        deliver(handler, "fulfillments/create", fulfillment_payload(), webhook_id="wh-early")
    assert refused.value.status == 409 and _count(store, ShopifyWebhookDelivery) == 0
    deliver(handler, "orders/create", order_payload())
    assert deliver(handler, "fulfillments/create", fulfillment_payload(), webhook_id="wh-early") == "applied"


def test_an_older_delivery_arriving_late_does_not_undo_a_newer_one(store, handler):
    deliver(handler, "orders/create", order_payload(), hours_ago=3)
    deliver(handler, "orders/cancelled", order_payload(cancelled_at="2026-11-29T08:00:00-05:00"), hours_ago=1)
    assert deliver(handler, "orders/updated", order_payload(), hours_ago=2) == "superseded"
    assert _order(store).status == "cancelled"


def test_a_replay_under_a_new_id_cannot_roll_an_order_back(store, handler):
    deliver(handler, "orders/create", order_payload(), hours_ago=2)
    captured = signed("orders/create", {**order_payload(), "updated_at": shop_time(NOW - dt.timedelta(hours=2))},
                      triggered_at=_at(2))
    deliver(handler, "orders/cancelled", order_payload(cancelled_at="2026-11-29T08:00:00-05:00"), hours_ago=1)
    headers, body = captured
    headers.update({"X-Shopify-Webhook-Id": "forged-id", "X-Shopify-Triggered-At": _at(0)})
    assert handler.handle(handler.read(headers, body)) == "superseded"
    assert _order(store).status == "cancelled"


def _ids(store):
    with store.session() as s:
        return set(s.execute(select(ShopifyWebhookDelivery.webhook_id)).scalars())


def test_delivery_rows_are_forgotten_once_their_change_has_left_the_window(store, handler):
    window_hours = webhooks.FRESHNESS_WINDOW.total_seconds() / 3600
    deliver(handler, "orders/create", order_payload(), webhook_id="wh-old", hours_ago=window_hours - 0.5)
    deliver(handler, "orders/updated", order_payload(note="gift"), webhook_id="wh-new", hours_ago=1)
    assert _ids(store) == {"wh-old", "wh-new"}
    later = NOW + dt.timedelta(hours=1)
    moved = ShopifyWebhooks(store, handler.settings, clock=lambda: later)
    assert deliver(moved, "orders/create", order_payload(name="#5302"), webhook_id="wh-next") == "applied"
    assert _ids(store) == {"wh-new", "wh-next"}  # wh-old changed more than the window ago


def test_after_pruning_no_replay_rolls_an_order_back(store, handler):
    """The forgotten delivery is stale by its signed time; the kept one still supersedes."""
    window_hours = webhooks.FRESHNESS_WINDOW.total_seconds() / 3600
    oldest = signed("orders/create", {**order_payload(), "updated_at": shop_time(NOW - dt.timedelta(hours=window_hours - 0.5))},
                    triggered_at=_at(window_hours - 0.5))
    handler.handle(handler.read(*oldest))
    middle = signed("orders/updated", {**order_payload(), "updated_at": shop_time(NOW - dt.timedelta(hours=2))},
                    triggered_at=_at(2))
    handler.handle(handler.read(*middle))
    deliver(handler, "orders/cancelled", order_payload(cancelled_at="2026-11-29T08:00:00-05:00"), hours_ago=1)
    later = NOW + dt.timedelta(hours=1)
    moved = ShopifyWebhooks(store, handler.settings, clock=lambda: later)
    for headers, body in (oldest, middle):
        headers.update({"X-Shopify-Webhook-Id": f"forged-{len(body)}-{headers['X-Shopify-Topic']}",
                        "X-Shopify-Triggered-At": shopify_time(later.replace(tzinfo=dt.timezone.utc))})
    with pytest.raises(DeliveryRefused) as stale:
        moved.read(*oldest)
    assert stale.value.status == 401
    assert moved.handle(moved.read(*middle)) == "superseded"
    assert _order(store).status == "cancelled"


def test_an_order_tinsel_cannot_keep_is_acknowledged_with_its_reason(store, handler):
    payload = order_payload(line_items=[{"title": "Gift wrap", "quantity": 1, "price": "4.99", "sku": None}])
    outcome = deliver(handler, "orders/create", payload, webhook_id="wh-bad")
    assert outcome.startswith("refused:") and "no SKU" in outcome
    assert _order(store) is None and _count(store, Customer) == 0
    assert deliver(handler, "orders/create", payload, webhook_id="wh-bad") == "duplicate"


def test_a_crash_before_commit_leaves_neither_the_order_nor_the_delivery(store, handler, monkeypatch):
    def crash(*_args):
        raise RuntimeError("power cut")

    monkeypatch.setattr(ShopifyWebhooks, "_row", crash)
    with pytest.raises(RuntimeError):
        deliver(handler, "orders/create", order_payload(), webhook_id="wh-crash")
    assert _order(store) is None and _count(store, Product) == 0
    monkeypatch.undo()
    assert deliver(handler, "orders/create", order_payload(), webhook_id="wh-crash") == "applied"


def test_an_unknown_topic_is_acknowledged_and_ignored(store, handler):
    assert deliver(handler, "products/update", {"id": 1, "title": "Mug"}) == "ignored: unknown topic"
    assert _count(store, Product) == 0 and _count(store, ShopifyWebhookDelivery) == 1


def test_customers_redact_forgets_the_shopper(store, handler):
    deliver(handler, "orders/create", order_payload())
    request = {"shop_id": 1, "shop_domain": "tinsel-test.myshopify.com",
               "customer": {"id": 207119551, "email": SHOPPER_EMAIL}, "orders_to_redact": [450789469]}
    assert deliver(handler, "customers/redact", request).startswith("forgot customer #")
    order = _order(store)
    assert "ada" not in order.customer.email.lower() and "Ada" not in order.customer.name
    assert order.items  # the books stay


def test_a_data_request_is_kept_for_the_operator_and_never_printed(store, handler, capsys, caplog):
    deliver(handler, "orders/create", order_payload())
    request = {"shop_id": 1, "customer": {"id": 207119551, "email": SHOPPER_EMAIL},
               "orders_requested": [450789469], "data_request": {"id": 9999}}
    with caplog.at_level(logging.INFO):
        assert deliver(handler, "customers/data_request", request) == "exported"
    path = handler.export_dir / "data-request-9999.json"
    exported = json.loads(path.read_text())
    assert exported["customer"]["email"] == "ada.lovelace@example.com"
    assert [o["number"] for o in exported["orders"]] == ["5301"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert str(path) in caplog.text and "ada" not in caplog.text.lower()
    assert "ada" not in "".join(capsys.readouterr()).lower()


def test_shop_redact_forgets_every_shopper_and_keeps_the_books(store, handler):
    deliver(handler, "orders/create", order_payload())
    other = order_payload("#5302", email="grace@example.com", customer={"email": "grace@example.com"})
    deliver(handler, "orders/create", other)
    assert deliver(handler, "shop/redact", {"shop_id": 1, "shop_domain": "tinsel-test.myshopify.com"}) == (
        "forgot 2 customers")
    with store.session() as s:
        emails = list(s.execute(select(Customer.email)).scalars())
    assert len(emails) == 2 and not any("example.com" in e for e in emails)
    assert _count(store, Order) == 2
