"""Wishlists saved from the chat, and the links to share them.

A list belongs to its conversation and, once the conversation has verified an order, to that
order's customer too, so it follows them into later chats. The customer comes from the
conversation's VerifiedOrder rows, never from anything the shopper typed. Every token ever
handed out keeps working: a token opens its owner's whole current list.
"""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, joinedload

from bot.gifting.catalog import product_url
from bot.settings import Settings
from bot.store.models import Order, Product, VerifiedOrder, WishlistItem


@dataclass(frozen=True)
class WishlistEntry:
    product_id: int
    name: str
    price: Decimal
    url: str
    in_stock: bool
    added_at: dt.datetime


@dataclass(frozen=True)
class AddResult:
    added: bool  # False: it was already on the list
    entry: WishlistEntry
    share_link: str


def conversation_customer_id(session: Session, conversation_id: str) -> int | None:
    """The customer whose order this conversation verified most recently, if any."""
    return session.execute(
        select(Order.customer_id)
        .join(VerifiedOrder, VerifiedOrder.order_id == Order.id)
        .where(VerifiedOrder.conversation_id == conversation_id)
        .order_by(VerifiedOrder.verified_at.desc(), VerifiedOrder.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def add(
    session: Session,
    conversation_id: str,
    product_id: int,
    settings: Settings,
    now: dt.datetime | None = None,
) -> AddResult:
    """Saves a product (once: adding it again is a no-op). Raises LookupError for an unknown product."""
    product = session.get(Product, product_id)
    if product is None:
        raise LookupError(f"no product {product_id}")
    customer_id = _owner(session, conversation_id)
    existing = session.execute(
        select(WishlistItem).where(
            WishlistItem.conversation_id == conversation_id, WishlistItem.product_id == product_id
        )
    ).scalar_one_or_none()
    if existing is None and customer_id is not None:
        existing = session.execute(
            select(WishlistItem)
            .where(WishlistItem.customer_id == customer_id, WishlistItem.product_id == product_id)
            .limit(1)
        ).scalar_one_or_none()
    item = existing
    if item is None:
        item = WishlistItem(
            conversation_id=conversation_id,
            customer_id=customer_id,
            product_id=product_id,
            added_at=now or settings.now(),
            share_token=_list_token(session, conversation_id, customer_id) or _new_token(),
        )
        session.add(item)
        session.flush()
    return AddResult(
        added=existing is None,
        entry=_entry(item, settings),
        share_link=share_link(session, conversation_id, settings),
    )


def remove(session: Session, conversation_id: str, product_id: int) -> bool:
    """Takes a product off the list (the customer's too); False if it was not on it."""
    rows = session.execute(
        select(WishlistItem).where(
            _owned_by(conversation_id, _owner(session, conversation_id)),
            WishlistItem.product_id == product_id,
        )
    ).scalars().all()
    for row in rows:
        session.delete(row)
    return bool(rows)


def list_items(session: Session, conversation_id: str, settings: Settings) -> list[WishlistEntry]:
    """The conversation's list (and its verified customer's), oldest first, each product once."""
    return _entries(session, _owned_by(conversation_id, _owner(session, conversation_id)), settings)


def share_link(session: Session, conversation_id: str, settings: Settings) -> str | None:
    """The link that opens the whole list, or None while it is empty."""
    token = _list_token(session, conversation_id, _owner(session, conversation_id))
    return f"{settings.store_url}/wishlist/{token}" if token else None


def items_for_token(session: Session, token: str, settings: Settings) -> list[WishlistEntry]:
    """What a shared link shows: the current list of whoever the token belongs to."""
    owner = session.execute(
        select(WishlistItem.conversation_id, WishlistItem.customer_id)
        .where(WishlistItem.share_token == token)
        .limit(1)
    ).first()
    if owner is None:
        return []
    return _entries(session, _owned_by(owner.conversation_id, owner.customer_id), settings)


def product_share_link(product: Product, settings: Settings) -> str:
    """A link to one product, for "send this to my sister"."""
    return product_url(product, settings)


# --- helpers -----------------------------------------------------------------------------------


def _new_token() -> str:
    return secrets.token_urlsafe(12)


def _owned_by(conversation_id: str, customer_id: int | None):
    if customer_id is None:
        return WishlistItem.conversation_id == conversation_id
    return or_(WishlistItem.conversation_id == conversation_id, WishlistItem.customer_id == customer_id)


def _list_token(session: Session, conversation_id: str, customer_id: int | None) -> str | None:
    """The customer's oldest token (one link per customer), else the conversation's."""
    for condition in (
        WishlistItem.customer_id == customer_id if customer_id is not None else None,
        WishlistItem.conversation_id == conversation_id,
    ):
        if condition is None:
            continue
        token = session.execute(
            select(WishlistItem.share_token).where(condition).order_by(WishlistItem.id).limit(1)
        ).scalar_one_or_none()
        if token:
            return token
    return None


def _owner(session: Session, conversation_id: str) -> int | None:
    """The conversation's verified customer; items saved before the verification join their list."""
    customer_id = conversation_customer_id(session, conversation_id)
    if customer_id is None:
        return None
    session.execute(
        update(WishlistItem)
        .where(WishlistItem.conversation_id == conversation_id, WishlistItem.customer_id.is_(None))
        .values(customer_id=customer_id)
        .execution_options(synchronize_session="fetch")
    )
    return customer_id


def _entries(session: Session, condition, settings: Settings) -> list[WishlistEntry]:
    rows = session.execute(
        select(WishlistItem)
        .options(joinedload(WishlistItem.product))
        .where(condition)
        .order_by(WishlistItem.added_at, WishlistItem.id)
    ).scalars().all()
    seen: set[int] = set()
    entries = []
    for row in rows:
        if row.product_id not in seen:
            seen.add(row.product_id)
            entries.append(_entry(row, settings))
    return entries


def _entry(item: WishlistItem, settings: Settings) -> WishlistEntry:
    product = item.product
    return WishlistEntry(
        product_id=product.id,
        name=product.name,
        price=product.price,
        url=product_url(product, settings),
        in_stock=product.stock > 0,
        added_at=item.added_at,
    )
