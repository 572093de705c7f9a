"""`python -m bot handoffs [list | show N | resolve N]`: the agents' queue in a terminal.

    list        open tickets, oldest first: waiting time, reason, amount, channel
    show N      one ticket: summary, the conversation before the handoff and what the
                shopper wrote since (from Rasa's tracker store)
    resolve N   close it (--note) and give the conversation back to the bot; refused while
                the ticket's refund is still pending
    approve N   approve the ticket's refund within the --agent account's own refund limit
    deny N      deny the ticket's refund (--note says why; the shopper is told it)

resolve/approve/deny act as `--agent NAME`, a console account that must exist and be active
(`python -m bot agents add`); its refund limit is read from the database, and the audit log
names it.

approve/deny/resolve share bot/support/desk.py with the web console (`python -m bot console`).
"""
from __future__ import annotations

import sys
from typing import TextIO

from bot.settings import Settings, get_settings
from bot.store.engine import Store, get_store
from bot.support import accounts as agents, desk as agent_desk


def _list(store: Store, settings: Settings, out: TextIO) -> int:
    rows = agent_desk.queue(store, settings)
    if not rows:
        print("No open tickets.", file=out)
        return 0
    print(f"{'#':>5}  {'waiting':>10}  {'reason':<20} {'amount':>10}  {'channel':<12} conversation", file=out)
    for row in rows:
        amount = f"{row.amount:.2f}" if row.amount is not None else "-"
        flag = " OVERDUE" if row.overdue else " (after hours)" if row.after_hours else ""
        print(
            f"{row.ticket_id:>5}  {row.waiting:>10}  {row.reason:<20} {amount:>10}  "
            f"{row.channel:<12} {row.conversation_id}{flag}",
            file=out,
        )
    return 0


def _show(store: Store, ticket_id: int, settings: Settings, out: TextIO) -> int:
    t = agent_desk.ticket_detail(store, ticket_id, settings)
    if t is None:
        print(f"No ticket #{ticket_id}.", file=out)
        return 1
    print(f"Ticket #{t.ticket_id} [{t.status}] {t.reason}, opened {t.created_at:%Y-%m-%d %H:%M}", file=out)
    print(f"Conversation: {t.conversation_id} ({t.channel})", file=out)
    if t.customer is not None:
        print(f"Customer: {t.customer['name']} <{t.customer['email']}>", file=out)
    if t.order is not None:
        print(f"Order: {t.order['number']} ({t.order['status']}), paid {t.order['total']:.2f}", file=out)
    if t.refund is not None:
        r = t.refund
        print(f"Refund #{r['id']}: {r['amount']:.2f} {r['status']}, needs {r['required_level']} ({r['reason']})",
              file=out)
    elif t.amount is not None:
        print(f"Amount: {t.amount:.2f}", file=out)
    if t.resolved_at is not None:
        print(f"Resolved {t.resolved_at:%Y-%m-%d %H:%M} by {t.assigned_to}", file=out)
    print("", file=out)
    print("Summary:", file=out)
    print(f"  {t.summary or '-'}", file=out)
    print("", file=out)
    print("Conversation before the handoff:", file=out)
    for message in t.snapshot:
        print(f"  {message.get('who', '?')}: {message.get('text', '')}", file=out)
    # While the ticket is open, what follows Rasa's pause event is what the shopper wrote to us.
    print("", file=out)
    print("Since the handoff:", file=out)
    if not t.since_handoff:
        print("  (nothing yet)" if t.is_open else "  (ticket closed)", file=out)
    for message in t.since_handoff:
        stamp = f"{message['at']:%H:%M} " if message['at'] else ""
        print(f"  {stamp}{message['who']}: {message['text']}", file=out)
    for notice in t.undelivered:
        print(f"Not told to the shopper yet: {notice['kind']} ({notice['actor']})", file=out)
    return 0


def _resolve(store: Store, ticket_id: int, agent: str, note: str, settings: Settings, out: TextIO) -> int:
    outcome = agent_desk.resolve(store, ticket_id, agent, note, settings)
    print(outcome.message, file=out)
    return 0 if outcome.ok else 1


def _review(
    store: Store, ticket_id: int, action: str, account: agents.Named, note: str, settings: Settings, out: TextIO
) -> int:
    """approve / deny with the same rules, audit entries and message to the shopper as the console,
    within the account's own limit."""
    if action == "approve":
        outcome = agent_desk.approve(store, ticket_id, account.username, account.refund_limit, settings)
    else:
        outcome = agent_desk.deny(store, ticket_id, account.username, note, settings)
    print(outcome.message, file=out)
    if outcome.kind == "needs_supervisor":
        print("A supervisor approves it with --agent SUPERVISOR_ACCOUNT.", file=out)
    if outcome.kind == "decided":
        print(f"Hand the conversation back with: python -m bot handoffs resolve {ticket_id}", file=out)
    return 0 if outcome.ok or outcome.kind == "already_decided" else 1


def handoffs_command(
    action: str,
    ticket: int | None,
    agent: str | None = None,
    note: str = "",
    store: Store | None = None,
    settings: Settings | None = None,
    out: TextIO | None = None,
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
        with store.reading() as session:
            account = agents.active_account(session, agent or "")
        if account is None:
            print(f"No active console account called {agent!r}: act as your own with --agent NAME "
                  "(python -m bot agents add NAME creates one). Nothing was changed.", file=out)
            return 1
        if action == "resolve":
            return _resolve(store, ticket, account.username, note, settings, out)
        return _review(store, ticket, action, account, note, settings, out)
    print(f"Unknown action {action!r}: use list, show N, resolve N, approve N or deny N.", file=out)
    return 2
