"""Moves data recorded on one day (a side file's `recorded_on`) to today, so a demo stays current.

Two rules, one per order, applied to everything the order carries (placed, scans, ETA, return):

* most orders move by whole days, today minus recorded_on: a parcel out for delivery on the day
  it was recorded is out for delivery today;
* a holiday-season purchase (`season: true`) moves to the most recent season that began at least
  11 days ago, keeping its day in the season, folded so its parcel arrived two days before today
  at the latest (early in a season the previous one supplies it; they always stay inside one).

Without recorded_on nothing moves (a real store's dates are real).
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from bot.order_sources.extras import Extras, OrderDetails, PastReturn
from bot.order_sources.records import OrderRecord, RecordError
from bot.settings import Settings

SEASON_SETTLED_DAYS = 11  # a season counts once a parcel ordered on its first day has arrived
ARRIVED_BEFORE_TODAY = 2


def latest_season(today: dt.date, settings: Settings) -> tuple[dt.date, dt.date]:
    """The most recent holiday purchase period that began at least SEASON_SETTLED_DAYS ago."""
    start_md, end_md = settings.holiday_purchase_start, settings.holiday_purchase_end
    year = today.year
    while dt.date(year, *start_md) + dt.timedelta(days=SEASON_SETTLED_DAYS) > today:
        year -= 1
    start, end = dt.date(year, *start_md), dt.date(year, *end_md)
    return start, end if end >= start else dt.date(year + 1, *end_md)


class DateShift:
    """The move from `extras.recorded_on` to `today`, order by order."""

    def __init__(self, extras: Extras, today: dt.date, settings: Settings):
        self.extras, self.today, self.settings = extras, today, settings
        self.days = dt.timedelta(0) if extras.recorded_on is None else today - extras.recorded_on
        self._season_moves: dict[str, dt.timedelta] = {}

    @property
    def moves(self) -> bool:
        return self.extras.recorded_on is not None

    def order(self, record: OrderRecord) -> OrderRecord:
        """The order record as of today; remembers a season order's move for its details."""
        if not self.moves:
            return record
        move = self._move_for(record)
        return dataclasses.replace(record, placed_at=record.placed_at + move,
                                   cancelled_at=record.cancelled_at and record.cancelled_at + move)

    def _move_for(self, record: OrderRecord) -> dt.timedelta:
        details = self.extras.order(record.number)
        if details is None or not details.season:
            return self.days
        recorded_start, _ = latest_season(self.extras.recorded_on, self.settings)
        start, end = latest_season(self.today, self.settings)
        placed = record.placed_at.date()
        lead = (details.parcel.eta - placed).days if details.parcel and details.parcel.eta else 0
        latest = min(end, self.today - dt.timedelta(days=lead + ARRIVED_BEFORE_TODAY))
        day_in_season = (placed - recorded_start).days % max((latest - start).days + 1, 1)
        move = start + dt.timedelta(days=day_in_season) - placed
        self._season_moves[record.number] = move
        return move

    def details(self, details: OrderDetails) -> OrderDetails:
        """The order's side-file details moved as its order record was."""
        if not self.moves:
            return details
        if details.season and details.number not in self._season_moves:
            raise RecordError(f"orders.{details.number}", "a season order is moved with its orders file row: "
                                                          "import both files together")
        move = self._season_moves.get(details.number, self.days)
        parcel, past = details.parcel, details.past_return
        if parcel is not None:
            parcel = dataclasses.replace(
                parcel, eta=parcel.eta and parcel.eta + move,
                scans=tuple(dataclasses.replace(scan, at=scan.at + move) for scan in parcel.scans))
        if past is not None:
            past = PastReturn(past.reason, past.opened + move, past.refunded + move, past.decided_by)
        return dataclasses.replace(details, parcel=parcel, past_return=past)
