"""Verified order look-up, tracking and cancellation.

A conversation sees an order only after it has given the order number together with the email
on that order; the proof is a VerifiedOrder row, so nothing a shopper types into a slot can
stand in for it. Failures are counted per conversation in the database too.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.gifting.catalog import complement_for, product_url
from bot.money import audit
from bot.money.refunds import cancellation_key
from bot.orders import verification_throttle
from bot.settings import Settings, get_settings
from bot.store.models import (
    NOT_YET_SHIPPED,
    Customer,
    Order,
    Product,
    Refund,
    Shipment,
    VerificationAttempt,
    VerifiedOrder,
)

# 5-12 digits, maybe after "#"; not part of a price ("$104.99", "$ 104990"), decimal, phone number
# ("+44 7700 900123", "555-..."), word or email address.
ORDER_NUMBER_RE = re.compile(r"(?<![\w$£€.,+@-])(?<![$£€+\d]\s)#?\s?(\d{5,12})(?![\w@-])(?![.,]\d)", re.ASCII)
# Shopify names orders from #1001 (bot/order_sources): four digits count after a "#" ("#5301",
# "order#5301", not the HTML entity "&#8217;") or as the whole reply to "what's your order
# number?" (parse_order_number_reply); a bare four-digit number elsewhere is more often a year.
SHORT_ORDER_NAME_RE = re.compile(r"(?<![&\d])#\s?(\d{4})(?![\w@-])(?![.,]\d)", re.ASCII)
SHORT_ORDER_REPLY_RE = re.compile(r"\s*(?:order\s*)?#?\s*(\d{4})\s*[.!]?\s*", re.ASCII | re.IGNORECASE)
EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
MAX_INPUT_CHARS = 2000

TRACKING_URLS = {
    "UPS": "https://www.ups.com/track?tracknum={}",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr={}",
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
    "DHL": "https://www.dhl.com/en/express/tracking.html?AWB={}",
}

STATUS_TEXT = {
    "processing": "being prepared",
    "shipped": "on its way",
    "out_for_delivery": "out for delivery today",
    "delivered": "delivered",
    "delayed": "delayed",
    "cancelled": "cancelled",
    "returned": "returned",
}


def parse_order_number(text: str | None) -> str | None:
    """The order number in a message ("#104217", "order no. 104217", "#5301"), digits only."""
    if not text:
        return None
    text = str(text)[:MAX_INPUT_CHARS]
    match = ORDER_NUMBER_RE.search(text) or SHORT_ORDER_NAME_RE.search(text)
    return match.group(1) if match else None


def parse_order_number_reply(text: str | None) -> str | None:
    """The order number in a shopper's answer to "what's your order number?" (and in the slot
    that answer filled): as in any message, or the whole answer a bare four-digit Shopify number
    ("5301")."""
    number = parse_order_number(text)
    if number or not text:
        return number
    match = SHORT_ORDER_REPLY_RE.fullmatch(str(text)[:MAX_INPUT_CHARS])
    return match.group(1) if match else None


def parse_email(text: str | None) -> str | None:
    if not text:
        return None
    match = EMAIL_RE.search(str(text)[:MAX_INPUT_CHARS])
    return match.group(0).lower() if match else None


@dataclass(frozen=True)
class Verification:
    outcome: str  # verified | mismatch | locked | throttled
    attempts_left: int
    order_number: str | None = None


def failed_attempts(session: Session, conversation_id: str) -> int:
    return session.execute(
        select(func.count(VerificationAttempt.id)).where(
            VerificationAttempt.conversation_id == conversation_id,
            VerificationAttempt.succeeded.is_(False),
        )
    ).scalar_one()


def is_locked(session: Session, conversation_id: str, settings: Settings) -> bool:
    """True once this conversation has used up its verification attempts or was throttled."""
    return failed_attempts(session, conversation_id) >= settings.max_verification_attempts or (
        verification_throttle.was_throttled(session, conversation_id)
    )


def verify(
    session: Session,
    conversation_id: str,
    order_number: str | None,
    email: str | None,
    settings: Settings,
    client: str = "",
    now: dt.datetime | None = None,
) -> Verification:
    """Checks that `email` is the email on order `order_number` and remembers the proof.

    A mismatch never tells whether the order exists. After the configured number of
    failures the conversation is locked: even a correct pair is refused from then on.
    Guessing spread over many conversations is throttled per order number, email and
    client (bot/orders/verification_throttle.py): a throttled check is refused even when right.
    Failures are recorded and returned, never raised, so the caller's unit of work commits them.
    """
    number = parse_order_number_reply(order_number)
    address = parse_email(email)
    limit = settings.max_verification_attempts
    now = now or settings.now()
    failures = failed_attempts(session, conversation_id)
    if failures >= limit:
        return Verification("locked", 0)
    throttled = verification_throttle.is_throttled(
        session, order_number=number, email=address, client=client, settings=settings, now=now
    )
    order = None if throttled else _order_with_email(session, number, address)
    session.add(
        VerificationAttempt(
            conversation_id=conversation_id,
            order_id=order.id if order else None,
            succeeded=order is not None,
            at=now,
        )
    )
    if order is None:
        verification_throttle.record_failure(
            session, conversation_id=conversation_id, order_number=number, email=address, client=client,
            throttled=throttled, settings=settings, now=now,
        )
        return _refusal(failures + 1, limit, throttled)
    _remember_proof(session, conversation_id, order, now)
    return Verification("verified", limit - failures, order.number)


def _order_with_email(session: Session, number: str | None, address: str | None) -> Order | None:
    """The order with this number whose customer has this email (any case), if both were given."""
    if not (number and address):
        return None
    return session.execute(
        select(Order)
        .join(Customer)
        .where(Order.number == number, func.lower(Customer.email) == address)
    ).scalar_one_or_none()


def _refusal(failures: int, limit: int, throttled: bool) -> Verification:
    """A failed check's answer, the same whether or not the order exists."""
    if throttled:
        return Verification("throttled", max(limit - failures, 0))
    outcome = "locked" if failures >= limit else "mismatch"
    return Verification(outcome, limit - failures)


