"""Staffing (issue #19): support traffic over the season, and how many agents the next week needs.

The history reads Rasa's tracker store (a conversation starts with a sender's first message), the
handoff tickets and the audit log (the first claim or reply on a ticket ends its wait). The
forecast takes each hour of the next 7 days to be like the same weekday and hour so far, and
turns it into agents with Erlang C for the first-reply target.

Erlang C is written here by hand: pyworkforce would pull in ortools and upgrade numpy and
protobuf past Rasa's pins, and erlangccmath sends its inputs to a remote web API. It gives the
same answers as pyworkforce's published example (tests/bot/test_staffing.py).

Times are the store's clock (naive local time, like Settings.now() and Rasa's timestamps read
with datetime.fromtimestamp). The console draws these figures (bot/web/console/staffing_charts.py).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import math
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, Mapping, Sequence

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from bot.engagement.holiday_calendar import holiday_season
from bot.money import audit
from bot.rasa_link.rasa_api import has_tracker_table, tracker_events
from bot.settings import Settings
from bot.store.models import AuditEntry, HandoffTicket
from bot.support import business_hours, wait_targets

FORECAST_DAYS = 7
HOURS = range(24)
FIRST_AGENT_ACTIONS = (audit.TICKET_CLAIMED, audit.AGENT_REPLIED)  # either ends a ticket's wait

# ------------------------------------------------------------------------------ Erlang C


def wait_probability(agents: int, traffic: float) -> float:
    """Erlang C: the chance a handoff has to wait, with `agents` agents and `traffic` erlangs
    (arrivals per hour x hours per handoff). 1 when the agents cannot keep up at all."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    erlang_b = 1.0  # blocking with 0 agents; the recurrence stays stable for large counts
    for k in range(1, agents + 1):
        erlang_b = traffic * erlang_b / (k + traffic * erlang_b)
    return agents * erlang_b / (agents - traffic * (1 - erlang_b))


def service_level(agents: int, traffic: float, aht_minutes: float, target_minutes: float) -> float:
    """The share of handoffs answered within `target_minutes`."""
    if traffic <= 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    waits = wait_probability(agents, traffic)
    return max(0.0, 1 - waits * math.exp(-(agents - traffic) * target_minutes / aht_minutes))


@dataclass(frozen=True)
class AgentsNeeded:
    """Erlang C's answer for one interval: agents on the phones (`raw_agents`) and on the
    schedule once shrinkage takes its share (`scheduled_agents`), and what they achieve."""

    raw_agents: int
    scheduled_agents: int
    service_level: float
    occupancy: float
    wait_probability: float


NO_AGENTS = AgentsNeeded(raw_agents=0, scheduled_agents=0, service_level=1.0, occupancy=0.0, wait_probability=0.0)


def agents_needed(
    arrivals_per_hour: float,
    aht_minutes: float,
    target_minutes: float,
    service_level_goal: float | Decimal,
    max_occupancy: float | Decimal,
    shrinkage: float | Decimal,
) -> AgentsNeeded:
    """The fewest agents that answer `service_level_goal` of handoffs within `target_minutes`
    while nobody is busier than `max_occupancy`; no arrivals, no agents."""
    traffic = arrivals_per_hour * aht_minutes / 60
    if traffic <= 0:
        return NO_AGENTS
    agents = math.floor(traffic) + 1
    while service_level(agents, traffic, aht_minutes, target_minutes) < float(service_level_goal):
        agents += 1
    # A hair below the exact quotient: 17.85 erlangs at 85% is 21 agents, not 22 from float noise.
    agents = max(agents, math.ceil(traffic / float(max_occupancy) - 1e-9))
    on_schedule = math.ceil(Decimal(agents) / (1 - Decimal(str(shrinkage))))
    return AgentsNeeded(
        raw_agents=agents,
        scheduled_agents=on_schedule,
        service_level=service_level(agents, traffic, aht_minutes, target_minutes),
        occupancy=traffic / agents,
        wait_probability=wait_probability(agents, traffic),
    )


@dataclass(frozen=True)
class StaffingTargets:
    """What the forecast plans for, from settings (FIRST_REPLY_TARGET_MINUTES, STAFFING_*)."""

    first_reply_minutes: int
    service_level: Decimal
    max_occupancy: Decimal
    shrinkage: Decimal

    @classmethod
    def from_settings(cls, settings: Settings) -> "StaffingTargets":
        return cls(settings.first_reply_target_minutes, settings.staffing_service_level,
                   settings.staffing_max_occupancy, settings.staffing_shrinkage)

    def agents_for(self, arrivals_per_hour: float, aht_minutes: float) -> AgentsNeeded:
        return agents_needed(arrivals_per_hour, aht_minutes, self.first_reply_minutes,
                             self.service_level, self.max_occupancy, self.shrinkage)


# ------------------------------------------------------------------------------ history


def season_start(today: dt.date, settings: Settings) -> dt.date:
    """The most recent holiday purchase start (HOLIDAY_PURCHASE_START) on or before today."""
    start = holiday_season(today.year, settings).purchase_start
    return start if start <= today else holiday_season(today.year - 1, settings).purchase_start


