"""The store's holiday calendar: shipping cut-offs, sale dates, double-points days, the
holiday return window and support hours, all computed from settings and "today".

Every answer is for the season that matters on the day asked: after Christmas the cut-offs
are next year's, in January the holiday return window is still last season's, and a date
that has passed this year is given for next year (flagged, so the answer can say so).

Day specs (settings) are "MM-DD" or a moving day ("thanksgiving", "black_friday",
"cyber_monday"), optionally shifted: "black_friday-7", "cyber_monday+1".
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

from bot import policies
from bot.policies import format_date, join_words
from bot.settings import Settings, get_settings

SHIPPING_LABELS = {"standard": "Standard", "express": "Express", "overnight": "Overnight"}
_DAY_SPEC = re.compile(
    r"^\s*(?:(?P<month>\d{1,2})-(?P<day>\d{1,2})|(?P<named>thanksgiving|black_friday|cyber_monday))"
    r"\s*(?P<shift>[+-]\s*\d{1,3})?\s*$"
)
# Beyond this, "N days left" is noise: the date alone says enough.
_COUNTDOWN_HORIZON_DAYS = 60


# --- moving holidays and day specs -------------------------------------------------------


def thanksgiving(year: int) -> dt.date:
    """US Thanksgiving: the fourth Thursday of November."""
    first = dt.date(year, 11, 1)
    return first + dt.timedelta(days=(3 - first.weekday()) % 7 + 21)


def black_friday(year: int) -> dt.date:
    """The day after Thanksgiving (the 5th Friday of November when November starts on a Friday)."""
    return thanksgiving(year) + dt.timedelta(days=1)


def cyber_monday(year: int) -> dt.date:
    return thanksgiving(year) + dt.timedelta(days=4)


_NAMED_DAYS = {"thanksgiving": thanksgiving, "black_friday": black_friday, "cyber_monday": cyber_monday}


def resolve_day(spec: str, year: int) -> dt.date:
    """The date a day spec falls on in `year` (Feb 29 falls back to Feb 28)."""
    match = _DAY_SPEC.match(spec.lower())
    if not match:
        raise ValueError(
            f"bad day spec {spec!r}: use MM-DD or thanksgiving/black_friday/cyber_monday, "
            "optionally +N/-N days"
        )
    if match["named"]:
        day = _NAMED_DAYS[match["named"]](year)
    else:
        month, mday = int(match["month"]), int(match["day"])
        if (month, mday) == (2, 29) and not _is_leap(year):
            mday = 28
        day = dt.date(year, month, mday)
    shift = int(match["shift"].replace(" ", "")) if match["shift"] else 0
    return day + dt.timedelta(days=shift)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_until(target: dt.date, today: dt.date) -> int:
    """Whole days from today to target (0 = today, negative = past)."""
    return (target - today).days


@dataclass(frozen=True)
class UpcomingDate:
    date: dt.date
    days_until: int
    passed_this_year: bool  # this year's date is over; `date` is next year's


def next_occurrence(spec: str, today: dt.date) -> UpcomingDate:
    """The next time a day spec comes round, today included ("black_friday", "12-25")."""
    day = resolve_day(spec, today.year)
    passed = day < today
    if passed:
        day = resolve_day(spec, today.year + 1)
    return UpcomingDate(day, days_until(day, today), passed)


# --- business days and shipping ------------------------------------------------------------


@lru_cache(maxsize=64)
def _carrier_holidays(specs: tuple[str, ...], year: int) -> frozenset[dt.date]:
    return frozenset(resolve_day(spec, year) for spec in specs)


def is_business_day(day: dt.date, settings: Settings) -> bool:
    """A day carriers pick up and deliver: a weekday that is not a carrier holiday."""
    return day.weekday() < 5 and day not in _carrier_holidays(settings.carrier_holidays, day.year)


def add_business_days(start: dt.date, days: int, settings: Settings) -> dt.date:
    """The `days`-th business day after start (0: start itself, or the next business day)."""
    day = start
    if days == 0:
        while not is_business_day(day, settings):
            day += dt.timedelta(days=1)
        return day
    counted = 0
    while counted < days:
        day += dt.timedelta(days=1)
        if is_business_day(day, settings):
            counted += 1
    return day


def shipping_methods(settings: Settings) -> list[str]:
    return [name for name, _ in settings.shipping_transit_days]


def transit_days(method: str, settings: Settings) -> int:
    wanted = method.strip().lower()
    for name, days in settings.shipping_transit_days:
        if name == wanted:
            return days
    raise ValueError(f"unknown shipping method {method!r}; known: {shipping_methods(settings)}")


def shipping_label(method: str) -> str:
    return SHIPPING_LABELS.get(method, method.replace("_", " ").title())


def estimated_delivery(
    placed: dt.date, method: str, settings: Settings | None = None
) -> dt.date:
    """When an order placed on `placed` arrives: processing, then transit, in business days."""
    settings = settings or get_settings()
    ships = add_business_days(placed, settings.order_processing_days, settings)
    return add_business_days(ships, transit_days(method, settings), settings)


def arrives_by(
    placed_or_today: dt.date, method: str, target_date: dt.date, settings: Settings
) -> bool:
    return estimated_delivery(placed_or_today, method, settings) <= target_date


def last_order_date(method: str, target_date: dt.date, settings: Settings) -> dt.date:
    """The latest calendar day an order still arrives by target_date (may be a weekend:
    a Saturday order ships with Friday's on Monday)."""
    day = target_date
    # Processing + transit is a few business days; a month covers any carrier-holiday cluster.
    for _ in range(366):
        if estimated_delivery(day, method, settings) <= target_date:
            return day
        day -= dt.timedelta(days=1)
    raise ValueError(f"{method} never arrives by {target_date}")


# --- Christmas cut-offs --------------------------------------------------------------------


def christmas_delivery_date(today: dt.date, settings: Settings) -> dt.date:
    """This year's Christmas delivery day, or next year's once it has passed."""
    month, day = settings.christmas_delivery_day
    target = resolve_day(f"{month:02d}-{day:02d}", today.year)
    if target < today:
        target = resolve_day(f"{month:02d}-{day:02d}", today.year + 1)
    return target


@dataclass(frozen=True)
class ChristmasCutoff:
    method: str
    label: str
    transit_days: int
    delivery_by: dt.date
    last_order_date: dt.date
    days_left: int  # until last_order_date; 0 = order today, negative = too late
    still_possible: bool


def christmas_cutoffs(today: dt.date, settings: Settings) -> list[ChristmasCutoff]:
    """Per shipping method, the last day to order for delivery by the Christmas delivery day
    (this year's, or next year's once it has passed), slowest method first."""
    target = christmas_delivery_date(today, settings)
    cutoffs = []
    for method in shipping_methods(settings):
        last = last_order_date(method, target, settings)
        left = days_until(last, today)
        cutoffs.append(
            ChristmasCutoff(
                method=method,
                label=shipping_label(method),
                transit_days=transit_days(method, settings),
                delivery_by=target,
                last_order_date=last,
                days_left=left,
                still_possible=left >= 0,
            )
        )
    return sorted(cutoffs, key=lambda c: (c.last_order_date, c.method))


def fastest_possible_method(today: dt.date, settings: Settings) -> ChristmasCutoff | None:
    """The cheapest (slowest) method that still makes Christmas, if any."""
    return next((c for c in christmas_cutoffs(today, settings) if c.still_possible), None)


def _countdown(days_left: int) -> str:
    if days_left == 0:
        return " (today is the last day)"
    if days_left == 1:
        return " (1 day left)"
    if days_left <= _COUNTDOWN_HORIZON_DAYS:
        return f" ({days_left} days left)"
    return ""


def shipping_cutoffs_text(today: dt.date, settings: Settings) -> str:
    cutoffs = christmas_cutoffs(today, settings)
    target = cutoffs[0].delivery_by
    show_year = target.year != today.year
    possible = [c for c in cutoffs if c.still_possible]
    if not possible:
        latest = cutoffs[-1]
        return (
            f"It's too late for delivery by {format_date(target, weekday=True)}: the last "
            f"cut-off was {latest.label.lower()} shipping, ordered by "
            f"{format_date(latest.last_order_date, weekday=True, year=False)}. "
            "An e-gift card arrives by email within minutes."
        )
    parts = []
    for cutoff in cutoffs:
        name = f"{cutoff.label} ({cutoff.transit_days} business day{'s' * (cutoff.transit_days != 1)})"
        if cutoff.still_possible:
            by = format_date(cutoff.last_order_date, weekday=True, year=show_year)
            parts.append(f"{name}: order by {by}{_countdown(cutoff.days_left)}")
        else:
            parts.append(f"{name}: too late")
    intro = f"For delivery by {format_date(target, weekday=True, year=show_year)}"
    if today.month == 12 and target.year > today.year:
        intro = f"This year's Christmas deliveries are done. {intro}"
    return f"{intro}: {'; '.join(parts)}."


# --- the holiday sale --------------------------------------------------------------------


@dataclass(frozen=True)
class SaleWindow:
    start: dt.date
    end: dt.date
    status: str  # upcoming | on
    days_until_start: int
    days_left: int  # until the last day; 0 = today is the last day
    passed_this_year: bool  # this year's sale is over; this window is next year's


def sale_dates(year: int, settings: Settings) -> tuple[dt.date, dt.date]:
    """First and last day of the sale that starts in `year` (the end may spill into January)."""
    start = resolve_day(settings.holiday_sale_start, year)
    end = resolve_day(settings.holiday_sale_end, year)
    if end < start:
        end = resolve_day(settings.holiday_sale_end, year + 1)
    return start, end


def holiday_sale(today: dt.date, settings: Settings) -> SaleWindow:
    """The sale that is on today or comes next."""
    for year in (today.year - 1, today.year, today.year + 1):
        start, end = sale_dates(year, settings)
        if end >= today:
            break
    this_years_end = sale_dates(today.year, settings)[1]
    return SaleWindow(
        start=start,
        end=end,
        status="on" if start <= today else "upcoming",
        days_until_start=days_until(start, today),
        days_left=days_until(end, today),
        passed_this_year=this_years_end < today and start.year > today.year,
    )


def _date_range(start: dt.date, end: dt.date) -> str:
    if start == end:
        return format_date(start, weekday=True)
    return (
        f"{format_date(start, weekday=True, year=start.year != end.year)} – "
        f"{format_date(end, weekday=True)}"
    )


def sale_dates_text(today: dt.date, settings: Settings) -> str:
    sale = holiday_sale(today, settings)
    dates = _date_range(sale.start, sale.end)
    if sale.status == "on":
        last = "today is the last day" if sale.days_left == 0 else f"{sale.days_left} day{'s' * (sale.days_left != 1)} left"
        return f"on now: {dates} ({last})"
    if sale.passed_this_year:
        return f"over for {today.year}; next year it runs {dates}"
    soon = sale.days_until_start
    if soon == 1:
        return f"{dates} (starts tomorrow)"
    if soon <= _COUNTDOWN_HORIZON_DAYS:
        return f"{dates} (starts in {soon} days)"
    return dates


# The hour on the sale's first day that a "tell me when the sale starts" reminder goes out.
SALE_REMINDER_TIME = dt.time(9, 0)


def sale_reminder_at(today: dt.date, settings: Settings) -> dt.datetime | None:
    """When to remind a shopper that the next sale has started, or None while one is on."""
    sale = holiday_sale(today, settings)
    if sale.status == "on":
        return None
    return dt.datetime.combine(sale.start, SALE_REMINDER_TIME)


# --- loyalty double-points days ------------------------------------------------------------


def double_points_days(year: int, settings: Settings) -> list[dt.date]:
    return sorted({resolve_day(spec, year) for spec in settings.double_points_days})


def is_double_points_day(day: dt.date, settings: Settings) -> bool:
    return day in double_points_days(day.year, settings)


def upcoming_double_points_days(today: dt.date, settings: Settings, limit: int = 3) -> list[dt.date]:
    """The next double-points days, today included, rolling into next year."""
    days = double_points_days(today.year, settings) + double_points_days(today.year + 1, settings)
    return [d for d in days if d >= today][:limit]


# --- the holiday return window ---------------------------------------------------------------


@dataclass(frozen=True)
class HolidayReturnWindow:
    purchase_start: dt.date
    purchase_end: dt.date
    return_until: dt.date

    def covers(self, purchase_date: dt.date) -> bool:
        return self.purchase_start <= purchase_date <= self.purchase_end


def _md(month_day: tuple[int, int]) -> str:
    return f"{month_day[0]:02d}-{month_day[1]:02d}"


def holiday_season(year: int, settings: Settings) -> HolidayReturnWindow:
    """The holiday purchase window starting in `year` and its extended return date."""
    start = resolve_day(_md(settings.holiday_purchase_start), year)
    end = resolve_day(_md(settings.holiday_purchase_end), year)
    if end < start:
        end = resolve_day(_md(settings.holiday_purchase_end), year + 1)
    until = resolve_day(_md(settings.holiday_return_until), end.year)
    if until <= end:
        until = resolve_day(_md(settings.holiday_return_until), end.year + 1)
    return HolidayReturnWindow(start, end, until)


def holiday_return_window(today: dt.date, settings: Settings) -> HolidayReturnWindow:
    """The season whose returns are still open today (in January: last season's), else the next.
    For FAQ answers; an order's own deadline is bot.returns.eligibility.return_deadline."""
    for year in (today.year - 1, today.year):
        season = holiday_season(year, settings)
        if season.return_until >= today:
            return season
    return holiday_season(today.year + 1, settings)


def holiday_return_text(today: dt.date, settings: Settings) -> str:
    season = holiday_return_window(today, settings)
    bought = _plain_range(season.purchase_start, season.purchase_end)
    return f"{format_date(season.return_until)} (for purchases made {bought})"


def _plain_range(start: dt.date, end: dt.date) -> str:
    return f"{format_date(start, year=start.year != end.year)} – {format_date(end)}"


# --- support hours ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SpecialHours:
    date: dt.date
    hours: str


def upcoming_special_hours(today: dt.date, settings: Settings) -> list[SpecialHours]:
    """Each special-hours day at its next occurrence (today included), soonest first."""
    days = [
        SpecialHours(next_occurrence(spec, today).date, hours)
        for spec, hours in settings.holiday_support_hours
    ]
    return sorted(days, key=lambda s: s.date)


def support_hours_on(day: dt.date, settings: Settings) -> str:
    for spec, hours in settings.holiday_support_hours:
        if resolve_day(spec, day.year) == day:
            return hours
    return settings.support_hours


def holiday_hours_text(today: dt.date, settings: Settings) -> str:
    special = upcoming_special_hours(today, settings)
    text = f"Regular hours: {settings.support_hours}."
    if special:
        days = "; ".join(
            f"{'today, ' if s.date == today else ''}"
            f"{format_date(s.date, weekday=True, year=s.date.year != today.year)}: {s.hours}"
            for s in special
        )
        text += f" Holiday hours: {days}."
    return text


# --- the FAQ ---------------------------------------------------------------------------------

FAQ_PLACEHOLDERS = (
    "gift_wrap_price",
    "holiday_return_until",
    "standard_return_days",
    "sale_dates",
    "shipping_cutoffs",
    "holiday_hours",
    "payment_methods",
    *policies.policy_texts(),
)


def faq_values(today: dt.date, settings: Settings) -> dict[str, str]:
    """Ready-to-show text for every placeholder the FAQ answers use, correct for today."""
    wrap = policies.gift_wrap_price(settings)
    values = {
        "gift_wrap_price": policies.format_money(wrap) if wrap > 0 else "free",
        "holiday_return_until": holiday_return_text(today, settings),
        "standard_return_days": str(settings.standard_return_days),  # "within 30 days"
        "sale_dates": sale_dates_text(today, settings),
        "shipping_cutoffs": shipping_cutoffs_text(today, settings),
        "holiday_hours": holiday_hours_text(today, settings),
        "payment_methods": join_words(policies.PAYMENT_METHODS),
        **policies.policy_texts(),
    }
    return values
