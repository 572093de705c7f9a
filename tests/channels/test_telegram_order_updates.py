"""Issue #18 end to end on Telegram: a shopper verifies an order in a Telegram chat, the operator
marks it shipped (`python -m bot orders update`), and one pass of the runner sends exactly one
update to that chat through the (stand-in) Bot API; a second pass sends nothing. A chat whose
shopper blocked the bot (Bot API 403) gets a retry with back-off, no crash, and the update once
the chat takes messages again."""
from __future__ import annotations

import dataclasses
import datetime as dt
import io
import subprocess
import sys
import time

from sqlalchemy import select

from bot.cli.reminders import deliver_order_updates, send_updates_through_rasa
from bot.engagement import order_updates
from bot.settings import load_settings
from bot.store.models import Order, OrderUpdate, VerifiedOrder
from tests.channels.test_telegram import post_update
from tests.replies import response_texts
from tests.servers import ROOT


def say(stack, chat_id: int, text: str) -> None:
    """The shopper writes in the chat; returns once the bot has answered."""
    before = len(stack.platforms.messages_to(chat_id))
    update = {"update_id": int(time.time() * 1000) % 2**31,
              "message": {"message_id": before + 1, "date": int(time.time()), "text": text,
                          "chat": {"id": chat_id, "type": "private", "first_name": "Mia"},
                          "from": {"id": chat_id, "is_bot": False, "first_name": "Mia"}}}
    assert post_update(stack.rasa.url, update, stack.telegram_secret)[0] == 200
    stack.platforms.wait_for("telegram", "sendMessage", where=lambda _: len(stack.platforms.messages_to(chat_id)) > before)


def mark_shipped(stack, number: str, tracking: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "orders", "update", number, "--status", "shipped", "--tracking", tracking,
         "--carrier", "UPS"],
        cwd=ROOT, env={**stack.env, "DATABASE_URL": stack.store.url}, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def runner_settings(stack):
    return dataclasses.replace(load_settings(stack.env), rasa_url=stack.rasa.url)


def processing_orders(store, count: int) -> list[tuple[str, str]]:
    """The newest orders not shipped yet (the other channel tests leave them alone)."""
    with store.session() as s:
        orders = s.execute(select(Order).where(Order.status == "processing").order_by(Order.id.desc()).limit(count))
        return [(o.number, o.customer.email) for o in orders.scalars()]


def verify_in_chat(stack, chat_id: int, number: str, email: str) -> None:
    for text in ("where is my order?", number, email):
        say(stack, chat_id, text)
    with stack.store.session() as s:
        assert s.execute(select(VerifiedOrder).join(Order).where(
            VerifiedOrder.conversation_id == f"telegram:{chat_id}", Order.number == number)).first() is not None


def update_row(store, chat_id: int) -> OrderUpdate:
    with store.session() as s:
        row = s.execute(select(OrderUpdate).where(OrderUpdate.conversation_id == f"telegram:{chat_id}")).scalar_one()
        s.expunge(row)
        return row


def shipped_texts(number: str) -> list[str]:
    """The start of the shipped update as domain/order_updates.yml words it, for this order."""
    return [t.split("{items}")[0].replace("{order_number}", number) for t in response_texts("utter_order_update_shipped")]


def test_a_verified_telegram_shopper_gets_the_shipped_update_once(channel_stack):
    [(number, email)] = processing_orders(channel_stack.store, 1)
    chat_id = 810001
    verify_in_chat(channel_stack, chat_id, number, email)
    before = len(channel_stack.platforms.messages_to(chat_id))

    assert "1 update(s) queued" in mark_shipped(channel_stack, number, "1ZTELEGRAM01")
    report = deliver_order_updates(channel_stack.store, runner_settings(channel_stack), io.StringIO())

    assert len(report.sent) == 1 and report.retrying == [] and report.failed == []
    new = channel_stack.platforms.messages_to(chat_id)[before:]
    assert len(new) == 1
    assert any(new[0].startswith(start) for start in shipped_texts(number)) and "1ZTELEGRAM01" in new[0]
    again = deliver_order_updates(channel_stack.store, runner_settings(channel_stack), io.StringIO())
    assert again.sent == [] and len(channel_stack.platforms.messages_to(chat_id)) == before + 1


def test_a_chat_that_blocked_the_bot_is_retried_with_back_off_then_told_once(channel_stack):
    [_, (number, email)] = processing_orders(channel_stack.store, 2)
    chat_id = 810002
    verify_in_chat(channel_stack, chat_id, number, email)
    before = len(channel_stack.platforms.messages_to(chat_id))
    channel_stack.platforms.blocked_chats.add(chat_id)
    mark_shipped(channel_stack, number, "1ZTELEGRAM02")
    settings = runner_settings(channel_stack)
    now = settings.now()

    report = order_updates.deliver_due(channel_stack.store, send_updates_through_rasa(settings), now, settings)

    row = update_row(channel_stack.store, chat_id)
    assert report.sent == [] and report.retrying == [row.id]
    assert row.status == "scheduled" and row.attempts == 1 and row.last_error
    assert row.next_attempt_at == now + dt.timedelta(minutes=order_updates.RETRY_DELAYS_MINUTES[0])
    assert any(str(c.params.get("chat_id")) == str(chat_id) for c in channel_stack.platforms.refused)
    assert len(channel_stack.platforms.messages_to(chat_id)) == before

    channel_stack.platforms.blocked_chats.discard(chat_id)
    retry = order_updates.deliver_due(channel_stack.store, send_updates_through_rasa(settings), row.next_attempt_at,
                                      settings)
    assert retry.sent == [row.id]
    new = channel_stack.platforms.messages_to(chat_id)[before:]
    assert len(new) == 1 and any(new[0].startswith(start) for start in shipped_texts(number))
