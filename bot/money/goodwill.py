"""Goodwill gestures on the empowerment ladder: making up for a wrong on the spot.

When a gift will be late for its date, an item arrived damaged, or a shopper was handed to a
person out of frustration, the store may give something back: store credit, a free upgrade to
express shipping, or free gift wrap. Like refunds, a gesture climbs the ladder (the bot up to
GOODWILL_BOT_LIMIT, an agent up to GOODWILL_AGENT_LIMIT, a supervisor up to
GOODWILL_SUPERVISOR_LIMIT), is audited, and is idempotent: one gesture per incident, so asking
again returns the first. The incident is found in the database for the conversation, never taken
from what the shopper typed; the shopper only chooses the kind.
"""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.money import audit
from bot.orders import lookup
from bot.policies import SHIPPING_UPGRADE_PRICE, gift_wrap_price
from bot.settings import Settings
from bot.store.models import (
    NOT_YET_SHIPPED,
    AgentAccount,
    GoodwillGesture,
    HandoffTicket,
    Order,
    Return,
    VerifiedOrder,
)

INCIDENTS = ("late_gift", "damaged", "frustrated", "ticket")
KINDS = ("store_credit", "shipping_upgrade", "gift_wrap")
FASTER_SHIPPING = "express"
GRANTED = "goodwill_granted"  # the audit action


@dataclass(frozen=True)
class Incident:
    """A wrong the store may make up for, and whose it is."""

    kind: str  # one of INCIDENTS
    key: str  # unique per incident: one gesture each
    customer_id: int
    order_id: int | None = None


@dataclass(frozen=True)
class Grant:
    status: str  # granted | already_granted | over_limit | no_incident
    gesture: GoodwillGesture | None = None
    limit: Decimal | None = None  # the granter's limit, when over it

    @property
    def given(self) -> bool:
        return self.gesture is not None


def limits(settings: Settings) -> dict[str, Decimal]:
    """Each level's goodwill limit per incident, from settings."""
    return {
        "bot": settings.goodwill_bot_limit,
        "agent": settings.goodwill_agent_limit,
        "supervisor": settings.goodwill_supervisor_limit,
    }


def level_for(value: Decimal, settings: Settings) -> str | None:
    """The lowest level allowed to give `value`; None above every limit."""
    for level, limit in limits(settings).items():
        if value <= limit:
            return level
    return None


def bot_value(kind: str, settings: Settings) -> Decimal:
    """What the bot offers of each kind: the credit from settings, the upgrade and gift wrap at
    what they would cost the shopper."""
    if kind == "store_credit":
        return settings.goodwill_store_credit
    if kind == "shipping_upgrade":
        return SHIPPING_UPGRADE_PRICE
    if kind == "gift_wrap":
        return gift_wrap_price(settings)
    raise ValueError(f"unknown goodwill kind {kind!r}; expected one of {KINDS}")


def incident_for(session: Session, conversation_id: str, settings: Settings) -> Incident | None:
    """The conversation's wrong to make up for, from the database: a late gift it verified, an
    item it reported damaged, or its handoff for frustration (in that order)."""
    return (
        _late_gift(session, conversation_id, settings)
        or _damaged(session, conversation_id)
        or _frustrated(session, conversation_id)
    )


def _late_gift(session: Session, conversation_id: str, settings: Settings) -> Incident | None:
    orders = session.execute(
        select(Order)
        .join(VerifiedOrder, VerifiedOrder.order_id == Order.id)
        .where(VerifiedOrder.conversation_id == conversation_id, Order.is_gift.is_(True))
        .order_by(Order.id)
    ).scalars()
    for order in orders:
        if lookup.tracking(session, order, settings).arrives_by_christmas is False:
            return Incident("late_gift", f"late_gift:{order.number}", order.customer_id, order.id)
    return None


def _damaged(session: Session, conversation_id: str) -> Incident | None:
    ret = session.execute(
        select(Return)
        .where(Return.conversation_id == conversation_id, Return.reason == "damaged")
        .order_by(Return.id)
    ).scalars().first()
    if ret is None:
        return None
    return Incident("damaged", f"damaged:{ret.order.number}", ret.order.customer_id, ret.order_id)


def _frustrated(session: Session, conversation_id: str) -> Incident | None:
    ticket = session.execute(
        select(HandoffTicket)
        .where(
            HandoffTicket.conversation_id == conversation_id,
            HandoffTicket.reason == "frustration",
            HandoffTicket.customer_id.is_not(None),
        )
        .order_by(HandoffTicket.id)
    ).scalars().first()
    if ticket is None:
        return None
    return Incident("frustrated", f"frustrated:{conversation_id}", ticket.customer_id, ticket.order_id)


def incident_of_ticket(session: Session, ticket: HandoffTicket, settings: Settings) -> Incident | None:
    """What an agent makes up for on a ticket: the conversation's incident if it has one (so the
    bot's gesture and the agent's are one), else the ticket itself; None without a customer."""
    found = incident_for(session, ticket.conversation_id, settings)
    if found is not None:
        return found
    if ticket.customer_id is None:
        return None
    return Incident("ticket", f"ticket:{ticket.id}", ticket.customer_id, ticket.order_id)


def given_for(session: Session, incident: Incident) -> GoodwillGesture | None:
    return session.execute(
        select(GoodwillGesture).where(GoodwillGesture.incident_key == incident.key)
    ).scalar_one_or_none()


