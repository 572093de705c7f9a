"""The overview (/overview): open tickets, tickets by reason, and how many conversations ended without a human."""
from __future__ import annotations

from sanic import Sanic
from sanic.request import Request

from bot.support import accounts as agents, desk as agent_desk
from bot.web.console.context import ConsoleContext
from bot.web.console.guards import viewer


def register_overview_routes(app: Sanic, console: ConsoleContext) -> None:
    @app.get("/overview")
    @viewer(console)
    async def overview(request: Request, agent: agents.Agent):
        numbers = await console.blocking(agent_desk.overview, console.store, console.settings)
        return console.pages.render("overview.html", agent=agent, o=numbers)
