"""Units of work: a reading one sees what was committed, never writes, and never waits for a
writer; a writing one after it on the same pooled connection writes as before."""
from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from tests.factories import make_product
from bot.store.models import Product


def _products(session) -> int:
    return session.execute(select(func.count()).select_from(Product)).scalar()


def test_a_reading_unit_of_work_sees_what_was_committed(store):
    with store.session() as s:
        make_product(s, sku="MUG-1")
    with store.reading() as s:
        assert _products(s) == 1


def test_a_write_inside_a_reading_unit_of_work_fails_and_leaves_nothing(store):
    with pytest.raises(sa.exc.DBAPIError):
        with store.reading() as s:
            make_product(s, sku="MUG-2")
            s.flush()
    with store.session() as s:
        assert _products(s) == 0
        make_product(s, sku="MUG-3")  # the pooled connection writes again
    with store.reading() as s:
        assert _products(s) == 1


def test_reading_never_waits_for_a_writer_holding_the_lock(store):
    """On SQLite a writer holds the database's one write lock from its first statement; a
    reader that asked for it too would wait (up to the 30 s busy timeout) instead of answering."""
    with store.session() as s:
        make_product(s, sku="MUG-4")
    counted: list[int] = []

    def read() -> None:
        with store.reading() as r:
            counted.append(_products(r))

    with store.session() as writer:
        make_product(writer, sku="MUG-5")
        writer.flush()  # the writer holds its lock and has not committed
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout=10)
        assert counted == [1]  # answered beside the open write, without its uncommitted row