def credit_balance(session: Session, customer_id: int) -> Decimal:
    """The store credit the customer has been given."""
    total = session.execute(
        select(func.coalesce(func.sum(GoodwillGesture.value), 0)).where(
            GoodwillGesture.customer_id == customer_id, GoodwillGesture.kind == "store_credit"
        )
    ).scalar_one()
    return Decimal(total).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Granter:
    """Who gives: "bot" or a console username, at their level, with that level's limit."""

    name: str
    level: str  # bot | agent | supervisor
    limit: Decimal
    conversation_id: str | None = None
    ticket_id: int | None = None


def bot_granter(conversation_id: str, settings: Settings) -> Granter:
    return Granter("bot", "bot", settings.goodwill_bot_limit, conversation_id=conversation_id)


def account_granter(account: AgentAccount, ticket: HandoffTicket, settings: Settings) -> Granter:
    """A console account grants within its role's goodwill limit."""
    level = "supervisor" if account.role == "supervisor" else "agent"
    return Granter(account.username, level, limits(settings)[level], ticket.conversation_id, ticket.id)


def grant(
    session: Session, incident: Incident, kind: str, value: Decimal, granter: Granter, now: dt.datetime
) -> Grant:
    """Gives one gesture for the incident within the granter's limit, audited; a second ask for
    the same incident returns the first."""
    if kind not in KINDS:
        raise ValueError(f"unknown goodwill kind {kind!r}; expected one of {KINDS}")
    if not isinstance(value, Decimal) or value <= 0:
        raise ValueError(f"a goodwill value must be a positive Decimal, not {value!r}")
    earlier = given_for(session, incident)
    if earlier is not None:
        return Grant("already_granted", earlier)
    if value > granter.limit:
        return Grant("over_limit", limit=granter.limit)
    gesture = GoodwillGesture(
        incident_key=incident.key, incident=incident.kind, kind=kind, value=value,
        code="GW-" + secrets.token_hex(4).upper(), customer_id=incident.customer_id, order_id=incident.order_id,
        level=granter.level,
        granted_by=granter.name, conversation_id=granter.conversation_id, ticket_id=granter.ticket_id,
        created_at=now,
    )
    try:
        with session.begin_nested():  # the same incident raced us: its gesture is the one
            session.add(gesture)
            session.flush()
    except IntegrityError:
        return Grant("already_granted", given_for(session, incident))
    _apply(session, gesture)
    audit.record(session, actor=granter.name, action=GRANTED, at=now, order_id=incident.order_id,
                 ticket_id=granter.ticket_id, amount=value, detail=f"{kind} {gesture.code} for {incident.key}")
    return Grant("granted", gesture)


def _apply(session: Session, gesture: GoodwillGesture) -> None:
    """A shipping upgrade on an order not shipped yet changes the order itself; otherwise the
    gesture's code carries it to the replacement or the next order."""
    order = gesture.order
    if gesture.kind == "shipping_upgrade" and order is not None and order.status in NOT_YET_SHIPPED:
        order.shipping_method = FASTER_SHIPPING


def upgraded_order(gesture: GoodwillGesture) -> bool:
    """Whether the gesture's shipping upgrade went onto its order (not shipped when given)."""
    order = gesture.order
    return gesture.kind == "shipping_upgrade" and order is not None and order.shipping_method == FASTER_SHIPPING \
        and order.status in NOT_YET_SHIPPED


def grant_by_bot(session: Session, conversation_id: str, kind: str, settings: Settings, now: dt.datetime) -> Grant:
    """The bot's own gesture for the conversation's incident, at the bot's value for `kind`."""
    incident = incident_for(session, conversation_id, settings)
    if incident is None:
        return Grant("no_incident")
    return grant(session, incident, kind, bot_value(kind, settings), bot_granter(conversation_id, settings), now)


def parse_value(text: str | None) -> Decimal | None:
    """An amount an agent typed ("15", "15.00", "$15"); None when it is not a positive amount."""
    try:
        value = Decimal((text or "").strip().lstrip("$").replace(",", ""))
    except ArithmeticError:
        return None
    if not value.is_finite() or value <= 0:
        return None
    return value.quantize(Decimal("0.01"))


def grant_for_ticket(
    session: Session, ticket_id: int, account_id: int, kind: str, value: Decimal, settings: Settings, now: dt.datetime
) -> Grant:
    """A console account's gesture on a ticket, within its role's limit, read from the database
    at the moment of granting (an account switched off grants nothing)."""
    ticket = session.get(HandoffTicket, ticket_id)
    account = session.get(AgentAccount, account_id)
    if ticket is None or account is None or not account.active:
        return Grant("no_incident")
    incident = incident_of_ticket(session, ticket, settings)
    if incident is None:
        return Grant("no_incident")
    return grant(session, incident, kind, value, account_granter(account, ticket, settings), now)


def given_on_ticket(session: Session, ticket_id: int, settings: Settings) -> GoodwillGesture | None:
    """The gesture already given for the ticket's incident, for the ticket page."""
    ticket = session.get(HandoffTicket, ticket_id)
    incident = incident_of_ticket(session, ticket, settings) if ticket is not None else None
    return given_for(session, incident) if incident is not None else None
