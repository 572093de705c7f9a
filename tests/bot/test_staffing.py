"""Staffing (issue #19): Erlang C against pyworkforce's published example, the season's traffic
read from a real database (Rasa's tracker table, tickets and the audit log), the forecast, the
CSV read back, the SVG charts escaped, and the demo store's season of history."""
from __future__ import annotations

import asyncio
import csv
import dataclasses
import datetime as dt
import io
import json
import math
import xml.etree.ElementTree as ElementTree
from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import event, func, insert, select

from bot.engagement.holiday_calendar import black_friday, cyber_monday, holiday_season
from bot.money import audit
from bot.rasa_link import rasa_api
from bot.store.models import AuditEntry, HandoffTicket
from bot.support import business_hours, demo_history, staffing, wait_targets
from bot.web.console import staffing_charts

# --------------------------------------------------------------------------- Erlang C


@pytest.mark.parametrize("max_occupancy, raw, positions, level, occupancy, waiting", [
    (0.85, 14, 20, 0.888, 0.714, 0.174),
    (0.70, 15, 22, 0.941, 0.667, 0.102),
])
def test_erlang_c_gives_pyworkforces_published_answers(max_occupancy, raw, positions, level, occupancy, waiting):
    # pyworkforce's README: 100 transactions per 30-minute interval, AHT 3 min, ASA 0.33 min,
    # shrinkage 0.3, service level 0.8.
    need = staffing.agents_needed(arrivals_per_hour=100 * 2, aht_minutes=3, target_minutes=0.33,
                                  service_level_goal=0.8, max_occupancy=max_occupancy, shrinkage=0.3)
    assert (need.raw_agents, need.scheduled_agents) == (raw, positions)
    assert (round(need.service_level, 3), round(need.occupancy, 3), round(need.wait_probability, 3)) == \
           (level, occupancy, waiting)


def test_the_wait_probability_is_erlang_cs():
    assert staffing.wait_probability(2, 1.0) == pytest.approx(1 / 3)  # by hand: B(2,1) = 0.2
    assert staffing.wait_probability(1, 0.5) == pytest.approx(0.5)  # one agent: the occupancy
    assert staffing.wait_probability(3, 3.0) == 1.0  # cannot keep up: everyone waits
    assert staffing.wait_probability(3, 0.0) == 0.0
    assert staffing.service_level(2, 1.0, 3, 0) == pytest.approx(1 - 1 / 3)
    assert staffing.service_level(2, 1.0, 3, 1) == pytest.approx(1 - math.exp(-1 / 3) / 3)


def test_exact_quotients_are_not_rounded_up_by_float_noise():
    # 17.85 erlangs at 85% busy is exactly 21 agents; 21 after 30% shrinkage is exactly 30
    # (in floats, 21 / (1 - 0.3) is 30.000000000000004).
    need = staffing.agents_needed(arrivals_per_hour=178.5, aht_minutes=6, target_minutes=2, service_level_goal=0.5,
                                  max_occupancy=Decimal("0.85"), shrinkage=Decimal("0.30"))
    assert (need.raw_agents, need.scheduled_agents) == (21, 30)


def test_no_arrivals_need_no_agents(settings):
    need = staffing.StaffingTargets.from_settings(settings).agents_for(0, 5)
    assert (need.raw_agents, need.scheduled_agents, need.occupancy) == (0, 0, 0.0)


def test_more_traffic_never_needs_fewer_agents_and_every_answer_meets_the_targets(settings):
    targets = staffing.StaffingTargets.from_settings(settings)
    needed = []
    for arrivals in range(1, 120, 7):
        need = targets.agents_for(arrivals, 6)
        assert need.service_level >= float(targets.service_level)
        assert need.occupancy <= float(targets.max_occupancy)
        assert need.scheduled_agents == math.ceil(Decimal(need.raw_agents) / (1 - targets.shrinkage))
        fewer = staffing.service_level(need.raw_agents - 1, arrivals * 6 / 60, 6, targets.first_reply_minutes)
        fewer_busy = arrivals * 6 / 60 / max(need.raw_agents - 1, 1)
        assert fewer < float(targets.service_level) or fewer_busy > float(targets.max_occupancy), "not the fewest"
        needed.append(need.raw_agents)
    assert needed == sorted(needed) and needed[-1] > needed[0]


