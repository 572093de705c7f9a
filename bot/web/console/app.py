"""App factory and routes of the agents' console.

Every page needs a login: a GET without one is sent to /login, a POST without one (or
without the session's CSRF token) is refused with 403 and changes nothing. Database and
Rasa calls are blocking, so they run in a worker thread and one slow Rasa never freezes the
console for the other agents.
"""
from __future__ import annotations

import asyncio
import functools
import hmac
import secrets
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import jinja2
from sanic import Sanic, response
from sanic.request import Request

from bot.settings import Settings, get_settings
from bot.store.engine import Store, get_store
from bot.support import accounts as agents, desk as agent_desk

COOKIE = "tinsel_console"
LOGIN_COOKIE = "tinsel_console_login"
TEMPLATES = Path(__file__).parent / "templates"
ACTIONS = ("claim", "reply", "approve", "deny", "forward", "resolve", "send-again")
_STATUS_FOR = {"not_found": 404, "empty": 400, "too_long": 400, "no_note": 400, "no_refund": 409}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    env.filters["money"] = agent_desk.money
    env.filters["words"] = lambda text: (text or "").replace("_", " ")
    env.filters["stamp"] = lambda at: f"{at:%Y-%m-%d %H:%M}" if at else ""
    return env


def create_app(store: Store | None = None, settings: Settings | None = None, name: str | None = None) -> Sanic:
    store = store or get_store()
    settings = settings or get_settings()
    app = Sanic(name or f"tinsel_console_{uuid.uuid4().hex[:8]}", configure_logging=False)
    templates = _templates()

    async def blocking(fn: Callable, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, functools.partial(fn, *args))

    def page(template: str, status: int = 200, **values: Any) -> response.HTTPResponse:
        values.setdefault("agent", None)
        values.setdefault("banner", None)
        return response.html(templates.get_template(template).render(**values), status=status)

    async def current_agent(request: Request) -> agents.Agent | None:
        return await blocking(agents.agent_for_token, store, request.cookies.get(COOKIE))

    def viewer(handler):
        """GET pages: the logged-in agent or a redirect to the login page."""

        @functools.wraps(handler)
        async def wrapped(request: Request, *args, **kwargs):
            agent = await current_agent(request)
            if agent is None:
                return response.redirect("/login", status=303)
            return await handler(request, agent, *args, **kwargs)

        return wrapped

    def actor(handler):
        """POST actions: a logged-in agent whose form carries the session's CSRF token."""

        @functools.wraps(handler)
        async def wrapped(request: Request, *args, **kwargs):
            agent = await current_agent(request)
            if agent is None:
                return page("refused.html", 403, reason="Log in first.")
            if not agents.csrf_matches(agent, request.form.get("csrf")):
                return page("refused.html", 403, agent=agent,
                            reason="This form has expired. Go back, reload the page and try again.")
            return await handler(request, agent, *args, **kwargs)

        return wrapped

    @app.middleware("response")
    async def security_headers(request: Request, resp: response.HTTPResponse) -> None:
        for header, value in SECURITY_HEADERS.items():
            resp.headers.setdefault(header, value)

    def set_cookie(resp: response.HTTPResponse, name: str, value: str, path: str, seconds: int) -> None:
        resp.cookies[name] = value
        cookie = resp.cookies[name]
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["path"] = path
        cookie["max-age"] = seconds

    def login_page(status: int = 200, username: str = "", error: str | None = None) -> response.HTTPResponse:
        """The login form, with a fresh token that must come back in the cookie and the form
        alike (no session yet to hang a CSRF token on)."""
        token = secrets.token_urlsafe(32)
        resp = page("login.html", status, username=username, error=error, login_token=token)
        set_cookie(resp, LOGIN_COOKIE, token, "/login", 3600)
        return resp

    @app.get("/login")
    async def login_form(request: Request):
        if await current_agent(request) is not None:
            return response.redirect("/", status=303)
        return login_page()

    @app.post("/login")
    async def login(request: Request):
        username = (request.form.get("username") or "").strip()
        expected = request.cookies.get(LOGIN_COOKIE) or ""
        submitted = request.form.get("login_token") or ""
        if not expected or not hmac.compare_digest(expected.encode(), submitted.encode()):
            return login_page(403, username, "The login form expired; please log in again.")
        password = request.form.get("password") or ""
        session = await blocking(agents.log_in, store, username, password, settings)
        if session is None:
            return login_page(401, username, "Wrong username or password.")
        resp = response.redirect("/", status=303)
        set_cookie(resp, COOKIE, session.token, "/", settings.console_session_minutes * 60)
        return resp

    @app.post("/logout")
    @actor
    async def logout(request: Request, agent: agents.Agent):
        await blocking(agents.log_out, store, agent, settings)
        resp = response.redirect("/login", status=303)
        del resp.cookies[COOKIE]
        return resp

    @app.get("/")
    @viewer
    async def queue(request: Request, agent: agents.Agent):
        rows = await blocking(agent_desk.queue, store, settings)
        return page("queue.html", agent=agent, rows=rows)

    async def ticket_page(agent: agents.Agent, ticket_id: int, outcome: agent_desk.Outcome | None = None):
        detail = await blocking(agent_desk.ticket_detail, store, ticket_id, settings)
        if detail is None:
            return page("refused.html", 404, agent=agent, reason=f"No ticket #{ticket_id}.")
        limit = await blocking(agents.refund_limit_of, store, agent.account_id)
        status = 200 if outcome is None or outcome.ok else _STATUS_FOR.get(outcome.kind, 409)
        return page("ticket.html", status, agent=agent, t=detail, limit=limit, banner=outcome)

    @app.get("/tickets/<ticket_id:int>")
    @viewer
    async def ticket(request: Request, agent: agents.Agent, ticket_id: int):
        return await ticket_page(agent, ticket_id)

    @app.post("/tickets/<ticket_id:int>/<action:str>")
    @actor
    async def act(request: Request, agent: agents.Agent, ticket_id: int, action: str):
        if action not in ACTIONS:
            return page("refused.html", 404, agent=agent, reason=f"Unknown action {action!r}.")
        form = request.form
        who = agent.username
        if action == "claim":
            outcome = await blocking(agent_desk.claim, store, ticket_id, who, settings)
        elif action == "reply":
            outcome = await blocking(agent_desk.reply, store, ticket_id, who, form.get("text") or "", settings)
        elif action == "approve":
            limit: Decimal | None = await blocking(agents.refund_limit_of, store, agent.account_id)
            if limit is None:
                return page("refused.html", 403, agent=agent, reason="Your account can no longer approve refunds.")
            outcome = await blocking(agent_desk.approve, store, ticket_id, who, limit, settings)
        elif action == "deny":
            outcome = await blocking(agent_desk.deny, store, ticket_id, who, form.get("note") or "", settings)
        elif action == "forward":
            outcome = await blocking(agent_desk.forward, store, ticket_id, who, form.get("note") or "", settings)
        elif action == "resolve":
            outcome = await blocking(agent_desk.resolve, store, ticket_id, who, form.get("note") or "", settings)
        else:
            outcome = await blocking(agent_desk.send_again, store, ticket_id, settings)
        return await ticket_page(agent, ticket_id, outcome)

    @app.get("/overview")
    @viewer
    async def overview(request: Request, agent: agents.Agent):
        numbers = await blocking(agent_desk.overview, store, settings)
        return page("overview.html", agent=agent, o=numbers)

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
