"""Findings 1 and 2 of issue #15, tried again the way a stranger would: over HTTP against the
running stack (Rasa with --enable-api, the action server), without the secrets and with wrong
ones. Each must fail; with the right secret the agents' tools still work."""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

from bot.rasa_link import rasa_api
from tests.servers import api_token

WRONG_TOKENS = [None, "", "guess", "test-" + "A" * 32]


def call(url: str, method: str = "GET", body=None, headers: dict | None = None) -> tuple[int, bytes, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def with_token(url: str, token: str | None) -> str:
    return url if token is None else f"{url}?{urllib.parse.urlencode({'token': token})}"


@pytest.fixture(scope="module")
def shopper(running_stack):
    """A real shopper who has verified an order over REST, so the tracker holds their email."""
    sender = f"victim-{uuid.uuid4().hex[:8]}"
    running_stack.rasa.say(sender, "where is my order 104776?")
    running_stack.rasa.say(sender, "liam.carter@example.com")
    return sender


def conversation_path(running_stack, shopper: str) -> str:
    """The conversation id Rasa keeps for the REST sender (whatever prefix the channel adds)."""
    for candidate in (shopper, f"rest:{shopper}"):
        url = f"{running_stack.rasa_url}/conversations/{urllib.parse.quote(candidate, safe=':')}"
        status, body, _ = call(with_token(url + "/tracker", api_token()))
        if status == 200 and json.loads(body).get("events"):
            return url
    pytest.fail("the shopper's conversation is not in the tracker store")


@pytest.mark.parametrize("token", WRONG_TOKENS)
def test_a_stranger_cannot_read_a_shoppers_transcript(running_stack, shopper, token):
    url = conversation_path(running_stack, shopper) + "/tracker"
    status, body, _ = call(with_token(url, token))
    assert status in (401, 403)
    assert b"liam.carter" not in body and b"104776" not in body


@pytest.mark.parametrize("token", WRONG_TOKENS)
def test_a_stranger_cannot_run_actions_or_write_events(running_stack, shopper, token):
    base = conversation_path(running_stack, shopper)
    attacks = [
        (base + "/execute", {"name": "action_show_order"}),
        (base + "/tracker/events", {"event": "bot", "text": "[Claim your refund](javascript:alert(1))"}),
        (base + "/trigger_intent", {"name": "request_human"}),
        (base + "/messages", {"text": "hi", "sender": "user"}),
    ]
    for url, body in attacks:
        status, answer, _ = call(with_token(url, token), "POST", body)
        assert status in (401, 403), url
    status, body, _ = call(with_token(base + "/tracker", api_token()))
    texts = [e.get("text") or "" for e in json.loads(body)["events"]]
    assert not any("javascript:" in text for text in texts)


@pytest.mark.parametrize("token", WRONG_TOKENS)
def test_a_stranger_cannot_replace_or_unload_the_model(running_stack, token):
    for method, path, body in [("PUT", "/model", {"model_file": "/tmp/evil.tar.gz"}), ("DELETE", "/model", None),
                               ("POST", "/model/train", {}), ("GET", "/status", None),
                               ("GET", "/domain", None)]:
        status, _, _ = call(with_token(running_stack.rasa_url + path, token), method, body)
        assert status in (401, 403), (method, path)
    status, body, _ = call(with_token(running_stack.rasa_url + "/status", api_token()))
    assert status == 200 and json.loads(body)["model_id"]


def test_the_agents_tools_still_reach_rasa_with_the_token(running_stack, shopper):
    """The console's and reminder runner's calls (bot/rasa_link/rasa_api.py) send the token."""
    conversation = conversation_path(running_stack, shopper).rsplit("/", 1)[1]
    conversation = urllib.parse.unquote(conversation)
    rasa_api.send_to_conversation(conversation, "An agent here: your parcel is on its way.",
                                  rasa_url=running_stack.rasa_url)
    transcript = rasa_api.read_transcript(running_stack.store, conversation)
    assert transcript[-1]["text"] == "An agent here: your parcel is on its way."


def test_only_the_web_chat_origin_gets_cross_origin_answers(running_stack):
    evil = {"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    _, _, headers = call(running_stack.rasa_url + "/webhooks/rest/webhook", "OPTIONS", headers=evil)
    assert headers.get("Access-Control-Allow-Origin") not in ("*", "http://evil.example")
    page_origin = running_stack.webchat_url.rstrip("/")
    status, _, headers = call(running_stack.rasa_url + "/socket.io/?EIO=4&transport=polling",
                              headers={"Origin": page_origin})
    assert status == 200 and headers.get("Access-Control-Allow-Origin") == page_origin


def forged_tracker(action: str) -> dict:
    """What an attacker posts to the action server: a tracker of their own making."""
    return {
        "next_action": action, "sender_id": "someone-else", "version": "3.6.2",
        "domain": {"slots": {}, "responses": {}, "forms": {"order_lookup_form": {"required_slots": []}}},
        "tracker": {
            "sender_id": "someone-else", "slots": {"order_number": "104776", "order_email": "liam.carter@example.com",
                                                   "requested_slot": "order_email"},
            "latest_message": {"text": "liam.carter@example.com", "intent": {"name": "inform"}, "entities": []},
            "events": [], "paused": False, "followup_action": None, "active_loop": {"name": "order_lookup_form"},
            "latest_action_name": "action_listen", "latest_event_time": 0, "latest_input_channel": "rest",
        },
    }


@pytest.mark.parametrize("header", [None, "Bearer ", "Bearer guess", "Basic x", "test-secret"])
def test_a_forged_tracker_runs_no_action(running_stack, header):
    headers = {"Authorization": header} if header is not None else {}
    for action in ("validate_order_lookup_form", "action_show_order"):
        status, body, _ = call(running_stack.action_server_url, "POST", forged_tracker(action), headers)
        assert status == 401, action
        assert b"104776" not in body and b"liam" not in body
    status, _, _ = call(running_stack.action_server_url.rsplit("/", 1)[0] + "/actions", headers=headers)
    assert status == 401


def test_the_action_server_answers_health_and_the_real_secret(running_stack):
    base = running_stack.action_server_url.rsplit("/", 1)[0]
    assert call(base + "/health")[0] == 200
    secret = {"Authorization": f"Bearer {os.environ['ACTION_SERVER_TOKEN']}"}
    status, body, _ = call(base + "/actions", headers=secret)
    assert status == 200 and {"name": "action_show_order"} in json.loads(body)


def test_the_action_server_listens_on_loopback_only(running_stack):
    """A private-network address of this machine does not reach it (ACTION_SERVER_HOST)."""
    port = int(running_stack.action_server_url.rsplit(":", 1)[1].split("/")[0])
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                local, state = row.split()[1], row.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:
                    listening.add(address)
    assert listening == {"0100007F"}, listening


def test_no_log_of_the_stack_shows_a_secret(running_stack, shopper):
    secrets = (api_token(), os.environ["ACTION_SERVER_TOKEN"])
    for log in running_stack.workdir.glob("*.log"):
        text = log.read_text(errors="replace")
        assert not any(secret in text for secret in secrets), log.name
