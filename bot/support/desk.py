"""What an agent does with a handoff ticket, for the web console and the terminal alike.

Both `python -m bot console` and `python -m bot handoffs ...` call these functions, so a
refund decided in either place goes through the same ladder check, audit entries and
message to the shopper. The database is always updated first; Rasa is told afterwards, and
an unreachable Rasa only changes what the agent is told ("could not be delivered"), never
the decision.
"""
from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.money import audit, refunds
from bot.rasa_link import rasa_api
from bot.settings import Settings
from bot.store.engine import Store
from bot.store.models import AuditEntry, HandoffTicket
from bot.support import (
    accounts, business_hours, canned_replies, handoff, labels as ticket_labels, photos, shopper_notices, wait_targets,
)

MAX_REPLY_LENGTH = 2000


def money(amount: Decimal | None) -> str:
    return "-" if amount is None else f"${amount:,.2f}"


def waiting_minutes(ticket: HandoffTicket, settings: Settings) -> int:
    return max(0, int((settings.now() - ticket.created_at).total_seconds() // 60))


def waiting_text(minutes: int) -> str:
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours < 24 else f"{hours // 24} d {hours % 24} h"


@dataclass(frozen=True)
class Outcome:
    """What an action did, in a sentence for the agent."""

    ok: bool
    message: str
    delivered: bool | None = None  # the shopper got the message (None: nothing to send)
    kind: str = ""  # the specific result, e.g. approved / needs_supervisor / not_found


# ------------------------------------------------------------------------------ reading


@dataclass(frozen=True)
class QueueRow:
    ticket_id: int
    waiting_minutes: int
    waiting: str
    reason: str
    amount: Decimal | None
    channel: str
    conversation_id: str
    status: str
    assigned_to: str | None
    refund_level: str | None  # who must approve the ticket's pending refund
    overdue: bool = False  # no reply within the first-reply target (wait_targets.is_overdue)
    unanswered: str | None = None  # how long the shopper's latest message has waited for an answer
    after_hours: bool = False  # came in while the desk was closed, and it still is
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Queue:
    """The open tickets an agent sees: overdue first, those that came in after hours apart."""

    rows: list[QueueRow]
    after_hours: list[QueueRow]
    labels: list[str]  # every label, for the filter
    label: str | None  # the filter in use
    target_minutes: int
    opens: str | None  # when the desk opens, while it is closed

    def __iter__(self):
        return iter(self.rows + self.after_hours)

    def __len__(self) -> int:
        return len(self.rows) + len(self.after_hours)


def _row(t: HandoffTicket, settings: Settings, desk_open: bool, first_reply: dt.datetime | None,
         last: dict[str, dt.datetime], labels: tuple[str, ...]) -> QueueRow:
    minutes = waiting_minutes(t, settings)
    answerable = wait_targets.answerable_from(t.created_at, settings)
    pending = t.refund is not None and t.refund.status == "pending_review"
    shopper, answered = last.get("shopper"), last.get("bot")
    unanswered = shopper if shopper and (answered is None or shopper > answered) else None
    return QueueRow(
        t.id, minutes, waiting_text(minutes), t.reason, t.amount, t.channel, t.conversation_id, t.status,
        t.assigned_to, t.refund.required_level if pending else None,
        overdue=wait_targets.overdue_since(answerable, first_reply, desk_open, settings),
        unanswered=waiting_text(_minutes_since(unanswered)) if unanswered else None,
        after_hours=first_reply is None and answerable > settings.now(),
        labels=labels,
    )


def _minutes_since(at: dt.datetime) -> int:
    """Minutes from a moment Rasa stamped (the real clock, even when TINSEL_TODAY pins the store's) to now."""
    return max(0, int((dt.datetime.now() - at).total_seconds() // 60))


def queue(store: Store, settings: Settings, label: str | None = None) -> Queue:
    """Open tickets (with `label`, if given): overdue first, longest waiting first; then the rest,
    oldest first; tickets that came in after hours apart until the desk opens."""
    with store.reading() as s:
        tickets = handoff.open_tickets(s)
        ids = [t.id for t in tickets]
        first = wait_targets.first_replies(s, ids)
        last = rasa_api.last_message_times(s, [t.conversation_id for t in tickets])
        labelled = ticket_labels.of_tickets(s, ids)
        desk_open = business_hours.is_open(settings.now(), settings)
        rows = [_row(t, settings, desk_open, first.get(t.id), last.get(t.conversation_id, {}),
                     labelled.get(t.id, ())) for t in tickets]
        every_label = ticket_labels.in_use(s)
    chosen = ticket_labels.normalized(label) if label else None
    rows = [r for r in rows if chosen is None or chosen in r.labels]
    rows.sort(key=lambda r: (not r.overdue, -r.waiting_minutes if r.overdue else r.ticket_id))
    opens = business_hours.next_opening(settings.now(), settings)
    return Queue([r for r in rows if not r.after_hours], [r for r in rows if r.after_hours], every_label, chosen,
                 settings.first_reply_target_minutes, opens.when if opens else None)


@dataclass(frozen=True)
class TicketDetail:
    ticket_id: int
    status: str
    reason: str
    channel: str
    conversation_id: str
    created_at: dt.datetime
    resolved_at: dt.datetime | None
    assigned_to: str | None
    waiting: str
    summary: str
    amount: Decimal | None
    customer: dict[str, str] | None
    order: dict[str, Any] | None  # number, status, items [{name, quantity, unit_price, line_total}], total
    refund: dict[str, Any] | None  # id, amount, status, required_level, reason, method, decided_by
    transcript: list[dict[str, Any]]  # the whole conversation from Rasa's tracker store
    snapshot: list[dict[str, str]]  # the conversation as the bot saw it when it handed over
    since_handoff: list[dict[str, Any]]
    undelivered: list[dict[str, Any]]  # decisions the shopper has not been told yet
    history: list[dict[str, Any]] = field(default_factory=list)  # the ticket's audit entries
    labels: tuple[str, ...] = ()
    agents: list[str] = field(default_factory=list)  # who it can be assigned to
    canned: list[canned_replies.Reply] = field(default_factory=list)  # the store's canned replies
    photos: list[photos.PhotoView] = field(default_factory=list)  # what the shopper sent, oldest first

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None and self.status != "resolved"

    @property
    def refund_pending(self) -> bool:
        return self.refund is not None and self.refund["status"] == "pending_review"


def ticket_detail(store: Store, ticket_id: int, settings: Settings) -> TicketDetail | None:
    with store.reading() as s:
        t = s.get(HandoffTicket, ticket_id)
        if t is None:
            return None
        customer = {"name": t.customer.name, "email": t.customer.email} if t.customer else None
        order = None
        if t.order is not None:
            order = {
                "number": t.order.number,
                "status": t.order.status.replace("_", " "),
                "items": [
                    {"name": i.product.name, "quantity": i.quantity, "unit_price": i.unit_price,
                     "line_total": i.line_total}
                    for i in t.order.items
                ],
                "shipping": t.order.shipping_paid,
                "total": t.order.total_paid,
            }
        refund = None
        if t.refund is not None:
            r = t.refund
            refund = {
                "id": r.id, "amount": r.amount, "status": r.status, "required_level": r.required_level,
                "reason": r.reason, "method": r.method.replace("_", " "), "decided_by": r.decided_by,
            }
        undelivered = [
            {"kind": n.kind.replace("_", " "), "amount": n.amount, "note": n.note, "actor": n.actor}
            for n in shopper_notices.undelivered_for_ticket(s, t.id)
        ]
        touches_ticket = AuditEntry.ticket_id == t.id
        if t.refund_id is not None:
            touches_ticket = or_(touches_ticket, AuditEntry.refund_id == t.refund_id)
        history = [
            {"at": e.at, "actor": e.actor, "action": e.action.replace("_", " "), "amount": e.amount,
             "detail": e.detail}
            for e in s.execute(select(AuditEntry).where(touches_ticket).order_by(AuditEntry.id)).scalars()
        ]
        detail = dict(
            ticket_id=t.id, status=t.status, reason=t.reason, channel=t.channel,
            conversation_id=t.conversation_id, created_at=t.created_at, resolved_at=t.resolved_at,
            assigned_to=t.assigned_to, waiting=waiting_text(waiting_minutes(t, settings)),
            summary=t.summary or "", amount=t.amount, customer=customer, order=order, refund=refund,
            snapshot=handoff.transcript_of(t), undelivered=undelivered, history=history,
            labels=ticket_labels.of_tickets(s, [t.id]).get(t.id, ()), agents=accounts.active_usernames(s),
            canned=canned_replies.active(s), photos=photos.for_conversation(s, t.conversation_id),
        )
        still_open = t.open_marker == 1
    transcript = rasa_api.read_transcript(store, detail["conversation_id"])
    since = rasa_api.read_transcript(store, detail["conversation_id"], after_pause=True) if still_open else []
    return TicketDetail(transcript=transcript, since_handoff=since, **detail)


@dataclass(frozen=True)
class Overview:
    open_tickets: int
    median_wait_minutes: int | None
    by_reason: list[tuple[str, int, int]]  # (reason, all tickets, still open), most first
    conversations: int
    conversations_with_ticket: int

    @property
    def without_human(self) -> int:
        return self.conversations - self.conversations_with_ticket

    @property
    def share_without_human(self) -> float | None:
        """Conversations in the tracker store that never needed a ticket, over all of them."""
        return self.without_human / self.conversations if self.conversations else None


def overview(store: Store, settings: Settings) -> Overview:
    with store.reading() as s:
        waits = [waiting_minutes(t, settings) for t in handoff.open_tickets(s)]
        counts = s.execute(
            select(
                HandoffTicket.reason,
                func.count(HandoffTicket.id),
                func.count(HandoffTicket.open_marker),
            ).group_by(HandoffTicket.reason)
        ).all()
    by_reason = sorted(((r, n, o) for r, n, o in counts), key=lambda row: (-row[1], row[0]))
    conversations, with_ticket = rasa_api.conversation_counts(store)
    return Overview(
        open_tickets=len(waits),
        median_wait_minutes=int(statistics.median(waits)) if waits else None,
        by_reason=by_reason,
        conversations=conversations,
        conversations_with_ticket=with_ticket,
    )


# ------------------------------------------------------------------------------ acting


def claim(store: Store, ticket_id: int, actor: str, settings: Settings) -> Outcome:
    """Takes the ticket for the agent in one unit of work (handoff.claim), said in a sentence."""
    with store.session() as s:
        result = handoff.claim(s, ticket_id, actor, settings)
    messages = {
        "claimed": f"Ticket #{ticket_id} is yours.",
        "already_yours": f"Ticket #{ticket_id} is already yours.",
        "taken": f"Ticket #{ticket_id} is already being handled by {result.assigned_to}.",
        "closed": f"Ticket #{ticket_id} is resolved.",
        "not_found": f"No ticket #{ticket_id}.",
    }
    return Outcome(result.outcome in ("claimed", "already_yours"), messages[result.outcome], kind=result.outcome)


def assign(session: Session, ticket_id: int, to: str, actor: str, settings: Settings) -> Outcome:
    """Gives the ticket to `to` (an active console account), in the caller's unit of work."""
    if accounts.active_account(session, to) is None:
        return Outcome(False, f"No active console account {to!r}.", kind="not_found")
    result = handoff.assign(session, ticket_id, to, actor, settings)
    whose = "yours" if to == actor else f"{to}'s"
    messages = {
        "assigned": f"Ticket #{ticket_id} is now {whose}.",
        "already_yours": f"Ticket #{ticket_id} is already yours.",
        "already_assigned": f"Ticket #{ticket_id} is already {to}'s.",
        "closed": f"Ticket #{ticket_id} is resolved.",
        "not_found": f"No ticket #{ticket_id}.",
    }
    ok = result.outcome in ("assigned", "already_yours", "already_assigned")
    return Outcome(ok, messages[result.outcome], kind=result.outcome)


def label(session: Session, ticket_id: int, text: str, actor: str, settings: Settings) -> Outcome:
    result = ticket_labels.add(session, ticket_id, text, actor, settings.now())
    messages = {
        "added": f"Labelled {ticket_labels.normalized(text)!r}.",
        "already": f"The ticket already has the label {ticket_labels.normalized(text)!r}.",
        "invalid": "A label is 1-40 letters, digits, spaces or hyphens.",
        "not_found": f"No ticket #{ticket_id}.",
    }
    return Outcome(result in ("added", "already"), messages[result], kind=result)


def unlabel(session: Session, ticket_id: int, text: str, actor: str, settings: Settings) -> Outcome:
    result = ticket_labels.remove(session, ticket_id, text, actor, settings.now())
    messages = {"removed": "Label removed.", "absent": "The ticket has no such label.",
                "not_found": f"No ticket #{ticket_id}."}
    return Outcome(result == "removed", messages[result], kind=result)


def reply(store: Store, ticket_id: int, actor: str, text: str, settings: Settings,
          canned_reply_id: int | None = None) -> Outcome:
    """Sends the agent's own words to the shopper's channel (audited first). A waiting ticket
    becomes the agent's; one another agent holds is refused, so two never answer unknowingly.
    `canned_reply_id`: the canned reply the text started from, counted once sent."""
    text = (text or "").strip()
    if not text:
        return Outcome(False, "Write a message first.", kind="empty")
    if len(text) > MAX_REPLY_LENGTH:
        return Outcome(False, f"Keep a reply under {MAX_REPLY_LENGTH} characters.", kind="too_long")
    with store.session() as s:
        claim = handoff.claim(s, ticket_id, actor, settings)  # replying takes a waiting ticket
        if claim.outcome == "not_found":
            return Outcome(False, f"No ticket #{ticket_id}.", kind="not_found")
        if claim.outcome == "closed":
            return Outcome(False, f"Ticket #{ticket_id} is resolved: the bot has the conversation again.",
                           kind="closed")
        if claim.outcome == "taken":
            return Outcome(False, f"Ticket #{ticket_id} is being handled by {claim.assigned_to}: nothing was sent. "
                                  "Assign it to yourself first if you mean to take over.", kind="taken")
        ticket = s.get(HandoffTicket, ticket_id)
        conversation_id = ticket.conversation_id
        audit.record(s, actor=actor, action=audit.AGENT_REPLIED, at=settings.now(), order_id=ticket.order_id,
                     ticket_id=ticket.id, detail=text)
        if canned_reply_id is not None:
            canned_replies.count_use(s, canned_reply_id)
    try:
        rasa_api.send_to_conversation(conversation_id, text, rasa_url=settings.rasa_url)
    except rasa_api.RasaUnavailable as exc:
        return Outcome(True, f"Reply saved, but it could not be delivered to the shopper: {exc}",
                       delivered=False, kind="undelivered")
    return Outcome(True, "Reply sent to the shopper.", delivered=True, kind="sent")


def _refund_ticket(store: Store, ticket_id: int) -> tuple[HandoffTicket | None, int | None]:
    with store.reading() as s:
        ticket = s.get(HandoffTicket, ticket_id)
        return ticket, (ticket.refund_id if ticket is not None else None)


def _no_refund(ticket: HandoffTicket | None, ticket_id: int, action: str) -> Outcome:
    if ticket is None:
        return Outcome(False, f"No ticket #{ticket_id}.", kind="not_found")
    return Outcome(False, f"Ticket #{ticket_id} has no refund to {action}.", kind="no_refund")


def _tell(store: Store, conversation_id: str, settings: Settings, decided: str) -> Outcome:
    delivery = shopper_notices.deliver(store, conversation_id, rasa_url=settings.rasa_url)
    if delivery.delivered:
        return Outcome(True, f"{decided} The shopper has been told.", delivered=True, kind="decided")
    return Outcome(
        True,
        f"{decided} The message to the shopper could not be delivered ({delivery.error}); "
        "it is kept on the ticket: send it again once Rasa is back.",
        delivered=False,
        kind="decided",
    )


def approve(store: Store, ticket_id: int, actor: str, limit: Decimal | None, settings: Settings) -> Outcome:
    """Approves the ticket's refund within `limit` (the actor's own); above it, forwards it."""
    ticket, refund_id = _refund_ticket(store, ticket_id)
    if refund_id is None:
        return _no_refund(ticket, ticket_id, "approve")
    with store.session() as s:
        review = refunds.approve(s, refund_id, actor, limit, settings)
        if review.outcome == "approved":
            ticket = s.get(HandoffTicket, ticket_id)
            shopper_notices.queue_in(s, ticket, ticket.refund, shopper_notices.REFUND_APPROVED, "", actor,
                                     settings.now())
    if review.outcome == "approved":
        return _tell(store, ticket.conversation_id, settings,
                     f"Refund #{refund_id} of {money(review.amount)} approved by {actor}.")
    if review.outcome == "needs_supervisor":
        return Outcome(
            False,
            f"Refund #{refund_id} of {money(review.amount)} is over {actor}'s limit ({money(limit)}): "
            "it is forwarded to a supervisor and stays pending.",
            kind="needs_supervisor",
        )
    return _undecidable(review, refund_id)


def _undecidable(review: refunds.Review, refund_id: int) -> Outcome:
    if review.outcome == "already_decided":
        return Outcome(False, f"Refund #{refund_id} was already {review.status}.", kind="already_decided")
    return Outcome(False, f"No refund #{refund_id}.", kind="not_found")


def deny(store: Store, ticket_id: int, actor: str, note: str, settings: Settings) -> Outcome:
    """Turns the ticket's refund down; the note is what the shopper is told, so it is required."""
    note = (note or "").strip()
    ticket, refund_id = _refund_ticket(store, ticket_id)
    if refund_id is None:
        return _no_refund(ticket, ticket_id, "deny")
    if not note:
        return Outcome(False, "Say why the refund is denied: the shopper is told your note.", kind="no_note")
    with store.session() as s:
        review = refunds.deny(s, refund_id, actor, note, settings)
        if review.outcome == "denied":
            ticket = s.get(HandoffTicket, ticket_id)
            shopper_notices.queue_in(s, ticket, ticket.refund, shopper_notices.REFUND_DENIED, note, actor,
                                     settings.now())
    if review.outcome == "denied":
        return _tell(store, ticket.conversation_id, settings,
                     f"Refund #{refund_id} of {money(review.amount)} denied by {actor}.")
    return _undecidable(review, refund_id)


def forward(store: Store, ticket_id: int, actor: str, note: str, settings: Settings) -> Outcome:
    ticket, refund_id = _refund_ticket(store, ticket_id)
    if refund_id is None:
        return _no_refund(ticket, ticket_id, "forward")
    with store.session() as s:
        review = refunds.forward(s, refund_id, actor, (note or "").strip(), settings)
    if review.outcome == "forwarded":
        return Outcome(True, f"Refund #{refund_id} of {money(review.amount)} forwarded to a supervisor.",
                       kind="forwarded")
    return _undecidable(review, refund_id)


def send_again(store: Store, ticket_id: int, settings: Settings) -> Outcome:
    """Retries the decisions the shopper has not been told yet."""
    with store.reading() as s:
        ticket = s.get(HandoffTicket, ticket_id)
        if ticket is None:
            return Outcome(False, f"No ticket #{ticket_id}.", kind="not_found")
        if not shopper_notices.undelivered_for_ticket(s, ticket_id):
            return Outcome(True, "Nothing is waiting to be delivered.", kind="nothing")
        conversation_id = ticket.conversation_id
    return _tell(store, conversation_id, settings, "Sent again.")


def _pending_refund(store: Store, ticket_id: int) -> tuple[int, Decimal, str] | None:
    """(refund id, amount, required level) of the ticket's refund still awaiting a decision."""
    with store.reading() as s:
        ticket = s.get(HandoffTicket, ticket_id)
        refund = ticket.refund if ticket is not None else None
        if refund is None or refund.status != "pending_review":
            return None
        return refund.id, refund.amount, refund.required_level


def resolve(store: Store, ticket_id: int, actor: str, note: str, settings: Settings) -> Outcome:
    """Closes the ticket and hands the conversation back to the bot (handoff.resolve).

    Refused while the ticket's refund is pending: a closed ticket leaves every queue, so the
    refund would wait forever and the shopper would never hear back.
    """
    pending = _pending_refund(store, ticket_id)
    if pending is not None:
        refund_id, amount, level = pending
        if level == "supervisor":
            return Outcome(
                False,
                f"Ticket #{ticket_id} stays open: refund #{refund_id} of {money(amount)} waits for a supervisor "
                "to approve or deny it.",
                kind="refund_pending",
            )
        return Outcome(
            False,
            f"Ticket #{ticket_id} stays open: decide refund #{refund_id} of {money(amount)} first "
            "(approve it within your limit, forward it to a supervisor, or deny it with a note for the shopper).",
            kind="refund_pending",
        )
    result = handoff.resolve(store, ticket_id, actor, note, settings=settings)
    if not result.found:
        return Outcome(False, f"No ticket #{ticket_id}.", kind="not_found")
    if result.already_resolved:
        return Outcome(True, f"Ticket #{ticket_id} was already resolved.", kind="already_resolved")
    if result.resumed:
        return Outcome(True, f"Ticket #{ticket_id} resolved by {actor}. Conversation {result.conversation_id} "
                             "handed back to the bot.", delivered=True, kind="resolved")
    return Outcome(
        True,
        f"Ticket #{ticket_id} resolved by {actor}. Could not resume conversation {result.conversation_id} "
        f"in Rasa: {result.rasa_error}. The ticket is resolved; resume it later or contact the shopper directly.",
        delivered=False,
        kind="resolved",
    )