@dataclass(frozen=True)
class HourTraffic:
    """One hour of the day over the season: averages per day, and the median wait of its handoffs."""

    hour: int
    conversations: float
    handoffs: float
    median_wait_minutes: float | None


@dataclass(frozen=True)
class DayTraffic:
    day: dt.date
    conversations: int
    handoffs: int
    median_wait_minutes: float | None


@dataclass(frozen=True)
class TrafficHistory:
    """The season's whole days, from its start to yesterday."""

    first_day: dt.date
    last_day: dt.date
    by_hour: tuple[HourTraffic, ...]
    by_day: tuple[DayTraffic, ...]
    handoffs_by_weekday_hour: Mapping[tuple[int, int], float]  # per such day; weekdays seen only
    median_wait_minutes: float | None

    @property
    def conversations(self) -> int:
        return sum(d.conversations for d in self.by_day)

    @property
    def handoffs(self) -> int:
        return sum(d.handoffs for d in self.by_day)

    @property
    def handoff_share(self) -> float | None:
        return self.handoffs / self.conversations if self.conversations else None

    def expected_handoffs(self, weekday: int, hour: int) -> float:
        """The average for this weekday and hour, or for the hour on any day when the season
        has no such weekday yet."""
        if (weekday, hour) in self.handoffs_by_weekday_hour:
            return self.handoffs_by_weekday_hour[(weekday, hour)]
        return self.by_hour[hour].handoffs


@dataclass(frozen=True)
class Handoff:
    created_at: dt.datetime
    wait_minutes: float | None  # None: no agent has claimed or answered it


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def conversation_starts(session: Session, since: dt.datetime, until: dt.datetime) -> list[dt.datetime]:
    """When each conversation in Rasa's tracker store began (its sender's first message), for
    those that began in [since, until)."""
    if not has_tracker_table(session):
        return []
    events = tracker_events.c
    first_message = func.min(events.timestamp)
    query = (
        select(first_message)
        .where(events.type_name == "user")
        .group_by(events.sender_id)
        .having(and_(first_message >= since.timestamp(), first_message < until.timestamp()))
    )
    return [dt.datetime.fromtimestamp(stamp) for stamp in session.execute(query).scalars()]


def handoffs(session: Session, since: dt.datetime, until: dt.datetime) -> list[Handoff]:
    """Tickets opened in [since, until) and the minutes to the first claim or agent reply."""
    first_action = (
        select(AuditEntry.ticket_id, func.min(AuditEntry.at).label("at"))
        .where(AuditEntry.action.in_(FIRST_AGENT_ACTIONS), AuditEntry.ticket_id.is_not(None))
        .group_by(AuditEntry.ticket_id)
        .subquery()
    )
    rows = session.execute(
        select(HandoffTicket.created_at, first_action.c.at)
        .outerjoin(first_action, first_action.c.ticket_id == HandoffTicket.id)
        .where(HandoffTicket.created_at >= since, HandoffTicket.created_at < until)
    ).all()
    return [Handoff(created, _minutes(created, answered)) for created, answered in rows]


def _minutes(start: dt.datetime, end: dt.datetime | None) -> float | None:
    return None if end is None else max(0.0, (end - start).total_seconds() / 60)


