"""The store's canned replies (/canned, issue #19): every agent reads them and inserts them on a
ticket page; supervisors add, change and remove them (a store's wording is a supervisor's call)."""
from __future__ import annotations

from sanic import Sanic, response
from sanic.request import Request

from bot.support import accounts as agents, canned_replies
from bot.web.console.context import ConsoleContext
from bot.web.console.guards import actor, viewer


async def canned_page(console: ConsoleContext, agent: agents.Agent, banner=None, status: int = 200,
                      draft: dict | None = None) -> response.HTTPResponse:
    replies = await console.reading(canned_replies.active)
    return console.pages.render("canned.html", status, agent=agent, replies=replies, banner=banner,
                                placeholders=canned_replies.PLACEHOLDERS, draft=draft or {})


def register_canned_routes(app: Sanic, console: ConsoleContext) -> None:
    @app.get("/canned")
    @viewer(console)
    async def canned(request: Request, agent: agents.Agent):
        return await canned_page(console, agent)

    @app.post("/canned/save")
    @actor(console)
    async def save(request: Request, agent: agents.Agent):
        if agent.role != "supervisor":
            return console.pages.refused(403, "Only a supervisor changes the store's canned replies.", agent=agent)
        reply_id = request.form.get("id") or ""
        title, body = request.form.get("title") or "", request.form.get("body") or ""
        problems = canned_replies.problems(title.strip(), body.strip())
        if problems:
            return await canned_page(console, agent, Banner(False, " ".join(problems)), 400,
                                     {"title": title, "body": body})
        result = await console.writing(canned_replies.save, int(reply_id) if reply_id.isdigit() else None,
                                       title, body, agent.username, console.settings.now())
        said = {"saved": "Saved.", "duplicate": f"There is already a reply called {title.strip()!r}.",
                "not_found": "That reply is gone.", "invalid": "Check the reply."}[result]
        return await canned_page(console, agent, Banner(result == "saved", said), 200 if result == "saved" else 409)

    @app.post("/canned/<reply_id:int>/remove")
    @actor(console)
    async def remove(request: Request, agent: agents.Agent, reply_id: int):
        if agent.role != "supervisor":
            return console.pages.refused(403, "Only a supervisor changes the store's canned replies.", agent=agent)
        gone = await console.writing(canned_replies.remove, reply_id, agent.username, console.settings.now())
        return await canned_page(console, agent, Banner(gone, "Removed." if gone else "That reply is gone."),
                                 200 if gone else 404)


class Banner:
    """What the last change did, in the shape base.html shows (ok, message, delivered)."""

    def __init__(self, ok: bool, message: str):
        self.ok, self.message, self.delivered = ok, message, None
