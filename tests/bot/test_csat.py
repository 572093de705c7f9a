"""CSAT: asked once per conversation, a rating only as its answer, figures that add up."""
from __future__ import annotations

import datetime as dt

import pytest

from bot.conversation import Conversation
from bot.support import csat, handoff

T0 = dt.datetime(2026, 12, 4, 15, 0)


def ask(store, conversation: str, at=T0) -> bool:
    with store.session() as s:
        return csat.ask(s, conversation, at)


def rate(store, conversation: str, value, at=T0) -> str:
    with store.session() as s:
        return csat.rate(s, conversation, value, at)


def comment(store, conversation: str, text: str) -> bool:
    with store.session() as s:
        return csat.add_comment(s, conversation, text, T0)


def resolved_by(store, settings, conversation: str, agent: str) -> None:
    with store.session() as s:
        ticket, _ = handoff.open_ticket(s, Conversation(conversation, "socketio", []), "asked_for_human", "",
                                        settings=settings)
        ticket_id = ticket.id
    with store.session() as s:
        handoff.close_ticket(s, ticket_id, agent, "", settings=settings)


def test_a_conversation_is_asked_once(store):
    assert ask(store, "web:a") is True
    assert ask(store, "web:a") is False


def test_a_rating_counts_only_as_the_answer_and_only_once(store):
    assert rate(store, "web:a", "5") == "not_asked"
    ask(store, "web:a")
    assert rate(store, "web:a", "5 stars") == "rated"
    assert rate(store, "web:a", "1") == "already_rated"
    with store.session() as s:
        assert csat.survey_of(s, "web:a").score == 5


@pytest.mark.parametrize("value", ["0", "6", "great", None, "-3", "55"])
def test_a_rating_outside_one_to_five_is_refused(store, value):
    ask(store, "web:a")
    assert rate(store, "web:a", value) == "invalid"


def test_a_comment_is_kept_once_and_no_means_none(store):
    ask(store, "web:a")
    rate(store, "web:a", 4)
    assert comment(store, "web:a", "Faster please") is True
    assert comment(store, "web:a", "and another thing") is False
    ask(store, "web:b")
    rate(store, "web:b", 5)
    assert comment(store, "web:b", "no thanks") is False
    with store.session() as s:
        assert csat.survey_of(s, "web:a").comment == "Faster please"
        assert csat.survey_of(s, "web:b").comment is None


def test_a_long_comment_is_capped(store):
    ask(store, "web:a")
    rate(store, "web:a", 3)
    comment(store, "web:a", "x" * (csat.MAX_COMMENT_CHARS + 50))
    with store.session() as s:
        assert len(csat.survey_of(s, "web:a").comment) == csat.MAX_COMMENT_CHARS


def test_the_report_splits_by_day_agent_and_bot_only(store, settings):
    resolved_by(store, settings, "web:handed", "dana")
    for conversation, score, day in (("web:bot1", 5, T0), ("web:bot2", 2, T0 + dt.timedelta(days=1)),
                                     ("web:handed", 4, T0)):
        ask(store, conversation)
        rate(store, conversation, score, day)
    ask(store, "web:unrated")
    with store.reading() as s:
        report = csat.report(s)
    assert report.asked == 4
    assert [(f.label, f.rated, f.average, f.satisfied_share) for f in report.by_handling] == [
        ("bot only", 2, 3.5, 0.5), ("handed off", 1, 4.0, 1.0)]
    assert [(f.label, f.rated) for f in report.by_agent] == [("dana", 1)]
    assert [(f.label, f.rated) for f in report.by_day] == [("2026-12-04", 2), ("2026-12-05", 1)]


def test_a_button_payload_is_never_kept_as_a_comment(store):
    ask(store, "web:a")
    rate(store, "web:a", 5)
    assert comment(store, "web:a", '/rate_conversation{"csat_score":"5"}') is False
    with store.session() as s:
        assert csat.survey_of(s, "web:a").comment is None
