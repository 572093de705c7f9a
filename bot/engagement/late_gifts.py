"""Re-checks "will it arrive by Dec 24?" for watched gifts in transit, so a late gift is told first.

The runner calls `recheck` every pass; each gift order is looked at again after
ORDER_UPDATE_RECHECK_HOURS, or at once when its parcel's ETA moved (GiftArrivalCheck remembers
when and which ETA). The rule itself is the one the
shopper hears when asking (bot.orders.lookup.tracking: the parcel's ETA against the season's
delivery day); when it turns late, one late_gift update per watcher is queued, once a season.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.engagement import order_updates
from bot.orders import lookup
from bot.settings import Settings
from bot.store.models import IN_TRANSIT, GiftArrivalCheck, Order, VerifiedOrder


def _watched_gifts_in_transit(session: Session) -> list[Order]:
    watched = select(VerifiedOrder.order_id)
    return list(
        session.execute(
            select(Order)
            .where(Order.is_gift.is_(True), Order.status.in_(IN_TRANSIT), Order.id.in_(watched))
            .order_by(Order.id)
        ).scalars()
    )


def _check_row(session: Session, order: Order, now: dt.datetime, settings: Settings) -> GiftArrivalCheck | None:
    """The order's check row if a re-check is due (created on the first), else None."""
    row = session.execute(
        select(GiftArrivalCheck).where(GiftArrivalCheck.order_id == order.id).with_for_update(skip_locked=True)
    ).scalar_one_or_none()
    if row is None:
        row = GiftArrivalCheck(order_id=order.id, checked_at=now)
        try:
            with session.begin_nested():  # another runner's first check raced ours: theirs counts
                session.add(row)
                session.flush()
        except IntegrityError:
            return None
        return row
    eta = order.shipment.eta if order.shipment else None
    if row.eta == eta and row.checked_at > now - dt.timedelta(hours=settings.order_update_recheck_hours):
        return None
    return row


def late_gift_key(christmas: dt.date) -> str:
    return f"{order_updates.LATE_GIFT}:{christmas.isoformat()}"


def recheck(session: Session, now: dt.datetime, settings: Settings) -> list[int]:
    """Queues a late_gift update for each watched gift that no longer arrives in time; the ids."""
    queued: list[int] = []
    for order in _watched_gifts_in_transit(session):
        row = _check_row(session, order, now, settings)
        if row is None:
            continue
        answer = lookup.tracking(session, order, settings)
        row.checked_at, row.eta = now, answer.eta
        row.arrives_in_time = answer.arrives_by_christmas
        if answer.arrives_by_christmas is False:
            queued += order_updates.queue(
                session, order, order_updates.LATE_GIFT, late_gift_key(answer.christmas_date), now
            )
    return queued