def _remember_proof(session: Session, conversation_id: str, order: Order, now: dt.datetime) -> None:
    """Records (or renews) that this conversation proved it owns the order."""
    already = session.execute(
        select(VerifiedOrder).where(
            VerifiedOrder.conversation_id == conversation_id, VerifiedOrder.order_id == order.id
        )
    ).scalar_one_or_none()
    if already is None:
        session.add(VerifiedOrder(conversation_id=conversation_id, order_id=order.id, verified_at=now, last_used_at=now))
    else:
        already.verified_at = already.last_used_at = now


def verified_order(
    session: Session,
    conversation_id: str,
    order_number: str | None,
    settings: Settings | None = None,
    now: dt.datetime | None = None,
) -> Order | None:
    """The order, if and only if this conversation has proved it owns it and used that proof
    within VERIFICATION_IDLE_MINUTES. Each use refreshes the proof, so this writes: call it in
    a writing unit of work (store.session())."""
    number = parse_order_number_reply(order_number)
    if not number:
        return None
    proof = _proof(session, conversation_id, number)
    settings = settings or get_settings()
    now = now or settings.now()
    if proof is None or not _is_fresh(proof, settings, now):
        return None
    proof.last_used_at = max(proof.last_used_at or proof.verified_at, now)
    return proof.order


def _proof(session: Session, conversation_id: str, number: str) -> VerifiedOrder | None:
    return session.execute(
        select(VerifiedOrder)
        .join(Order, VerifiedOrder.order_id == Order.id)
        .where(VerifiedOrder.conversation_id == conversation_id, Order.number == number)
    ).scalar_one_or_none()


def _is_fresh(proof: VerifiedOrder, settings: Settings, now: dt.datetime) -> bool:
    """Used within the idle timeout."""
    last_used = proof.last_used_at or proof.verified_at
    return last_used >= now - dt.timedelta(minutes=settings.verification_idle_minutes)


def verification_expired(
    session: Session, conversation_id: str, order_number: str | None, settings: Settings | None = None,
    now: dt.datetime | None = None,
) -> bool:
    """True when this conversation did verify the order but left it unused too long, so the
    shopper is asked again with a friendly word instead of a refusal. Only reads."""
    number = parse_order_number_reply(order_number)
    if not number:
        return False
    proof = _proof(session, conversation_id, number)
    settings = settings or get_settings()
    return proof is not None and not _is_fresh(proof, settings, now or settings.now())


def forget_verifications(session: Session, conversation_id: str) -> int:
    """Ends every verification of a conversation (on restart); returns how many ended."""
    proofs = list(
        session.execute(select(VerifiedOrder).where(VerifiedOrder.conversation_id == conversation_id)).scalars()
    )
    for proof in proofs:
        session.delete(proof)
    return len(proofs)


@dataclass(frozen=True)
class Suggestion:
    name: str
    price: Decimal
    url: str


@dataclass(frozen=True)
class Tracking:
    order_number: str
    status: str
    status_text: str
    items: str
    shipping_method: str
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    eta: dt.date | None
    delivered_on: dt.date | None
    delay_reason: str | None
    christmas_date: dt.date | None
    arrives_by_christmas: bool | None
    suggestion: Suggestion | None


def christmas_date_for(today: dt.date, settings: Settings) -> dt.date | None:
    """This season's delivery target (Dec 24), or None once it has passed."""
    month, day = settings.christmas_delivery_day
    target = dt.date(today.year, month, day)
    return target if today <= target else None


def describe_items(order: Order) -> str:
    names = [f"{i.quantity} x {i.product.name}" if i.quantity > 1 else i.product.name for i in order.items]
    if len(names) <= 2:
        return " and ".join(names)
    return f"{names[0]}, {names[1]} and {len(names) - 2} more"


