"""An exchange: one item of a verified order goes back for another size or colour of the same
style, if that is in stock. A created exchange takes the new variant out of stock at once."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from bot.conversation import Conversation
from bot.returns.eligibility import ItemEligibility, eligibility_of
from bot.returns.matching import Refused, verified_asked_items
from bot.returns.return_request import RETURN_REASONS
from bot.returns.rma import create_return, existing_return, label_email, next_step, record_created
from bot.returns.variants import Variant, as_variant, take_stock, variants_of, wanted_variant
from bot.settings import Settings, get_settings
from bot.store.models import Order, OrderItem, Product


@dataclass(frozen=True)
class ExchangeOutcome:
    # created | already_created | not_verified | unknown_reason | choose_items | ineligible
    # | choose_variant | no_such_variant | out_of_stock
    status: str
    order_number: str | None = None
    rma: str | None = None
    item: ItemEligibility | None = None  # the item going back
    new_variant: Variant | None = None  # what is sent instead
    alternatives: tuple[Variant, ...] = ()  # in-stock variants of the same style
    refund_amount: Decimal | None = None  # what a return would refund instead (out_of_stock)
    choices: tuple[ItemEligibility, ...] = ()
    unmatched: tuple[str, ...] = ()
    ambiguous: tuple[str, ...] = ()
    next_step: str | None = None
    label_email: str | None = None


def start_exchange(
    session: Session,
    conversation: Conversation,
    order_number: str | None,
    item: str | None,
    reason: str | None = "wrong_size",
    size: str | None = None,
    color: str | None = None,
    return_method: str = "prepaid_label",
    settings: Settings | None = None,
) -> ExchangeOutcome:
    """Exchanges one item for another size/colour of the same style, if it is in stock.

    Without a size or colour the answer is `choose_variant` with what is in stock. Out of
    stock, nothing is reserved: the outcome lists the in-stock alternatives and what a return
    would refund instead. A created exchange takes the new variant out of stock at once.
    """
    settings = settings or get_settings()
    step = next_step(return_method)
    asked = verified_asked_items(session, conversation.id, order_number, item, reason, RETURN_REASONS, settings)
    if isinstance(asked, Refused):
        return ExchangeOutcome(asked.status, asked.order_number)
    if not asked.selection.complete or len(asked.selection.items) != 1:
        return ExchangeOutcome("choose_items", asked.order.number, **asked.choices())
    order, chosen = asked.order, asked.selection.items[0]
    state = eligibility_of(asked.everything, [chosen])[0]
    terms = dict(order_number=order.number, item=state, next_step=step, label_email=label_email(order, step))
    earlier = existing_return(session, [chosen], kind="exchange")
    if earlier is not None:
        new = earlier.items[0].exchange_product
        new_variant = as_variant(new) if new else None
        return ExchangeOutcome("already_created", rma=earlier.rma, new_variant=new_variant, **terms)
    if not state.eligible:
        return ExchangeOutcome("ineligible", order.number, item=state)
    wanted = _WantedVariant(reason, size, color)
    return _exchange_for(session, order, chosen, state, wanted, terms, conversation, settings)


@dataclass(frozen=True)
class _WantedVariant:
    reason: str
    size: str | None
    color: str | None


def _exchange_for(
    session: Session,
    order: Order,
    chosen: OrderItem,
    state: ItemEligibility,
    wanted: _WantedVariant,
    terms: dict[str, Any],
    conversation: Conversation,
    settings: Settings,
) -> ExchangeOutcome:
    """Reserves the size/colour asked for and creates the exchange, or says what is in stock."""
    others = variants_of(session, chosen.product)
    alternatives = tuple(as_variant(p) for p in others if p.stock >= chosen.quantity)
    if wanted.size is None and wanted.color is None:
        return ExchangeOutcome("choose_variant", order.number, item=state, alternatives=alternatives)
    new = wanted_variant(others, chosen.product, wanted.size, wanted.color)
    if new is None:
        return ExchangeOutcome("no_such_variant", order.number, item=state, alternatives=alternatives)
    if not take_stock(session, new.id, chosen.quantity):
        return ExchangeOutcome(
            "out_of_stock", order.number, item=state, new_variant=as_variant(new),
            alternatives=tuple(a for a in alternatives if a.product_id != new.id),
            refund_amount=state.amount,
        )
    rma = _create_exchange(session, order, chosen, new, wanted.reason, conversation, settings)
    return ExchangeOutcome("created", rma=rma, new_variant=as_variant(new), **terms)


def _create_exchange(
    session: Session,
    order: Order,
    chosen: OrderItem,
    new: Product,
    reason: str,
    conversation: Conversation,
    settings: Settings,
) -> str:
    """Records the exchange (its stock already reserved) and audits it; its RMA."""
    ret = create_return(
        session, order, [chosen], kind="exchange", reason=reason, refund_method="none",
        conversation_id=conversation.id, settings=settings, exchange_product_id=new.id,
    )
    if ret is None:
        raise RuntimeError("exchange raced a return of the same item despite the order lock")
    session.refresh(new)
    swap = f"{chosen.product.sku} -> {new.sku} x{chosen.quantity}"
    record_created(session, order, ret, f"{reason}; item {chosen.id} {swap}", settings)
    return ret.rma
