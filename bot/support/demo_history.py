"""A season of past support traffic for the demo store, so the staffing page (bot.support.staffing)
has something to draw and forecast from on first run.

From the season's start (HOLIDAY_PURCHASE_START) to yesterday, the same every time (one fixed
seed): conversations as Rasa's SQL tracker store writes them (the session start and the shopper's
first message), about one in nine handed to a person as a resolved ticket with its audit trail
(opened, claimed, replied, resolved), claimed when the desk's hours allow. Evenings and weekends
are busier, Black Friday and Cyber Monday the peaks. Sender ids start with "demo-history:", which
no channel uses, so the history never mixes with a real conversation. Rows go in with a few bulk
inserts: the tests build many demo stores.
"""
from __future__ import annotations

import bisect
import datetime as dt
import json
import math
import random
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select

from bot.engagement.holiday_calendar import black_friday, cyber_monday, support_hours_on, thanksgiving
from bot.money import audit
from bot.rasa_link.rasa_api import tracker_events
from bot.settings import Settings
from bot.store.engine import Store
from bot.store.models import AuditEntry, HandoffTicket
from bot.support import accounts, business_hours
from bot.support.staffing import season_start

SEED = 1219
SENDER_PREFIX = "demo-history:"
AGENTS = tuple(username for username, _role in accounts.DEMO_ACCOUNTS)
# Relative traffic by hour of the day where the desk is (the zone SUPPORT_HOURS names): quiet
# nights, a lunchtime bump, busy evenings.
HOUR_WEIGHTS = (0.20, 0.10, 0.05, 0.05, 0.05, 0.10, 0.20, 0.50, 0.90, 1.20, 1.30, 1.40,
                1.70, 1.50, 1.30, 1.40, 1.60, 2.00, 2.60, 3.20, 3.40, 2.60, 1.40, 0.60)
WEEKEND_FACTOR = 1.3
HANDOFF_SHARE = 0.11
PEAK_HANDOFF_SHARE = 0.14
CHANNELS = (("socketio", 0.8), ("telegram", 0.2))
# What a shopper the bot kept wrote first: (intent, text), weight.
BOT_TOPICS = (
    (("track_order", "where is my order?"), 4),
    (("faq", "what's the last day to order for christmas delivery?"), 3),
    (("return_item", "i'd like to return a sweater, wrong size"), 2),
    (("gift_advice", "gift ideas for my dad? he likes cooking"), 2),
    (("cancel_order", "can i cancel my order"), 1),
)
# Why a shopper was handed over, and what they wrote first: reason: (intent, text, summary), weight.
HANDOFF_TOPICS = {
    "asked_for_human": (("human_handoff", "can i talk to a person please", "Asked for a person."), 4),
    "over_limit_refund": (("request_refund", "i want my money back for the whole order",
                           "Refund above the bot's limit."), 3),
    "repeated_fallback": (("out_of_scope", "the light thing from your ad, the big one",
                           "The bot did not understand."), 2),
    "frustration": (("report_problem", "this is the third time i'm asking, where is my parcel",
                     "The shopper was frustrated."), 2),
    "verification_failed": (("track_order", "where is my order? i don't have the email it used",
                             "The shopper could not verify the order."), 1),
}
OFF_SEASON_LEVEL = 4.0  # conversations a day outside the holidays
PEAK_LEVEL = 160.0  # a day this busy hands more over (the bot's limits meet angrier shoppers)
LOOK_AHEAD_DAYS = 8  # the desk reopens within this after a ticket of the season's last night


@dataclass(frozen=True)
class PlannedTicket:
    reason: str
    agent: str
    opened: dt.datetime
    claimed: dt.datetime
    replied: dt.datetime
    resolved: dt.datetime


@dataclass(frozen=True)
class PlannedConversation:
    sender_id: str
    started: dt.datetime
    channel: str
    intent: str
    text: str
    ticket: PlannedTicket | None


@dataclass(frozen=True)
class DemoHistory:
    conversations: int
    tickets: int


# ------------------------------------------------------------------------------ the season's shape


def expected_conversations(day: dt.date) -> float:
    """Conversations on an average `day`: the rush from November to Christmas, the sale's peaks,
    returns in January, and weekends busier than weekdays."""
    peaks = {thanksgiving(day.year): 60.0, black_friday(day.year): 320.0,
             black_friday(day.year) + dt.timedelta(days=1): 200.0,
             black_friday(day.year) + dt.timedelta(days=2): 170.0, cyber_monday(day.year): 280.0}
    if day in peaks:
        return peaks[day]
    return _season_level(day) * (WEEKEND_FACTOR if day.weekday() >= 5 else 1.0)


