"""A problem report: a damaged, wrong or missing item, or a late delivery, put right.

late: the shipping paid is refunded as compensation (once). damaged / wrong_item / missing:
a replacement of the same product when it is in stock, otherwise a refund of what the items
were paid. Final sale does not block these; the return window and earlier returns do.
A damaged or wrong item's report counts the photos the shopper sent (bot/support/photos.py) as
evidence: on the RMA's audit entry and on the ticket a refund review opens.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Sequence

from sqlalchemy.orm import Session

from bot.conversation import Conversation
from bot.money import refunds
from bot.orders.lookup import verified_order
from bot.returns.eligibility import (
    ItemEligibility,
    delivered_on,
    eligibility_of,
    item_eligibility,
    split_by_eligibility,
)
from bot.returns.matching import AskedItems, select_items
from bot.returns.rma import create_return, existing_return, label_email, next_step, record_created, refund_of
from bot.returns.variants import put_back_stock, take_stock
from bot.settings import Settings, get_settings
from bot.store.models import Order, OrderItem, Return
from bot.support import photos

PROBLEMS = ("damaged", "wrong_item", "missing", "late")
EVIDENCE_PROBLEMS = ("damaged", "wrong_item")  # a photo shows these


@dataclass(frozen=True)
class ProblemOutcome:
    # remedied | already_remedied | not_verified | unknown_problem | choose_items | ineligible
    # | not_late | nothing_to_refund
    status: str
    problem: str | None = None
    order_number: str | None = None
    remedy: str | None = None  # replacement | refund | compensation
    rma: str | None = None
    items: tuple[ItemEligibility, ...] = ()
    ineligible: tuple[ItemEligibility, ...] = ()
    choices: tuple[ItemEligibility, ...] = ()
    unmatched: tuple[str, ...] = ()
    ambiguous: tuple[str, ...] = ()
    replacement_unavailable: bool = False  # a replacement was wanted but is out of stock
    next_step: str | None = None
    label_email: str | None = None
    refund: refunds.RefundOutcome | None = None
    eta: dt.date | None = None  # late: the promised day
    delivered_on: dt.date | None = None
    missed_christmas: bool = False  # late: promised by the Christmas delivery day, arrived after
    photos: int = 0  # damaged / wrong item: the shopper's photos counted as evidence


def photo_evidence(session: Session, conversation_id: str, problem: str | None, settings: Settings) -> int:
    """The photos that back this problem's report: sent in the conversation before or during it."""
    if problem not in EVIDENCE_PROBLEMS:
        return 0
    return photos.evidence_count(session, conversation_id, settings.now())


def photo_would_help(session: Session, conversation_id: str, problem: str | None, settings: Settings) -> bool:
    """Whether to ask for a photo (never required): a damaged or wrong item with none sent yet."""
    return problem in EVIDENCE_PROBLEMS and photo_evidence(session, conversation_id, problem, settings) == 0


def _lateness(order: Order, settings: Settings) -> tuple[bool, dt.date | None, dt.date | None, bool]:
    shipment = order.shipment
    eta = shipment.eta if shipment else None
    arrived = delivered_on(order)
    if eta is None or order.status == "cancelled":
        return False, eta, arrived, False
    reached = arrived or settings.today()
    late = reached > eta
    month, day = settings.christmas_delivery_day
    christmas = dt.date(eta.year, month, day)
    return late, eta, arrived, late and eta <= christmas < reached



def report_problem(
    session: Session,
    conversation: Conversation,
    order_number: str | None,
    problem: str | None,
    items: Sequence[str] | str | None = None,
    prefer: str | None = None,
    return_method: str = "prepaid_label",
    settings: Settings | None = None,
) -> ProblemOutcome:
    """Puts right a damaged, wrong or missing item, or a late delivery.

    late: the shipping paid is refunded as compensation (once) if the parcel arrived, or is
    still not there, after its promised day. damaged / wrong_item / missing: a replacement of
    the same product when it is in stock (unless `prefer="refund"`), otherwise a refund of what
    the items were paid. Final sale does not block these; the return window and earlier
    returns do. Every refund goes through the ladder like any other.
    """
    settings = settings or get_settings()
    order = verified_order(session, conversation.id, order_number)
    if order is None:
        return ProblemOutcome("not_verified", problem)
    if problem not in PROBLEMS:
        return ProblemOutcome("unknown_problem", problem, order.number)
    if prefer not in (None, "replacement", "refund"):
        raise ValueError(f"prefer must be 'replacement', 'refund' or None, not {prefer!r}")
    order = refunds.lock_order(session, order.id)
    if problem == "late":
        return _compensate_late_delivery(session, order, conversation, settings)
    return _remedy_items(session, order, problem, items, prefer, return_method, conversation, settings)


