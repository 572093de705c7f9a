"""Wishlists saved in chat: per conversation, following a verified customer, shareable."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from bot.gifting import wishlist
from bot.gifting.catalog import product_url
from bot.store.models import Customer, Product, VerifiedOrder, WishlistItem
from tests.factories import make_customer, make_order, make_product


@pytest.fixture
def products(store):
    with store.session() as s:
        return [make_product(s, f"Gift {n}", "10.00").id for n in range(3)]


def verify(store, conversation_id, customer_id=None):
    """The conversation proves it owns an order (of customer_id, or of a new customer)."""
    with store.session() as s:
        customer = s.get(Customer, customer_id) if customer_id else make_customer(s)
        order = make_order(s, customer)
        s.add(VerifiedOrder(conversation_id=conversation_id, order_id=order.id, verified_at=dt.datetime(2025, 12, 1),
                              last_used_at=dt.datetime.now()))
        return customer.id


def add(store, conversation_id, product_id, settings):
    with store.session() as s:
        return wishlist.add(s, conversation_id, product_id, settings)


def listed(store, conversation_id, settings):
    with store.session() as s:
        return [e.product_id for e in wishlist.list_items(s, conversation_id, settings)]


def link(store, conversation_id, settings):
    with store.session() as s:
        return wishlist.share_link(s, conversation_id, settings)


def test_adding_twice_keeps_one(store, products, settings, conversation_id):
    first = add(store, conversation_id, products[0], settings)
    again = add(store, conversation_id, products[0], settings)
    assert (first.added, again.added) == (True, False)
    assert listed(store, conversation_id, settings) == [products[0]]


def test_entries_show_name_price_and_link(store, products, settings, conversation_id):
    entry = add(store, conversation_id, products[1], settings).entry
    with store.session() as s:
        url = product_url(s.get(Product, products[1]), settings)
    assert (entry.name, str(entry.price), entry.url, entry.in_stock) == ("Gift 1", "10.00", url, True)


def test_share_link_opens_the_whole_list(store, products, settings, conversation_id):
    assert link(store, conversation_id, settings) is None
    result = add(store, conversation_id, products[0], settings)
    add(store, conversation_id, products[1], settings)
    shared = link(store, conversation_id, settings)
    assert shared == result.share_link
    assert shared.startswith(f"{settings.store_url}/wishlist/")
    token = shared.rsplit("/", 1)[1]
    assert len(token) >= 16
    with store.session() as s:
        assert [e.product_id for e in wishlist.items_for_token(s, token, settings)] == products[:2]
        assert wishlist.items_for_token(s, "not-a-token", settings) == []


def test_conversations_have_separate_lists(store, products, settings):
    add(store, "chat-a", products[0], settings)
    add(store, "chat-b", products[1], settings)
    assert listed(store, "chat-a", settings) == [products[0]]
    assert listed(store, "chat-b", settings) == [products[1]]
    assert link(store, "chat-a", settings) != link(store, "chat-b", settings)


def test_a_verified_customers_list_follows_them_to_a_new_chat(store, products, settings):
    customer_id = verify(store, "monday-chat")
    add(store, "monday-chat", products[0], settings)
    verify(store, "friday-chat", customer_id)
    add(store, "friday-chat", products[1], settings)
    assert listed(store, "friday-chat", settings) == products[:2]
    assert link(store, "friday-chat", settings) == link(store, "monday-chat", settings)
    assert add(store, "friday-chat", products[0], settings).added is False


def test_items_saved_before_verifying_join_the_customers_list(store, products, settings):
    customer_id = verify(store, "old-chat")
    add(store, "old-chat", products[0], settings)
    old_link = link(store, "old-chat", settings)
    add(store, "new-chat", products[1], settings)
    verify(store, "new-chat", customer_id)
    assert listed(store, "new-chat", settings) == products[:2]
    token = old_link.rsplit("/", 1)[1]
    with store.session() as s:
        assert [e.product_id for e in wishlist.items_for_token(s, token, settings)] == products[:2]


def test_an_unverified_chat_never_sees_a_customers_list(store, products, settings):
    verify(store, "owner-chat")
    add(store, "owner-chat", products[0], settings)
    assert listed(store, "stranger-chat", settings) == []


def test_remove(store, products, settings, conversation_id):
    add(store, conversation_id, products[0], settings)
    with store.session() as s:
        assert wishlist.remove(s, conversation_id, products[0]) is True
        assert wishlist.remove(s, conversation_id, products[0]) is False
    assert listed(store, conversation_id, settings) == []


def test_unknown_product_is_refused(store, settings, conversation_id):
    with pytest.raises(LookupError):
        add(store, conversation_id, 999_999, settings)


def test_the_database_refuses_a_duplicate_row(store, products, conversation_id):
    with pytest.raises(sa.exc.IntegrityError):
        with store.session() as s:
            for _ in range(2):
                s.add(WishlistItem(conversation_id=conversation_id, product_id=products[0],
                                   added_at=dt.datetime(2025, 12, 1), share_token="t"))
            s.flush()


def test_product_share_link(store, products, settings):
    with store.session() as s:
        product = s.get(Product, products[2])
        assert wishlist.product_share_link(product, settings) == product_url(product, settings)
