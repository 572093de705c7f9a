"""Every policy value the store runs on, read once from the environment (and `.env`).

Responses, actions and tests read limits and dates from here instead of repeating them, so
an operator changes one line in `.env` and the whole assistant follows.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _month_day(text: str) -> tuple[int, int]:
    month, day = text.strip().split("-")
    return int(month), int(day)


@dataclass(frozen=True)
class Settings:
    database_url: str
    action_server_url: str
    rasa_url: str
    store_url: str
    store_name: str
    bot_refund_limit: Decimal
    agent_refund_limit: Decimal
    max_verification_attempts: int
    standard_return_days: int
    holiday_purchase_start: tuple[int, int]
    holiday_purchase_end: tuple[int, int]
    holiday_return_until: tuple[int, int]
    christmas_delivery_day: tuple[int, int]
    today_override: dt.date | None

    def today(self) -> dt.date:
        """The store's date; `TINSEL_TODAY` pins it for demos and tests."""
        return self.today_override or dt.date.today()

    def now(self) -> dt.datetime:
        if self.today_override:
            return dt.datetime.combine(self.today_override, dt.time(12, 0))
        return dt.datetime.now()


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Builds settings from `env` (default: the process environment after loading `.env`)."""
    if env is None:
        load_dotenv(PROJECT_ROOT / ".env", override=False)
        env = dict(os.environ)
    today = env.get("TINSEL_TODAY", "").strip()
    return Settings(
        database_url=env.get("DATABASE_URL") or f"sqlite:///{PROJECT_ROOT / 'tinsel.db'}",
        action_server_url=env.get("ACTION_SERVER_URL", "http://localhost:5055/webhook"),
        rasa_url=env.get("RASA_URL", "http://localhost:5005"),
        store_url=env.get("STORE_URL", "https://shop.tinsel.example").rstrip("/"),
        store_name=env.get("STORE_NAME", "Tinsel & Co."),
        bot_refund_limit=Decimal(env.get("BOT_REFUND_LIMIT", "75.00")),
        agent_refund_limit=Decimal(env.get("AGENT_REFUND_LIMIT", "2000.00")),
        max_verification_attempts=int(env.get("MAX_VERIFICATION_ATTEMPTS", "3")),
        standard_return_days=int(env.get("STANDARD_RETURN_DAYS", "30")),
        holiday_purchase_start=_month_day(env.get("HOLIDAY_PURCHASE_START", "11-01")),
        holiday_purchase_end=_month_day(env.get("HOLIDAY_PURCHASE_END", "12-31")),
        holiday_return_until=_month_day(env.get("HOLIDAY_RETURN_UNTIL", "01-31")),
        christmas_delivery_day=_month_day(env.get("CHRISTMAS_DELIVERY_DAY", "12-24")),
        today_override=dt.date.fromisoformat(today) if today else None,
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
