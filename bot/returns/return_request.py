"""A return: the shopper sends chosen items of a verified order back and is refunded.

The return (RMA) and its refund are created in the caller's unit of work, with the order row
locked; the amount comes from bot.money.refunds (from the database, up the ladder, idempotent).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from sqlalchemy.orm import Session

from bot.conversation import Conversation
from bot.money import refunds
from bot.returns.eligibility import ItemEligibility, eligibility_of, split_by_eligibility
from bot.returns.matching import AskedItems, Refused, verified_asked_items
from bot.returns.rma import create_return, existing_return, label_email, next_step, record_created, refund_of
from bot.settings import Settings, get_settings
from bot.store.models import Order

RETURN_REASONS = ("wrong_size", "damaged", "not_as_described", "unwanted_gift", "changed_mind", "late")


@dataclass(frozen=True)
class ReturnOutcome:
    # created | already_created | not_verified | unknown_reason | choose_items | ineligible
    status: str
    order_number: str | None = None
    rma: str | None = None
    reason: str | None = None
    items: tuple[ItemEligibility, ...] = ()  # what the return covers
    ineligible: tuple[ItemEligibility, ...] = ()  # asked for but refused, each with reason and date
    choices: tuple[ItemEligibility, ...] = ()  # choose_items: every item, by position
    unmatched: tuple[str, ...] = ()
    ambiguous: tuple[str, ...] = ()
    refund_method: str | None = None  # original_payment | store_credit
    credit_to: str | None = None  # buyer | recipient (gift receipt: store credit to the recipient)
    next_step: str | None = None  # one of NEXT_STEPS
    label_email: str | None = None  # where the prepaid label goes
    refund: refunds.RefundOutcome | None = None


def start_return(
    session: Session,
    conversation: Conversation,
    order_number: str | None,
    items: Sequence[str] | str | None,
    reason: str | None,
    has_gift_receipt: bool = False,
    return_method: str = "prepaid_label",
    settings: Settings | None = None,
) -> ReturnOutcome:
    """Creates a return (RMA) for the chosen items of a verified order and refunds them.

    `items` are what the shopper said: product names or positions. Eligible items are
    returned and refunded (the ladder decides issued vs pending_review + ticket); ineligible
    ones come back in `ineligible` with their reason. A gift order returned with its gift
    receipt is refunded as store credit for the recipient, never to the buyer's card.
    Asking again for the same items returns the same RMA and refund.
    """
    settings = settings or get_settings()
    step = next_step(return_method)
    asked = verified_asked_items(session, conversation.id, order_number, items, reason, RETURN_REASONS, settings)
    if isinstance(asked, Refused):
        return ReturnOutcome(asked.status, asked.order_number, reason=asked.reason)
    if not asked.selection.complete:
        return ReturnOutcome("choose_items", asked.order.number, reason=reason, **asked.choices())
    terms = _terms(asked.order, reason, has_gift_receipt, step)
    earlier = existing_return(session, asked.selection.items, kind="return")
    if earlier is not None:
        return ReturnOutcome(
            "already_created",
            rma=earlier.rma,
            items=eligibility_of(asked.everything, asked.selection.items),
            refund=refund_of(session, asked.order, earlier, settings),
            **{**terms, "reason": earlier.reason, "refund_method": earlier.refund_method},
        )
    return _return_and_refund(session, asked, terms, conversation, settings)


def _terms(order: Order, reason: str, has_gift_receipt: bool, step: str) -> dict[str, Any]:
    """What every answer about this return says: where the money goes and how items go back."""
    gift_credit = bool(order.is_gift and has_gift_receipt)
    return dict(
        order_number=order.number,
        reason=reason,
        refund_method="store_credit" if gift_credit else "original_payment",
        credit_to="recipient" if gift_credit else "buyer",
        next_step=step,
        label_email=label_email(order, step),
    )


def _return_and_refund(
    session: Session, asked: AskedItems, terms: dict[str, Any], conversation: Conversation, settings: Settings
) -> ReturnOutcome:
    """Creates the RMA for the eligible ones of the asked-for items and refunds them."""
    order, everything = asked.order, asked.everything
    reason, method = terms["reason"], terms["refund_method"]
    ok, refused = split_by_eligibility(everything, asked.selection.items)
    refused_all = ReturnOutcome("ineligible", order.number, reason=reason, ineligible=refused)
    if not ok:
        return refused_all
    ret = create_return(
        session, order, ok, kind="return", reason=reason, refund_method=method,
        conversation_id=conversation.id, settings=settings,
    )
    if ret is None:  # a racing request took one of the items first
        return refused_all
    what = f"{reason}; items {[i.id for i in ok]}; refund to {method} ({terms['credit_to']})"
    record_created(session, order, ret, what, settings)
    refund = refunds.refund_return(session, order, ret, conversation=conversation, settings=settings)
    return ReturnOutcome(
        "created", rma=ret.rma, items=eligibility_of(everything, ok), ineligible=refused, refund=refund, **terms
    )

