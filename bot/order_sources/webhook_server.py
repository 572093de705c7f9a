"""`python -m bot shopify-webhooks`: the HTTP endpoint Shopify delivers webhooks to.

    POST /webhooks/shopify   the topic in X-Shopify-Topic (bot/order_sources/shopify_webhooks.py)
    GET  /health             for process managers and tests

Answers: 200 once handled (also for a repeated delivery id, an unknown topic and data that
cannot be imported, each recorded: Shopify resending them would change nothing); 401 for a
missing or wrong signature and for a stale delivery (X-Shopify-Triggered-At older than
shopify_webhooks.FRESHNESS_WINDOW: a replay, refused like an expired credential); 400 for
missing headers or a body that is not a JSON object; 409 for a fulfillment whose order has not
arrived yet (Shopify retries it); 413 for a body over MAX_BODY_BYTES; 503 while no
SHOPIFY_WEBHOOK_SECRET is configured (logged once; nothing is read or processed).

Checks are cheap and run on the event loop; the database work runs in a worker thread, as the
console's does, so a slow database never stalls the deliveries behind it.
"""
from __future__ import annotations

import asyncio
import logging
import sys
import uuid

from sanic import Sanic, response
from sanic.request import Request

from bot.order_sources.shopify_webhooks import DeliveryRefused, ShopifyWebhooks
from bot.settings import Settings, get_settings
from bot.store.engine import Store, get_store

log = logging.getLogger(__name__)

PATH = "/webhooks/shopify"
MAX_BODY_BYTES = 1_000_000  # Shopify's order payloads are a few tens of kB


def create_app(store: Store | None = None, settings: Settings | None = None, name: str | None = None) -> Sanic:
    store = store or get_store()
    settings = settings or get_settings()
    webhooks = ShopifyWebhooks(store, settings)
    app = Sanic(name or f"tinsel_shopify_webhooks_{uuid.uuid4().hex[:8]}", configure_logging=False)
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    unconfigured_logged = False

    @app.get("/health")
    async def health(_request: Request) -> response.HTTPResponse:
        return response.text("ok")

    @app.post(PATH)
    async def receive(request: Request) -> response.HTTPResponse:
        nonlocal unconfigured_logged
        if not settings.shopify_webhook_secret:
            if not unconfigured_logged:
                log.error("SHOPIFY_WEBHOOK_SECRET is not set: Shopify deliveries are refused with 503")
                unconfigured_logged = True
            return response.text("Shopify webhooks are not configured", status=503)
        try:
            delivery = webhooks.read(request.headers, request.body)
            outcome = await asyncio.get_running_loop().run_in_executor(None, webhooks.handle, delivery)
        except DeliveryRefused as exc:
            log.info("Shopify delivery refused (%s): %s", exc.status, exc.reason)
            return response.text(exc.reason, status=exc.status)
        log.info("Shopify %s delivery %s: %s", delivery.topic, delivery.webhook_id, outcome)
        return response.text(outcome)

    return app


def serve(host: str = "127.0.0.1", port: int | None = None, settings: Settings | None = None) -> int:
    """`python -m bot shopify-webhooks`: serves until Ctrl-C (put it behind the HTTPS proxy
    Shopify delivers to)."""
    settings = settings or get_settings()
    store = get_store()
    store.create_schema()
    port = port or settings.shopify_webhook_port
    app = create_app(store, settings, name="tinsel_shopify_webhooks")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from bot.privacy.log_masking import mask_logs  # after Sanic and basicConfig set up their handlers

    mask_logs()
    if not settings.shopify_webhook_secret:
        print("WARNING: SHOPIFY_WEBHOOK_SECRET is not set in .env: every delivery gets 503.", file=sys.stderr)
    print(f"Shopify webhooks on http://{host}:{port}{PATH}")
    app.run(host=host, port=port, access_log=False, motd=False)
    return 0
