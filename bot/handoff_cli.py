"""`python -m bot handoffs [list | show N | resolve N]`: the agents' queue in a terminal.

    list        open tickets, oldest first: waiting time, reason, amount, channel
    show N      one ticket: summary, the conversation before the handoff and what the
                shopper wrote since (from Rasa's tracker store)
    resolve N   close it (--agent, --note) and give the conversation back to the bot
    approve N   approve the ticket's refund within the --level's ladder limit (agent/supervisor)
    deny N      deny the ticket's refund (--note says why)
"""
from __future__ import annotations

import sys
from typing import TextIO

from bot import handoff, rasa_api, refund_ladder, refunds
from bot.models import HandoffTicket
from bot.settings import Settings, get_settings
from bot.store import Store, get_store


def _waiting(ticket: HandoffTicket, settings: Settings) -> str:
    minutes = max(0, int((settings.now() - ticket.created_at).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours < 24 else f"{hours // 24} d {hours % 24} h"


def _list(store: Store, settings: Settings, out: TextIO) -> int:
    with store.session() as s:
        tickets = handoff.open_tickets(s)
        if not tickets:
            print("No open tickets.", file=out)
            return 0
        print(f"{'#':>5}  {'waiting':>10}  {'reason':<20} {'amount':>10}  {'channel':<12} conversation", file=out)
        for t in tickets:
            amount = f"{t.amount:.2f}" if t.amount is not None else "-"
            print(
                f"{t.id:>5}  {_waiting(t, settings):>10}  {t.reason:<20} {amount:>10}  "
                f"{t.channel:<12} {t.conversation_id}",
                file=out,
            )
    return 0


def _show(store: Store, ticket_id: int, settings: Settings, out: TextIO) -> int:
    with store.session() as s:
        ticket = s.get(HandoffTicket, ticket_id)
        if ticket is None:
            print(f"No ticket #{ticket_id}.", file=out)
            return 1
        print(f"Ticket #{ticket.id} [{ticket.status}] {ticket.reason}, opened {ticket.created_at:%Y-%m-%d %H:%M}", file=out)
        print(f"Conversation: {ticket.conversation_id} ({ticket.channel})", file=out)
        if ticket.customer is not None:
            print(f"Customer: {ticket.customer.name} <{ticket.customer.email}>", file=out)
        if ticket.order is not None:
            print(f"Order: {ticket.order.number} ({ticket.order.status}), paid {ticket.order.total_paid:.2f}", file=out)
        if ticket.refund is not None:
            r = ticket.refund
            print(f"Refund #{r.id}: {r.amount:.2f} {r.status}, needs {r.required_level} ({r.reason})", file=out)
        elif ticket.amount is not None:
            print(f"Amount: {ticket.amount:.2f}", file=out)
        if ticket.resolved_at is not None:
            print(f"Resolved {ticket.resolved_at:%Y-%m-%d %H:%M} by {ticket.assigned_to}", file=out)
        print("", file=out)
        print("Summary:", file=out)
        print(f"  {ticket.summary or '-'}", file=out)
        print("", file=out)
        print("Conversation before the handoff:", file=out)
        for message in handoff.transcript_of(ticket):
            print(f"  {message.get('who', '?')}: {message.get('text', '')}", file=out)
        conversation_id, still_open = ticket.conversation_id, ticket.open_marker == 1
    # While the ticket is open, what follows Rasa's pause event is what the shopper wrote to us.
    since = rasa_api.read_transcript(store, conversation_id, after_pause=True) if still_open else []
    print("", file=out)
    print("Since the handoff:", file=out)
    if not since:
        print("  (nothing yet)" if still_open else "  (ticket closed)", file=out)
    for message in since:
        stamp = f"{message['at']:%H:%M} " if message['at'] else ""
        print(f"  {stamp}{message['who']}: {message['text']}", file=out)
    return 0


def _resolve(store: Store, ticket_id: int, agent: str, note: str, settings: Settings, out: TextIO) -> int:
    result = handoff.resolve(store, ticket_id, agent, note, settings=settings)
    if not result.found:
        print(f"No ticket #{ticket_id}.", file=out)
        return 1
    if result.already_resolved:
        print(f"Ticket #{ticket_id} was already resolved.", file=out)
        return 0
    print(f"Ticket #{ticket_id} resolved by {agent}.", file=out)
    if result.resumed:
        print(f"Conversation {result.conversation_id} handed back to the bot.", file=out)
    else:
        print(
            f"Could not resume conversation {result.conversation_id} in Rasa: {result.rasa_error}\n"
            "The ticket is resolved; resume it later or contact the shopper directly.",
            file=out,
        )
    return 0


def _review(
    store: Store, ticket_id: int, action: str, agent: str, note: str, level: str, settings: Settings, out: TextIO
) -> int:
    with store.session() as s:
        ticket = s.get(HandoffTicket, ticket_id)
        refund_id = ticket.refund_id if ticket is not None else None
    if refund_id is None:
        print(f"Ticket #{ticket_id} has no refund to {action}." if ticket else f"No ticket #{ticket_id}.", file=out)
        return 1
    if action == "approve":
        review = refunds.approve(store, refund_id, agent, refund_ladder.limit_for(level, settings), settings)
    else:
        review = refunds.deny(store, refund_id, agent, note, settings)
    messages = {
        "approved": f"Refund #{refund_id} of {review.amount} approved by {agent}.",
        "denied": f"Refund #{refund_id} of {review.amount} denied by {agent}.",
        "needs_supervisor": f"Refund #{refund_id} of {review.amount} is over the {level} limit: "
        "a supervisor must approve it (--level supervisor).",
        "already_decided": f"Refund #{refund_id} was already {review.status}.",
        "not_found": f"No refund #{refund_id}.",
    }
    print(messages[review.outcome], file=out)
    if review.outcome in ("approved", "denied"):
        print(f"Tell the shopper and hand back with: python -m bot handoffs resolve {ticket_id}", file=out)
    return 0 if review.outcome in ("approved", "denied", "already_decided") else 1


def handoffs_command(
    action: str,
    ticket: int | None,
    agent: str = "agent",
    note: str = "",
    store: Store | None = None,
    settings: Settings | None = None,
    out: TextIO | None = None,
    level: str = "agent",
) -> int:
    """Runs one `handoffs` sub-command; the exit status is 0 on success."""
    store = store or get_store()
    settings = settings or get_settings()
    out = out or sys.stdout
    if action == "list":
        return _list(store, settings, out)
    if action in ("show", "resolve", "approve", "deny"):
        if ticket is None:
            print(f"Which ticket? python -m bot handoffs {action} N", file=out)
            return 2
        if action == "show":
            return _show(store, ticket, settings, out)
        if action == "resolve":
            return _resolve(store, ticket, agent, note, settings, out)
        return _review(store, ticket, action, agent, note, level, settings, out)
    print(f"Unknown action {action!r}: use list, show N, resolve N, approve N or deny N.", file=out)
    return 2
