"""Issue #17: the Shopify webhook endpoint, attacked over HTTP the way a stranger would, while
`python -m bot shopify-webhooks` runs as a real process on a seeded SQLite store. Only a delivery
shopify.signed with the store's secret changes anything, once; everything else is refused and changes
nothing. Deliveries are shopify.signed here with a test secret, as Shopify's libraries test theirs."""
from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import sys
import urllib.error
import urllib.request

import pytest
from sqlalchemy import func, select

from bot.store.models import Customer, Order, ShopifyWebhookDelivery
from tests import shopify_webhook_payloads as shopify
from tests.servers import ServerProcess, free_port, seeded_demo_store

SEEDED_SHOPPER = "liam.carter@example.com"  # the demo store's, with order 104776


class ShopifyWebhookServer(ServerProcess):
    """`python -m bot shopify-webhooks` on the store at `database_url`."""

    name = "Shopify webhook server"

    def __init__(self, database_url: str, log_path, secret: str, export_dir):
        port = free_port()
        env = {**os.environ, "DATABASE_URL": database_url, "SHOPIFY_WEBHOOK_SECRET": secret,
               "SHOPIFY_DATA_REQUEST_DIR": str(export_dir)}
        super().__init__([sys.executable, "-m", "bot", "shopify-webhooks", "--host", "127.0.0.1",
                          "--port", str(port)], port=port, env=env, log_path=log_path)
        self.url = f"{self.base_url}/webhooks/shopify"


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("shopify-webhooks")
    store = seeded_demo_store(workdir / "store.db")
    server = ShopifyWebhookServer(store.url, workdir / "server.log", shopify.TEST_SECRET, workdir / "requests")
    yield server, store
    server.stop()
    store.dispose()


@pytest.fixture(scope="module")
def unconfigured_server(tmp_path_factory, shop):
    workdir = tmp_path_factory.mktemp("shopify-webhooks-unconfigured")
    server = ShopifyWebhookServer(shop[1].url, workdir / "server.log", "", workdir / "requests")
    yield server
    server.stop()


def post(url: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def deliver(server, topic, payload, **signing) -> tuple[int, str]:
    return post(server.url, *shopify.signed(topic, payload, **signing))


def orders_named(store, number: str) -> list[Order]:
    with store.session() as s:
        orders = list(s.execute(select(Order).where(Order.number == number)).scalars())
        for order in orders:
            _ = order.shipment, order.items
        return orders


def deliveries(store) -> int:
    with store.session() as s:
        return s.execute(select(func.count()).select_from(ShopifyWebhookDelivery)).scalar()


def _unsigned(headers, body):
    del headers["X-Shopify-Hmac-Sha256"]
    return headers, body


def _wrong_secret(headers, body):
    return shopify.signed("orders/create", json.loads(body), secret="guessed-secret")


def _changed_after_signing(headers, body):
    return headers, body.replace(b'"#6601"', b'"#6602"')


def _empty_signature(headers, body):
    headers["X-Shopify-Hmac-Sha256"] = ""
    return headers, body


@pytest.mark.parametrize("attack", [_unsigned, _wrong_secret, _changed_after_signing, _empty_signature])
def test_deliveries_not_signed_with_the_secret_are_refused_with_401(shop, attack):
    server, store = shop
    before = deliveries(store)
    delivery = shopify.signed("orders/create", shopify.order_payload("#6601", sku="TEC-SPEAKER"))
    status, _ = post(server.url, *attack(*delivery))
    assert status == 401
    assert not orders_named(store, "6601") and not orders_named(store, "6602")
    assert deliveries(store) == before


def test_a_stale_delivery_is_refused(shop):
    server, store = shop
    long_ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)
    stale = shopify.order_payload("#6603", sku="TEC-SPEAKER", updated_at=shopify.shop_time(long_ago))
    assert deliver(server, "orders/create", stale, triggered_at=shopify.shopify_time(long_ago))[0] == 401
    # the headers are not shopify.signed: fresh ones on an old payload are refused by its shopify.signed updated_at
    assert deliver(server, "orders/create", stale)[0] == 401
    assert not orders_named(store, "6603")


def test_an_oversized_body_is_refused(shop):
    server, store = shop
    padded = shopify.order_payload("#6604", sku="TEC-SPEAKER", note="x" * 2_000_000)
    headers, body = shopify.signed("orders/create", padded)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request("POST", "/webhooks/shopify", body=body, headers=headers)
        status = connection.getresponse().status
    except (ConnectionError, http.client.HTTPException):
        status = None  # the server hung up before reading it all: refused as well
    finally:
        connection.close()
    assert status in (413, None)
    assert not orders_named(store, "6604")


@pytest.mark.parametrize("body", [b"{\"name\": \"#6605\",", b"\"just a string\"", b"\xff\xfe\x00"])
def test_a_signed_body_that_is_not_a_json_object_is_refused_with_400(shop, body):
    server, store = shop
    assert post(server.url, *shopify.signed("orders/create", body))[0] == 400


def test_a_signed_order_then_its_fulfillment_land_and_a_replay_changes_nothing(shop):
    server, store = shop
    captured = shopify.signed("orders/create", shopify.order_payload("#5301", sku="TEC-SPEAKER"))
    assert post(server.url, *captured) == (200, "applied")
    assert deliver(server, "fulfillments/create", shopify.fulfillment_payload("#5301", tracking="1ZTINSEL0001")) == (
        200, "applied")
    [order] = orders_named(store, "5301")
    assert (order.shipment.tracking_number, order.shipment.carrier, order.status) == ("1ZTINSEL0001", "UPS", "shipped")
    items_before, handled = [(i.product_id, i.quantity) for i in order.items], deliveries(store)

    assert post(server.url, *captured) == (200, "duplicate")  # the captured delivery, replayed as is
    [again] = orders_named(store, "5301")
    assert [(i.product_id, i.quantity) for i in again.items] == items_before
    assert again.shipment.tracking_number == "1ZTINSEL0001" and deliveries(store) == handled


def test_a_fulfillment_for_an_order_not_there_yet_asks_for_a_retry(shop):
    server, store = shop
    assert deliver(server, "fulfillments/create", shopify.fulfillment_payload("#6606"))[0] == 409
    assert not orders_named(store, "6606")


def test_customers_redact_erases_the_shopper(shop):
    server, store = shop
    request = {"shop_id": 1, "shop_domain": "tinsel-test.myshopify.com",
               "customer": {"id": 1, "email": SEEDED_SHOPPER}, "orders_to_redact": [104776]}
    status, outcome = deliver(server, "customers/redact", request)
    assert status == 200 and outcome.startswith("forgot customer #")
    with store.session() as s:
        assert s.execute(select(Customer).where(func.lower(Customer.email) == SEEDED_SHOPPER)).first() is None
    [order] = orders_named(store, "104776")
    assert order.items  # the books stay


def test_without_a_secret_nothing_is_processed(shop, unconfigured_server):
    _, store = shop
    payload = shopify.order_payload("#6607", sku="TEC-SPEAKER")
    status, _ = deliver(unconfigured_server, "orders/create", payload, secret="")
    assert status == 503 and not orders_named(store, "6607")


def test_the_log_shows_neither_the_secret_nor_the_shoppers(shop):
    server, _ = shop
    log = server.log_path.read_text()
    assert "applied" in log  # the log is the server's, and it logged the deliveries
    assert shopify.TEST_SECRET not in log and SEEDED_SHOPPER not in log and "ada.lovelace" not in log.lower()
