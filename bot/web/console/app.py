"""App factory of the agents' console, and `serve` for `python -m bot console`.

Every page needs a login: a GET without one is sent to /login, a POST without one (or
without the session's CSRF token) is refused with 403 and changes nothing (guards.py). Database
and Rasa calls are blocking, so they run in a worker thread and one slow Rasa never freezes the
console for the other agents (context.py). The routes, by what they are for:
login_routes.py (/login, /logout), ticket_routes.py (the queue, a ticket, and the actions in
ticket_actions.py: claim, reply, approve/deny a refund, forward, resolve, send again) and
overview_routes.py (/overview), csat_routes.py (/csat), staffing_routes.py (/staffing and its CSV),
canned_routes.py (/canned, the store's canned replies) and photo_routes.py (/photos/<id>, a shopper's photo).
"""
from __future__ import annotations

import uuid

from sanic import Sanic

from bot.settings import Settings, get_settings
from bot.store.engine import Store, get_store
from bot.web.console.context import ConsoleContext
from bot.web.console.canned_routes import register_canned_routes
from bot.web.console.csat_routes import register_csat_routes
from bot.web.console.login_routes import register_login_routes
from bot.web.console.overview_routes import register_overview_routes
from bot.web.console.pages import Pages, add_security_headers
from bot.web.console.photo_routes import register_photo_routes
from bot.web.console.staffing_routes import register_staffing_routes
from bot.web.console.ticket_routes import register_ticket_routes


def create_app(store: Store | None = None, settings: Settings | None = None, name: str | None = None) -> Sanic:
    """The console on `store` with `settings` (the process's own when not given); `name` must be
    unique in the process (Sanic's app registry), so by default it is random."""
    store = store or get_store()
    settings = settings or get_settings()
    console = ConsoleContext(store, settings, Pages())
    app = Sanic(name or f"tinsel_console_{uuid.uuid4().hex[:8]}", configure_logging=False)
    add_security_headers(app)
    register_login_routes(app, console)
    register_ticket_routes(app, console)
    register_overview_routes(app, console)
    register_csat_routes(app, console)
    register_staffing_routes(app, console)
    register_canned_routes(app, console)
    register_photo_routes(app, console)
    return app


def serve(host: str = "127.0.0.1", port: int | None = None, settings: Settings | None = None) -> int:
    """`python -m bot console`: serves until Ctrl-C."""
    settings = settings or get_settings()
    store = get_store()
    store.create_schema()
    port = port or settings.console_port
    app = create_app(store, settings, name="tinsel_console")
    from bot.privacy.log_masking import mask_logs  # issue #15 (privacy): after Sanic set up its loggers

    mask_logs()
    print(f"Agents' console on http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}")
    app.run(host=host, port=port, access_log=False, motd=False)
    return 0
