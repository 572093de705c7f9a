"""Gift ideas from the catalog for a parsed gift request.

An idea always suits the recipient's age and is in stock: age limits are safety limits, so
they are never relaxed. Budget and interests can be: when nothing fits all three, the answer
says which one failed and offers the closest ideas, each flagged (over budget by how much, or
for another interest) so the shopper is never misled.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.gifting.catalog import product_url
from bot.gifting.gift_request import GiftRequest
from bot.policies import format_money, gift_card_amounts_text, join_words
from bot.settings import Settings
from bot.store.models import Product

REASONS = ("nothing_in_budget", "nothing_for_age", "no_interest_match", "no_more_ideas", "nothing_in_stock")


@dataclass(frozen=True)
class GiftIdea:
    product_id: int
    name: str
    price: Decimal
    url: str
    reason: str  # one line: "she loves art: Watercolor Set, 24 colours"
    matched_interests: tuple[str, ...]
    over_budget_by: Decimal | None = None  # set when offered although it costs more
    other_interest: bool = False  # offered although it matches none of the interests

    @property
    def is_closest(self) -> bool:
        """Offered as a near miss rather than a fit."""
        return self.over_budget_by is not None or self.other_interest


@dataclass(frozen=True)
class Recommendation:
    ideas: tuple[GiftIdea, ...]
    reason: str | None  # None when the ideas fit; else one of REASONS
    message: str  # ready to show before the ideas ("" when they simply fit)
    shown_ids: tuple[int, ...]  # exclude_ids plus these ideas: pass back for "more ideas"
    has_more: bool  # further fitting ideas exist

    @property
    def fits(self) -> bool:
        return self.reason is None


def recommend(
    session: Session,
    request: GiftRequest,
    settings: Settings,
    exclude_ids: Iterable[int] = (),
    limit: int = 3,
) -> Recommendation:
    """Up to `limit` in-stock, age-appropriate ideas within budget, best interest match first
    (ties: price closest to the budget, then id); one per style, never one already shown."""
    excluded_ids = tuple(exclude_ids)
    age = request.effective_age
    fit = _Fit(request.budget, [i.lower() for i in request.interests])
    catalog = _suitable_products(session, age, set(request.dislikes))
    shown_styles = _styles_of(session, excluded_ids)
    ranked = sorted(catalog, key=fit.rank)
    fitting = [p for p in ranked if fit.in_budget(p) and fit.matches(p)]
    fresh = _one_per_style([p for p in fitting if p.style not in shown_styles])
    if fresh:
        ideas = [_idea(p, request, settings) for p in fresh[:limit]]
        return _result(ideas, None, "", excluded_ids, has_more=len(fresh) > limit)

    if not catalog:
        return _result([], *_empty_catalog(session, request, age), excluded_ids)

    unseen = [p for p in ranked if p.style not in shown_styles]
    reason, closest = _closest(fit, catalog, fitting, unseen, settings.gift_over_budget_tolerance)
    ideas = [_idea(p, request, settings) for p in _one_per_style(closest)[:limit]]
    return _result(ideas, reason, _message(reason, request, bool(ideas)), excluded_ids, has_more=False)


@dataclass(frozen=True)
class _Fit:
    """How a product fits the request's budget and interests."""

    budget: Decimal | None
    interests: list[str]

    def overlap(self, product: Product) -> int:
        return _overlap(product, self.interests)

    def rank(self, product: Product) -> tuple:
        """Best interest match first; ties: price closest to the budget, then id."""
        closeness = abs(self.budget - product.price) if self.budget is not None else 0
        return (-self.overlap(product), closeness, product.id)

    def in_budget(self, product: Product) -> bool:
        return self.budget is None or product.price <= self.budget

    def matches(self, product: Product) -> bool:
        return not self.interests or self.overlap(product) > 0


def _closest(
    fit: _Fit, catalog: list[Product], fitting: list[Product], unseen: list[Product], tolerance: Decimal
) -> tuple[str, list[Product]]:
    """(reason, near misses) when no fresh idea fits everything: a little over budget (within
    the tolerance) or within budget for another interest, depending on what failed."""
    ceiling = fit.budget * (1 + tolerance) if fit.budget is not None else None
    over_budget = sorted(
        (p for p in unseen if fit.matches(p) and not fit.in_budget(p) and p.price <= ceiling),
        key=lambda p: (p.price, -fit.overlap(p), p.id),
    )
    other_interest = [p for p in unseen if fit.in_budget(p) and not fit.matches(p)]
    if fitting:
        return "no_more_ideas", over_budget + other_interest
    if fit.interests and not any(fit.matches(p) for p in catalog):
        closest = other_interest
        if not closest and ceiling is not None:
            closest = sorted((p for p in unseen if p.price <= ceiling), key=lambda p: (p.price, p.id))
        return "no_interest_match", closest
    return "nothing_in_budget", over_budget