def _median(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def traffic_history(session: Session, settings: Settings) -> TrafficHistory:
    """The season so far, in three queries (conversations, tickets with their first agent action)."""
    today = settings.today()
    first_day = season_start(today, settings)
    since, until = _day_start(first_day), _day_start(today)
    return summarise(first_day, today - dt.timedelta(days=1), conversation_starts(session, since, until),
                     handoffs(session, since, until))


def summarise(first_day: dt.date, last_day: dt.date, starts: Sequence[dt.datetime],
              tickets: Sequence[Handoff]) -> TrafficHistory:
    """Per hour of day, per day and per weekday and hour, from the raw times."""
    days = [first_day + dt.timedelta(days=n) for n in range((last_day - first_day).days + 1)]
    by_day = tuple(_day_traffic(days, starts, tickets))
    return TrafficHistory(
        first_day=first_day,
        last_day=last_day,
        by_hour=tuple(_hour_traffic(len(days), starts, tickets)),
        by_day=by_day,
        handoffs_by_weekday_hour=_weekday_hour_averages(days, tickets),
        median_wait_minutes=_median(t.wait_minutes for t in tickets),
    )


def _hour_traffic(day_count: int, starts: Sequence[dt.datetime], tickets: Sequence[Handoff]) -> Iterable[HourTraffic]:
    per_day = max(day_count, 1)
    conversations = Counter(at.hour for at in starts)
    opened = Counter(t.created_at.hour for t in tickets)
    waits = defaultdict(list)
    for t in tickets:
        waits[t.created_at.hour].append(t.wait_minutes)
    for hour in HOURS:
        yield HourTraffic(hour, conversations[hour] / per_day, opened[hour] / per_day, _median(waits[hour]))


def _day_traffic(days: Sequence[dt.date], starts: Sequence[dt.datetime],
                 tickets: Sequence[Handoff]) -> Iterable[DayTraffic]:
    conversations = Counter(at.date() for at in starts)
    waits = defaultdict(list)
    for t in tickets:
        waits[t.created_at.date()].append(t.wait_minutes)
    for day in days:
        yield DayTraffic(day, conversations[day], len(waits[day]), _median(waits[day]))


def _weekday_hour_averages(days: Sequence[dt.date], tickets: Sequence[Handoff]) -> dict[tuple[int, int], float]:
    weekdays_seen = Counter(day.weekday() for day in days)
    opened = Counter((t.created_at.weekday(), t.created_at.hour) for t in tickets)
    return {(weekday, hour): opened[(weekday, hour)] / seen
            for weekday, seen in weekdays_seen.items() for hour in HOURS}


# ------------------------------------------------------------------------------ forecast


@dataclass(frozen=True)
class ForecastHour:
    starts: dt.datetime
    is_open: bool
    expected_handoffs: float
    staffing: AgentsNeeded

    @property
    def agents(self) -> int:
        return self.staffing.scheduled_agents

    @property
    def desk(self) -> str:
        return "open" if self.is_open else "closed"


@dataclass(frozen=True)
class Forecast:
    hours: tuple[ForecastHour, ...]
    aht_minutes: float
    aht_measured: bool  # False: too few resolved tickets lately, HANDOFF_MINUTES_PER_TICKET used
    targets: StaffingTargets

    @property
    def days(self) -> list[dt.date]:
        return sorted({h.starts.date() for h in self.hours})

    @property
    def peak_agents(self) -> int:
        return max((h.agents for h in self.hours), default=0)

    def by_hour_of_day(self) -> list[tuple[int, list[ForecastHour]]]:
        """Rows for a table: each hour of the day with that hour on each forecast day."""
        return [(hour, [h for h in self.hours if h.starts.hour == hour]) for hour in HOURS]


def desk_open_during(starts: dt.datetime, settings: Settings) -> bool:
    """Someone is at the desk at some point in the hour (its start, middle or last minute)."""
    return any(business_hours.is_open(starts + dt.timedelta(minutes=m), settings) for m in (0, 30, 59))


def handling_minutes(session: Session, settings: Settings) -> tuple[float, bool]:
    """The recent median claim-to-resolution minutes (bot.support.wait_targets) and True, or the
    HANDOFF_MINUTES_PER_TICKET setting and False while there are too few resolved tickets."""
    measured = wait_targets.handling_minutes(session, settings)
    if measured is None:
        return float(settings.handoff_minutes_per_ticket), False
    return float(measured), True


def forecast(history: TrafficHistory, aht: tuple[float, bool], settings: Settings,
             first_day: dt.date | None = None) -> Forecast:
    """Agents needed per hour for FORECAST_DAYS days from `first_day` (default: tomorrow);
    none while the desk is closed."""
    targets = StaffingTargets.from_settings(settings)
    aht_minutes, measured = aht
    first_day = first_day or settings.today() + dt.timedelta(days=1)
    hours = []
    for n in range(FORECAST_DAYS * 24):
        starts = _day_start(first_day) + dt.timedelta(hours=n)
        expected = history.expected_handoffs(starts.weekday(), starts.hour)
        is_open = desk_open_during(starts, settings)
        staffing = targets.agents_for(expected, aht_minutes) if is_open else NO_AGENTS
        hours.append(ForecastHour(starts, is_open, expected, staffing))
    return Forecast(tuple(hours), aht_minutes, measured, targets)


@dataclass(frozen=True)
class StaffingReport:
    history: TrafficHistory
    forecast: Forecast
    clock_zone: str  # the store's clock's zone, as the server names it ("UTC", "EST")


def report(session: Session, settings: Settings) -> StaffingReport:
    """The staffing page's figures, in one read-only unit of work (the caller's)."""
    history = traffic_history(session, settings)
    return StaffingReport(history, forecast(history, handling_minutes(session, settings), settings),
                          dt.datetime.now().astimezone().tzname() or "local time")


# ------------------------------------------------------------------------------ CSV

CSV_COLUMNS = ("Row", "Date", "Hour", "Conversations", "Handoffs", "Median wait (min)", "AHT (min)",
               "Agents needed", "Service level", "Desk")


def _number(value: float | None, places: int) -> str:
    return "" if value is None else f"{value:.{places}f}"


def report_csv(staffing: StaffingReport) -> str:
    """The forecast (handoffs expected) and then the season per day (handoffs seen), one table
    with a Row column saying which, for a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    plan = staffing.forecast
    for h in plan.hours:
        level = _number(h.staffing.service_level, 3) if h.is_open else ""
        writer.writerow(["forecast", h.starts.date().isoformat(), h.starts.hour, "", _number(h.expected_handoffs, 2),
                         "", _number(plan.aht_minutes, 1), h.agents, level, h.desk])
    for d in staffing.history.by_day:
        writer.writerow(["history", d.day.isoformat(), "", d.conversations, d.handoffs,
                         _number(d.median_wait_minutes, 1), "", "", "", ""])
    return out.getvalue()
