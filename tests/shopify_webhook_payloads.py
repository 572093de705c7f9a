"""Shopify webhook deliveries for tests, signed with a test secret the way Shopify's own libraries
test theirs: the test computes the HMAC of the exact bytes it sends.

Payloads follow the REST Admin API's order and fulfillment resources (only the fields Tinsel reads,
plus a few it must ignore)."""
from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from bot.order_sources.shopify_webhooks import signature

TEST_SECRET = "test-shopify-secret-0123456789abcdef"
SHOPPER_EMAIL = "Ada.Lovelace@Example.com"


def shopify_time(at: dt.datetime | None = None) -> str:
    """X-Shopify-Triggered-At as Shopify writes it: UTC, nanoseconds, Z."""
    at = at or dt.datetime.now(dt.timezone.utc)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"


def shop_time(at: dt.datetime | None = None) -> str:
    """A payload timestamp as the REST Admin API writes it: the shop's time with its offset
    (a shop in New York here); `at` is UTC, naive or aware."""
    at = (at or dt.datetime.now(dt.timezone.utc)).replace(tzinfo=dt.timezone.utc, microsecond=0)
    return at.astimezone(dt.timezone(dt.timedelta(hours=-5))).isoformat()


def order_payload(name: str = "#5301", sku: str = "MUG-RED", **changes: Any) -> dict[str, Any]:
    payload = {
        "id": 450789469,
        "name": name,
        "email": SHOPPER_EMAIL,
        "created_at": "2026-11-28T09:50:26-05:00",
        "updated_at": shop_time(),
        "currency": "USD",
        "financial_status": "paid",
        "fulfillment_status": None,
        "cancelled_at": None,
        "customer": {"id": 207119551, "email": SHOPPER_EMAIL, "first_name": "Ada", "last_name": "Lovelace"},
        "billing_address": {"name": "Ada Lovelace", "address1": "12 Analytical Street"},
        "line_items": [
            {"id": 1, "product_id": 632910392, "sku": sku, "title": "Red Mug", "quantity": 2, "price": "12.50"},
            {"id": 2, "product_id": 632910393, "sku": "SCARF-1", "title": "Wool Scarf", "quantity": 1,
             "price": "30.00"},
        ],
        "shipping_lines": [{"title": "Express Shipping", "price": "9.99", "code": "EXPRESS"}],
        "fulfillments": [],
    }
    payload.update(changes)
    return payload


def fulfillment_payload(order_name: str = "#5301", tracking: str = "1Z999AA10123456784", **changes: Any) -> dict:
    payload = {
        "id": 255858046,
        "order_id": 450789469,
        "name": f"{order_name}.1",
        "status": "success",
        "created_at": "2026-11-29T10:00:00-05:00",
        "updated_at": shop_time(),
        "service": "manual",
        "tracking_company": "UPS",
        "tracking_number": tracking,
        "tracking_numbers": [tracking],
        "shipment_status": "in_transit",
        "line_items": [{"id": 1, "sku": "MUG-RED", "quantity": 2}],
    }
    payload.update(changes)
    return payload


def signed(topic: str, payload: Any, secret: str = TEST_SECRET, webhook_id: str | None = None,
           triggered_at: str | None = None) -> tuple[dict[str, str], bytes]:
    """Headers and body of a delivery as Shopify sends it."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": signature(secret, body),
        "X-Shopify-Shop-Domain": "tinsel-test.myshopify.com",
        "X-Shopify-API-Version": "2026-10",
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-Triggered-At": triggered_at or shopify_time(),
    }
    return headers, body
