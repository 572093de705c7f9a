"""Logging in and out: /login (the form and its POST) and /logout."""
from __future__ import annotations

import hmac
import secrets

from sanic import Sanic, response
from sanic.request import Request

from bot.support import accounts as agents
from bot.web.console.context import SESSION_COOKIE, ConsoleContext
from bot.web.console.guards import actor
from bot.web.console.pages import set_cookie

LOGIN_COOKIE = "tinsel_console_login"


def login_page(
    console: ConsoleContext, status: int = 200, username: str = "", error: str | None = None
) -> response.HTTPResponse:
    """The login form, with a fresh token that must come back in the cookie and the form
    alike (no session yet to hang a CSRF token on)."""
    token = secrets.token_urlsafe(32)
    resp = console.pages.render("login.html", status, username=username, error=error, login_token=token)
    set_cookie(resp, LOGIN_COOKIE, token, "/login", 3600)
    return resp


def login_token_matches(request: Request) -> bool:
    """The form posted carries the token its own login page set in the cookie."""
    expected = request.cookies.get(LOGIN_COOKIE) or ""
    submitted = request.form.get("login_token") or ""
    return bool(expected) and hmac.compare_digest(expected.encode(), submitted.encode())


def register_login_routes(app: Sanic, console: ConsoleContext) -> None:
    settings = console.settings

    @app.get("/login")
    async def login_form(request: Request):
        if await console.current_agent(request) is not None:
            return response.redirect("/", status=303)
        return login_page(console)

    @app.post("/login")
    async def login(request: Request):
        username = (request.form.get("username") or "").strip()
        if not login_token_matches(request):
            return login_page(console, 403, username, "The login form expired; please log in again.")
        password = request.form.get("password") or ""
        login = await console.writing(agents.log_in, username, password, settings)
        if login is None:
            return login_page(console, 401, username, "Wrong username or password.")
        resp = response.redirect("/", status=303)
        set_cookie(resp, SESSION_COOKIE, login.token, "/", settings.console_session_minutes * 60)
        return resp

    @app.post("/logout")
    @actor(console)
    async def logout(request: Request, agent: agents.Agent):
        await console.writing(agents.log_out, agent, settings)
        resp = response.redirect("/login", status=303)
        del resp.cookies[SESSION_COOKIE]
        return resp
