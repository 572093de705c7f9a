"""Issue #15, faults: nothing is half-written. Each write that belongs together (a refund with its
audit entry and its handoff ticket; a ticket with its audit entry; a verification check with its
attempt, failure count and audit entry) is one transaction. Shown by really killing the database
connection (pg_terminate_backend on a scratch PostgreSQL database) right after the LAST row of the
write has been inserted: had any earlier row been committed on its own, it would still be there."""
from __future__ import annotations

import contextlib
import dataclasses
import re
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import event, func, select

from bot.conversation import Conversation
from bot.money import audit, refunds
from bot.orders import lookup as orders
from bot.settings import load_settings
from bot.store.models import AuditEntry, HandoffTicket, Order, Refund, VerificationAttempt, VerificationFailure
from bot.support import handoff
from tests.faults.conftest import admin_engine

INSERT_INTO = re.compile(r'^\s*INSERT INTO "?(\w+)"?', re.IGNORECASE)


@contextlib.contextmanager
def inserted_tables(store):
    """Records the tables the store inserts into, in order."""
    tables: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        match = INSERT_INTO.match(statement)
        if match:
            tables.append(match.group(1))

    event.listen(store.engine, "after_cursor_execute", note)
    try:
        yield tables
    finally:
        event.remove(store.engine, "after_cursor_execute", note)


@contextlib.contextmanager
def database_killed_after_insert_into(store, table: str):
    """Terminates the connection's PostgreSQL backend once a row has gone into `table`: the server
    ends the session as if it had crashed under this one connection."""
    admin = admin_engine(store.url)

    def kill(conn, cursor, statement, parameters, context, executemany):
        match = INSERT_INTO.match(statement)
        if match and match.group(1) == table:
            pid = cursor.connection.get_backend_pid()
            with admin.connect() as admin_conn:
                admin_conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    event.listen(store.engine, "after_cursor_execute", kill)
    try:
        yield
    finally:
        event.remove(store.engine, "after_cursor_execute", kill)
        admin.dispose()


def rows(store, model, *where) -> int:
    with store.session() as s:
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def conversation() -> str:
    return f"half-{uuid.uuid4().hex[:10]}"


def escalating_settings():
    """No refund is the bot's to give: every refund goes to a person with a ticket."""
    return dataclasses.replace(load_settings(), bot_refund_limit=Decimal("0.00"))


def order_with_shipping(store, skip: int = 0) -> int:
    with store.session() as s:
        return s.execute(select(Order.id).where(Order.shipping_paid > 0).order_by(Order.id).offset(skip)).scalars().first()


def escalate_shipping_refund(store, order_id: int, conversation_id: str, settings) -> None:
    with store.session() as s:
        order = refunds.lock_order(s, order_id)
        refunds.refund_shipping(s, order, reason="late delivery", conversation=Conversation(conversation_id, "rest", []),
                                settings=settings)


def test_an_escalated_refund_its_audit_and_its_ticket_vanish_together(scratch_postgres_store):
    store, settings = scratch_postgres_store, escalating_settings()
    with inserted_tables(store) as tables:
        escalate_shipping_refund(store, order_with_shipping(store), conversation(), settings)
    assert {"refunds", "audit_log", "handoff_tickets"} <= set(tables)

    order_id, conversation_id = order_with_shipping(store, skip=1), conversation()
    with database_killed_after_insert_into(store, tables[-1]), pytest.raises(sa.exc.DBAPIError):
        escalate_shipping_refund(store, order_id, conversation_id, settings)
    assert rows(store, Refund, Refund.order_id == order_id) == 0
    assert rows(store, AuditEntry, AuditEntry.order_id == order_id) == 0
    assert rows(store, HandoffTicket, HandoffTicket.conversation_id == conversation_id) == 0
    # The store works again afterwards and the same request goes through whole.
    escalate_shipping_refund(store, order_id, conversation_id, settings)
    assert rows(store, Refund, Refund.order_id == order_id, Refund.status == "pending_review") == 1
    assert rows(store, HandoffTicket, HandoffTicket.conversation_id == conversation_id) == 1


def open_ticket(store, conversation_id: str) -> None:
    with store.session() as s:
        handoff.open_ticket(s, Conversation(conversation_id, "rest", []), "asked_for_human", "asked for a person",
                            settings=load_settings())


def test_a_ticket_and_its_audit_entry_vanish_together(scratch_postgres_store):
    store = scratch_postgres_store
    with inserted_tables(store) as tables:
        open_ticket(store, conversation())
    assert {"handoff_tickets", "audit_log"} <= set(tables)

    conversation_id, opened = conversation(), rows(store, AuditEntry, AuditEntry.action == audit.TICKET_OPENED)
    with database_killed_after_insert_into(store, tables[-1]), pytest.raises(sa.exc.DBAPIError):
        open_ticket(store, conversation_id)
    assert rows(store, HandoffTicket, HandoffTicket.conversation_id == conversation_id) == 0
    assert rows(store, AuditEntry, AuditEntry.action == audit.TICKET_OPENED) == opened


def failed_check(store, conversation_id: str) -> orders.Verification:
    with store.session() as s:
        number = s.execute(select(Order.number).order_by(Order.id)).scalars().first()
        return orders.verify(s, conversation_id, number, "not-the-owner@example.com", load_settings())


def test_a_failed_verification_is_counted_whole_or_not_at_all(scratch_postgres_store):
    store = scratch_postgres_store
    with inserted_tables(store) as tables:
        assert failed_check(store, conversation()).outcome == "mismatch"
    assert {"verification_attempts", "verification_failures", "audit_log"} <= set(tables)

    conversation_id = conversation()
    with database_killed_after_insert_into(store, tables[-1]), pytest.raises(sa.exc.DBAPIError):
        failed_check(store, conversation_id)
    assert rows(store, VerificationAttempt, VerificationAttempt.conversation_id == conversation_id) == 0
    assert rows(store, VerificationFailure, VerificationFailure.conversation_id == conversation_id) == 0