# --------------------------------------------------------------------------- the season from the database


def season(settings, days: int):
    """Settings whose today is `days` days into this year's season."""
    start = holiday_season(settings.today().year, settings).purchase_start
    return dataclasses.replace(settings, today_override=start + dt.timedelta(days=days)), start


def add_message(store, sender: str, at: dt.datetime, type_name: str = "user", text: str = "hi") -> None:
    stamp = at.timestamp()
    with store.engine.begin() as conn:
        conn.execute(insert(rasa_api.tracker_events).values(
            sender_id=sender, type_name=type_name, timestamp=stamp,
            data=json.dumps({"event": type_name, "timestamp": stamp, "text": text})))


def add_ticket(store, conversation: str, created: dt.datetime, **actions: dt.datetime) -> int:
    """A ticket with audit entries at the given times (claimed=..., replied=..., resolved=...)."""
    names = {"claimed": audit.TICKET_CLAIMED, "replied": audit.AGENT_REPLIED, "resolved": audit.TICKET_RESOLVED}
    with store.session() as s:
        ticket = HandoffTicket(conversation_id=conversation, channel="socketio", reason="asked_for_human",
                               summary="", transcript="[]", status="resolved" if "resolved" in actions else "open",
                               created_at=created, resolved_at=actions.get("resolved"),
                               open_marker=None if "resolved" in actions else 1)
        s.add(ticket)
        s.flush()
        audit.record(s, actor="bot", action=audit.TICKET_OPENED, at=created, ticket_id=ticket.id)
        for name, at in sorted(actions.items(), key=lambda item: item[1]):
            audit.record(s, actor="dana", action=names[name], at=at, ticket_id=ticket.id)
        return ticket.id


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute))


def test_the_season_starts_at_the_last_holiday_purchase_start(settings):
    start = holiday_season(2026, settings).purchase_start
    assert staffing.season_start(start, settings) == start
    assert staffing.season_start(start + dt.timedelta(days=40), settings) == start
    last_years = holiday_season(2025, settings).purchase_start
    assert staffing.season_start(start - dt.timedelta(days=1), settings) == last_years


def test_traffic_is_counted_per_hour_of_day_and_per_day(store, settings, tracker_table):
    settings, first = season(settings, 10)
    day1, day2 = first + dt.timedelta(days=2), first + dt.timedelta(days=3)
    add_message(store, "web:a", at(day1, 10, 5))
    add_message(store, "web:a", at(day2, 20, 0))  # the same conversation again: counted once, when it began
    add_message(store, "web:b", at(day2, 20, 30))
    add_message(store, "web:b", at(day2, 20, 31), type_name="bot")
    add_message(store, "web:c", at(day2, 9, 0), type_name="bot")  # nobody wrote: not a conversation
    add_message(store, "web:old", at(first - dt.timedelta(days=1), 10))  # before the season
    add_message(store, "web:old", at(day1, 10, 30))
    add_message(store, "web:today", at(settings.today(), 8))  # today is not over: not in the history
    add_ticket(store, "web:a", at(day1, 10, 10), claimed=at(day1, 10, 14), replied=at(day1, 10, 15))
    add_ticket(store, "web:b", at(day2, 20, 40), replied=at(day2, 20, 46), claimed=at(day2, 20, 50))
    add_ticket(store, "web:x", at(day2, 20, 50))  # still waiting: no wait to count
    add_ticket(store, "web:y", at(first - dt.timedelta(days=1), 23), claimed=at(first, 9))  # before the season

    with store.reading() as s:
        history = staffing.traffic_history(s, settings)

    assert (history.first_day, history.last_day) == (first, settings.today() - dt.timedelta(days=1))
    assert len(history.by_day) == 10
    days = {d.day: d for d in history.by_day}
    assert (days[day1].conversations, days[day1].handoffs, days[day1].median_wait_minutes) == (1, 1, 4.0)
    assert (days[day2].conversations, days[day2].handoffs, days[day2].median_wait_minutes) == (1, 2, 6.0)
    assert (history.conversations, history.handoffs, history.median_wait_minutes) == (2, 3, 5.0)
    assert history.handoff_share == 1.5
    ten, eight_pm = history.by_hour[10], history.by_hour[20]
    assert (ten.conversations, ten.handoffs, ten.median_wait_minutes) == (0.1, 0.1, 4.0)
    assert (eight_pm.conversations, eight_pm.handoffs, eight_pm.median_wait_minutes) == (0.1, 0.2, 6.0)
    weekday_count = sum(1 for d in history.by_day if d.day.weekday() == day2.weekday())
    assert history.handoffs_by_weekday_hour[(day2.weekday(), 20)] == 2 / weekday_count


