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
    # HANDOFF_MINUTES_PER_TICKET=4: minutes an agent needs per ticket, for the shopper's wait estimate.
    handoff_minutes_per_ticket: int = 4
    # SUPERVISOR_REFUND_LIMIT=10000.00: the refund limit `python -m bot seed` gives the demo
    # supervisor account (each console account has its own limit in the database).
    supervisor_refund_limit: Decimal = Decimal("10000.00")
    # CONSOLE_PORT=5002: where `python -m bot console` serves the agents' web console.
    console_port: int = 5002
    # CONSOLE_SESSION_MINUTES=480: how long a console login lasts.
    console_session_minutes: int = 480
    # --- Issue #15: order-guessing throttle and verification expiry (bot/orders/verification_throttle.py,
    # bot/orders/lookup.py). GUESS_WINDOW_MINUTES=60: the sliding window failed checks are counted in;
    # GUESS_LIMIT_PER_ORDER=5, GUESS_LIMIT_PER_EMAIL=5, GUESS_LIMIT_PER_CLIENT=20: failures in
    # that window, across all conversations, after which checks for that order number / email /
    # channel client are refused even with the right pair.
    guess_window_minutes: int = 60
    guess_limit_per_order: int = 5
    guess_limit_per_email: int = 5
    guess_limit_per_client: int = 20
    # VERIFICATION_IDLE_MINUTES=30: a verified order unused this long must be verified again.
    verification_idle_minutes: int = 30
    # --- Issue #15 (privacy, bot/privacy/data_requests.py): TRANSCRIPT_RETENTION_DAYS=90: chat
    # transcripts in Rasa's tracker store older than this are deleted by the reminder runner (open
    # tickets kept).
    transcript_retention_days: int = 90
    # --- Holiday calendar, gifts, loyalty, engagement (bot/engagement/holiday_calendar.py,
    # bot/gifting/gifts.py, bot/engagement/touches.py). Defaults live here; load_settings only
    # overrides variables that are set.
    # Day specs below are "MM-DD" or a moving day ("thanksgiving", "black_friday",
    # "cyber_monday"), optionally shifted by days: "black_friday-7", "cyber_monday+1".
    # SHIPPING_TRANSIT_DAYS="standard=5,express=2,overnight=1": business days in transit per
    # shipping method (the names orders use); Christmas cut-offs are computed from these.
    shipping_transit_days: tuple[tuple[str, int], ...] = (
        ("standard", 5),
        ("express", 2),
        ("overnight", 1),
    )
    # ORDER_PROCESSING_DAYS=1: business days between the order and the parcel leaving us.
    order_processing_days: int = 1
    # CARRIER_HOLIDAYS="01-01,thanksgiving,12-25": day specs on which carriers neither pick up
    # nor deliver (besides weekends).
    carrier_holidays: tuple[str, ...] = ("01-01", "thanksgiving", "12-25")
    # HOLIDAY_SALE_START / HOLIDAY_SALE_END: day specs of the first and last day of the sale.
    holiday_sale_start: str = "black_friday"
    holiday_sale_end: str = "cyber_monday"
    # DOUBLE_POINTS_DAYS="black_friday,cyber_monday,12-01,12-02,12-03": loyalty double-points
    # days (day specs; duplicates, e.g. Cyber Monday on Dec 1, count once).
    double_points_days: tuple[str, ...] = ("black_friday", "cyber_monday", "12-01", "12-02", "12-03")
    # SUPPORT_HOURS: the regular support hours, shown as written.
    support_hours: str = "Monday-Friday 8am-8pm ET, Saturday-Sunday 9am-5pm ET"
    # HOLIDAY_SUPPORT_HOURS="thanksgiving=closed;12-24=8am-2pm ET;...": special hours per day spec.
    holiday_support_hours: tuple[tuple[str, str], ...] = (
        ("thanksgiving", "closed"),
        ("12-24", "8am-2pm ET"),
        ("12-25", "closed"),
        ("12-31", "8am-4pm ET"),
        ("01-01", "closed"),
    )
    # GIFT_WRAP_PRICE: overrides bot.policies.GIFT_WRAP_PRICE (unset = the policy price).
    gift_wrap_price: Decimal | None = None
    # GIFT_OVER_BUDGET_TOLERANCE=0.25: when nothing fits a gift budget, ideas up to this fraction
    # over it may be offered (flagged as over budget).
    gift_over_budget_tolerance: Decimal = Decimal("0.25")
    # LOYALTY_TIERS="Member=0,Silver=500,Gold=1500,Platinum=5000": tier name = points threshold.
    loyalty_tiers: tuple[tuple[str, int], ...] = (
        ("Member", 0),
        ("Silver", 500),
        ("Gold", 1500),
        ("Platinum", 5000),
    )
    # BIRTHDAY_OFFER_WINDOW_DAYS=14: the birthday offer shows in the birthday month and in the
    # days before a birthday that falls early next month.
    birthday_offer_window_days: int = 14
    # FIRST_ORDER_THANKS_DAYS=30: a first order this recent earns a thank-you.
    first_order_thanks_days: int = 30
    # REPLENISH_REMINDER_WINDOW_DAYS=7: a consumable is "due" this many days either side of
    # its purchase date + Product.replenish_days.
    replenish_reminder_window_days: int = 7
    # --- Shopper channels (bot/web/webchat/, bot/rasa_link/channel_credentials.py). Slack and Telegram are
    # switched on only when their settings are present.
    # WEBCHAT_PORT=8080: where `python -m bot webchat` serves the shoppers' web chat page.
    webchat_port: int = 8080
    # SLACK_BOT_TOKEN (xoxb-...) and SLACK_SIGNING_SECRET: both switch Slack on.
    slack_bot_token: str = ""
    slack_signing_secret: str = ""
    # SLACK_CHANNEL: a channel id where Tinsel answers every message (besides DMs and @mentions).
    slack_channel: str = ""
    # SLACK_API_URL: Slack's Web API base (GovSlack: https://slack-gov.com/api/).
    slack_api_url: str = "https://slack.com/api/"
    # TELEGRAM_ACCESS_TOKEN (from BotFather), TELEGRAM_BOT_NAME (its username) and
    # TELEGRAM_WEBHOOK_URL (https://<host>/webhooks/telegram/webhook): all three switch it on.
    telegram_access_token: str = ""
    telegram_bot_name: str = ""
    telegram_webhook_url: str = ""
    # TELEGRAM_WEBHOOK_SECRET: the secret Telegram sends with every update; unset = derived
    # from the access token.
    telegram_webhook_secret: str = ""
    # TELEGRAM_API_URL: the Bot API server (a self-hosted one, e.g. http://localhost:8081).
    telegram_api_url: str = "https://api.telegram.org"
    # --- REST channel (issue #15): REST_CHANNEL=open (default) listens on /webhooks/rest/webhook,
    # its conversations kept apart as `rest:<sender>`; token asks every caller for
    # TINSEL_API_TOKEN (a store's own backend); off leaves it out of the credentials.
    rest_channel: str = "open"
    # TRUSTED_PROXIES=0: how many proxies in front of Rasa add X-Forwarded-For (1 behind
    # HAProxy); Rasa then sees each shopper's own address, which the order-guessing throttle counts.
    trusted_proxies: int = 0
    # LOCK_STORE_URL=redis://127.0.0.1:6379/1: Rasa servers share their conversation locks in
    # Redis, so several can serve behind HAProxy (issue #16); unset = in memory, one server.
    lock_store_url: str = ""
    # --- Who may call the servers (README "Security"). Secrets come from .env only;
    # `python -m bot secrets` (run by make run) generates the missing ones.
    # TINSEL_API_TOKEN: Rasa's HTTP API (`rasa run --auth-token`); the console, reminder runner,
    # benchmarks and tests send it.
    api_token: str = ""
    # ACTION_SERVER_TOKEN: the secret Rasa sends the action server (Authorization: Bearer).
    action_server_token: str = ""
    # ACTION_SERVER_HOST=127.0.0.1: where the action server listens (a private address to run it
    # on another machine of a private network).
    action_server_host: str = "127.0.0.1"
    # WEBCHAT_ORIGIN: the only browser origin Rasa answers cross-origin (the web chat page);
    # empty = http://localhost:WEBCHAT_PORT.
    webchat_origin: str = ""
    # --- Issue #15: when the action server or the store database is down (rasa_extensions/).
    # ACTION_TIMEOUT_SECONDS=5: how long Rasa waits for the action server before telling the
    # shopper it can't reach the order system.
    action_timeout_seconds: float = 5.0
    # SUPPORT_CONTACT=help@tinsel.example: the human contact offered when the order system is
    # unreachable (the in-chat handoff needs the action server too).
    support_contact: str = "help@tinsel.example"
    # --- Issue #16 (rasa_extensions/message_admission.py). MESSAGES_AT_ONCE=3: how many messages
    # one Rasa server works on at once; the rest wait their turn in arrival order. 0 = all at once.
    messages_at_once: int = 3
    # PARSING_THREADS=2 (rasa_extensions/parsing_threads.py): worker threads that parse messages
    # off the server's event loop, so one server uses more than one core. 0 = on the loop, as Rasa.
    parsing_threads: int = 2
    # PARSER_PROCESS=1 (rasa_extensions/parsing_process.py): those threads hand each message to a
    # process of the server's own with its own copy of the NLU, so the server's event loop keeps
    # a core to itself. 0 = the threads parse in the server. Needs PARSING_THREADS above 0.
    parser_process: int = 1
    # --- Issue #17: Shopify webhooks (bot/order_sources/webhook_server.py).
    # SHOPIFY_WEBHOOK_PORT=8090: where `python -m bot shopify-webhooks` listens.
    shopify_webhook_port: int = 8090
    # SHOPIFY_WEBHOOK_SECRET: the app's client secret from Shopify's admin, which signs every
    # delivery (X-Shopify-Hmac-Sha256). Unset: the endpoint answers 503 and processes nothing.
    shopify_webhook_secret: str = ""
    # SHOPIFY_DATA_REQUEST_DIR: where customers/data_request exports are written for the operator
    # (mode 600); empty = var/shopify-data-requests in the project (git-ignored).
    shopify_data_request_dir: str = ""
    # --- Issue #18: goodwill gestures on the empowerment ladder (bot/money/goodwill.py). The bot
    # grants up to GOODWILL_BOT_LIMIT=10.00 per incident on its own; a console account grants up to
    # its role's limit: GOODWILL_AGENT_LIMIT=50.00, GOODWILL_SUPERVISOR_LIMIT=250.00.
    goodwill_bot_limit: Decimal = Decimal("10.00")
    goodwill_agent_limit: Decimal = Decimal("50.00")
    goodwill_supervisor_limit: Decimal = Decimal("250.00")
    # GOODWILL_STORE_CREDIT=10.00: the store credit the bot offers for an incident.
    goodwill_store_credit: Decimal = Decimal("10.00")
    # --- Issue #18: proactive order updates (bot/engagement/order_updates.py).
    # ORDER_UPDATE_RECHECK_HOURS=6: how often "will it arrive by Dec 24?" is checked again for
    # a gift in transit, so a late gift is told before the shopper has to ask.
    order_update_recheck_hours: int = 6
    # --- Issue #19: the agents' desk at peak (bot/support/wait_targets.py, business_hours.py,
    # staffing.py, photos.py).
    # FIRST_REPLY_TARGET_MINUTES=2: a ticket with no agent reply this long after it opened is
    # overdue: it stands out and sorts first in the queue; also the wait the staffing forecast plans for.
    first_reply_target_minutes: int = 2
    # STAFFING_SERVICE_LEVEL=0.80: the share of handoffs the staffing forecast plans to answer
    # within the first-reply target; STAFFING_MAX_OCCUPANCY=0.85: the busiest an agent is planned
    # to be; STAFFING_SHRINKAGE=0.30: the share of paid time agents are away (breaks, training).
    staffing_service_level: Decimal = Decimal("0.80")
    staffing_max_occupancy: Decimal = Decimal("0.85")
    staffing_shrinkage: Decimal = Decimal("0.30")
    # PHOTO_MAX_BYTES=5000000: the largest photo a shopper may send (as uploaded).
    photo_max_bytes: int = 5_000_000

    def webchat_page_origin(self) -> str:
        return self.webchat_origin or f"http://localhost:{self.webchat_port}"

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
        handoff_minutes_per_ticket=int(env.get("HANDOFF_MINUTES_PER_TICKET", "4")),
        supervisor_refund_limit=Decimal(env.get("SUPERVISOR_REFUND_LIMIT", "10000.00")),
        console_port=int(env.get("CONSOLE_PORT", "5002")),
        console_session_minutes=int(env.get("CONSOLE_SESSION_MINUTES", "480")),
        **_overrides(env, _CALENDAR_AND_ENGAGEMENT_VARIABLES),
        **_overrides(env, _CHANNEL_VARIABLES),
        **_overrides(env, _VERIFICATION_VARIABLES),
        **_overrides(env, _FAULT_VARIABLES),
        **_overrides(env, _SHOPIFY_VARIABLES),
        **_overrides(env, _DELIGHT_VARIABLES),
    )


