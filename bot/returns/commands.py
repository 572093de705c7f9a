"""Returns, exchanges and problem reports on a verified order.

Eligibility is decided here, from the database, item by item, and every refusal carries a
machine-readable reason and the date that matters, so the assistant can say *why*:

* not_delivered     - nothing to send back yet (date: the expected delivery day, if known)
* window_closed     - the return window has ended (date: its last day)
* final_sale        - final-sale items cannot be returned or exchanged
* already_returned  - the item is in an earlier return or exchange (date: when)

The return window is `standard_return_days` from delivery; items bought between
`holiday_purchase_start` and `holiday_purchase_end` may also be returned until
`holiday_return_until` of the next year, whichever is later. The window's last day is inside.

Refunds go through bot.money.refunds (amounts from the database, the ladder, idempotency); a return
and its refund are created in one unit of work, with the order row locked.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Sequence

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.money import audit, refunds
from bot.orders.lookup import verified_order
from bot.settings import Settings, get_settings
from bot.store.engine import Store
from bot.store.models import Order, OrderItem, Product, Return, ReturnItem

RETURN_REASONS = ("wrong_size", "damaged", "not_as_described", "unwanted_gift", "changed_mind", "late")
PROBLEMS = ("damaged", "wrong_item", "missing", "late")
RETURN_METHODS = ("prepaid_label", "drop_off")
# What the shopper does next: a prepaid label arrives by email, or they show the RMA at a
# drop-off point, or (a missing item) there is nothing to send back.
NEXT_STEPS = ("prepaid_label_by_email", "drop_off", "nothing_to_send")

Transcript = Sequence[dict[str, Any]] | str | None

_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5,
    "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10,
}
_FILLER = {"the", "a", "an", "my", "one", "item", "items", "number", "no", "nr", "product", "that", "this", "please"}
_ALL = {"all", "everything", "both", "all of them", "the whole order", "whole order"}


# ---------------------------------------------------------------- eligibility


@dataclass(frozen=True)
class ItemEligibility:
    order_item_id: int
    position: int  # 1-based, as the shopper sees the order
    name: str
    quantity: int
    amount: Decimal  # what the line was paid: unit price x quantity
    eligible: bool
    reason: str | None  # None | not_delivered | window_closed | final_sale | already_returned
    date: dt.date | None  # last day to return (eligible, window_closed), expected delivery, or when returned


def delivered_on(order: Order) -> dt.date | None:
    shipment = order.shipment
    if shipment is None:
        return None
    if shipment.delivered_at is not None:
        return shipment.delivered_at.date()
    if shipment.status == "delivered" or order.status == "delivered":
        # Delivered without a recorded time: the last tracking event is the best evidence.
        if shipment.events:
            return shipment.events[-1].at.date()
    return None


def _in_holiday_period(placed: dt.date, settings: Settings) -> tuple[bool, int]:
    """Whether a purchase date is in the holiday period, and the year that period started."""
    start, end, md = settings.holiday_purchase_start, settings.holiday_purchase_end, (placed.month, placed.day)
    if start <= end:
        return start <= md <= end, placed.year
    if md >= start:
        return True, placed.year
    return md <= end, placed.year - 1


def holiday_deadline(placed: dt.date, settings: Settings) -> dt.date | None:
    """The extended last return day for a holiday-period purchase, else None."""
    inside, season_year = _in_holiday_period(placed, settings)
    if not inside:
        return None
    month, day = settings.holiday_return_until
    return dt.date(season_year + 1, month, day)


def return_deadline(order: Order, delivered: dt.date, settings: Settings) -> dt.date:
    """The last day the order's items may be returned (inclusive)."""
    standard = delivered + dt.timedelta(days=settings.standard_return_days)
    holiday = holiday_deadline(order.placed_at.date(), settings)
    return max(standard, holiday) if holiday else standard


def _returned_on(session: Session, item_ids: Sequence[int]) -> dict[int, ReturnItem]:
    if not item_ids:
        return {}
    rows = session.execute(select(ReturnItem).where(ReturnItem.order_item_id.in_(tuple(item_ids)))).scalars()
    return {ri.order_item_id: ri for ri in rows}