def test_the_history_takes_the_same_few_queries_however_many_tickets(store, settings, tracker_table):
    settings, first = season(settings, 10)
    statements = []
    event.listen(store.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    def queries() -> int:
        statements.clear()
        with store.reading() as s:
            staffing.report(s, settings)
        return len(statements)

    add_ticket(store, "web:1", at(first, 12), claimed=at(first, 12, 3), resolved=at(first, 12, 9))
    few = queries()
    for n in range(20):
        day = first + dt.timedelta(days=n % 9)
        add_message(store, f"web:m{n}", at(day, n % 24))
        add_ticket(store, f"web:m{n}", at(day, n % 24), claimed=at(day, n % 24, 4), resolved=at(day, n % 24, 20))
    assert queries() == few <= 8


def test_no_tracker_table_means_no_conversations(store, settings):
    settings, first = season(settings, 5)
    add_ticket(store, "web:a", at(first, 15), claimed=at(first, 15, 2))
    with store.reading() as s:
        history = staffing.traffic_history(s, settings)
    assert (history.conversations, history.handoffs) == (0, 1)


# --------------------------------------------------------------------------- forecast


def steady_desk(settings, hours="daily 9am-5pm UTC"):
    return dataclasses.replace(settings, support_hours=hours, holiday_support_hours=())


def handoff(day: dt.date, hour: int, wait: float | None = 3.0) -> staffing.Handoff:
    return staffing.Handoff(at(day, hour, 10), wait)


def test_each_hour_expects_the_average_of_its_weekday_and_hour(settings):
    settings = steady_desk(settings)
    first = dt.date(2026, 11, 2)  # a Monday; two weeks of history
    last = first + dt.timedelta(days=13)
    tickets = [handoff(first, 14), handoff(first, 14), handoff(first + dt.timedelta(days=7), 14),
               handoff(first + dt.timedelta(days=1), 14)]
    history = staffing.summarise(first, last, [], tickets)
    plan = staffing.forecast(history, (6.0, True), settings, first_day=last + dt.timedelta(days=1))

    hours = {(h.starts.weekday(), h.starts.hour): h for h in plan.hours}
    assert len(plan.hours) == staffing.FORECAST_DAYS * 24 and len(plan.days) == staffing.FORECAST_DAYS
    assert hours[(0, 14)].expected_handoffs == 1.5  # three on two Mondays
    assert hours[(1, 14)].expected_handoffs == 0.5
    assert hours[(2, 14)].expected_handoffs == 0.0
    targets = staffing.StaffingTargets.from_settings(settings)
    assert hours[(0, 14)].staffing == targets.agents_for(1.5, 6.0) and hours[(0, 14)].agents > 0
    assert hours[(2, 14)].agents == 0


def test_a_weekday_the_season_has_not_seen_expects_the_hours_average(settings):
    settings = steady_desk(settings)
    first = dt.date(2026, 11, 2)  # Monday to Wednesday only
    history = staffing.summarise(first, first + dt.timedelta(days=2), [],
                                 [handoff(first, 10), handoff(first + dt.timedelta(days=1), 10)])
    plan = staffing.forecast(history, (6.0, True), settings, first_day=first + dt.timedelta(days=3))
    by_weekday = {h.starts.weekday(): h for h in plan.hours if h.starts.hour == 10}
    assert by_weekday[0].expected_handoffs == 1.0 and by_weekday[2].expected_handoffs == 0.0
    assert by_weekday[4].expected_handoffs == pytest.approx(2 / 3)


def test_closed_hours_need_nobody_and_say_closed(settings):
    settings = steady_desk(settings)
    first = dt.date(2026, 11, 2)
    busy = [handoff(first + dt.timedelta(days=d), h) for d in range(7) for h in range(24)]
    plan = staffing.forecast(staffing.summarise(first, first + dt.timedelta(days=6), [], busy), (6.0, True),
                             settings, first_day=first + dt.timedelta(days=7))
    for day in plan.days:
        hours = [h for h in plan.hours if h.starts.date() == day]
        assert sum(h.is_open for h in hours) == 8  # 9am-5pm, whatever the server's zone
        assert all(h.agents > 0 for h in hours if h.is_open)
        assert all(h.agents == 0 and h.desk == "closed" for h in hours if not h.is_open)
        assert all(business_hours.is_open(h.starts + dt.timedelta(minutes=30), settings) == h.is_open for h in hours)


def test_the_handling_time_is_the_recent_median_or_the_setting(store, settings):
    settings, first = season(settings, 20)
    with store.reading() as s:
        assert staffing.handling_minutes(s, settings) == (float(settings.handoff_minutes_per_ticket), False)
    day = settings.today() - dt.timedelta(days=2)
    for n, minutes in enumerate((5, 9, 30)):
        add_ticket(store, f"web:{n}", at(day, 10), claimed=at(day, 11), resolved=at(day, 11, minutes))
    with store.reading() as s:
        assert staffing.handling_minutes(s, settings) == (9.0, True) == \
               (wait_targets.handling_minutes(s, settings), True)


# --------------------------------------------------------------------------- CSV and charts


@pytest.fixture
def small_report(settings):
    settings = steady_desk(settings)
    first = dt.date(2026, 11, 2)
    starts = [at(first, 10), at(first, 11), at(first + dt.timedelta(days=1), 12)]
    history = staffing.summarise(first, first + dt.timedelta(days=6), starts,
                                 [handoff(first, 10, 4.0), handoff(first, 11, None)])
    plan = staffing.forecast(history, (7.5, True), settings, first_day=first + dt.timedelta(days=7))
    return staffing.StaffingReport(history, plan, "UTC")


def test_the_csv_reads_back_with_the_csv_module(small_report):
    rows = list(csv.DictReader(io.StringIO(staffing.report_csv(small_report), newline="")))
    assert list(rows[0]) == list(staffing.CSV_COLUMNS)
    forecast = [r for r in rows if r["Row"] == "forecast"]
    history = [r for r in rows if r["Row"] == "history"]
    assert len(forecast) == staffing.FORECAST_DAYS * 24 and len(history) == 7
    monday_ten = next(r for r in forecast if r["Date"] == "2026-11-09" and r["Hour"] == "10")
    assert (monday_ten["Handoffs"], monday_ten["AHT (min)"], monday_ten["Desk"]) == ("1.00", "7.5", "open")
    assert int(monday_ten["Agents needed"]) > 0 and 0 < float(monday_ten["Service level"]) <= 1
    night = next(r for r in forecast if r["Date"] == "2026-11-09" and r["Hour"] == "3")
    assert (night["Agents needed"], night["Service level"], night["Desk"]) == ("0", "", "closed")
    assert [(r["Date"], r["Conversations"], r["Handoffs"], r["Median wait (min)"]) for r in history[:2]] == \
           [("2026-11-02", "2", "2", "4.0"), ("2026-11-03", "1", "0", "")]


def test_the_charts_are_svg_with_every_label_escaped():
    nasty = '<script>alert("x")</script> & co'
    chart = staffing_charts.bar_chart("c1", nasty, [nasty, "b", "c"],
                               [staffing_charts.Series(nasty, (1.0, None, 3.0), "#123456")], shaded=[False, True, False],
                               shade_note=nasty)
    assert "<script" not in chart and "&lt;script&gt;" in chart
    root = ElementTree.fromstring(chart)  # well-formed: no stray markup from a label
    svg = "{http://www.w3.org/2000/svg}"
    bars = [r for r in root.iter(f"{svg}rect") if r.get("fill") == "#123456" and r.find(f"{svg}title") is not None]
    assert len(bars) == 2  # the missing value draws nothing
    assert bars[0].find(f"{svg}title").text.startswith(nasty + ": 1")
    gap = staffing_charts.Series("s", (1.0, 2.0, None, 4.0), "#654321")
    line = staffing_charts.line_chart("c2", "t", ["a", "b", "c", "d"], [gap])
    assert len(list(ElementTree.fromstring(line).iter(f"{svg}polyline"))) == 2  # broken at the gap


def test_the_page_charts_are_all_drawn(small_report):
    drawn = staffing_charts.charts(small_report)
    assert set(drawn) == {"hour_traffic", "hour_wait", "day_traffic", "day_wait", "forecast"}
    for svg in drawn.values():
        ElementTree.fromstring(svg)
    assert drawn["forecast"].count("desk closed") >= staffing.FORECAST_DAYS


@pytest.mark.parametrize("largest, step", [(0, 1), (0.5, 1), (3, 1), (20, 5), (250, 100), (1500, 500)])
def test_grid_steps_are_round_numbers(largest, step):
    axis = staffing_charts.Axis.fitting(3, [staffing_charts.Series("s", (largest,), "#000")])
    assert axis.step == step and axis.top >= largest and axis.lines <= 4


# --------------------------------------------------------------------------- the demo season


def after_cyber_monday(settings):
    """A December day whose season holds Black Friday and Cyber Monday."""
    day = cyber_monday(settings.today().year) + dt.timedelta(days=9)
    return dataclasses.replace(settings, today_override=day)


def demo_rows(store):
    with store.reading() as s:
        events = s.execute(select(rasa_api.tracker_events)).mappings().all()
        tickets = s.execute(select(HandoffTicket)).scalars().all()
        entries = s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
    return events, tickets, entries


def test_the_demo_season_has_the_shape_of_a_holiday_rush(store, settings):
    """Busier evenings and weekends, Black Friday and Cyber Monday the peaks: on the desk's own
    clock (the zone SUPPORT_HOURS names), where its shoppers live; the server's may be another."""
    settings = after_cyber_monday(settings)
    added = demo_history.add_demo_history(store, settings)
    with store.reading() as s:
        history = staffing.traffic_history(s, settings)
        starts = staffing.conversation_starts(s, dt.datetime.combine(history.first_day, dt.time()),
                                              dt.datetime.combine(settings.today(), dt.time()))

    assert (history.conversations, history.handoffs) == (added.conversations, added.tickets)
    assert 0.08 <= history.handoff_share <= 0.15
    zone = demo_history.desk_zone(settings)
    at_the_desk = [start.astimezone(zone) for start in starts]
    per_day = Counter(start.date() for start in at_the_desk)
    year = settings.today().year
    assert {day for day, _ in per_day.most_common(2)} == {black_friday(year), cyber_monday(year)}
    ordinary = {day: n for day, n in per_day.items()
                if history.first_day < day < black_friday(year) - dt.timedelta(days=1)}
    weekends = [n for day, n in ordinary.items() if day.weekday() >= 5]
    weekdays = [n for day, n in ordinary.items() if day.weekday() < 5]
    assert sum(weekends) / len(weekends) > sum(weekdays) / len(weekdays)
    hours = Counter(start.hour for start in at_the_desk)
    assert sum(hours[h] for h in range(18, 22)) > 2 * sum(hours[h] for h in range(6, 10))


def test_demo_tickets_are_resolved_with_their_audit_trail_at_possible_times(store, settings):
    settings = after_cyber_monday(settings)
    demo_history.add_demo_history(store, settings)
    events, tickets, entries = demo_rows(store)
    trail = {}
    for entry in entries:
        trail.setdefault(entry.ticket_id, []).append(entry)
    senders = {e["sender_id"] for e in events}
    assert all(sender.startswith(demo_history.SENDER_PREFIX) for sender in senders)
    assert tickets and all(t.conversation_id in senders for t in tickets)
    for ticket in tickets:
        assert (ticket.status, ticket.open_marker) == ("resolved", None)
        actions = [e.action for e in trail[ticket.id]]
        assert actions == [audit.TICKET_OPENED, audit.TICKET_CLAIMED, audit.AGENT_REPLIED, audit.TICKET_RESOLVED]
        opened, claimed, replied, resolved = (e.at for e in trail[ticket.id])
        assert opened == ticket.created_at < claimed < replied and claimed < resolved == ticket.resolved_at
        assert resolved < settings.now()
        assert claimed >= wait_targets.answerable_from(opened, settings), "claimed while the desk was closed"


def test_the_demo_season_is_the_same_every_time_and_written_once(store, settings):
    settings = after_cyber_monday(settings)
    assert demo_history.plan(settings) == demo_history.plan(settings)
    first = demo_history.add_demo_history(store, settings)
    before = demo_rows(store)
    assert demo_history.add_demo_history(store, settings) == demo_history.DemoHistory(0, 0)
    after = demo_rows(store)
    assert [len(rows) for rows in after] == [len(rows) for rows in before]
    assert first.conversations == len({e["sender_id"] for e in after[0]}) > 1000


def test_rasa_reads_the_demo_conversations(store, settings):
    """The rows are the ones Rasa's SQL tracker store writes and reads, in its own table."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import Event

    demo_history.add_demo_history(store, after_cyber_monday(settings))
    rasas = SQLTrackerStore.SQLEvent.__table__.columns
    ours = rasa_api.tracker_events.columns
    assert [(c.name, type(c.type), c.nullable, c.primary_key) for c in ours] == \
           [(c.name, type(c.type), c.nullable, c.primary_key) for c in rasas]
    events, _tickets, _entries = demo_rows(store)
    first = [e for e in events if e["sender_id"] == f"{demo_history.SENDER_PREFIX}1"]
    parsed = [Event.from_parameters(json.loads(e["data"])) for e in first]
    assert [p.type_name for p in parsed] == ["action", "session_started", "user"]
    assert parsed[-1].intent_name == first[-1]["intent_name"] and parsed[-1].text
    if store.is_sqlite:
        tracker_store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=store.engine.url.database)
        tracker = asyncio.run(tracker_store.retrieve(f"{demo_history.SENDER_PREFIX}1"))
        assert tracker.latest_message.text == parsed[-1].text


def test_the_demo_store_carries_the_season(store, settings):
    from bot.order_sources.demo import build_demo_store

    settings = after_cyber_monday(settings)
    build_demo_store(store, settings)
    with store.reading() as s:
        history = staffing.traffic_history(s, settings)
        plan = staffing.report(s, settings).forecast
        demo_tickets = s.execute(select(func.count(HandoffTicket.id))).scalar_one()
    assert history.conversations > 1000 and history.handoffs == demo_tickets
    assert plan.aht_measured and max(h.agents for h in plan.hours) >= 2
