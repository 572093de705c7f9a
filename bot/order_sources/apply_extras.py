"""Writes a side file's records (order_sources.extras) onto what the CSV import wrote.

Runs after the products and orders, in the caller's transaction, and is idempotent like them:
details are assigned only where they differ, a parcel's scans are replaced only when they
changed, a past return and its refund are created once (by RMA and refund key). Everything named
must exist: an unknown handle, email or order number is the entry's RecordError.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.money import audit, refund_ladder
from bot.money.refunds import items_key
from bot.order_sources.apply import KindCounts, assign, check_fits
from bot.order_sources.date_shift import DateShift
from bot.order_sources.extras import CustomerDetails, Extras, OrderDetails, ParcelDetails, PastReturn
from bot.order_sources.records import RecordError
from bot.returns.rma import rma_for
from bot.settings import Settings
from bot.store.models import Customer, Order, Product, Refund, Return, ReturnItem, Shipment, ShipmentEvent

PARCEL_PAST_SHIPPED = ("shipped", "out_for_delivery", "delayed", "delivered", "returned")


def apply_extras(session: Session, extras: Extras, shift: DateShift, settings: Settings) -> KindCounts:
    """Every section of the side file; counts the entries that changed something."""
    counts = KindCounts()
    _apply_products(session, extras, counts)
    for details in (extras.orders or {}).values():
        _apply_order(session, shift.details(details), settings, counts)
    session.flush()
    for details in extras.customers:
        _apply_customer(session, details, shift.today, counts)
    session.flush()
    return counts


def _variants(session: Session, handle: str, where: str) -> list[Product]:
    variants = session.execute(select(Product).where(Product.style == handle)).scalars().all()
    if not variants:
        raise RecordError(where, f"no product with Handle {handle!r} in the store")
    return variants


def _apply_products(session: Session, extras: Extras, counts: KindCounts) -> None:
    for details in extras.products:
        values = {name: getattr(details, name) for name in ("min_age", "max_age", "final_sale", "replenish_days")
                  if getattr(details, name) is not None}
        changed = [assign(p, values) for p in _variants(session, details.handle, f"products.{details.handle}")]
        counts.count(created=False, changed=any(changed))
    for n, (a, b) in enumerate(extras.complements):
        lefts, rights = (_variants(session, h, f"complements[{n}]") for h in (a, b))
        changed = False
        for left in lefts:
            for right in rights:
                for one, other in ((left, right), (right, left)):
                    if other not in one.complements:
                        one.complements.append(other)
                        changed = True
        counts.count(created=False, changed=changed)


def _apply_customer(session: Session, details: CustomerDetails, today: dt.date, counts: KindCounts) -> None:
    customer = session.execute(select(Customer).options(selectinload(Customer.orders))
                               .where(Customer.email == details.email)).scalar_one_or_none()
    if customer is None:
        raise RecordError(f"customers.{details.email}", "no customer with that email in the store")
    values: dict = {}
    if details.birthday_in_days is not None:
        upcoming = today + dt.timedelta(days=details.birthday_in_days)
        leap_day = (upcoming.month, upcoming.day) == (2, 29)
        values["birthday"] = dt.date(details.born, upcoming.month, 28 if leap_day else upcoming.day)
    elif details.birthday is not None:
        values["birthday"] = details.birthday
    if details.loyalty_points is not None:
        values["loyalty_points"] = details.loyalty_points
    if details.signed_up_before_first_order is not None and customer.orders:
        values["created_at"] = min(o.placed_at for o in customer.orders) - details.signed_up_before_first_order
    counts.count(created=False, changed=assign(customer, values))


def _apply_order(session: Session, details: OrderDetails, settings: Settings, counts: KindCounts) -> None:
    order = session.execute(select(Order).options(selectinload(Order.items))
                            .where(Order.number == details.number)).scalar_one_or_none()
    if order is None:
        raise RecordError(f"orders.{details.number}", "no order with that Name in the store")
    changed = details.gift is not None and assign(order, {"is_gift": details.gift})
    if details.parcel is not None:
        changed = _apply_parcel(session, order, details.parcel) or changed
    if details.past_return is not None:
        changed = _apply_past_return(session, order, details.past_return, settings) or changed
    counts.count(created=False, changed=bool(changed))


def _apply_parcel(session: Session, order: Order, parcel: ParcelDetails) -> bool:
    """The parcel and its scans; the order's status follows the parcel once it has left."""
    where = f"orders.{order.number}.parcel"
    check_fits(parcel, Shipment, ("carrier", "tracking_number"), where)
    for n, scan in enumerate(parcel.scans):
        check_fits(scan, ShipmentEvent, ("location", "description"), f"{where}.scans[{n}]")
    at_status = {scan.status: scan.at for scan in parcel.scans}
    values = {"carrier": parcel.carrier, "tracking_number": parcel.tracking_number, "status": parcel.status,
              "eta": parcel.eta, "shipped_at": at_status.get("picked_up"), "delivered_at": at_status.get("delivered")}
    shipment = session.execute(select(Shipment).options(selectinload(Shipment.events))
                               .where(Shipment.order_id == order.id)).scalar_one_or_none()
    changed = shipment is None
    if shipment is None:
        shipment = Shipment(order_id=order.id, **values)
        session.add(shipment)
    changed = assign(shipment, values) or changed
    wanted = [(s.at, s.status, s.location, s.description) for s in parcel.scans]
    if [(e.at, e.status, e.location, e.description) for e in shipment.events] != wanted:
        for event in list(shipment.events):
            session.delete(event)
        shipment.events = [ShipmentEvent(at=at, status=status, location=where, description=text)
                           for at, status, where, text in wanted]
        changed = True
    if parcel.status in PARCEL_PAST_SHIPPED and order.status not in ("cancelled",):
        changed = assign(order, {"status": parcel.status}) or changed
    return changed


def _apply_past_return(session: Session, order: Order, past: PastReturn, settings: Settings) -> bool:
    """A closed return of every item and its issued refund, audited as the bot would have: once."""
    rma = rma_for(order, 1)
    if session.execute(select(Return.id).where(Return.rma == rma)).first():
        return False
    ret = Return(rma=rma, order_id=order.id, kind="return", reason=past.reason, refund_method="original_payment",
                 status="closed", created_at=past.opened,
                 items=[ReturnItem(order_item_id=item.id, quantity=item.quantity) for item in order.items])
    session.add(ret)
    session.flush()
    audit.record(session, actor=past.decided_by, action=audit.RETURN_CREATED, at=past.opened, order_id=order.id,
                 detail=f"{rma} (imported)")
    decision = refund_ladder.decide(order.items_total, Decimal("0.00"), settings)
    refund = Refund(order_id=order.id, return_id=ret.id, amount=order.items_total, reason=f"return:{past.reason}",
                    method=ret.refund_method, status="issued", required_level=decision.level,
                    idempotency_key=items_key(order, [i.id for i in order.items]), decided_by=past.decided_by,
                    decided_at=past.refunded, created_at=past.opened)
    session.add(refund)
    session.flush()
    action = audit.REFUND_AUTO_APPROVED if decision.auto_approved else audit.REFUND_APPROVED
    audit.record(session, actor=past.decided_by, action=action, at=past.refunded, order_id=order.id,
                 refund_id=refund.id, amount=refund.amount, detail=f"{rma} received (imported)")
    return True
