"""The store's static policies in one place, so answers, actions and tests agree.

Values an operator tunes per season (limits, dates, hours, the gift wrap price) come from
bot.settings; what is here changes only with a policy decision.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from bot.settings import Settings

CURRENCY_SYMBOL = "$"

GIFT_WRAP_PRICE = Decimal("4.99")
# What upgrading an order from standard to express shipping costs a shopper: the value a free
# upgrade given as a goodwill gesture counts for on the empowerment ladder.
SHIPPING_UPGRADE_PRICE = Decimal("9.99")
GIFT_WRAP_RULES = (
    "Gift wrap can be added per item at checkout, or to a processing order until it ships.",
    "Gift-wrapped items get a free handwritten message card (up to 250 characters).",
)

GIFT_RECEIPT_RULES = (
    "Every order marked as a gift ships with a gift receipt and no prices in the parcel.",
    "Gift recipients can exchange an item or get store credit with the gift receipt; "
    "refunds to the original payment go back to the buyer.",
)

PAYMENT_METHODS = (
    "Visa",
    "Mastercard",
    "American Express",
    "Discover",
    "PayPal",
    "Apple Pay",
    "Google Pay",
    "Tinsel gift cards",
)

# A price drop within this many days of purchase is refunded as the difference.
PRICE_ADJUSTMENT_DAYS = 14
PRICE_ADJUSTMENT_EXCLUDES = ("Black Friday and Cyber Monday doorbusters", "clearance items")

GIFT_CARD_AMOUNTS = (Decimal("25"), Decimal("50"), Decimal("100"), Decimal("200"))
GIFT_CARD_RULES = (
    "E-gift cards arrive by email within minutes, so they are always in time for Christmas.",
    "Gift cards never expire and carry no fees.",
    "Gift cards cannot be exchanged for cash or used to buy other gift cards.",
)

INTERNATIONAL_SHIPPING_COUNTRIES = (
    "Canada",
    "Mexico",
    "United Kingdom",
    "Ireland",
    "Germany",
    "France",
    "Netherlands",
    "Australia",
)
INTERNATIONAL_CHRISTMAS_NOTE = (
    "International orders take 7-14 business days and may owe import duties on arrival."
)

BIRTHDAY_DISCOUNT_PERCENT = 15
LOYALTY_POINTS_PER_DOLLAR = 1


def gift_card_amounts_text() -> str:
    """'$25, $50, $100 and $200'."""
    return join_words(format_money(a).removesuffix(".00") for a in GIFT_CARD_AMOUNTS)


def policy_texts() -> dict[str, str]:
    """The static policies as the FAQ answers show them (placeholders in domain/faq.yml)."""
    return {
        "gift_wrap_rules": " ".join(GIFT_WRAP_RULES),
        "gift_receipt_rules": " ".join(GIFT_RECEIPT_RULES),
        "price_adjustment_days": str(PRICE_ADJUSTMENT_DAYS),
        "price_adjustment_excludes": join_words(PRICE_ADJUSTMENT_EXCLUDES),
        "gift_card_amounts": gift_card_amounts_text(),
        "gift_card_rules": " ".join(GIFT_CARD_RULES),
        "international_countries": join_words(INTERNATIONAL_SHIPPING_COUNTRIES),
        "international_note": INTERNATIONAL_CHRISTMAS_NOTE,
    }


def gift_wrap_price(settings: Settings) -> Decimal:
    """The policy price unless the operator set GIFT_WRAP_PRICE (0 means free wrapping)."""
    return settings.gift_wrap_price if settings.gift_wrap_price is not None else GIFT_WRAP_PRICE


def format_money(amount: Decimal) -> str:
    return f"{CURRENCY_SYMBOL}{amount.quantize(Decimal('0.01')):,}"


def join_words(items) -> str:
    """'a', 'a and b', 'a, b and c': lists read like a person wrote them."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def format_date(day: dt.date, *, weekday: bool = False, year: bool = True) -> str:
    text = f"{day:%B} {day.day}"
    if weekday:
        text = f"{day:%A}, {text}"
    return f"{text}, {day.year}" if year else text