# Issue #18: goodwill gestures and proactive order updates.
_DELIGHT_VARIABLES = {
    "GOODWILL_BOT_LIMIT": ("goodwill_bot_limit", Decimal),
    "GOODWILL_AGENT_LIMIT": ("goodwill_agent_limit", Decimal),
    "GOODWILL_SUPERVISOR_LIMIT": ("goodwill_supervisor_limit", Decimal),
    "GOODWILL_STORE_CREDIT": ("goodwill_store_credit", Decimal),
    "ORDER_UPDATE_RECHECK_HOURS": ("order_update_recheck_hours", int),
    "FIRST_REPLY_TARGET_MINUTES": ("first_reply_target_minutes", int),
    "STAFFING_SERVICE_LEVEL": ("staffing_service_level", Decimal),
    "STAFFING_MAX_OCCUPANCY": ("staffing_max_occupancy", Decimal),
    "STAFFING_SHRINKAGE": ("staffing_shrinkage", Decimal),
    "PHOTO_MAX_BYTES": ("photo_max_bytes", int),
}


# Issue #17: Shopify webhooks.
_SHOPIFY_VARIABLES = {
    "SHOPIFY_WEBHOOK_PORT": ("shopify_webhook_port", int),
    "SHOPIFY_WEBHOOK_SECRET": ("shopify_webhook_secret", str),
    "SHOPIFY_DATA_REQUEST_DIR": ("shopify_data_request_dir", str),
}