def tracking_url_of(shipment: Shipment) -> str:
    """The carrier's tracking page for the parcel (the bare number for a carrier we don't know)."""
    return TRACKING_URLS.get(shipment.carrier, "{}").format(shipment.tracking_number)


def tracking(session: Session, order: Order, settings: Settings) -> Tracking:
    """Everything a shopper wants to know about where an order is."""
    shipment = order.shipment
    today = settings.today()
    christmas = christmas_date_for(today, settings)
    eta = shipment.eta if shipment else None
    arrives = None
    if christmas and order.status not in ("cancelled", "returned", "delivered") and eta:
        arrives = eta <= christmas
    delay_reason = None
    if order.status == "delayed" and shipment and shipment.events:
        delay_reason = shipment.events[-1].description
    suggestion = None
    if order.status not in ("cancelled", "returned"):
        product = complement_for(session, order)
        if product is not None:
            suggestion = Suggestion(product.name, product.price, product_url(product, settings))
    return Tracking(
        order_number=order.number,
        status=order.status,
        status_text=STATUS_TEXT[order.status],
        items=describe_items(order),
        shipping_method=order.shipping_method,
        carrier=shipment.carrier if shipment else None,
        tracking_number=shipment.tracking_number if shipment else None,
        tracking_url=tracking_url_of(shipment) if shipment else None,
        eta=eta,
        delivered_on=shipment.delivered_at.date() if shipment and shipment.delivered_at else None,
        delay_reason=delay_reason,
        christmas_date=christmas,
        arrives_by_christmas=arrives,
        suggestion=suggestion,
    )


@dataclass(frozen=True)
class Cancellation:
    outcome: str  # cancelled | already_shipped | already_cancelled | not_cancellable | not_verified
    order_number: str | None = None
    status: str | None = None
    amount: Decimal | None = None


def cancel(session: Session, conversation_id: str, order_number: str | None, settings: Settings) -> Cancellation:
    """Cancels a verified order that has not shipped, voiding what was paid.

    Nothing has left the warehouse, so the whole payment goes back without the refund
    ladder; the items return to stock. Asked twice, the second answer is "already cancelled".
    """
    order = verified_order(session, conversation_id, order_number, settings)
    if order is None:
        return Cancellation("not_verified")
    order = session.execute(select(Order).where(Order.id == order.id).with_for_update()).scalar_one()
    if order.status == "cancelled":
        return Cancellation("already_cancelled", order.number, order.status)
    if order.status not in NOT_YET_SHIPPED:
        outcome = "not_cancellable" if order.status in ("delivered", "returned") else "already_shipped"
        return Cancellation(outcome, order.number, order.status)
    order.status = "cancelled"
    for item in order.items:
        session.execute(select(Product).where(Product.id == item.product_id).with_for_update())
        item.product.stock += item.quantity
    amount = _void_payment(session, order, conversation_id, settings)
    return Cancellation("cancelled", order.number, order.status, amount)


def _void_payment(session: Session, order: Order, conversation_id: str, settings: Settings) -> Decimal:
    """Issues back what is left of the payment of a cancelled order, audited; the amount."""
    already = sum((r.amount for r in order.refunds if r.status in ("approved", "issued")), Decimal("0.00"))
    amount = order.total_paid - already
    refund = Refund(
        order_id=order.id,
        amount=amount,
        reason="order_cancelled",
        method="original_payment",
        status="issued",
        required_level="bot",
        idempotency_key=cancellation_key(order.id),
        conversation_id=conversation_id,
        decided_by="bot",
        decided_at=settings.now(),
        created_at=settings.now(),
    )
    session.add(refund)
    session.flush()
    audit.record(
        session,
        actor="bot",
        action="order_cancelled",
        at=settings.now(),
        order_id=order.id,
        refund_id=refund.id,
        amount=amount,
        detail=f"cancelled before shipping in conversation {conversation_id}",
    )
    return amount


def latest_verified_order(session: Session, conversation_id: str) -> Order | None:
    """The order this conversation proved it owns most recently (for handoff tickets)."""
    return session.execute(
        select(Order)
        .join(VerifiedOrder, VerifiedOrder.order_id == Order.id)
        .where(VerifiedOrder.conversation_id == conversation_id)
        .order_by(VerifiedOrder.verified_at.desc(), VerifiedOrder.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def verified_or_latest(session: Session, conversation_id: str, order_number: str | None) -> Order | None:
    """The named order if this conversation verified it (freshly), else the latest order it
    proved, if that proof is still fresh: who the shopper is, for answers about their account."""
    order = verified_order(session, conversation_id, order_number)
    if order is None:
        latest = latest_verified_order(session, conversation_id)
        order = verified_order(session, conversation_id, latest.number) if latest else None
    return order
