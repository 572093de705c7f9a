"""A shopper's data export, their erasure and transcript retention (issue #15, Privacy)."""
from __future__ import annotations

import base64
import datetime as dt
import io
import json
import threading
import time
from decimal import Decimal

from PIL import Image
from sqlalchemy import func, insert, select

from bot.cli.privacy import privacy_command
from bot.privacy import data_requests as privacy
from bot.rasa_link import rasa_api
from bot.support import photos
from bot.store.models import (
    AuditEntry,
    Customer,
    HandoffTicket,
    Refund,
    Reminder,
    VerificationAttempt,
    VerifiedOrder,
    WishlistItem,
)
from tests.factories import add_events, make_customer, make_order, make_product

EMAIL = "lisa.smith@example.com"
NAME = "Lisa Smith"


def _events_of(store, conversation_id) -> int:
    with store.engine.connect() as conn:
        return conn.execute(
            select(func.count()).where(rasa_api.tracker_events.c.sender_id == conversation_id)
        ).scalar_one()


def _shop(store, settings):
    """Lisa with two orders, a verified chat, a ticket, a refund, a wishlist and a reminder;
    Tom, another shopper, with a chat of his own."""
    now = settings.now()
    with store.session() as s:
        lisa = make_customer(s, name=NAME, email=EMAIL, birthday=dt.date(1990, 5, 17), loyalty_points=120)
        tom = make_customer(s, name="Tom Other")
        bear = make_product(s, name="Teddy Bear", price="25.00")
        first = make_order(s, lisa, items=[(bear, 2)], number="104776")
        make_order(s, lisa, items=[(bear, 1)], number="104777", status="processing")
        toms = make_order(s, tom, items=[(bear, 1)], number="104778")
        s.add_all([
            VerifiedOrder(conversation_id="chat-lisa", order_id=first.id, verified_at=now),
            VerificationAttempt(conversation_id="chat-lisa", order_id=first.id, succeeded=True, at=now),
            VerificationAttempt(conversation_id="chat-lisa-2", order_id=first.id, succeeded=False, at=now),
            VerifiedOrder(conversation_id="chat-tom", order_id=toms.id, verified_at=now),
            WishlistItem(conversation_id="chat-lisa", customer_id=lisa.id, product_id=bear.id, added_at=now, share_token="tok1"),
            Reminder(conversation_id="chat-lisa", channel="rest", kind="sale_start", due_at=now,
                     next_attempt_at=now, created_at=now),
        ])
        refund = Refund(order_id=first.id, amount=Decimal("25.00"), reason="damaged", status="issued",
                        required_level="bot", idempotency_key="k1", conversation_id="chat-lisa", created_at=now)
        s.add(refund)
        s.flush()
        ticket = HandoffTicket(
            conversation_id="chat-lisa", channel="rest", customer_id=lisa.id, order_id=first.id, reason="refund",
            summary=f"{NAME} ({EMAIL}) wants a refund", created_at=now,
            transcript=json.dumps([{"who": "shopper", "text": f"I am {NAME}, mail me at {EMAIL} or 07700 900123"}]),
        )
        s.add(ticket)
        s.flush()
        s.add(AuditEntry(at=now, actor="bot", action="refund_auto_approved", order_id=first.id, refund_id=refund.id,
                         amount=Decimal("25.00"), detail=f"refund for {EMAIL}"))
        ids = {"lisa": lisa.id, "ticket": ticket.id, "refund": refund.id}
    add_events(store, "chat-lisa", ("user", f"hi, I'm {EMAIL}"), ("bot", "Thanks, your order 104776 is delivered."))
    add_events(store, "chat-lisa-2", ("user", "order 104776"))
    add_events(store, "chat-tom", ("user", "where is my parcel?"))
    return ids


def test_export_holds_the_customer_orders_conversations_and_tickets(store, settings, tracker_table):
    _shop(store, settings)
    with store.reading() as s:
        data = privacy.export_customer(s, "Lisa.Smith@Example.com")
    assert data["customer"] == {"name": NAME, "email": EMAIL, "birthday": "1990-05-17", "loyalty_points": 120}
    assert [o["number"] for o in data["orders"]] == ["104776", "104777"]
    first = data["orders"][0]
    assert first["total_paid"] == "50.00" and first["items"][0]["quantity"] == 2
    assert first["refunds"][0]["amount"] == "25.00"
    conversations = {c["id"]: c for c in data["conversations"]}
    assert set(conversations) == {"chat-lisa", "chat-lisa-2"}  # not Tom's
    assert [m["text"] for m in conversations["chat-lisa"]["transcript"]] == [
        f"hi, I'm {EMAIL}", "Thanks, your order 104776 is delivered."
    ]
    assert [t["summary"] for t in data["tickets"]] == [f"{NAME} ({EMAIL}) wants a refund"]
    json.dumps(data)  # JSON-ready