def _season_level(day: dt.date) -> float:
    if day.month == 11:
        return 45 + 40 * day.day / 30
    if day.month == 12:
        return 120.0 if day.day <= 20 else 90.0 if day.day <= 24 else 25.0 if day.day == 25 else 80.0
    if day.month == 1:
        return 60 - 50 * day.day / 31
    return OFF_SEASON_LEVEL


# ------------------------------------------------------------------------------ the desk's hours


@dataclass(frozen=True)
class DeskHours:
    """The desk's opening intervals over the season, on the store's clock, soonest first."""

    starts: tuple[dt.datetime, ...]
    ends: tuple[dt.datetime, ...]

    @classmethod
    def between(cls, first_day: dt.date, last_day: dt.date, settings: Settings) -> "DeskHours":
        found = []
        for n in range(-1, (last_day - first_day).days + LOOK_AHEAD_DAYS):
            day = first_day + dt.timedelta(days=n)
            for opening in business_hours.parse_hours(support_hours_on(day, settings)):
                if day.weekday() in opening.days:
                    found.append([at.astimezone().replace(tzinfo=None) for at in opening.interval_on(day)])
        found.sort()
        return cls(tuple(start for start, _ in found), tuple(end for _, end in found))

    def answerable_from(self, at: dt.datetime) -> dt.datetime | None:
        """`at` if the desk is open then, else when it next opens (None: not within the season)."""
        index = bisect.bisect_right(self.starts, at)
        if index and at < self.ends[index - 1]:
            return at
        return self.starts[index] if index < len(self.starts) else None


# ------------------------------------------------------------------------------ planning


def desk_zone(settings: Settings) -> ZoneInfo | None:
    """Where the desk is (the first zone SUPPORT_HOURS names): its shoppers' evenings are busy
    whatever the server's clock says. None: no hours at all, the store's clock it is."""
    openings = business_hours.parse_hours(settings.support_hours)
    return ZoneInfo(business_hours.ZONES[openings[0].zone_label]) if openings else None


def plan(settings: Settings) -> list[PlannedConversation]:
    """Every conversation of the demo season (from its first day to yesterday on the store's
    clock), oldest first; the same for the same settings."""
    rng = random.Random(SEED)
    today, now, zone = settings.today(), settings.now(), desk_zone(settings)
    first_day = season_start(today, settings)
    since, until = dt.datetime.combine(first_day, dt.time()), dt.datetime.combine(today, dt.time())
    desk = DeskHours.between(first_day, today, settings)
    planned: list[PlannedConversation] = []
    for n in range(-1, (today - first_day).days):  # the desk's day before may end on the first one
        day = first_day + dt.timedelta(days=n)
        mean = expected_conversations(day)
        for started in _start_times(rng, day, mean, zone):
            if since <= started < until:
                sender = f"{SENDER_PREFIX}{len(planned) + 1}"
                planned.append(_conversation(rng, sender, started, mean, desk, now))
    return planned


def _start_times(rng: random.Random, day: dt.date, mean: float, zone: ZoneInfo | None) -> list[dt.datetime]:
    """About `mean` times on `day` in the desk's zone, on the store's clock."""
    count = max(0, round(rng.gauss(mean, math.sqrt(mean))))
    hours = rng.choices(range(24), weights=HOUR_WEIGHTS, k=count)
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    times = (midnight + dt.timedelta(hours=hour, seconds=rng.randrange(3600)) for hour in hours)
    return sorted(at.astimezone().replace(tzinfo=None) if zone else at for at in times)


def _weighted(rng: random.Random, options):
    return rng.choices([option for option, _ in options], weights=[weight for _, weight in options])[0]


def _conversation(rng: random.Random, sender: str, started: dt.datetime, day_mean: float, desk: DeskHours,
                  now: dt.datetime) -> PlannedConversation:
    """A conversation started at `started` on a day expecting `day_mean` of them."""
    channel = _weighted(rng, CHANNELS)
    share = PEAK_HANDOFF_SHARE if day_mean >= PEAK_LEVEL else HANDOFF_SHARE
    if rng.random() < share:
        reason = _weighted(rng, [(reason, weight) for reason, (_, weight) in HANDOFF_TOPICS.items()])
        intent, text, _summary = HANDOFF_TOPICS[reason][0]
        ticket = _ticket(rng, reason, started, day_mean, desk)
        if ticket is not None and ticket.resolved < now:
            return PlannedConversation(sender, started, channel, intent, text, ticket)
    intent, text = _weighted(rng, BOT_TOPICS)
    return PlannedConversation(sender, started, channel, intent, text, None)


