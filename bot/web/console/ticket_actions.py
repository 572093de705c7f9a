"""What the buttons on a ticket page do (POST /tickets/<id>/<action>), one entry in ACTIONS an
action: claim, reply, assign, label/unlabel, the refund decisions approve and deny, forward, resolve,
send-again, goodwill. Each
returns the desk's Outcome, shown on the ticket page, or a refusal page."""
from __future__ import annotations

from decimal import Decimal
from typing import Awaitable, Callable

from sanic import response
from sanic.request import RequestParameters

from bot.money import goodwill
from bot.policies import format_money
from bot.support import accounts as agents, desk as agent_desk
from bot.web.console.context import ConsoleContext

TicketAction = Callable[
    [ConsoleContext, agents.Agent, int, RequestParameters],
    Awaitable["agent_desk.Outcome | response.HTTPResponse"],
]


async def claim(
    console: ConsoleContext, agent: agents.Agent, ticket_id: int, form: RequestParameters
) -> agent_desk.Outcome:
    return await console.blocking(agent_desk.claim, console.store, ticket_id, agent.username, console.settings)


async def approve(
    console: ConsoleContext, agent: agents.Agent, ticket_id: int, form: RequestParameters
) -> agent_desk.Outcome | response.HTTPResponse:
    """Within the account's own limit, read from the database at every decision: an account
    that may no longer approve refunds is refused outright."""
    limit: Decimal | None = await console.reading(agents.refund_limit_of, agent.account_id)
    if limit is None:
        return console.pages.refused(403, "Your account can no longer approve refunds.", agent=agent)
    return await console.blocking(agent_desk.approve, console.store, ticket_id, agent.username, limit, console.settings)


async def send_again(
    console: ConsoleContext, agent: agents.Agent, ticket_id: int, form: RequestParameters
) -> agent_desk.Outcome:
    """Tells the shopper a decision again, after Rasa was down when it was made."""
    return await console.blocking(agent_desk.send_again, console.store, ticket_id, console.settings)


async def grant_goodwill(
    console: ConsoleContext, agent: agents.Agent, ticket_id: int, form: RequestParameters
) -> agent_desk.Outcome:
    """A goodwill gesture for the ticket's incident, within the account's role's limit (issue #18)."""
    kind, value = form.get("kind") or "", goodwill.parse_value(form.get("value"))
    if kind not in goodwill.KINDS or value is None:
        return agent_desk.Outcome(False, "Choose a gesture and a positive amount.", kind="empty")
    result = await console.writing(goodwill.grant_for_ticket, ticket_id, agent.account_id, kind, value,
                                   console.settings, console.settings.now())
    if result.status == "over_limit":
        return agent_desk.Outcome(False, f"{format_money(value)} is over your goodwill limit "
                                         f"({format_money(result.limit)}): ask a supervisor.", kind="over_limit")
    if result.status == "no_incident":
        return agent_desk.Outcome(False, "This ticket has no customer to make it up to.", kind="not_found")
    gesture = result.gesture
    said = "already given" if result.status == "already_granted" else "given"
    return agent_desk.Outcome(result.status == "granted", f"Goodwill {said}: {gesture.kind.replace('_', ' ')} "
                              f"worth {format_money(gesture.value)}, code {gesture.code}, by {gesture.granted_by}.",
                              kind=result.status)


async def reply(
    console: ConsoleContext, agent: agents.Agent, ticket_id: int, form: RequestParameters
) -> agent_desk.Outcome:
    """The agent's words, maybe begun from a canned reply (counted once sent)."""
    canned = form.get("canned_reply_id") or ""
    return await console.blocking(agent_desk.reply, console.store, ticket_id, agent.username, form.get("text") or "",
                                  console.settings, int(canned) if canned.isdigit() else None)


async def assign(
    console: ConsoleContext, agent: agents.Agent, ticket_id: int, form: RequestParameters
) -> agent_desk.Outcome:
    """To oneself or a colleague (an active account); taking it from someone is audited."""
    to = (form.get("to") or agent.username).strip().lower()
    return await console.writing(agent_desk.assign, ticket_id, to, agent.username, console.settings)


async def label(
    console: ConsoleContext, agent: agents.Agent, ticket_id: int, form: RequestParameters
) -> agent_desk.Outcome:
    return await console.writing(agent_desk.label, ticket_id, form.get("label") or "", agent.username,
                                 console.settings)


async def unlabel(
    console: ConsoleContext, agent: agents.Agent, ticket_id: int, form: RequestParameters
) -> agent_desk.Outcome:
    return await console.writing(agent_desk.unlabel, ticket_id, form.get("label") or "", agent.username,
                                 console.settings)


def written(desk_action: Callable[..., agent_desk.Outcome], field: str) -> TicketAction:
    """An action that passes on what the agent typed in the form's `field` (a reply or a note)."""

    async def act(
        console: ConsoleContext, agent: agents.Agent, ticket_id: int, form: RequestParameters
    ) -> agent_desk.Outcome:
        text = form.get(field) or ""
        return await console.blocking(desk_action, console.store, ticket_id, agent.username, text, console.settings)

    return act


ACTIONS: dict[str, TicketAction] = {
    "claim": claim,
    "reply": reply,
    "assign": assign,
    "label": label,
    "unlabel": unlabel,
    "approve": approve,
    "deny": written(agent_desk.deny, "note"),
    "forward": written(agent_desk.forward, "note"),
    "resolve": written(agent_desk.resolve, "note"),
    "send-again": send_again,
    "goodwill": grant_goodwill,
}