def test_export_holds_the_photos_the_shopper_sent_and_not_anyone_elses(store, settings, tracker_table):
    """Issue #19: a photo kept with a conversation is the shopper's data too."""
    _shop(store, settings)
    photo, other = io.BytesIO(), io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 40)).save(photo, "PNG")
    Image.new("RGB", (64, 48), (30, 200, 40)).save(other, "PNG")
    with store.session() as s:
        kept = photos.accept(s, "chat-lisa", "rest", photo.getvalue(), settings, settings.now())
        photos.accept(s, "chat-tom", "rest", other.getvalue(), settings, settings.now())
    with store.reading() as s:
        data = privacy.export_customer(s, EMAIL)
        stored = photos.image_of(s, kept.photo_id)[1]

    exported = {c["id"]: c["photos"] for c in data["conversations"]}
    assert exported["chat-lisa-2"] == [] and len(exported["chat-lisa"]) == 1
    assert base64.b64decode(exported["chat-lisa"][0]["image_base64"]) == stored
    assert (exported["chat-lisa"][0]["width"], exported["chat-lisa"][0]["height"]) == (64, 48)
    json.dumps(data)


def test_export_of_an_unknown_email_says_so_and_exits_1(store, settings):
    err = io.StringIO()
    assert privacy_command("export", "nobody@example.com", store=store, settings=settings, err=err) == 1
    assert "No customer" in err.getvalue()


def test_forget_erases_the_shopper_but_keeps_the_books(store, settings, tracker_table):
    ids = _shop(store, settings)
    out = io.StringIO()
    assert privacy_command("forget", EMAIL, operator="dpo-anna", store=store, settings=settings, out=out) == 0

    assert _events_of(store, "chat-lisa") == 0 and _events_of(store, "chat-lisa-2") == 0
    assert _events_of(store, "chat-tom") == 1
    with store.session() as s:
        lisa = s.get(Customer, ids["lisa"])
        assert (lisa.name, lisa.email, lisa.birthday) == ("forgotten customer", f"forgotten-{lisa.id}@invalid", None)
        assert [o.number for o in lisa.orders] == ["104776", "104777"]
        assert s.get(Refund, ids["refund"]).amount == Decimal("25.00")
        ticket = s.get(HandoffTicket, ids["ticket"])
        for text in (ticket.summary, ticket.transcript):
            assert EMAIL not in text and NAME not in text and "Lisa" not in text and "07700 900123" not in text
        for model in (VerifiedOrder, VerificationAttempt, WishlistItem, Reminder):
            left = s.execute(select(model.conversation_id)).scalars().all()
            assert not {"chat-lisa", "chat-lisa-2"} & set(left), model
        assert s.execute(select(VerifiedOrder.conversation_id)).scalars().all() == ["chat-tom"]
        log = s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
        refund_entry, forget_entry = log
        assert EMAIL not in refund_entry.detail and refund_entry.amount == Decimal("25.00")
        assert refund_entry.refund_id == ids["refund"]
        assert forget_entry.actor == "dpo-anna" and forget_entry.action == privacy.CUSTOMER_FORGOTTEN
        assert EMAIL not in forget_entry.detail and "Lisa" not in forget_entry.detail
    with store.reading() as s:
        assert privacy.export_customer(s, EMAIL) is None


def test_forget_is_all_or_nothing(store, settings, tracker_table):
    """The anonymous email is already taken, so the last write fails: nothing may be erased."""
    ids = _shop(store, settings)
    with store.session() as s:
        make_customer(s, name="Squatter", email=f"forgotten-{ids['lisa']}@invalid")
    try:
        with store.session() as s:
            privacy.forget_customer(s, EMAIL, "dpo-anna", settings)
    except Exception:
        pass
    else:
        raise AssertionError("the clashing email should have failed the forget")
    assert _events_of(store, "chat-lisa") == 2
    with store.session() as s:
        assert s.get(Customer, ids["lisa"]).email == EMAIL
        assert EMAIL in s.get(HandoffTicket, ids["ticket"]).summary
        assert s.execute(select(func.count()).select_from(VerifiedOrder)).scalar_one() == 2