# Issue #15: what the shopper hears when the action server or database is down.
_FAULT_VARIABLES = {
    "ACTION_TIMEOUT_SECONDS": ("action_timeout_seconds", float),
    "MESSAGES_AT_ONCE": ("messages_at_once", int),
    "PARSING_THREADS": ("parsing_threads", int),
    "PARSER_PROCESS": ("parser_process", int),
    "SUPPORT_CONTACT": ("support_contact", str),
}


# Issue #15: order-guessing throttle and verification expiry.
_VERIFICATION_VARIABLES = {
    "GUESS_WINDOW_MINUTES": ("guess_window_minutes", int),
    "GUESS_LIMIT_PER_ORDER": ("guess_limit_per_order", int),
    "GUESS_LIMIT_PER_EMAIL": ("guess_limit_per_email", int),
    "GUESS_LIMIT_PER_CLIENT": ("guess_limit_per_client", int),
    "VERIFICATION_IDLE_MINUTES": ("verification_idle_minutes", int),
    "TRANSCRIPT_RETENTION_DAYS": ("transcript_retention_days", int),  # issue #15 (privacy)
}


_CHANNEL_VARIABLES = {
    "WEBCHAT_PORT": ("webchat_port", int),
    "SLACK_BOT_TOKEN": ("slack_bot_token", str),
    "SLACK_SIGNING_SECRET": ("slack_signing_secret", str),
    "SLACK_CHANNEL": ("slack_channel", str),
    "SLACK_API_URL": ("slack_api_url", str),
    "TELEGRAM_ACCESS_TOKEN": ("telegram_access_token", str),
    "TELEGRAM_BOT_NAME": ("telegram_bot_name", lambda name: name.lstrip("@")),
    "TELEGRAM_WEBHOOK_URL": ("telegram_webhook_url", str),
    "TELEGRAM_WEBHOOK_SECRET": ("telegram_webhook_secret", str),
    "TELEGRAM_API_URL": ("telegram_api_url", str),
    "TINSEL_API_TOKEN": ("api_token", str),
    "ACTION_SERVER_TOKEN": ("action_server_token", str),
    "ACTION_SERVER_HOST": ("action_server_host", str),
    "WEBCHAT_ORIGIN": ("webchat_origin", lambda origin: origin.rstrip("/")),
    "TRUSTED_PROXIES": ("trusted_proxies", int),
    "LOCK_STORE_URL": ("lock_store_url", str),
    "REST_CHANNEL": ("rest_channel", lambda value: _one_of(value, ("open", "token", "off"), "REST_CHANNEL")),
}


