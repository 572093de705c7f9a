"""Product look-ups the assistant offers around an order: links, add-ons and other sizes."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.settings import Settings
from bot.store.models import Order, OrderItem, Product, product_complements


def product_url(product: Product, settings: Settings) -> str:
    return f"{settings.store_url}/products/{product.slug}"


def complement_for(session: Session, order: Order) -> Product | None:
    """One in-stock product that goes with what the order bought, or None.

    Other sizes or colours of something already bought are not an add-on, so whole styles in
    the order are left out. Cheapest first (then id) keeps the suggestion stable and modest.
    """
    bought_products = select(OrderItem.product_id).where(OrderItem.order_id == order.id)
    bought_styles = (
        select(Product.style)
        .join(OrderItem, OrderItem.product_id == Product.id)
        .where(OrderItem.order_id == order.id)
    )
    return session.execute(
        select(Product)
        .join(product_complements, product_complements.c.complement_id == Product.id)
        .where(
            product_complements.c.product_id.in_(bought_products),
            Product.stock > 0,
            Product.style.not_in(bought_styles),
        )
        .order_by(Product.price, Product.id)
        .limit(1)
    ).scalar_one_or_none()


def alternatives_in_stock(session: Session, product: Product) -> list[Product]:
    """The other variants of the product's style that can be shipped now (for exchanges)."""
    return list(
        session.execute(
            select(Product)
            .where(Product.style == product.style, Product.id != product.id, Product.stock > 0)
            .order_by(Product.id)
        ).scalars()
    )
