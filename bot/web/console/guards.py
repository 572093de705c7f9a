"""The console's two guards, one on every route but the login form: a page (GET) needs a
logged-in agent, an action (POST) also needs the session's CSRF token in its form. A request
that fails one is turned away before the route runs, so it changes nothing."""
from __future__ import annotations

import functools
from typing import Callable

from sanic import response
from sanic.request import Request

from bot.support import accounts as agents
from bot.web.console.context import ConsoleContext

# What a guard answers a request it turns away, or None to let it through to the route.
Refusal = Callable[[Request, "agents.Agent | None"], "response.HTTPResponse | None"]


def guarded_by(console: ConsoleContext, refusal: Refusal) -> Callable:
    """A decorator that runs the route with the logged-in agent unless `refusal` answers first."""

    def guard(handler):
        @functools.wraps(handler)
        async def wrapped(request: Request, *args, **kwargs):
            agent = await console.current_agent(request)
            refused = refusal(request, agent)
            if refused is not None:
                return refused
            return await handler(request, agent, *args, **kwargs)

        return wrapped

    return guard


def viewer(console: ConsoleContext) -> Callable:
    """GET pages: the logged-in agent or a redirect to the login page."""

    def refusal(request: Request, agent: agents.Agent | None) -> response.HTTPResponse | None:
        return response.redirect("/login", status=303) if agent is None else None

    return guarded_by(console, refusal)


def actor(console: ConsoleContext) -> Callable:
    """POST actions: a logged-in agent whose form carries the session's CSRF token."""

    def refusal(request: Request, agent: agents.Agent | None) -> response.HTTPResponse | None:
        if agent is None:
            return console.pages.refused(403, "Log in first.")
        if not agents.csrf_matches(agent, request.form.get("csrf")):
            return console.pages.refused(
                403, "This form has expired. Go back, reload the page and try again.", agent=agent
            )
        return None

    return guarded_by(console, refusal)
