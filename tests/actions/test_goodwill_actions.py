"""action_grant_goodwill: the shopper's choice, the incident and the amount from the database."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from actions.goodwill import ActionGrantGoodwill
from tests.actions.conftest import make_tracker, response_names, run_action
from tests.bot.test_goodwill import CONVERSATION, verified_gift


@pytest.fixture
def december(monkeypatch, settings):
    monkeypatch.setenv("TINSEL_TODAY", "2026-12-10")
    from bot.settings import get_settings

    get_settings.cache_clear()
    yield dataclasses.replace(settings, today_override=dt.date(2026, 12, 10))
    get_settings.cache_clear()


def choose(kind: str, conversation: str = CONVERSATION):
    return make_tracker(conversation, intent="choose_goodwill",
                        entities=[{"entity": "goodwill_kind", "value": kind}])


def test_a_late_gift_gets_the_credit_with_its_code_and_balance(action_store, domain, december):
    verified_gift(action_store, december, eta=dt.date(2026, 12, 28))
    _, messages = run_action(ActionGrantGoodwill(), choose("store_credit"), domain)
    [said] = messages
    assert said["response"] == "utter_goodwill_store_credit"
    assert said["code"].startswith("GW-") and said["balance"] == said["amount"]


def test_a_typed_choice_without_an_incident_gets_nothing(action_store, domain, december):
    _, messages = run_action(ActionGrantGoodwill(), choose("store_credit"), domain)
    assert response_names(messages) == ["utter_goodwill_nothing_to_make_up"]


def test_choosing_twice_says_it_was_already_given(action_store, domain, december):
    verified_gift(action_store, december, eta=dt.date(2026, 12, 28))
    run_action(ActionGrantGoodwill(), choose("store_credit"), domain)
    _, messages = run_action(ActionGrantGoodwill(), choose("gift_wrap"), domain)
    assert response_names(messages) == ["utter_goodwill_already_given", "utter_goodwill_store_credit"]


def test_an_unknown_kind_is_asked_again(action_store, domain, december):
    _, messages = run_action(ActionGrantGoodwill(), choose("a_pony"), domain)
    assert response_names(messages) == ["utter_goodwill_choose"]
