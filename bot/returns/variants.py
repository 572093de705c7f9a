"""The other sizes and colours of a product's style: which one the shopper's words ask for
("large", "XL in red", a SKU), and taking it out of stock (or putting it back) atomically."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.orders.lookup import verified_order
from bot.returns.matching import select_items
from bot.store.models import Product


@dataclass(frozen=True)
class Variant:
    product_id: int
    sku: str
    name: str
    size: str | None
    color: str | None
    price: Decimal
    in_stock: bool


def as_variant(p: Product) -> Variant:
    """What the assistant says about a product: plain values, usable after the session ends."""
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


def wanted_variant(others: list[Product], current: Product, size: str | None, color: str | None) -> Product | None:
    """Of the style's other products, the one closest to `current` in the size and colour asked for."""
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
        return VariantMatch("matched", size, color, as_variant(_closest(in_stock, product)))
    return VariantMatch("sold_out", size, color, as_variant(_closest(fits, product)))


@dataclass(frozen=True)
class VariantChoice:
    current: Variant  # what the shopper has
    match: VariantMatch  # what their words ask for instead


def variant_choice(
    session: Session, conversation_id: str, order_number: str | None, item: str | None, text: Any = None
) -> VariantChoice | None:
    """The chosen item's variant and what `text` asks for instead; None unless the words pick
    exactly one item of an order this conversation verified."""
    order = verified_order(session, conversation_id, order_number)
    if order is None:
        return None
    selection = select_items(order, item)
    if not selection.complete or len(selection.items) != 1:
        return None
    chosen = selection.items[0]
    return VariantChoice(as_variant(chosen.product), match_variant(session, chosen.product, text, chosen.quantity))


def take_stock(session: Session, product_id: int, quantity: int) -> bool:
    """Reserves `quantity` units if (and only if) that many are in stock; atomic under races."""
    result = session.execute(
        update(Product)
        .where(Product.id == product_id, Product.stock >= quantity)
        .values(stock=Product.stock - quantity)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def put_back_stock(session: Session, product_id: int, quantity: int) -> None:
    """Returns units reserved with take_stock that will not be sent after all."""
    session.execute(
        update(Product)
        .where(Product.id == product_id)
        .values(stock=Product.stock + quantity)
        .execution_options(synchronize_session=False)
    )
