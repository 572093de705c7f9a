"""Telegram: the webhook is registered with a secret token; updates carrying it reach the
assistant and its replies go to sendMessage for the right chat; updates without it are refused."""
from __future__ import annotations

import itertools
import json
import time
import urllib.request

from tests.channels.webhooks import post
from tests.replies import response_texts, user_texts

CHAT_IDS = itertools.count(700001)


def text_update(text: str) -> tuple[dict, int]:
    chat_id = next(CHAT_IDS)
    return {
        "update_id": chat_id,
        "message": {"message_id": 1, "date": int(time.time()), "text": text,
                    "chat": {"id": chat_id, "type": "private", "first_name": "Mia"},
                    "from": {"id": chat_id, "is_bot": False, "first_name": "Mia"}},
    }, chat_id


def post_update(rasa_url: str, update: dict, secret: str | None, path: str = "/webhooks/telegram/webhook") -> tuple[int, str]:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return post(f"{rasa_url}{path}", json.dumps(update).encode(), headers)


def test_the_webhook_is_registered_with_its_secret_at_start(channel_stack):
    registration = channel_stack.platforms.calls_to("telegram", "setWebhook")[0]
    assert registration.params["url"] == channel_stack.env["TELEGRAM_WEBHOOK_URL"]
    assert registration.params["secret_token"] == channel_stack.telegram_secret
    assert registration.token == channel_stack.env["TELEGRAM_ACCESS_TOKEN"]


def test_an_update_with_the_secret_gets_the_reply_in_its_chat(channel_stack):
    update, chat_id = text_update("hi")

    status, _ = post_update(channel_stack.rasa.url, update, channel_stack.telegram_secret)

    assert status == 200
    [reply] = channel_stack.platforms.wait_for("telegram", "sendMessage", chat_id=chat_id)
    assert reply.params["text"] in response_texts("utter_greet")
    assert user_texts(channel_stack.rasa.url, f"telegram:{chat_id}") == ["hi"]


def test_an_update_with_a_wrong_or_no_secret_is_refused_and_gets_no_reply(channel_stack):
    wrong, wrong_chat = text_update("hi")
    missing, missing_chat = text_update("hi")

    wrong_status, _ = post_update(channel_stack.rasa.url, wrong, "not-the-secret")
    missing_status, _ = post_update(channel_stack.rasa.url, missing, None)

    assert wrong_status == 403 and missing_status == 403
    # Telegram's handler answers before it returns, so a genuine update sent afterwards shows
    # the server was answering while nothing went to the refused chats.
    genuine, genuine_chat = text_update("hi")
    assert post_update(channel_stack.rasa.url, genuine, channel_stack.telegram_secret)[0] == 200
    channel_stack.platforms.wait_for("telegram", "sendMessage", chat_id=genuine_chat)
    sent_to = {int(c.params["chat_id"]) for c in channel_stack.platforms.calls_to("telegram", "sendMessage")}
    assert wrong_chat not in sent_to and missing_chat not in sent_to
    assert user_texts(channel_stack.rasa.url, f"telegram:{wrong_chat}") == []
    assert user_texts(channel_stack.rasa.url, f"telegram:{missing_chat}") == []


def test_an_update_to_the_webhook_path_with_a_trailing_slash_needs_the_secret_too(channel_stack):
    """Sanic routes /webhook/ to the same handler; the check once only matched /webhook."""
    slashed, slashed_chat = text_update("hi")

    status, _ = post_update(channel_stack.rasa.url, slashed, None, path="/webhooks/telegram/webhook/")

    assert status == 403
    genuine, genuine_chat = text_update("hi")
    assert post_update(channel_stack.rasa.url, genuine, channel_stack.telegram_secret,
                       path="/webhooks/telegram/webhook/")[0] == 200
    channel_stack.platforms.wait_for("telegram", "sendMessage", chat_id=genuine_chat)
    sent_to = {int(c.params["chat_id"]) for c in channel_stack.platforms.calls_to("telegram", "sendMessage")}
    assert slashed_chat not in sent_to
    assert user_texts(channel_stack.rasa.url, f"telegram:{slashed_chat}") == []


def test_registering_again_through_rasas_set_webhook_route_keeps_the_secret(channel_stack):
    """Rasa's own route would register without a secret, switching Telegram's check off."""
    before = len(channel_stack.platforms.calls_to("telegram", "setWebhook"))

    with urllib.request.urlopen(f"{channel_stack.rasa.url}/webhooks/telegram/set_webhook", timeout=60) as response:
        assert response.status == 200

    registrations = channel_stack.platforms.calls_to("telegram", "setWebhook")
    assert len(registrations) == before + 1
    assert registrations[-1].params["secret_token"] == channel_stack.telegram_secret


def test_a_message_with_a_script_link_reaches_the_chat_without_it(channel_stack):
    """Whatever writes a bot message (here an agent's reply through the console's path, with the
    API token), the channel sends only http(s) and mailto links."""
    from bot.rasa_link import rasa_api

    update, chat_id = text_update("hi")
    post_update(channel_stack.rasa.url, update, channel_stack.telegram_secret)
    channel_stack.platforms.wait_for("telegram", "sendMessage", chat_id=chat_id)

    rasa_api.send_to_conversation(f"telegram:{chat_id}", "[Claim your refund](javascript:alert(1)) or track https://ups.com/t",
                                  rasa_url=channel_stack.rasa.url)

    [sent] = channel_stack.platforms.wait_for("telegram", "sendMessage", chat_id=chat_id,
                                              where=lambda call: "Claim" in call.params["text"])
    assert sent.params["text"] == "Claim your refund or track https://ups.com/t"
