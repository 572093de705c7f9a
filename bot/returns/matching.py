"""Which of the order's items the shopper means: by position ("2", "the second", "last"), by
name or colour ("the red mug"), or all of them; and the order with those items, as a request
about them starts from."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from sqlalchemy.orm import Session

from bot.money import refunds
from bot.orders.lookup import verified_order
from bot.returns.eligibility import ItemEligibility, item_eligibility
from bot.settings import Settings
from bot.store.models import Order, OrderItem

_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5,
    "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10,
}
_FILLER = {"the", "a", "an", "my", "one", "item", "items", "number", "no", "nr", "product", "that", "this", "please"}
_ALL = {"all", "everything", "both", "all of them", "the whole order", "whole order"}


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


def _items_named(items: Sequence[OrderItem], selector: str) -> list[OrderItem] | None:
    """The items whose name (or name, colour, size and category) has every word said;
    None when nothing but filler was said."""
    wanted = [w for w in _words(selector) if w not in _FILLER]
    if not wanted:
        return None
    exact = [i for i in items if i.product.name.lower() == selector.lower()]
    return exact or [
        i
        for i in items
        if set(wanted)
        <= set(_words(" ".join(filter(None, (i.product.name, i.product.color, i.product.size, i.product.category)))))
    ]


def _items_meant(items: list[OrderItem], selector: str) -> tuple[list[OrderItem], str | None]:
    """What one thing the shopper said picks: (items, None), or ([], "unmatched"/"ambiguous")."""
    if selector.lower() in _ALL:
        return items, None
    position = _position(selector, len(items))
    if position is not None:
        return ([items[position - 1]], None) if 1 <= position <= len(items) else ([], "unmatched")
    fits = _items_named(items, selector)
    if not fits:
        return [], "unmatched"
    if len({i.id for i in fits}) == 1:
        return [fits[0]], None
    return [], "ambiguous"


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
    missed: dict[str, list[str]] = {"unmatched": [], "ambiguous": []}
    for selector in selectors:
        selector = str(selector).strip()
        meant, miss = _items_meant(items, selector)
        chosen.extend(meant)
        if miss:
            missed[miss].append(selector)
    unique = tuple({i.id: i for i in chosen}.values())
    return Selection(unique, tuple(missed["unmatched"]), tuple(missed["ambiguous"]))


@dataclass(frozen=True)
class AskedItems:
    """An order with every item's eligibility, and which of its items the shopper's words pick."""

    order: Order
    everything: list[ItemEligibility]
    selection: Selection

    def choices(self) -> dict[str, tuple]:
        """What a choose_items answer lists: every item by position, and the words that picked
        no item or several."""
        return dict(
            choices=tuple(self.everything), unmatched=self.selection.unmatched, ambiguous=self.selection.ambiguous
        )


def asked_items(
    session: Session, order: Order, selectors: Sequence[str] | str | None, settings: Settings
) -> AskedItems:
    """The order locked for the rest of the unit of work (so two requests on it run one after
    the other), its items' return eligibility, and the items the shopper means."""
    order = refunds.lock_order(session, order.id)
    return AskedItems(order, item_eligibility(session, order, settings), select_items(order, selectors))


@dataclass(frozen=True)
class Refused:
    """Why a return or exchange stops before its items are looked at."""

    status: str  # not_verified | unknown_reason
    order_number: str | None = None  # the verified order (unknown_reason)
    reason: str | None = None  # the reason given that is not one of the request's (unknown_reason)


def verified_asked_items(
    session: Session,
    conversation_id: str,
    order_number: str | None,
    selectors: Sequence[str] | str | None,
    reason: str | None,
    reasons: Sequence[str],
    settings: Settings,
) -> AskedItems | Refused:
    """A return's or exchange's first step: an unverified order or an unknown reason locks nothing."""
    order = verified_order(session, conversation_id, order_number)
    if order is None:
        return Refused("not_verified")
    if reason not in reasons:
        return Refused("unknown_reason", order.number, reason)
    return asked_items(session, order, selectors, settings)
