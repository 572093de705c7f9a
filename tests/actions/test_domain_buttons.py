"""Every button of domain/ reaches the shopper as the payload it stands for, and Rasa's response
templating, which reads `{...}` as a slot placeholder, logs no error for it: a payload carrying
entities doubles its braces (`/inform{{"return_reason": "late"}}`, as Rasa's docs write it)."""
from __future__ import annotations

import json
import re

from rasa.core.nlg import interpolator

from tests.replies import sent_payloads

BUTTON_PAYLOAD = re.compile(r"^/(\w+)(\{.*\})?$")


class Recorder:
    def __init__(self) -> None:
        self.errors: list[dict] = []

    def exception(self, event: str, **details) -> None:
        self.errors.append({"event": event, **details})


def test_every_domain_button_is_sent_as_an_intent_with_its_entities_and_logs_no_error(domain, monkeypatch):
    recorder = Recorder()
    monkeypatch.setattr(interpolator, "structlogger", recorder)
    with_entities = 0
    for name, variants in domain["responses"].items():
        for variant in variants:
            for payload in sent_payloads(variant):
                match = BUTTON_PAYLOAD.match(payload)
                assert match, (name, payload)
                if match.group(2):
                    assert isinstance(json.loads(match.group(2)), dict), (name, payload)
                    with_entities += 1
    assert with_entities >= 20  # return reasons, problems, goodwill, ratings
    assert recorder.errors == []


def test_a_payload_with_single_braces_is_what_rasa_logs_an_error_for(monkeypatch):
    """The check above can fail: the form the domain used before is caught."""
    recorder = Recorder()
    monkeypatch.setattr(interpolator, "structlogger", recorder)
    assert sent_payloads({"buttons": [{"title": "Late", "payload": '/inform{"return_reason": "late"}'}]}) == [
        '/inform{"return_reason": "late"}']
    assert len(recorder.errors) == 1
