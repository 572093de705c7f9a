"""What the assistant's replies look like, read from domain/ (never copied), and what Rasa
stored for a conversation."""
from __future__ import annotations

import copy
import json
import urllib.parse
import urllib.request

import yaml

from bot.rasa_link import rasa_api
from tests.servers import ROOT, api_token


def response_texts(name: str) -> list[str]:
    for part in sorted((ROOT / "domain").glob("*.yml")):
        responses = yaml.safe_load(part.read_text()).get("responses") or {}
        if name in responses:
            return [variant["text"] for variant in responses[name]]
    raise KeyError(f"{name} is in no file of domain/")


def sent_payloads(response: dict) -> list[str]:
    """A domain response's button payloads as Rasa's templating sends them (it turns the doubled
    braces of `/intent{{"entity": "value"}}` into single ones)."""
    from rasa.core.nlg.interpolator import interpolate

    return [button["payload"] for button in interpolate(copy.deepcopy(response.get("buttons") or []), {})]


def user_texts(rasa_url: str, conversation_id: str) -> list[str]:
    """What the shopper said in the conversation, from Rasa's tracker."""
    token = urllib.parse.urlencode({"token": api_token()})
    url = f"{rasa_url}{rasa_api.conversation_path(conversation_id, 'tracker')}?{token}"
    with urllib.request.urlopen(url, timeout=30) as response:
        events = json.loads(response.read())["events"] or []
    return [e.get("text") for e in events if e["event"] == "user"]
