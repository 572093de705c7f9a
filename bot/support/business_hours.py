"""When a person is at the support desk, read from the store calendar's hours.

SUPPORT_HOURS and HOLIDAY_SUPPORT_HOURS are written for shoppers, and the FAQ shows them as
written ("Monday-Friday 8am-8pm ET, Saturday-Sunday 9am-5pm ET"; "12-24=8am-2pm ET"; "closed"),
so the desk parses those same texts instead of asking the operator to say it twice. The store's
clock (Settings.now()) is the server's local time without a zone; each opening is in the zone its
text names (ET, CT, MT, PT, UTC), so a server in UTC still opens the desk at 8am in New York.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.engagement.holiday_calendar import support_hours_on
from bot.settings import Settings

ZONES = {
    "ET": "America/New_York", "EST": "America/New_York", "EDT": "America/New_York",
    "CT": "America/Chicago", "CST": "America/Chicago", "CDT": "America/Chicago",
    "MT": "America/Denver", "MST": "America/Denver", "MDT": "America/Denver",
    "PT": "America/Los_Angeles", "PST": "America/Los_Angeles", "PDT": "America/Los_Angeles",
    "UTC": "UTC", "GMT": "UTC",
}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EVERY_DAY = frozenset(range(7))
LOOK_AHEAD_DAYS = 14  # a desk closed longer than this has no "next opening" worth promising

_TIME = r"\d{1,2}(?::\d{2})?\s*(?:am|pm)?"
_GROUP = re.compile(
    rf"^(?:(?P<days>[a-z]+(?:\s*-\s*[a-z]+)?)\s+)?(?P<opens>{_TIME})\s*-\s*(?P<closes>{_TIME})"
    rf"(?:\s+(?P<zone>[a-z]+))?$"
)


@dataclass(frozen=True)
class Opening:
    """One stretch of hours: on these weekdays (0 = Monday), from `opens` to `closes`, in `zone`."""

    days: frozenset[int]
    opens: dt.time
    closes: dt.time
    zone_label: str

    def interval_on(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        zone = ZoneInfo(ZONES[self.zone_label])
        start = dt.datetime.combine(day, self.opens, tzinfo=zone)
        end = dt.datetime.combine(day, self.closes, tzinfo=zone)
        return start, end if end > start else end + dt.timedelta(days=1)


@dataclass(frozen=True)
class NextOpening:
    """When a person will next be at the desk: `at` on the store's clock, `when` for the shopper."""

    at: dt.datetime
    when: str


def _weekday(name: str) -> int:
    for number, day in enumerate(WEEKDAYS):
        if len(name) >= 3 and day.startswith(name):
            return number
    raise ValueError(f"not a weekday: {name!r}")


def _days(text: str | None) -> frozenset[int]:
    if not text or text in ("daily", "everyday"):
        return EVERY_DAY
    first, _, last = (part.strip() for part in text.partition("-"))
    start, end = _weekday(first), _weekday(last or first)
    return frozenset((start + i) % 7 for i in range((end - start) % 7 + 1))


def _time(text: str) -> dt.time:
    match = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?\s*(am|pm)?", text.strip())
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if half:
        hour = hour % 12 + (12 if half == "pm" else 0)
    return dt.time(hour % 24, minute)


def parse_hours(text: str) -> tuple[Opening, ...]:
    """The openings an hours text describes; "closed" has none. Raises ValueError on a text it
    cannot read, so a typo in .env fails loudly instead of closing the desk."""
    text = " ".join(text.lower().split())
    if text in ("closed", ""):
        return ()
    openings = []
    for group in text.split(","):
        match = _GROUP.match(group.strip())
        if match is None:
            raise ValueError(f"cannot read support hours {group.strip()!r}")
        zone = (match.group("zone") or "utc").upper()
        if zone not in ZONES:
            raise ValueError(f"unknown time zone {zone!r} in support hours")
        openings.append(Opening(_days(match.group("days")), _time(match.group("opens")),
                                _time(match.group("closes")), zone))
    return tuple(openings)


def _aware(at: dt.datetime) -> dt.datetime:
    """The store's clock reading as a moment: naive means the server's local time."""
    return at if at.tzinfo else at.astimezone()


def _intervals(around: dt.datetime, settings: Settings, days: int):
    """Every opening interval from the day before `around` for `days` days, soonest first."""
    first = around.date() - dt.timedelta(days=1)
    found = []
    for offset in range(days + 1):
        day = first + dt.timedelta(days=offset)
        for opening in parse_hours(support_hours_on(day, settings)):
            if day.weekday() in opening.days:
                found.append((*opening.interval_on(day), opening))
    return sorted(found, key=lambda interval: interval[0])


def is_open(at: dt.datetime, settings: Settings) -> bool:
    """A person is at the desk at `at` (the store's clock)."""
    moment = _aware(at)
    return any(start <= moment < end for start, end, _ in _intervals(moment, settings, 2))


def next_opening(at: dt.datetime, settings: Settings) -> NextOpening | None:
    """When the desk next opens after `at`, if it is closed then and opens within LOOK_AHEAD_DAYS;
    None when it is open (or stays closed beyond that)."""
    if is_open(at, settings):  # two days of hours, before reading a fortnight's
        return None
    moment = _aware(at)
    for start, _end, opening in _intervals(moment, settings, LOOK_AHEAD_DAYS):
        if start > moment:
            local = start.astimezone().replace(tzinfo=None) if at.tzinfo is None else start
            return NextOpening(local, _when(start, moment, opening.zone_label))
    return None


def _when(start: dt.datetime, moment: dt.datetime, zone_label: str) -> str:
    """"today at 8am ET", "tomorrow at 9am ET", "Monday, December 7 at 8am ET" (the desk's own day)."""
    hour = start.strftime("%I:%M%p").lstrip("0").replace(":00", "").lower()
    days = (start.date() - moment.astimezone(start.tzinfo).date()).days
    day = "today" if days == 0 else "tomorrow" if days == 1 else f"{start:%A}, {start:%B} {start.day}"
    return f"{day} at {hour} {zone_label}"


def opened_while_closed(created_at: dt.datetime, settings: Settings) -> bool:
    """A ticket that came in when nobody was at the desk."""
    return not is_open(created_at, settings)
