"""Slack: signed Events API posts reach the assistant and its replies go to chat.postMessage
on the right channel; a bad or stale signature is refused and nothing is answered."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid

from tests.channels.conftest import SLACK_SIGNING_SECRET
from tests.channels.webhooks import post
from tests.replies import response_texts, user_texts


def message_event(text: str) -> tuple[dict, str, str]:
    """A direct message event as Slack's Events API posts it; also its channel and user ids."""
    channel, user = f"D{uuid.uuid4().hex[:10].upper()}", f"U{uuid.uuid4().hex[:10].upper()}"
    event = {
        "token": "verification-token-unused", "team_id": "T0TINSEL", "api_app_id": "A0TINSEL",
        "type": "event_callback", "event_id": f"Ev{uuid.uuid4().hex[:10]}", "event_time": int(time.time()),
        "authorizations": [{"user_id": "U0TINSELBOT", "is_bot": True}],
        "event": {"type": "message", "channel_type": "im", "channel": channel, "user": user, "text": text,
                  "ts": f"{time.time():.6f}"},
    }
    return event, channel, user


def slack_conversation(user: str) -> str:
    """Tinsel keeps a Slack user's conversation as slack:<team>:<user> (channels/identity.py)."""
    return f"slack:T0TINSEL:{user}"


def post_to_slack_webhook(rasa_url: str, event: dict, *, secret: str = SLACK_SIGNING_SECRET,
                          timestamp: int | None = None, headers: dict[str, str] | None = None) -> tuple[int, str]:
    body = json.dumps(event).encode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    return post(f"{rasa_url}/webhooks/slack/webhook", body, {
        "Content-Type": "application/json", "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": f"v0={digest}", **(headers or {})})


def follow_up(event: dict, text: str) -> dict:
    """A new message from the same user in the same channel."""
    later = json.loads(json.dumps(event))
    later["event_id"] = f"Ev{uuid.uuid4().hex[:10]}"
    later["event"].update(text=text, ts=f"{time.time():.6f}")
    return later


def test_a_signed_direct_message_gets_the_reply_in_its_channel(channel_stack):
    event, channel, user = message_event("hi")

    status, _ = post_to_slack_webhook(channel_stack.rasa.url, event)

    assert status == 200
    [reply] = channel_stack.platforms.wait_for("slack", "chat.postMessage", channel=channel)
    assert reply.params["text"] in response_texts("utter_greet")
    assert reply.token == channel_stack.env["SLACK_BOT_TOKEN"]
    assert user_texts(channel_stack.rasa.url, slack_conversation(user)) == ["hi"]


def test_where_is_my_order_asks_for_the_order_number_in_slack(channel_stack):
    event, channel, user = message_event("where is my order?")

    assert post_to_slack_webhook(channel_stack.rasa.url, event)[0] == 200

    replies = channel_stack.platforms.wait_for("slack", "chat.postMessage", channel=channel)
    assert "order number" in " ".join(r.params["text"] for r in replies).lower()


def test_a_bad_or_stale_signature_is_refused_and_gets_no_reply(channel_stack):
    forged, forged_channel, forged_user = message_event("hi")
    stale, stale_channel, stale_user = message_event("hi")

    forged_status, forged_answer = post_to_slack_webhook(channel_stack.rasa.url, forged, secret="not-the-secret")
    stale_status, _ = post_to_slack_webhook(channel_stack.rasa.url, stale, timestamp=int(time.time()) - 10 * 60)

    assert forged_status == 400 and "X-Slack-Signature" in forged_answer
    assert stale_status == 400
    # A genuine message sent after them is answered; by then nothing went to the refused ones.
    genuine, genuine_channel, _ = message_event("hi")
    assert post_to_slack_webhook(channel_stack.rasa.url, genuine)[0] == 200
    channel_stack.platforms.wait_for("slack", "chat.postMessage", channel=genuine_channel)
    sent_to = {c.params.get("channel") for c in channel_stack.platforms.calls_to("slack", "chat.postMessage")}
    assert forged_channel not in sent_to and stale_channel not in sent_to
    assert user_texts(channel_stack.rasa.url, slack_conversation(forged_user)) == []
    assert user_texts(channel_stack.rasa.url, slack_conversation(stale_user)) == []


def test_the_request_url_check_is_answered_only_when_signed(channel_stack):
    """Slack's url_verification when the Event Subscriptions URL is entered."""
    check = {"token": "verification-token-unused", "type": "url_verification",
             "challenge": f"challenge-{uuid.uuid4().hex}"}

    status, body = post_to_slack_webhook(channel_stack.rasa.url, check)
    forged_status, forged_body = post_to_slack_webhook(channel_stack.rasa.url, check, secret="not-the-secret")

    assert status == 200 and json.loads(body) == check["challenge"]
    assert forged_status == 400 and check["challenge"] not in forged_body


def test_a_retried_event_is_acknowledged_and_answered_once(channel_stack):
    """Slack redelivers an event it thinks went unacknowledged; Rasa alone skips only retries
    for `http_timeout`, so one for `http_error` was answered a second time."""
    event, channel, user = message_event("hi")

    first_status, _ = post_to_slack_webhook(channel_stack.rasa.url, event)
    retry_status, _ = post_to_slack_webhook(channel_stack.rasa.url, event, headers={
        "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"})

    assert first_status == 200 and retry_status == 200
    # A later message in the same conversation is taken in after anything sent before it,
    # so once it is answered a second "hi" would have been too.
    assert post_to_slack_webhook(channel_stack.rasa.url, follow_up(event, "where is my order?"))[0] == 200
    channel_stack.platforms.wait_for("slack", "chat.postMessage", channel=channel,
                                     where=lambda call: "order number" in call.params["text"].lower())
    assert user_texts(channel_stack.rasa.url, slack_conversation(user)) == ["hi", "where is my order?"]
    greetings = [c for c in channel_stack.platforms.calls_to("slack", "chat.postMessage")
                 if c.params.get("channel") == channel and c.params["text"] in response_texts("utter_greet")]
    assert len(greetings) == 1
