"""CSAT (/csat, issue #18): shoppers' ratings by day, by agent, and bot-only vs handed off."""
from __future__ import annotations

from sanic import Sanic
from sanic.request import Request

from bot.support import accounts as agents, csat
from bot.web.console.context import ConsoleContext
from bot.web.console.guards import viewer


def register_csat_routes(app: Sanic, console: ConsoleContext) -> None:
    @app.get("/csat")
    @viewer(console)
    async def csat_page(request: Request, agent: agents.Agent):
        figures = await console.reading(csat.report)
        return console.pages.render("csat.html", agent=agent, r=figures)