def _ticket(rng: random.Random, reason: str, started: dt.datetime, day_mean: float,
            desk: DeskHours) -> PlannedTicket | None:
    """Opened a few minutes into the chat; claimed after a wait that grows with the day's traffic
    (or when the desk opens); answered, then resolved after a handling time."""
    opened = started + dt.timedelta(seconds=rng.randrange(60, 300))
    answerable = desk.answerable_from(opened)
    if answerable is None:
        return None
    busy = day_mean / 80
    claimed = answerable + dt.timedelta(minutes=rng.expovariate(1 / (0.8 + busy)))
    replied = claimed + dt.timedelta(seconds=rng.randrange(20, 120))
    resolved = claimed + dt.timedelta(minutes=rng.lognormvariate(math.log(8 + 2 * busy), 0.4))
    return PlannedTicket(reason, rng.choice(AGENTS), opened, claimed, replied, resolved)


# ------------------------------------------------------------------------------ rows


def _action(name: str, at: float) -> dict:
    return {"event": "action", "timestamp": at, "name": name, "policy": None, "confidence": None,
            "action_text": None, "hide_rule_turn": False}


def _event_rows(c: PlannedConversation) -> list[dict]:
    """The rows Rasa's SQLTrackerStore writes for a session start and the shopper's first message."""
    said = c.started.timestamp()
    start = said - 0.5
    message_id = c.sender_id.replace(SENDER_PREFIX, "demo")
    user = {"event": "user", "timestamp": said, "text": c.text,
            "parse_data": {"intent": {"name": c.intent, "confidence": 1.0}, "entities": [], "text": c.text,
                           "message_id": message_id, "metadata": {}},
            "input_channel": c.channel, "message_id": message_id, "metadata": {}}
    events = [(_action("action_session_start", start), None, "action_session_start"),
              ({"event": "session_started", "timestamp": start}, None, None),
              (user, c.intent, None)]
    return [{"sender_id": c.sender_id, "type_name": data["event"], "timestamp": data["timestamp"],
             "intent_name": intent, "action_name": action, "data": json.dumps(data)}
            for data, intent, action in events]


def _ticket_row(c: PlannedConversation) -> dict:
    t = c.ticket
    summary = HANDOFF_TOPICS[t.reason][0][2]
    return {"conversation_id": c.sender_id, "channel": c.channel, "reason": t.reason, "summary": summary,
            "transcript": json.dumps([{"who": "shopper", "text": c.text}]), "status": "resolved",
            "assigned_to": t.agent, "created_at": t.opened, "resolved_at": t.resolved, "open_marker": None}


def _audit_rows(c: PlannedConversation, ticket_id: int) -> list[dict]:
    t = c.ticket
    first_name = t.agent.split(".")[-1].title()
    entries = [("bot", audit.TICKET_OPENED, t.opened, f"{t.reason} in conversation {c.sender_id} ({c.channel})"),
               (t.agent, audit.TICKET_CLAIMED, t.claimed, ""),
               (t.agent, audit.AGENT_REPLIED, t.replied, f"Hi, this is {first_name} from the team. Looking at it now."),
               (t.agent, audit.TICKET_RESOLVED, t.resolved, "")]
    return [{"actor": actor, "action": action, "at": at, "ticket_id": ticket_id, "detail": detail}
            for actor, action, at, detail in entries]


# ------------------------------------------------------------------------------ writing


def add_demo_history(store: Store, settings: Settings) -> DemoHistory:
    """Writes the season into the store (and Rasa's tracker table, created if missing); a store
    that has it already is left alone."""
    planned = plan(settings)
    handed_over = [c for c in planned if c.ticket is not None]
    with store.session() as s:
        tracker_events.create(s.connection(), checkfirst=True)
        mine = HandoffTicket.conversation_id.startswith(SENDER_PREFIX)
        if s.execute(select(HandoffTicket.id).where(mine).limit(1)).first() is not None:
            return DemoHistory(0, 0)
        # Left from a store whose tables were dropped and rebuilt: Rasa's table is not the store's.
        s.execute(delete(tracker_events).where(tracker_events.c.sender_id.startswith(SENDER_PREFIX)))
        if planned:
            s.execute(insert(tracker_events), [row for c in planned for row in _event_rows(c)])
        if handed_over:
            s.execute(insert(HandoffTicket.__table__), [_ticket_row(c) for c in handed_over])
            ids = dict(s.execute(select(HandoffTicket.conversation_id, HandoffTicket.id).where(mine)).all())
            s.execute(insert(AuditEntry.__table__),
                      [row for c in handed_over for row in _audit_rows(c, ids[c.sender_id])])
    return DemoHistory(len(planned), len(handed_over))
