"""How the console draws its pages: Jinja2 templates with autoescaping, the cookies it sets and
the security headers every response carries."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from sanic import Sanic, response
from sanic.request import Request

from bot.support import accounts as agents, desk as agent_desk

TEMPLATES = Path(__file__).parent / "templates"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def console_templates() -> jinja2.Environment:
    """Escapes every value put into a page and refuses to render a value that is missing."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    env.filters["money"] = agent_desk.money
    env.filters["words"] = lambda text: (text or "").replace("_", " ")
    env.filters["stamp"] = lambda at: f"{at:%Y-%m-%d %H:%M}" if at else ""
    return env


class Pages:
    """Renders the console's templates; `agent` and `banner` are None unless a route gives them."""

    def __init__(self, templates: jinja2.Environment | None = None):
        self.templates = templates or console_templates()

    def render(self, template: str, status: int = 200, **values: Any) -> response.HTTPResponse:
        values.setdefault("agent", None)
        values.setdefault("banner", None)
        return response.html(self.templates.get_template(template).render(**values), status=status)

    def refused(self, status: int, reason: str, agent: agents.Agent | None = None) -> response.HTTPResponse:
        """The page that says why nothing was done."""
        return self.render("refused.html", status, agent=agent, reason=reason)


def set_cookie(resp: response.HTTPResponse, name: str, value: str, path: str, seconds: int) -> None:
    """A cookie scripts cannot read and other sites cannot send."""
    resp.cookies[name] = value
    cookie = resp.cookies[name]
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["path"] = path
    cookie["max-age"] = seconds


def add_security_headers(app: Sanic) -> None:
    """Every response, refusals and redirects too, forbids framing, sniffing and outside scripts."""

    @app.middleware("response")
    async def security_headers(request: Request, resp: response.HTTPResponse) -> None:
        for header, value in SECURITY_HEADERS.items():
            resp.headers.setdefault(header, value)
