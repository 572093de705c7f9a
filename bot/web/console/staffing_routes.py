"""Staffing (/staffing, issue #19): the season's traffic as charts, the agents the next 7 days need,
and the same figures as CSV (/staffing.csv) for a spreadsheet."""
from __future__ import annotations

from sanic import Sanic, response
from sanic.request import Request

from bot.support import accounts as agents, staffing
from bot.web.console import staffing_charts
from bot.web.console.context import ConsoleContext
from bot.web.console.guards import viewer


def register_staffing_routes(app: Sanic, console: ConsoleContext) -> None:
    @app.get("/staffing")
    @viewer(console)
    async def staffing_page(request: Request, agent: agents.Agent):
        figures = await console.reading(staffing.report, console.settings)
        return console.pages.render("staffing.html", agent=agent, r=figures, charts=staffing_charts.charts(figures),
                                    store_name=console.settings.store_name)

    @app.get("/staffing.csv")
    @viewer(console)
    async def staffing_csv(request: Request, agent: agents.Agent):
        figures = await console.reading(staffing.report, console.settings)
        filename = f"staffing-{console.settings.today().isoformat()}.csv"
        return response.text(staffing.report_csv(figures), content_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{filename}"'})
