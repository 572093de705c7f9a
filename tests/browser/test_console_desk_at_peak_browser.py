"""The agents' desk at peak in a real browser (issue #19), on the whole stack: a shopper whose order
is verified asks for a person and sends a photo from the web chat (a file that is not a photo is
refused with a message and nothing is kept); the agent's queue shows that ticket overdue and
first; its page shows the photo as a thumbnail; a canned reply inserted there carries the order's
number and tracking link and reaches the shopper's chat. Screenshots of the queue and the ticket
go to var/screenshots/ and are checked (on screen, not blank, nothing wider than the window).
"""
from __future__ import annotations

import datetime as dt
import io
import pytest
from PIL import Image
from sqlalchemy import func, select

from bot.orders.lookup import tracking_url_of
from bot.settings import load_settings
from bot.store.models import HandoffTicket, Order, ShopperPhoto
from bot.support import accounts as agents, handoff, photos
from tests.browser.conftest import DESKTOP
from tests.browser.test_console_browser import ConsoleServer
from tests.browser.test_webchat import WebChat, in_view
from tests.conftest import DESK_ALWAYS_OPEN
from tests.servers import ROOT

SCREENSHOTS = ROOT / "var" / "screenshots"
LOGIN = ("peak.agent", "peak-agent-password")


@pytest.fixture(scope="module")
def open_desk_console(running_stack):
    """The console as `make run` starts it, with the desk open around the clock (on the stack's
    date, the eve of the sale, the default hours may have nobody at the desk)."""
    with running_stack.store.session() as s:
        agents.add_account(s, LOGIN[0], "agent", load_settings().agent_refund_limit, LOGIN[1])
    with pytest.MonkeyPatch.context() as patch:
        for name, value in DESK_ALWAYS_OPEN.items():
            patch.setenv(name, value)
        server = ConsoleServer(running_stack.database_url, running_stack.rasa_url,
                               running_stack.workdir / "console-peak.log")
    yield server
    server.stop()


def newest_shipped_order(store) -> tuple[str, str, str]:
    """(number, email, tracking link) of a shipped demo order the other browser tests leave alone."""
    with store.session() as s:
        order = s.execute(select(Order).where(Order.status == "shipped", Order.shipment.has())
                          .order_by(Order.id.desc())).scalars().first()
        return order.number, order.customer.email, tracking_url_of(order.shipment)


def photo_bytes() -> bytes:
    """A photo of a broken bauble, as a phone would send it (a JPEG)."""
    image = Image.new("RGB", (800, 600), (200, 30, 40))
    for x in range(300, 500):
        image.putpixel((x, x - 100), (255, 255, 255))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


def upload(chat: WebChat, name: str, data: bytes, mime: str) -> str:
    """Chooses a file in the page's "Send a photo" and waits for the status line's answer."""
    status = chat.page.locator("#photo-status")
    chat.page.evaluate("document.getElementById('photo-status').textContent = ''")
    chat.page.set_input_files("#photo-file", files=[{"name": name, "mimeType": mime, "buffer": data}])
    chat.page.wait_for_function("([sending]) => { const text = document.getElementById('photo-status').textContent;"
                                " return text.length > 0 && text !== sending; }",
                                arg=[photos.shopper_text("utter_photo_sending")])
    return status.inner_text()


def photos_kept(store, conversation: str) -> int:
    with store.session() as s:
        return s.execute(select(func.count(ShopperPhoto.id)).where(ShopperPhoto.conversation_id == conversation)).scalar_one()


def check_screenshot(page, name: str, element: str) -> None:
    """The element is on screen and drawn (many colours), and the page is no wider than the window."""
    width, height = DESKTOP["viewport"]["width"], DESKTOP["viewport"]["height"]
    page.locator(element).scroll_into_view_if_needed()
    box = page.locator(element).bounding_box()
    assert in_view(box, width, height), box
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"console-{name}.png"
    page.screenshot(path=str(path))
    image = Image.open(path).convert("RGB")
    crop = image.crop((round(box["x"]), round(box["y"]), round(box["x"] + box["width"]), round(box["y"] + box["height"])))
    colours = crop.getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 10, f"{element} is blank in the screenshot"


def test_a_photo_an_overdue_ticket_first_and_a_canned_reply_with_the_orders_details(
    running_stack, open_desk_console, new_page
):
    store = running_stack.store
    number, email, tracking_link = newest_shipped_order(store)
    chat = WebChat(new_page(), running_stack.webchat_url)
    chat.open()
    chat.say("where is my order?", expect="order number")
    chat.say(number, expect="email")
    chat.say(email, expect=number)
    chat.say("I want to talk to a human", expect="ticket #")
    conversation = chat.conversation_id()

    refused = upload(chat, "bauble.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg")
    assert refused and photos_kept(store, conversation) == 0
    kept = upload(chat, "bauble.jpg", photo_bytes(), "image/jpeg")
    assert kept != refused and photos_kept(store, conversation) == 1

    settings = load_settings()
    with store.session() as s:
        ticket = handoff.open_ticket_for(s, conversation)
        ticket.created_at -= dt.timedelta(minutes=settings.first_reply_target_minutes + 5)  # waited too long
        ticket_id = ticket.id
        assert ticket.order.number == number

    agent = new_page()
    agent.goto(open_desk_console.url + "/login")
    agent.get_by_label("Username").fill(LOGIN[0])
    agent.get_by_label("Password").fill(LOGIN[1])
    agent.get_by_role("button", name="Log in").click()
    first = agent.locator("#queue tbody tr").first
    assert first.get_attribute("data-ticket") == str(ticket_id) and "overdue" in first.get_attribute("class")
    assert "overdue" in first.inner_text()
    check_screenshot(agent, "queue-overdue-first", "#queue")

    first.get_by_role("link").click()
    thumbnail = agent.locator("#photos img").first
    assert agent.evaluate("img => img.complete && img.naturalWidth > 0", thumbnail.element_handle())
    check_screenshot(agent, "ticket-photo-thumbnail", "#photos")

    agent.get_by_label("Canned reply").select_option(label="Where is my parcel")
    agent.get_by_role("button", name="Insert canned reply").click()
    draft = agent.get_by_role("textbox", name="Reply to the shopper").input_value()
    assert number in draft and tracking_link in draft and "{" not in draft
    agent.get_by_role("textbox", name="Reply to the shopper").fill(draft + " Happy holidays!")
    before = len(chat.bot_messages())
    agent.get_by_role("button", name="Send reply").click()

    assert "Reply sent to the shopper" in agent.locator(".banner").inner_text()
    told = chat.wait_for_reply(after=before, containing="Happy holidays!")
    assert number in told and tracking_link in told
    with store.session() as s:
        assert s.get(HandoffTicket, ticket_id).assigned_to == LOGIN[0]  # replying took the ticket
