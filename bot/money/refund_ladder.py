"""The agent-empowerment ladder: who may give how much money back on one order.

The bot may refund up to `bot_refund_limit` per order, an agent up to `agent_refund_limit`,
a supervisor anything above. Limits count what the order has already been given back, so
splitting one large refund into small requests climbs the ladder instead of dodging it.
A total exactly at a limit is within it; one cent over is not.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bot.settings import Settings

LEVELS = ("bot", "agent", "supervisor")


@dataclass(frozen=True)
class Decision:
    level: str  # bot | agent | supervisor: the lowest level allowed to give this refund
    amount: Decimal
    already_refunded: Decimal
    total_after: Decimal  # what the order will have been given back, this refund included

    @property
    def auto_approved(self) -> bool:
        """The bot may issue it without a human."""
        return self.level == "bot"


def _money(value: Decimal, name: str) -> Decimal:
    if isinstance(value, float) or not isinstance(value, (Decimal, int)):
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__}")
    value = Decimal(value)
    if value < 0:
        raise ValueError(f"{name} cannot be negative: {value}")
    return value


def limit_for(level: str, settings: Settings) -> Decimal | None:
    """The most a level may have given back on one order; None means no ladder limit."""
    if level == "bot":
        return settings.bot_refund_limit
    if level == "agent":
        return settings.agent_refund_limit
    if level == "supervisor":
        return None
    raise ValueError(f"unknown level {level!r}; expected one of {LEVELS}")


def within(limit: Decimal | None, amount: Decimal, already_refunded: Decimal) -> bool:
    """True if someone with `limit` may give `amount` on top of `already_refunded`."""
    total = _money(already_refunded, "already_refunded") + _money(amount, "amount")
    return limit is None or total <= _money(limit, "limit")


def decide(amount: Decimal, already_refunded: Decimal, settings: Settings) -> Decision:
    """The lowest level allowed to refund `amount` on an order already given `already_refunded`."""
    amount = _money(amount, "amount")
    already_refunded = _money(already_refunded, "already_refunded")
    total = already_refunded + amount
    if total <= settings.bot_refund_limit:
        level = "bot"
    elif total <= settings.agent_refund_limit:
        level = "agent"
    else:
        level = "supervisor"
    return Decision(level=level, amount=amount, already_refunded=already_refunded, total_after=total)