def _compensate_late_delivery(
    session: Session, order: Order, conversation: Conversation, settings: Settings
) -> ProblemOutcome:
    """Refunds the shipping once if the parcel came (or is still not here) after its promised day."""
    late, eta, arrived, missed_christmas = _lateness(order, settings)
    facts = dict(problem="late", order_number=order.number, eta=eta, delivered_on=arrived,
                 missed_christmas=missed_christmas)
    if not late:
        return ProblemOutcome("not_late", **facts)
    refund = refunds.refund_shipping(
        session, order, reason="late_delivery_compensation", conversation=conversation, settings=settings
    )
    if refund.status == "nothing_to_refund":
        return ProblemOutcome("nothing_to_refund", remedy="compensation", refund=refund, **facts)
    status = "remedied" if refund.created else "already_remedied"
    return ProblemOutcome(status, remedy="compensation", refund=refund, **facts)


def _remedy_items(
    session: Session,
    order: Order,
    problem: str,
    items: Sequence[str] | str | None,
    prefer: str | None,
    return_method: str,
    conversation: Conversation,
    settings: Settings,
) -> ProblemOutcome:
    """Replaces the items the shopper named (or refunds them), unless that was done already."""
    # A damaged final-sale item is still ours to put right.
    everything = item_eligibility(session, order, settings, final_sale_counts=False)
    asked = AskedItems(order, everything, select_items(order, items))
    selection = asked.selection
    if not selection.complete:
        return ProblemOutcome("choose_items", problem, order.number, **asked.choices())
    step = "nothing_to_send" if problem == "missing" else next_step(return_method)
    terms = dict(problem=problem, order_number=order.number, next_step=step, label_email=label_email(order, step))
    earlier = existing_return(session, selection.items)
    if earlier is not None and earlier.reason == problem:
        return ProblemOutcome(
            "already_remedied",
            remedy="replacement" if earlier.kind == "exchange" else "refund",
            rma=earlier.rma,
            items=eligibility_of(everything, selection.items),
            refund=refund_of(session, order, earlier, settings),
            **terms,
        )
    ok, refused = split_by_eligibility(everything, selection.items)
    if not ok:
        return ProblemOutcome("ineligible", problem, order.number, ineligible=refused)
    replaced = prefer != "refund" and _reserve_replacements(session, ok)
    evidence = photo_evidence(session, conversation.id, problem, settings)
    ret = _record_remedy(session, order, ok, problem, replaced, evidence, conversation, settings)
    refund = None
    if not replaced:
        refund = refunds.refund_return(session, order, ret, conversation=conversation, settings=settings)
    if evidence:
        photos.note_on_open_ticket(session, conversation.id, evidence)
    return ProblemOutcome(
        "remedied",
        remedy="replacement" if replaced else "refund",
        rma=ret.rma,
        items=eligibility_of(everything, ok),
        ineligible=refused,
        replacement_unavailable=prefer == "replacement" and not replaced,
        refund=refund,
        photos=evidence,
        **terms,
    )


def _reserve_replacements(session: Session, items: Sequence[OrderItem]) -> bool:
    """Takes a replacement of every item out of stock, or (one is short) none of them."""
    taken = []
    for item in items:
        if not take_stock(session, item.product_id, item.quantity):
            for reserved in taken:
                put_back_stock(session, reserved.product_id, reserved.quantity)
            return False
        taken.append(item)
    return True


def _record_remedy(
    session: Session,
    order: Order,
    items: Sequence[OrderItem],
    problem: str,
    replaced: bool,
    evidence: int,
    conversation: Conversation,
    settings: Settings,
) -> Return:
    """The RMA of the remedy (an exchange to the same product, or a return to refund), audited."""
    ret = create_return(
        session, order, items,
        kind="exchange" if replaced else "return",
        reason=problem,
        refund_method="none" if replaced else "original_payment",
        conversation_id=conversation.id,
        settings=settings,
        exchange_to_same=replaced,
    )
    if ret is None:
        raise RuntimeError("problem report raced a return of the same item despite the order lock")
    remedy = "replacement" if replaced else "refund"
    what = f"{problem} reported; {remedy} for items {[i.id for i in items]}"
    record_created(session, order, ret, f"{what}; {photos.evidence_note(evidence)}" if evidence else what, settings)
    return ret