def item_eligibility(
    session: Session, order: Order, settings: Settings, *, final_sale_counts: bool = True
) -> list[ItemEligibility]:
    """Every item of the order with whether it can be returned today, and why not.

    `final_sale_counts=False` is for problem reports: a damaged final-sale item is still ours
    to put right.
    """
    today = settings.today()
    delivered = delivered_on(order)
    deadline = return_deadline(order, delivered, settings) if delivered else None
    returned = _returned_on(session, [i.id for i in order.items])
    result = []
    for position, item in enumerate(order.items, start=1):
        reason, date = None, deadline
        if item.id in returned:
            reason, date = "already_returned", returned[item.id].ret.created_at.date()
        elif delivered is None:
            reason, date = "not_delivered", order.shipment.eta if order.shipment else None
        elif final_sale_counts and item.product.final_sale:
            reason, date = "final_sale", None
        elif today > deadline:
            reason = "window_closed"
        result.append(
            ItemEligibility(
                order_item_id=item.id,
                position=position,
                name=item.product.name,
                quantity=item.quantity,
                amount=item.line_total,
                eligible=reason is None,
                reason=reason,
                date=date,
            )
        )
    return result


def eligibility(
    store: Store, conversation_id: str, order_number: str | None, settings: Settings | None = None
) -> list[ItemEligibility] | None:
    """The verified order's items with their return eligibility; None if not verified."""
    settings = settings or get_settings()
    with store.session() as s:
        order = verified_order(s, conversation_id, order_number)
        if order is None:
            return None
        return item_eligibility(s, order, settings)


# ---------------------------------------------------------------- choosing items


@dataclass(frozen=True)
class Selection:
    items: tuple[OrderItem, ...]
    unmatched: tuple[str, ...] = ()  # said, but no item fits
    ambiguous: tuple[str, ...] = ()  # said, but several items fit

    @property
    def complete(self) -> bool:
        return bool(self.items) and not self.unmatched and not self.ambiguous


def _words(text: str) -> list[str]:
    return [w.rstrip("s") if len(w) > 3 else w for w in re.findall(r"[a-z0-9]+", text.lower())]


def _position(selector: str, count: int) -> int | None:
    tokens = [t for t in re.findall(r"\d+(?:st|nd|rd|th)?|[a-z]+", selector.lower()) if t not in _FILLER]
    if len(tokens) != 1:
        return None
    token = re.sub(r"(?<=\d)(st|nd|rd|th)$", "", tokens[0])
    if token.isdigit():
        return int(token) if len(token) <= 2 else None
    if token == "last":
        return count
    return _ORDINALS.get(token)


def select_items(order: Order, selectors: Sequence[str] | str | None) -> Selection:
    """Which of the order's items the shopper means, by position ("2", "the second") or name.

    With no selector, a one-item order means that item; a longer order needs a choice.
    """
    items = list(order.items)
    if isinstance(selectors, str):
        selectors = [selectors]
    selectors = [s for s in (selectors or []) if s and str(s).strip()]
    if not selectors:
        return Selection(tuple(items) if len(items) == 1 else ())
    chosen: list[OrderItem] = []
    unmatched, ambiguous = [], []
    for selector in selectors:
        selector = str(selector).strip()
        if selector.lower() in _ALL:
            chosen.extend(items)
            continue
        position = _position(selector, len(items))
        if position is not None:
            if 1 <= position <= len(items):
                chosen.append(items[position - 1])
            else:
                unmatched.append(selector)
            continue
        wanted = [w for w in _words(selector) if w not in _FILLER]
        if not wanted:
            unmatched.append(selector)
            continue
        exact = [i for i in items if i.product.name.lower() == selector.lower()]
        fits = exact or [
            i
            for i in items
            if set(wanted)
            <= set(_words(" ".join(filter(None, (i.product.name, i.product.color, i.product.size, i.product.category)))))
        ]
        if len({i.id for i in fits}) == 1:
            chosen.append(fits[0])
        elif fits:
            ambiguous.append(selector)
        else:
            unmatched.append(selector)
    unique = tuple({i.id: i for i in chosen}.values())
    return Selection(unique, tuple(unmatched), tuple(ambiguous))


# ---------------------------------------------------------------- returns


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


def rma_for(order: Order, first_position: int) -> str:
    """RMA number: the order number and the position of the return's first item.

    Deterministic and unique without a counter, because an item is in at most one return.
    """
    return f"RMA-{order.number}-{first_position}"


