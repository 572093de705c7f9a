from __future__ import annotations

from sqlalchemy import select

from bot.gifting.catalog import alternatives_in_stock, complement_for, product_url
from bot.order_sources.demo import build_demo_store
from bot.store.models import Order
from tests.factories import make_customer, make_order, make_product


def test_product_url_is_the_store_page_of_the_product(store, settings):
    with store.session() as s:
        product = make_product(s, slug="cork-yoga-mat")
        assert product_url(product, settings) == f"{settings.store_url}/products/cork-yoga-mat"


def test_complement_is_the_cheapest_in_stock_one_not_already_bought(store):
    with store.session() as s:
        paints = make_product(s, name="Watercolor set", price="42.00")
        sketchbook = make_product(s, name="Sketchbook", price="18.00")
        brushes = make_product(s, name="Brushes", price="29.00")
        easel = make_product(s, name="Easel", price="12.00", stock=0)
        paints.complements.extend([sketchbook, brushes, easel])
        shopper = make_customer(s)
        order = make_order(s, shopper, items=[(paints, 1, paints.price)])
        assert complement_for(s, order) == sketchbook

        order_with_sketchbook = make_order(s, shopper, items=[(paints, 1), (sketchbook, 1)])
        assert complement_for(s, order_with_sketchbook) == brushes


def test_complement_ties_on_price_go_to_the_older_product(store):
    with store.session() as s:
        grinder = make_product(s, price="149.00")
        beans = make_product(s, price="36.00")
        book = make_product(s, price="36.00")
        grinder.complements.extend([book, beans])
        order = make_order(s, make_customer(s), items=[(grinder, 1)])
        assert complement_for(s, order) == beans


def test_no_complement_when_nothing_goes_with_the_order_or_it_is_sold_out(store):
    with store.session() as s:
        lonely = make_product(s)
        teapot = make_product(s)
        tea = make_product(s, stock=0)
        teapot.complements.append(tea)
        shopper = make_customer(s)
        assert complement_for(s, make_order(s, shopper, items=[(lonely, 1)])) is None
        assert complement_for(s, make_order(s, shopper, items=[(teapot, 1)])) is None


def test_another_size_of_something_bought_is_not_suggested_as_an_add_on(store):
    with store.session() as s:
        sweater_m = make_product(s, style="SWEATER", size="M", price="68.00")
        sweater_l = make_product(s, style="SWEATER", size="L", price="68.00")
        beanie = make_product(s, price="22.00")
        sweater_m.complements.extend([sweater_l, beanie])
        order = make_order(s, make_customer(s), items=[(sweater_m, 1)])
        assert complement_for(s, order) == beanie


def test_alternatives_are_the_other_in_stock_variants_of_the_style(store):
    with store.session() as s:
        small = make_product(s, style="SWEATER", size="S", stock=5)
        medium = make_product(s, style="SWEATER", size="M", stock=0)
        large = make_product(s, style="SWEATER", size="L", stock=8)
        make_product(s, style="BEANIE", size="One size", stock=30)
        assert alternatives_in_stock(s, medium) == [small, large]
        assert alternatives_in_stock(s, large) == [small]


def test_a_product_without_variants_has_no_alternatives(store):
    with store.session() as s:
        assert alternatives_in_stock(s, make_product(s)) == []


def test_seeded_paints_and_sketchbook_order_suggests_the_brushes(store, settings):
    build_demo_store(store, settings)
    with store.session() as s:
        order = s.execute(select(Order).where(Order.number == "104802")).scalar_one()
        assert {i.product.sku for i in order.items} == {"ART-WATERCOLOR", "ART-SKETCH"}
        assert complement_for(s, order).sku == "ART-BRUSH"