def _one_of(value: str, allowed: tuple[str, ...], name: str) -> str:
    """A setting with a few known values; a typo is an error, not a silent default."""
    value = value.strip().lower()
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _names_to_ints(text: str) -> tuple[tuple[str, int], ...]:
    pairs = (item.split("=", 1) for item in text.split(",") if item.strip())
    return tuple((name.strip(), int(value)) for name, value in pairs)


def _day_specs(text: str) -> tuple[str, ...]:
    return tuple(item.strip().lower() for item in text.split(",") if item.strip())


def _day_texts(text: str) -> tuple[tuple[str, str], ...]:
    pairs = (item.split("=", 1) for item in text.split(";") if item.strip())
    return tuple((spec.strip().lower(), value.strip()) for spec, value in pairs)


_CALENDAR_AND_ENGAGEMENT_VARIABLES = {
    "SHIPPING_TRANSIT_DAYS": ("shipping_transit_days", _names_to_ints),
    "ORDER_PROCESSING_DAYS": ("order_processing_days", int),
    "CARRIER_HOLIDAYS": ("carrier_holidays", _day_specs),
    "HOLIDAY_SALE_START": ("holiday_sale_start", str.lower),
    "HOLIDAY_SALE_END": ("holiday_sale_end", str.lower),
    "DOUBLE_POINTS_DAYS": ("double_points_days", _day_specs),
    "SUPPORT_HOURS": ("support_hours", str),
    "HOLIDAY_SUPPORT_HOURS": ("holiday_support_hours", _day_texts),
    "GIFT_WRAP_PRICE": ("gift_wrap_price", Decimal),
    "GIFT_OVER_BUDGET_TOLERANCE": ("gift_over_budget_tolerance", Decimal),
    "LOYALTY_TIERS": ("loyalty_tiers", _names_to_ints),
    "BIRTHDAY_OFFER_WINDOW_DAYS": ("birthday_offer_window_days", int),
    "FIRST_ORDER_THANKS_DAYS": ("first_order_thanks_days", int),
    "REPLENISH_REMINDER_WINDOW_DAYS": ("replenish_reminder_window_days", int),
}


def _overrides(env: dict[str, str], variables: dict) -> dict:
    """Only the variables an operator set; every other field keeps its default above."""
    return {
        field: parse(env[name].strip())
        for name, (field, parse) in variables.items()
        if env.get(name, "").strip()
    }


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
