"""The RMA: its number, what the shopper does next to send items back, creating it with its
items, and finding the earlier one (and its refund) that a repeated request already made."""
from __future__ import annotations

from typing import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.money import audit, refunds
from bot.returns.eligibility import returned_on
from bot.settings import Settings
from bot.store.models import Order, OrderItem, Return, ReturnItem

RETURN_METHODS = ("prepaid_label", "drop_off")
# What the shopper does next: a prepaid label arrives by email, or they show the RMA at a
# drop-off point, or (a missing item) there is nothing to send back.
NEXT_STEPS = ("prepaid_label_by_email", "drop_off", "nothing_to_send")


def rma_for(order: Order, first_position: int) -> str:
    """RMA number: the order number and the position of the return's first item.

    Deterministic and unique without a counter, because an item is in at most one return.
    """
    return f"RMA-{order.number}-{first_position}"



def next_step(return_method: str) -> str:
    """What the shopper does to send items back with this return method (one of NEXT_STEPS)."""
    if return_method not in RETURN_METHODS:
        raise ValueError(f"unknown return method {return_method!r}; expected one of {RETURN_METHODS}")
    return "prepaid_label_by_email" if return_method == "prepaid_label" else "drop_off"


def label_email(order: Order, step: str) -> str | None:
    """Where the prepaid label goes, when the next step is waiting for one."""
    return order.customer.email if step == "prepaid_label_by_email" else None


def create_return(
    session: Session,
    order: Order,
    items: Sequence[OrderItem],
    *,
    kind: str,
    reason: str,
    refund_method: str,
    conversation_id: str,
    settings: Settings,
    exchange_product_id: int | None = None,
    exchange_to_same: bool = False,
) -> Return | None:
    """Inserts the RMA and its items; None if a racing request took one of the items first."""
    positions = {i.id: n for n, i in enumerate(order.items, start=1)}
    ret = Return(
        rma=rma_for(order, min(positions[i.id] for i in items)),
        order_id=order.id,
        kind=kind,
        reason=reason,
        refund_method=refund_method,
        status="open",
        conversation_id=conversation_id,
        created_at=settings.now(),
    )
    for item in items:
        ret.items.append(
            ReturnItem(
                order_item_id=item.id,
                quantity=item.quantity,
                exchange_product_id=item.product_id if exchange_to_same else exchange_product_id,
            )
        )
    try:
        with session.begin_nested():
            session.add(ret)
            session.flush()
    except IntegrityError:
        return None
    return ret


def record_created(session: Session, order: Order, ret: Return, what: str, settings: Settings) -> None:
    """The audit entry of a new RMA, in the same unit of work: `what` says why and which items."""
    action = audit.EXCHANGE_CREATED if ret.kind == "exchange" else audit.RETURN_CREATED
    audit.record(session, actor="bot", action=action, at=settings.now(), order_id=order.id, detail=f"{ret.rma}: {what}")


def existing_return(session: Session, items: Sequence[OrderItem], kind: str | None = None) -> Return | None:
    """The one earlier return holding exactly these items (a repeated request), if any."""
    held = returned_on(session, [i.id for i in items])
    returns = {ri.return_id for ri in held.values()}
    if len(held) != len(items) or len(returns) != 1:
        return None
    ret = next(iter(held.values())).ret
    if kind is not None and ret.kind != kind:
        return None
    return ret if {ri.order_item_id for ri in ret.items} == {i.id for i in items} else None


def refund_of(session: Session, order: Order, ret: Return, settings: Settings) -> refunds.RefundOutcome | None:
    """The refund an earlier return already has, to tell a shopper who asks again."""
    key = refunds.items_key(order, [ri.order_item_id for ri in ret.items])
    return refunds.existing_outcome(session, key, settings)
