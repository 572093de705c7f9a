"""The REST channel as a store's production setup runs it (issue #15): behind the API token
(REST_CHANNEL=token) and behind a proxy whose X-Forwarded-For Rasa trusts (TRUSTED_PROXIES=1,
as behind HAProxy), so the order-guessing throttle counts each caller's own address. Tried over
HTTP against the channel stack's running Rasa server."""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import uuid

from bot.settings import load_settings
from tests.replies import user_texts

OWNERS_ORDER, OWNERS_EMAIL = "104802", "mia.johnson@example.com"
MISMATCH = "couldn't find an order with that number and email"


def post_rest(rasa_url: str, sender: str, text: str, headers: dict | None = None,
              query: dict | None = None) -> tuple[int, str]:
    """One message over REST: the status and everything the bot answered."""
    url = f"{rasa_url}/webhooks/rest/webhook" + (f"?{urllib.parse.urlencode(query)}" if query else "")
    request = urllib.request.Request(
        url, data=json.dumps({"sender": sender, "message": text}).encode(),
        headers={"Content-Type": "application/json", **(headers or {})}, method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as r:
            return r.status, "\n".join(m.get("text", "") for m in json.loads(r.read()) if m.get("text"))
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def sender(role: str) -> str:
    return f"{role}-{uuid.uuid4().hex[:8]}"


def test_rest_behind_the_token_refuses_callers_without_it(channel_stack):
    url, token = channel_stack.rasa.url, channel_stack.rasa.api_token
    stranger, wrong, backend = sender("stranger"), sender("wrong"), sender("backend")

    refused = post_rest(url, stranger, "hi")
    wrong_token = post_rest(url, wrong, "hi", {"Authorization": "Bearer not-the-token"})
    as_header = post_rest(url, backend, "hi", {"Authorization": f"Bearer {token}"})
    in_query = post_rest(url, backend, "thanks", query={"token": token})
    with urllib.request.urlopen(f"{url}/webhooks/rest/", timeout=30) as health:
        health_status = health.status  # the channel's health check stays open

    assert refused[0] == wrong_token[0] == 401 and "hi" not in refused[1]
    assert as_header[0] == in_query[0] == 200 and as_header[1]
    assert health_status == 200
    assert user_texts(url, f"rest:{stranger}") == [] and user_texts(url, f"rest:{wrong}") == []
    assert user_texts(url, f"rest:{backend}") == ["hi", "thanks"]


def try_pair(url: str, who: str, headers: dict, number: str, email: str) -> str:
    post_rest(url, who, "where is my order?", headers)
    return post_rest(url, who, f"{number} {email}", headers)[1]


def test_guessing_from_one_address_over_many_orders_is_throttled_for_that_address_only(channel_stack):
    """Every guess names a different order and email, so only the per-client limit can stop it."""
    settings = load_settings(channel_stack.env)
    url = channel_stack.rasa.url
    token = {"Authorization": f"Bearer {channel_stack.rasa.api_token}"}
    attackers_address = {**token, "X-Forwarded-For": "198.51.100.23"}
    guesses = 0
    while guesses < settings.guess_limit_per_client:
        who = sender("attacker")
        post_rest(url, who, "where is my order?", attackers_address)
        for _ in range(settings.max_verification_attempts):
            post_rest(url, who, f"{900100 + guesses} guess{guesses}@example.net", attackers_address)
            guesses += 1

    from_the_attackers_address = try_pair(url, sender("attacker"), attackers_address, OWNERS_ORDER, OWNERS_EMAIL)
    from_elsewhere = try_pair(url, sender("mia"), {**token, "X-Forwarded-For": "203.0.113.80"},
                              OWNERS_ORDER, OWNERS_EMAIL)

    assert MISMATCH in from_the_attackers_address and "person from our support team" in from_the_attackers_address
    assert MISMATCH not in from_elsewhere and OWNERS_ORDER in from_elsewhere