# --- helpers -----------------------------------------------------------------------------------


def _suitable_products(session: Session, age: int | None, dislikes: set[str]) -> list[Product]:
    query = select(Product).options(selectinload(Product.tags)).where(Product.stock > 0)
    if age is not None:
        query = query.where(Product.min_age <= age, Product.max_age >= age)
    products = session.execute(query.order_by(Product.id)).scalars().all()
    return [p for p in products if not (p.tag_names & dislikes)]


def _styles_of(session: Session, product_ids: tuple[int, ...]) -> set[str]:
    if not product_ids:
        return set()
    return set(session.execute(select(Product.style).where(Product.id.in_(product_ids))).scalars())


def _overlap(product: Product, interests: list[str]) -> int:
    return len(product.tag_names & set(interests))


def _one_per_style(products: list[Product]) -> list[Product]:
    """Sizes and colours of one design are one idea."""
    seen: set[str] = set()
    unique = []
    for product in products:
        if product.style not in seen:
            seen.add(product.style)
            unique.append(product)
    return unique


def _empty_catalog(session: Session, request: GiftRequest, age: int | None) -> tuple[str, str]:
    if age is None:
        return "nothing_in_stock", _message("nothing_in_stock", request, False)
    any_for_age = session.execute(
        select(Product.id).where(Product.min_age <= age, Product.max_age >= age).limit(1)
    ).first()
    message = _message("nothing_for_age", request, False)
    if any_for_age:
        message = f"Everything I have for {_recipient(request)} is sold out right now. " + _gift_card_tip()
    return "nothing_for_age", message


def _idea(product: Product, request: GiftRequest, settings: Settings) -> GiftIdea:
    interests = [i.lower() for i in request.interests]
    matched = tuple(i for i in interests if i in product.tag_names)
    over = (
        product.price - request.budget
        if request.budget is not None and product.price > request.budget
        else None
    )
    other = bool(interests) and not matched
    if matched:
        verb = "love" if request.pronoun == "they" else "loves"
        line = f"{request.pronoun} {verb} {join_words(matched)}: {product.name}"
    elif other:
        tags = sorted(product.tag_names)
        line = f"a different idea{f' ({join_words(tags)})' if tags else ''}: {product.name}"
    elif request.effective_age is not None and not request.adult:
        line = f"suits {_recipient(request)}: {product.name}"
    else:
        line = f"a {product.category.lower()} favourite: {product.name}"
    if over is not None:
        line += f" ({format_money(over)} over your budget)"
    return GiftIdea(
        product_id=product.id,
        name=product.name,
        price=product.price,
        url=product_url(product, settings),
        reason=line,
        matched_interests=matched,
        over_budget_by=over,
        other_interest=other,
    )


def _recipient(request: GiftRequest) -> str:
    if request.age is None:
        return f"your {request.relationship}" if request.relationship else "them"
    if request.age == 0:
        return "a baby"
    return f"a {request.age}-year-old"


def _gift_card_tip() -> str:
    return f"A gift card ({gift_card_amounts_text()}) arrives by email in minutes and lets them choose."


def _message(reason: str, request: GiftRequest, has_ideas: bool) -> str:
    budget = format_money(request.budget) if request.budget is not None else ""
    interests = join_words(request.interests)
    if reason == "nothing_for_age":
        return f"I don't have anything suitable for {_recipient(request)} right now. {_gift_card_tip()}"
    if reason == "nothing_in_stock":
        return f"Everything that would fit is sold out right now. {_gift_card_tip()}"
    if reason == "nothing_in_budget":
        what = f"{interests} gifts" if interests else "gifts"
        if has_ideas:
            return f"I couldn't find {what} for {_recipient(request)} under {budget}; these are just a little over:"
        return f"I couldn't find {what} for {_recipient(request)} at or near {budget}. {_gift_card_tip()}"
    if reason == "no_interest_match":
        if has_ideas:
            return f"I have nothing for {interests} that suits {_recipient(request)} right now; here are other ideas:"
        return f"I have nothing for {interests} that suits {_recipient(request)} right now. {_gift_card_tip()}"
    if reason == "no_more_ideas":
        if has_ideas:
            return "Those were all the ideas that fit everything; here are some close ones:"
        return f"Those were all the ideas I have that fit. {_gift_card_tip()}"
    raise ValueError(f"unknown reason {reason!r}")


def _result(
    ideas: list[GiftIdea], reason: str | None, message: str, excluded_ids: tuple[int, ...], has_more: bool = False
) -> Recommendation:
    shown = tuple(dict.fromkeys([*excluded_ids, *(i.product_id for i in ideas)]))
    return Recommendation(tuple(ideas), reason, message, shown, has_more)