def _next_step(return_method: str) -> str:
    if return_method not in RETURN_METHODS:
        raise ValueError(f"unknown return method {return_method!r}; expected one of {RETURN_METHODS}")
    return "prepaid_label_by_email" if return_method == "prepaid_label" else "drop_off"


def _create_return(
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


def _existing_return(session: Session, items: Sequence[OrderItem], kind: str | None = None) -> Return | None:
    """The one earlier return holding exactly these items (a repeated request), if any."""
    held = _returned_on(session, [i.id for i in items])
    returns = {ri.return_id for ri in held.values()}
    if len(held) != len(items) or len(returns) != 1:
        return None
    ret = next(iter(held.values())).ret
    if kind is not None and ret.kind != kind:
        return None
    return ret if {ri.order_item_id for ri in ret.items} == {i.id for i in items} else None


def _refund_of(session: Session, order: Order, ret: Return, settings: Settings) -> refunds.RefundOutcome | None:
    key = refunds.items_key(order, [ri.order_item_id for ri in ret.items])
    existing = refunds._existing(session, key)
    return refunds._outcome(session, existing, False, settings) if existing is not None else None


def _eligibility_for(all_items: list[ItemEligibility], items: Sequence[OrderItem]) -> tuple[ItemEligibility, ...]:
    wanted = {i.id for i in items}
    return tuple(e for e in all_items if e.order_item_id in wanted)


def _split_by_eligibility(
    all_items: list[ItemEligibility], items: Sequence[OrderItem]
) -> tuple[list[OrderItem], tuple[ItemEligibility, ...]]:
    """The asked-for items that may go back, and the refused ones with their reasons."""
    asked = {e.order_item_id: e for e in _eligibility_for(all_items, items)}
    eligible = [i for i in items if asked[i.id].eligible]
    refused = tuple(e for e in asked.values() if not e.eligible)
    return eligible, refused


def start_return(
    store: Store,
    conversation_id: str,
    order_number: str | None,
    items: Sequence[str] | str | None,
    reason: str | None,
    has_gift_receipt: bool = False,
    return_method: str = "prepaid_label",
    channel: str = "unknown",
    transcript: Transcript = None,
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
    next_step = _next_step(return_method)
    with store.session() as s:
        order = verified_order(s, conversation_id, order_number)
        if order is None:
            return ReturnOutcome("not_verified")
        if reason not in RETURN_REASONS:
            return ReturnOutcome("unknown_reason", order.number, reason=reason)
        order = refunds.lock_order(s, order.id)
        everything = item_eligibility(s, order, settings)
        selection = select_items(order, items)
        if not selection.complete:
            return ReturnOutcome(
                "choose_items",
                order.number,
                reason=reason,
                choices=tuple(everything),
                unmatched=selection.unmatched,
                ambiguous=selection.ambiguous,
            )
        gift_credit = bool(order.is_gift and has_gift_receipt)
        method = "store_credit" if gift_credit else "original_payment"
        credit_to = "recipient" if gift_credit else "buyer"
        common = dict(
            order_number=order.number,
            reason=reason,
            refund_method=method,
            credit_to=credit_to,
            next_step=next_step,
            label_email=order.customer.email if next_step == "prepaid_label_by_email" else None,
        )
        earlier = _existing_return(s, selection.items, kind="return")
        if earlier is not None:
            return ReturnOutcome(
                "already_created",
                rma=earlier.rma,
                items=_eligibility_for(everything, selection.items),
                refund=_refund_of(s, order, earlier, settings),
                **{**common, "reason": earlier.reason, "refund_method": earlier.refund_method},
            )
        ok, refused = _split_by_eligibility(everything, selection.items)
        if not ok:
            return ReturnOutcome("ineligible", order.number, reason=reason, ineligible=refused)
        ret = _create_return(
            s, order, ok, kind="return", reason=reason, refund_method=method,
            conversation_id=conversation_id, settings=settings,
        )
        if ret is None:
            return ReturnOutcome("ineligible", order.number, reason=reason, ineligible=refused)
        audit.record(
            s,
            actor="bot",
            action=audit.RETURN_CREATED,
            at=settings.now(),
            order_id=order.id,
            detail=f"{ret.rma}: {reason}; items {[i.id for i in ok]}; refund to {method} ({credit_to})",
        )
        refund = refunds.refund_return_in(
            s, order, ret, conversation_id=conversation_id, channel=channel,
            transcript=transcript, settings=settings,
        )
        return ReturnOutcome(
            "created",
            rma=ret.rma,
            items=_eligibility_for(everything, ok),
            ineligible=refused,
            refund=refund,
            **common,
        )


# ---------------------------------------------------------------- exchanges


@dataclass(frozen=True)
class Variant:
    product_id: int
    sku: str
    name: str
    size: str | None
    color: str | None
    price: Decimal
    in_stock: bool


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


def _variant(p: Product) -> Variant:
    return Variant(p.id, p.sku, p.name, p.size, p.color, p.price, p.stock > 0)


def _same(a: str | None, b: str | None) -> bool:
    return (a or "").strip().lower() == (b or "").strip().lower()


def variants_of(session: Session, product: Product) -> list[Product]:
    """The other sizes/colours of the product's style."""
    return list(
        session.execute(
            select(Product)
            .where(Product.style == product.style, Product.id != product.id)
            .order_by(Product.id)
            .execution_options(populate_existing=True)
        ).scalars()
    )


def _fits(p: Product, size: str | None, color: str | None) -> bool:
    return (size is None or _same(p.size, size)) and (color is None or _same(p.color, color))


def _closest(fits: Sequence[Product], current: Product) -> Product:
    """Only the size changed: keep the colour (and vice versa); prefer one in stock."""
    return min(fits, key=lambda p: (not _same(p.color, current.color), not _same(p.size, current.size), p.stock <= 0, p.id))


def _wanted_variant(others: list[Product], current: Product, size: str | None, color: str | None) -> Product | None:
    fits = [p for p in others if _fits(p, size, color)]
    return _closest(fits, current) if fits else None


# The shopper's words for a size, and the size label a catalogue uses for it.
SIZE_WORDS = (
    ("extra small", "xs"), ("extra large", "xl"), ("x-large", "xl"), ("x large", "xl"),
    ("small", "s"), ("medium", "m"), ("large", "l"),
)
VARIANT_MATCHES = ("matched", "sold_out", "no_such_variant", "same_as_current", "unclear")


@dataclass(frozen=True)
class VariantMatch:
    status: str  # one of VARIANT_MATCHES
    size: str | None = None  # the size the words named, as the catalogue spells it
    color: str | None = None  # the colour the words named
    variant: Variant | None = None  # matched: what would be sent; sold_out: what is missing

    @property
    def wanted(self) -> str:
        """What the shopper asked for, to repeat back ("XL, Red")."""
        return ", ".join(x for x in (self.size, self.color) if x)


def _size_and_color(text: str, style: Sequence[Product]) -> tuple[str | None, str | None]:
    """The style's size and colour that the words name; only labels the style has count, so
    "large" finds "L" but a colour the style never came in finds nothing."""
    words = " " + re.sub(r"[^a-z0-9-]+", " ", text.lower().replace("'", "")) + " "
    for phrase, short in SIZE_WORDS:
        words = words.replace(f" {phrase} ", f" {short} ")
    sizes = sorted({p.size for p in style if p.size and p.size.lower() != "one size"}, key=len, reverse=True)
    colors = sorted({p.color for p in style if p.color}, key=len, reverse=True)
    size = next((s for s in sizes if f" {s.lower()} " in words), None)
    color = next((c for c in colors if f" {c.lower()} " in words), None)
    return size, color


def match_variant(session: Session, product: Product, text: Any, quantity: int = 1) -> VariantMatch:
    """Which other size/colour of `product`'s style the shopper's words ("large", "XL in red",
    a SKU) ask for, and whether `quantity` of it is in stock.

    An in-stock fit wins over a sold-out one, so what the form accepts is what gets sent;
    among several, the one closest to what the shopper has.
    """
    raw = str(text or "").strip()
    others = variants_of(session, product)
    by_sku = next((p for p in (product, *others) if raw.lower() == p.sku.lower()), None)
    if by_sku is not None:
        size, color = by_sku.size, by_sku.color
    else:
        size, color = _size_and_color(raw, (product, *others))
    if size is None and color is None:
        return VariantMatch("unclear")
    fits = [p for p in others if _fits(p, size, color)]
    if not fits:
        status = "same_as_current" if _fits(product, size, color) else "no_such_variant"
        return VariantMatch(status, size, color)
    in_stock = [p for p in fits if p.stock >= quantity]
    if in_stock:
        return VariantMatch("matched", size, color, _variant(_closest(in_stock, product)))
    return VariantMatch("sold_out", size, color, _variant(_closest(fits, product)))


@dataclass(frozen=True)
class VariantChoice:
    current: Variant  # what the shopper has
    match: VariantMatch  # what their words ask for instead


def variant_choice(
    store: Store, conversation_id: str, order_number: str | None, item: str | None, text: Any = None
) -> VariantChoice | None:
    """The chosen item's variant and what `text` asks for instead; None unless the words pick
    exactly one item of an order this conversation verified."""
    with store.session() as s:
        order = verified_order(s, conversation_id, order_number)
        if order is None:
            return None
        selection = select_items(order, item)
        if not selection.complete or len(selection.items) != 1:
            return None
        chosen = selection.items[0]
        return VariantChoice(_variant(chosen.product), match_variant(s, chosen.product, text, chosen.quantity))


def take_stock(session: Session, product_id: int, quantity: int) -> bool:
    """Reserves `quantity` units if (and only if) that many are in stock; atomic under races."""
    result = session.execute(
        update(Product)
        .where(Product.id == product_id, Product.stock >= quantity)
        .values(stock=Product.stock - quantity)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def start_exchange(
    store: Store,
    conversation_id: str,
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
    next_step = _next_step(return_method)
    with store.session() as s:
        order = verified_order(s, conversation_id, order_number)
        if order is None:
            return ExchangeOutcome("not_verified")
        if reason not in RETURN_REASONS:
            return ExchangeOutcome("unknown_reason", order.number)
        order = refunds.lock_order(s, order.id)
        everything = item_eligibility(s, order, settings)
        selection = select_items(order, item)
        if not selection.complete or len(selection.items) != 1:
            return ExchangeOutcome(
                "choose_items", order.number, choices=tuple(everything),
                unmatched=selection.unmatched, ambiguous=selection.ambiguous,
            )
        chosen = selection.items[0]
        state = _eligibility_for(everything, [chosen])[0]
        common = dict(
            order_number=order.number,
            item=state,
            next_step=next_step,
            label_email=order.customer.email if next_step == "prepaid_label_by_email" else None,
        )
        earlier = _existing_return(s, [chosen], kind="exchange")
        if earlier is not None:
            new = earlier.items[0].exchange_product
            return ExchangeOutcome("already_created", rma=earlier.rma, new_variant=_variant(new) if new else None, **common)
        if not state.eligible:
            return ExchangeOutcome("ineligible", order.number, item=state)
        current = chosen.product
        others = variants_of(s, current)
        alternatives = tuple(_variant(p) for p in others if p.stock >= chosen.quantity)
        if size is None and color is None:
            return ExchangeOutcome("choose_variant", order.number, item=state, alternatives=alternatives)
        wanted = _wanted_variant(others, current, size, color)
        if wanted is None:
            return ExchangeOutcome("no_such_variant", order.number, item=state, alternatives=alternatives)
        if not take_stock(s, wanted.id, chosen.quantity):
            return ExchangeOutcome(
                "out_of_stock", order.number, item=state, new_variant=_variant(wanted),
                alternatives=tuple(a for a in alternatives if a.product_id != wanted.id),
                refund_amount=state.amount,
            )
        ret = _create_return(
            s, order, [chosen], kind="exchange", reason=reason, refund_method="none",
            conversation_id=conversation_id, settings=settings, exchange_product_id=wanted.id,
        )
        if ret is None:
            raise RuntimeError("exchange raced a return of the same item despite the order lock")
        s.refresh(wanted)
        audit.record(
            s,
            actor="bot",
            action=audit.EXCHANGE_CREATED,
            at=settings.now(),
            order_id=order.id,
            detail=f"{ret.rma}: {reason}; item {chosen.id} {current.sku} -> {wanted.sku} x{chosen.quantity}",
        )
        return ExchangeOutcome("created", rma=ret.rma, new_variant=_variant(wanted), **common)


# ---------------------------------------------------------------- problems


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
    store: Store,
    conversation_id: str,
    order_number: str | None,
    problem: str | None,
    items: Sequence[str] | str | None = None,
    prefer: str | None = None,
    return_method: str = "prepaid_label",
    channel: str = "unknown",
    transcript: Transcript = None,
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
    with store.session() as s:
        order = verified_order(s, conversation_id, order_number)
        if order is None:
            return ProblemOutcome("not_verified", problem)
        if problem not in PROBLEMS:
            return ProblemOutcome("unknown_problem", problem, order.number)
        if prefer not in (None, "replacement", "refund"):
            raise ValueError(f"prefer must be 'replacement', 'refund' or None, not {prefer!r}")
        order = refunds.lock_order(s, order.id)
        if problem == "late":
            late, eta, arrived, missed_christmas = _lateness(order, settings)
            facts = dict(problem=problem, order_number=order.number, eta=eta, delivered_on=arrived,
                         missed_christmas=missed_christmas)
            if not late:
                return ProblemOutcome("not_late", **facts)
            refund = refunds.refund_shipping_in(
                s, order, reason="late_delivery_compensation", conversation_id=conversation_id,
                channel=channel, transcript=transcript, settings=settings,
            )
            if refund.status == "nothing_to_refund":
                return ProblemOutcome("nothing_to_refund", remedy="compensation", refund=refund, **facts)
            status = "remedied" if refund.created else "already_remedied"
            return ProblemOutcome(status, remedy="compensation", refund=refund, **facts)

        everything = item_eligibility(s, order, settings, final_sale_counts=False)
        selection = select_items(order, items)
        if not selection.complete:
            return ProblemOutcome(
                "choose_items", problem, order.number, choices=tuple(everything),
                unmatched=selection.unmatched, ambiguous=selection.ambiguous,
            )
        step = "nothing_to_send" if problem == "missing" else _next_step(return_method)
        common = dict(
            problem=problem,
            order_number=order.number,
            next_step=step,
            label_email=order.customer.email if step == "prepaid_label_by_email" else None,
        )
        earlier = _existing_return(s, selection.items)
        if earlier is not None and earlier.reason == problem:
            return ProblemOutcome(
                "already_remedied",
                remedy="replacement" if earlier.kind == "exchange" else "refund",
                rma=earlier.rma,
                items=_eligibility_for(everything, selection.items),
                refund=_refund_of(s, order, earlier, settings),
                **common,
            )
        ok, refused = _split_by_eligibility(everything, selection.items)
        if not ok:
            return ProblemOutcome("ineligible", problem, order.number, ineligible=refused)

        replaced = False
        if prefer != "refund":
            taken = []
            for item in ok:
                if not take_stock(s, item.product_id, item.quantity):
                    break
                taken.append(item)
            replaced = len(taken) == len(ok)
            if not replaced:
                for item in taken:
                    s.execute(
                        update(Product)
                        .where(Product.id == item.product_id)
                        .values(stock=Product.stock + item.quantity)
                        .execution_options(synchronize_session=False)
                    )
        ret = _create_return(
            s, order, ok,
            kind="exchange" if replaced else "return",
            reason=problem,
            refund_method="none" if replaced else "original_payment",
            conversation_id=conversation_id,
            settings=settings,
            exchange_to_same=replaced,
        )
        if ret is None:
            raise RuntimeError("problem report raced a return of the same item despite the order lock")
        remedy = "replacement" if replaced else "refund"
        audit.record(
            s,
            actor="bot",
            action=audit.EXCHANGE_CREATED if replaced else audit.RETURN_CREATED,
            at=settings.now(),
            order_id=order.id,
            detail=f"{ret.rma}: {problem} reported; {remedy} for items {[i.id for i in ok]}",
        )
        refund = None
        if not replaced:
            refund = refunds.refund_return_in(
                s, order, ret, conversation_id=conversation_id, channel=channel,
                transcript=transcript, settings=settings,
            )
        return ProblemOutcome(
            "remedied",
            remedy=remedy,
            rma=ret.rma,
            items=_eligibility_for(everything, ok),
            ineligible=refused,
            replacement_unavailable=prefer == "replacement" and not replaced,
            refund=refund,
            **common,
        )
