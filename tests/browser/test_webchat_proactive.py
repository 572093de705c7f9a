"""Proactive messages in the web chat, in a real browser (issue #18): an order update reaches a
page that is open, and one that was closed gets it, once, when it opens again, under its
restored history. Screenshots at desktop and phone sizes are saved to var/screenshots/ and checked.
"""
from __future__ import annotations

import dataclasses
import io
import subprocess
import sys
import time

from PIL import Image
from sqlalchemy import select

from bot.cli.reminders import deliver_order_updates
from bot.settings import load_settings
from bot.store.models import Order
from bot.web.webchat import outbox
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.test_webchat import BOT_MESSAGES, WebChat, in_view
from tests.conftest import stack_env
from tests.servers import ROOT

SCREENSHOTS = ROOT / "var" / "screenshots"
SHIPPED_WORDS = "is on its way"


def processing_orders(store, count: int) -> list[tuple[str, str]]:
    """(number, email) of demo orders not shipped yet, from the database; the newest, which the
    other tests on this stack leave alone."""
    with store.session() as s:
        orders = s.execute(
            select(Order).where(Order.status == "processing").order_by(Order.id.desc()).limit(count)
        ).scalars().all()
        return [(order.number, order.customer.email) for order in orders]


def verify(chat: WebChat, number: str, email: str) -> None:
    """The shopper asks about the order and proves it is theirs (which signs them up for updates)."""
    chat.open()
    chat.say("where is my order?", expect="order number")
    chat.say(number, expect="email")
    chat.say(email, expect=number)


def ship_and_deliver(running_stack, number: str) -> None:
    """The store marks the order shipped (the operator's CLI), then one pass of the runner."""
    env = stack_env(DATABASE_URL=running_stack.database_url, RASA_URL=running_stack.rasa_url)
    done = subprocess.run([sys.executable, "-m", "bot", "orders", "update", number, "--status", "shipped",
                           "--tracking", f"1Z{number}", "--carrier", "UPS"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    settings = dataclasses.replace(load_settings(env), rasa_url=running_stack.rasa_url)
    report = deliver_order_updates(running_stack.store, settings, io.StringIO())
    assert report.sent and not report.retrying and not report.failed, report


def waiting(store, conversation: str) -> int:
    with store.session() as s:
        return outbox.waiting_count(s, conversation)


def shown(chat: WebChat, words: str) -> int:
    return sum(words in bubble for bubble in chat.bot_messages())


def test_an_open_page_shows_the_update_without_the_shopper_typing(running_stack, page):
    number, email = processing_orders(running_stack.store, 1)[0]
    chat = WebChat(page, running_stack.webchat_url)
    verify(chat, number, email)
    before = len(chat.bot_messages())

    ship_and_deliver(running_stack, number)

    update = chat.wait_for_reply(after=before, containing=SHIPPED_WORDS)
    assert f"#{number}" in update
    assert shown(chat, SHIPPED_WORDS) == 1
    assert waiting(running_stack.store, chat.conversation_id()) == 0


def reopen_after_an_update(running_stack, first_page, number: str, email: str):
    """Verifies on `first_page`, closes it, ships the order, opens the chat again in the same
    browser (same local storage); returns the new page's WebChat once the update is shown."""
    chat = WebChat(first_page, running_stack.webchat_url)
    verify(chat, number, email)
    conversation, history = chat.conversation_id(), chat.bot_messages()
    context = first_page.context
    first_page.close()
    time.sleep(1.5)  # the server notices the closed socket (no page holds the session)

    ship_and_deliver(running_stack, number)
    assert waiting(running_stack.store, conversation) == 1, "the update should wait for a page"

    chat = WebChat(context.new_page(), running_stack.webchat_url)
    chat.page.goto(running_stack.webchat_url)
    chat.wait_for_reply(after=0, containing=SHIPPED_WORDS)
    assert chat.conversation_id() == conversation
    assert chat.bot_messages()[:len(history)] == history  # the restored history, then the update
    return chat


def test_a_closed_page_gets_the_update_once_when_it_opens_again(running_stack, new_page):
    number, email = processing_orders(running_stack.store, 2)[1]
    chat = reopen_after_an_update(running_stack, new_page(), number, email)
    assert shown(chat, SHIPPED_WORDS) == 1
    assert waiting(running_stack.store, chat.conversation_id()) == 0

    chat.page.reload()
    chat.wait_for_reply(after=0, containing=SHIPPED_WORDS)
    chat.page.wait_for_timeout(1500)  # a second showing would arrive within the channel's poll
    assert shown(chat, SHIPPED_WORDS) == 1


def check_screenshot(chat: WebChat, name: str, size: dict) -> None:
    """Saves the page and checks what a shopper would see: the update's bubble whole on the
    screen, nothing wider than the screen, and the bubble really drawn (not blank)."""
    width, height = size["viewport"]["width"], size["viewport"]["height"]
    bubble = chat.page.locator(BOT_MESSAGES).filter(has_text=SHIPPED_WORDS).last
    bubble.scroll_into_view_if_needed()
    box = bubble.bounding_box()
    assert in_view(box, width, height), box
    assert chat.page.evaluate("document.documentElement.scrollWidth") <= width
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"webchat-proactive-{name}.png"
    chat.page.screenshot(path=str(path))
    image = Image.open(path).convert("RGB")
    scale = image.width / width
    crop = image.crop(tuple(round(v * scale) for v in (box["x"], box["y"], box["x"] + box["width"],
                                                      box["y"] + box["height"])))
    colours = crop.getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 10, "the update's bubble is blank in the screenshot"
    background = image.getpixel((1, image.height // 2))
    assert any(colour != background for _, colour in colours)


def test_screenshots_of_a_proactive_update_under_the_restored_history(running_stack, new_page):
    orders = processing_orders(running_stack.store, 4)[2:]
    for (number, email), (name, size) in zip(orders, (("desktop", DESKTOP), ("phone", PHONE))):
        chat = reopen_after_an_update(running_stack, new_page(**size), number, email)
        check_screenshot(chat, name, size)
