"""The queue of open tickets (/), one ticket (/tickets/<id>) and the actions posted from its
page (/tickets/<id>/<action>, listed in ticket_actions.py)."""
from __future__ import annotations

from sanic import Sanic, response
from sanic.request import Request

from bot.money import goodwill
from bot.support import accounts as agents, canned_replies, desk as agent_desk, labels
from bot.web.console.context import ConsoleContext
from bot.web.console.guards import actor, viewer
from bot.web.console.ticket_actions import ACTIONS

# The HTTP status of a ticket page shown after an action that failed, by the Outcome's kind.
STATUS_FOR_FAILURE = {"not_found": 404, "empty": 400, "too_long": 400, "no_note": 400, "no_refund": 409,
                      "invalid": 400, "absent": 404}


async def ticket_page(
    console: ConsoleContext, agent: agents.Agent, ticket_id: int, outcome: agent_desk.Outcome | None = None,
    canned_reply_id: int | None = None,
) -> response.HTTPResponse:
    """The ticket with the agent's own refund limit, what the last action did, if any, and the
    reply box filled from a canned reply when one was chosen."""
    detail = await console.blocking(agent_desk.ticket_detail, console.store, ticket_id, console.settings)
    draft = None
    if canned_reply_id is not None:
        draft = await console.reading(canned_replies.filled, canned_reply_id, ticket_id, console.settings)
    if detail is None:
        return console.pages.refused(404, f"No ticket #{ticket_id}.", agent=agent)
    limit = await console.reading(agents.refund_limit_of, agent.account_id)
    given = await console.reading(goodwill.given_on_ticket, ticket_id, console.settings)
    goodwill_limit = goodwill.limits(console.settings)["supervisor" if agent.role == "supervisor" else "agent"]
    status = 200 if outcome is None or outcome.ok else STATUS_FOR_FAILURE.get(outcome.kind, 409)
    return console.pages.render("ticket.html", status, agent=agent, t=detail, limit=limit, banner=outcome,
                                goodwill_given=given, goodwill_limit=goodwill_limit, goodwill_kinds=goodwill.KINDS,
                                draft=draft, suggested_labels=labels.SUGGESTED)


def register_ticket_routes(app: Sanic, console: ConsoleContext) -> None:
    @app.get("/")
    @viewer(console)
    async def queue(request: Request, agent: agents.Agent):
        shown = await console.blocking(agent_desk.queue, console.store, console.settings, request.args.get("label"))
        return console.pages.render("queue.html", agent=agent, q=shown)

    @app.get("/tickets/<ticket_id:int>")
    @viewer(console)
    async def ticket(request: Request, agent: agents.Agent, ticket_id: int):
        canned = request.args.get("canned") or ""
        return await ticket_page(console, agent, ticket_id, canned_reply_id=int(canned) if canned.isdigit() else None)

    @app.post("/tickets/<ticket_id:int>/<action:str>")
    @actor(console)
    async def act(request: Request, agent: agents.Agent, ticket_id: int, action: str):
        if action not in ACTIONS:
            return console.pages.refused(404, f"Unknown action {action!r}.", agent=agent)
        result = await ACTIONS[action](console, agent, ticket_id, request.form)
        if isinstance(result, response.HTTPResponse):
            return result
        return await ticket_page(console, agent, ticket_id, result)
