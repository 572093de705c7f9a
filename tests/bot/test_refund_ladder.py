"""The ladder's boundaries: at a limit is within it, one cent over is not, past refunds count."""
from __future__ import annotations

from decimal import Decimal

import pytest

from bot.money import refund_ladder

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def test_exactly_the_bot_limit_is_issued_by_the_bot(settings):
    decision = refund_ladder.decide(settings.bot_refund_limit, ZERO, settings)
    assert decision.level == "bot"
    assert decision.auto_approved


def test_one_cent_over_the_bot_limit_needs_an_agent(settings):
    decision = refund_ladder.decide(settings.bot_refund_limit + CENT, ZERO, settings)
    assert decision.level == "agent"
    assert not decision.auto_approved


def test_earlier_refunds_count_towards_the_bot_limit(settings):
    already = settings.bot_refund_limit - Decimal("10.00")
    assert refund_ladder.decide(Decimal("10.00"), already, settings).level == "bot"
    assert refund_ladder.decide(Decimal("10.01"), already, settings).level == "agent"


def test_small_refunds_cannot_climb_past_the_bot_limit_once_it_is_used_up(settings):
    decision = refund_ladder.decide(CENT, settings.bot_refund_limit, settings)
    assert decision.level == "agent"
    assert decision.total_after == settings.bot_refund_limit + CENT


def test_exactly_the_agent_limit_is_an_agent_decision(settings):
    assert refund_ladder.decide(settings.agent_refund_limit, ZERO, settings).level == "agent"


def test_one_cent_over_the_agent_limit_needs_a_supervisor(settings):
    assert refund_ladder.decide(settings.agent_refund_limit + CENT, ZERO, settings).level == "supervisor"


def test_earlier_refunds_count_towards_the_agent_limit(settings):
    already = settings.agent_refund_limit - Decimal("100.00")
    assert refund_ladder.decide(Decimal("100.00"), already, settings).level == "agent"
    assert refund_ladder.decide(Decimal("100.01"), already, settings).level == "supervisor"


def test_an_agent_may_approve_up_to_their_limit_counting_earlier_refunds(settings):
    limit = refund_ladder.limit_for("agent", settings)
    assert limit == settings.agent_refund_limit
    assert refund_ladder.within(limit, Decimal("50.00"), limit - Decimal("50.00"))
    assert not refund_ladder.within(limit, Decimal("50.01"), limit - Decimal("50.00"))


def test_a_supervisor_has_no_ladder_limit(settings):
    limit = refund_ladder.limit_for("supervisor", settings)
    assert refund_ladder.within(limit, settings.agent_refund_limit * 10, settings.agent_refund_limit)


def test_float_amounts_are_refused(settings):
    with pytest.raises(TypeError):
        refund_ladder.decide(10.5, ZERO, settings)


def test_negative_amounts_are_refused(settings):
    with pytest.raises(ValueError):
        refund_ladder.decide(Decimal("-1.00"), ZERO, settings)