def test_forget_needs_an_operator_and_a_known_email(store, settings):
    err = io.StringIO()
    assert privacy_command("forget", EMAIL, operator=None, store=store, settings=settings, err=err) == 2
    assert privacy_command("forget", "nobody@example.com", operator="dpo", store=store, settings=settings, err=err) == 1


def _event_at(store, conversation_id, timestamp):
    with store.engine.begin() as conn:
        conn.execute(insert(rasa_api.tracker_events).values(
            sender_id=conversation_id, type_name="user", timestamp=timestamp,
            data=json.dumps({"event": "user", "text": "old message", "timestamp": timestamp}),
        ))


def prune(store, settings, now=None) -> int:
    with store.session() as s:
        return privacy.prune_transcripts(s, settings, now)


def test_old_transcripts_are_pruned_except_with_an_open_ticket(store, settings, tracker_table):
    now = time.time()
    old = now - (settings.transcript_retention_days + 1) * 86400
    recent = now - (settings.transcript_retention_days - 1) * 86400
    for conversation in ("chat-old", "chat-open-ticket", "chat-resolved-ticket"):
        _event_at(store, conversation, old)
    _event_at(store, "chat-old", recent)
    with store.session() as s:
        for conversation, status in (("chat-open-ticket", "open"), ("chat-resolved-ticket", "resolved")):
            s.add(HandoffTicket(conversation_id=conversation, channel="rest", reason="human", status=status,
                                created_at=settings.now(), open_marker=1 if status == "open" else None))
    assert prune(store, settings, now=now) == 2
    assert _events_of(store, "chat-old") == 1  # the recent message stays
    assert _events_of(store, "chat-open-ticket") == 1
    assert _events_of(store, "chat-resolved-ticket") == 0
    assert prune(store, settings, now=now) == 0


def test_pruning_without_a_tracker_table_does_nothing(store, settings):
    assert prune(store, settings) == 0


def _bot_process(store, *args, **popen):
    import os
    import subprocess
    import sys

    from bot.settings import PROJECT_ROOT

    env = {**os.environ, "DATABASE_URL": store.url}
    return subprocess.Popen([sys.executable, "-m", "bot", *args], cwd=PROJECT_ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)


def test_the_reminder_runner_prunes_old_transcripts(store, settings, tracker_table, dead_rasa_url):
    """The real `python -m bot reminders run` process deletes expired transcripts on its cycle."""
    old = time.time() - (settings.transcript_retention_days + 1) * 86400
    _event_at(store, "chat-old", old)
    _event_at(store, "chat-new", time.time())
    runner = _bot_process(store, "reminders", "run", "--interval", "0.2")
    watchdog = threading.Timer(120, runner.kill)  # a runner that never prunes fails, not hangs
    watchdog.start()
    try:
        line = runner.stdout.readline()
        while "transcripts:" not in line:
            assert line, runner.stderr.read()  # the runner ended without pruning
            line = runner.stdout.readline()
    finally:
        watchdog.cancel()
        runner.terminate()
        runner.wait(timeout=30)
    assert "1 events" in line
    assert _events_of(store, "chat-old") == 0 and _events_of(store, "chat-new") == 1


def test_the_command_line_exports_and_forgets(store, settings, tracker_table):
    _shop(store, settings)
    export = _bot_process(store, "privacy", "export", "--email", EMAIL)
    out, err = export.communicate(timeout=120)
    assert export.returncode == 0, err
    assert json.loads(out)["customer"]["email"] == EMAIL
    no_operator = _bot_process(store, "privacy", "forget", "--email", EMAIL)
    no_operator.communicate(timeout=120)
    assert no_operator.returncode == 2
    forget = _bot_process(store, "privacy", "forget", "--email", EMAIL, "--operator", "dpo-anna")
    out, err = forget.communicate(timeout=120)
    assert forget.returncode == 0, err
    assert EMAIL not in out
    unknown = _bot_process(store, "privacy", "export", "--email", EMAIL)
    out, err = unknown.communicate(timeout=120)
    assert unknown.returncode == 1 and "No customer" in err
