"""The store's tables. Money is Numeric (Decimal); every link is a foreign key."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()

Money = Numeric(12, 2)

ORDER_STATUSES = (
    "processing",
    "shipped",
    "out_for_delivery",
    "delivered",
    "delayed",
    "cancelled",
    "returned",
)
NOT_YET_SHIPPED = ("processing",)
IN_TRANSIT = ("shipped", "out_for_delivery", "delayed")


class Customer(Base):
    __tablename__ = "customers"
    id = Column(Integer, primary_key=True)
    email = Column(String(254), nullable=False, unique=True)
    name = Column(String(120), nullable=False)
    birthday = Column(Date)
    loyalty_points = Column(Integer, nullable=False, default=0)
    created_at = Column(DateTime, nullable=False)

    orders = relationship("Order", back_populates="customer", order_by="Order.placed_at")

    @property
    def first_name(self) -> str:
        return self.name.split()[0]


product_complements = Table(
    "product_complements",
    Base.metadata,
    Column("product_id", ForeignKey("products.id"), primary_key=True),
    Column("complement_id", ForeignKey("products.id"), primary_key=True),
)


class Product(Base):
    """A sellable variant. Variants of one design share `style` (for exchanges)."""

    __tablename__ = "products"
    id = Column(Integer, primary_key=True)
    sku = Column(String(255), nullable=False, unique=True)  # Shopify allows 255
    style = Column(String(255), nullable=False, index=True)  # a Shopify handle: up to 255
    name = Column(String(255), nullable=False)
    category = Column(String(60), nullable=False, index=True)
    description = Column(Text, nullable=False, default="")
    price = Column(Money, nullable=False)
    size = Column(String(20))
    color = Column(String(30))
    stock = Column(Integer, nullable=False, default=0)
    min_age = Column(Integer, nullable=False, default=0)
    max_age = Column(Integer, nullable=False, default=120)
    final_sale = Column(Boolean, nullable=False, default=False)
    replenish_days = Column(Integer)  # consumables: typical days until a refill is due
    slug = Column(String(400), nullable=False, unique=True)

    tags = relationship("ProductTag", back_populates="product", cascade="all, delete-orphan")
    complements = relationship(
        "Product",
        secondary=product_complements,
        primaryjoin=id == product_complements.c.product_id,
        secondaryjoin=id == product_complements.c.complement_id,
    )

    @property
    def tag_names(self) -> set[str]:
        return {t.tag for t in self.tags}


class ProductTag(Base):
    """An interest a product suits (art, football, cooking...)."""

    __tablename__ = "product_tags"
    product_id = Column(ForeignKey("products.id"), primary_key=True)
    tag = Column(String(40), primary_key=True, index=True)
    product = relationship("Product", back_populates="tags")


class Order(Base):
    __tablename__ = "orders"
    id = Column(Integer, primary_key=True)
    number = Column(String(20), nullable=False, unique=True)
    customer_id = Column(ForeignKey("customers.id"), nullable=False, index=True)
    placed_at = Column(DateTime, nullable=False)
    status = Column(String(20), nullable=False)
    shipping_method = Column(String(20), nullable=False)
    shipping_paid = Column(Money, nullable=False, default=Decimal("0"))
    is_gift = Column(Boolean, nullable=False, default=False)

    customer = relationship("Customer", back_populates="orders")
    items = relationship("OrderItem", back_populates="order", order_by="OrderItem.id")
    shipment = relationship("Shipment", back_populates="order", uselist=False)
    refunds = relationship("Refund", back_populates="order", order_by="Refund.id")

    @property
    def items_total(self) -> Decimal:
        return sum((i.line_total for i in self.items), Decimal("0.00"))

    @property
    def total_paid(self) -> Decimal:
        return self.items_total + self.shipping_paid


class OrderItem(Base):
    __tablename__ = "order_items"
    id = Column(Integer, primary_key=True)
    order_id = Column(ForeignKey("orders.id"), nullable=False, index=True)
    product_id = Column(ForeignKey("products.id"), nullable=False)
    quantity = Column(Integer, nullable=False, default=1)
    unit_price = Column(Money, nullable=False)

    order = relationship("Order", back_populates="items")
    product = relationship("Product")

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


class Shipment(Base):
    __tablename__ = "shipments"
    id = Column(Integer, primary_key=True)
    order_id = Column(ForeignKey("orders.id"), nullable=False, unique=True)
    carrier = Column(String(40), nullable=False)
    tracking_number = Column(String(60), nullable=False)
    status = Column(String(20), nullable=False)
    eta = Column(Date)
    shipped_at = Column(DateTime)
    delivered_at = Column(DateTime)

    order = relationship("Order", back_populates="shipment")
    events = relationship("ShipmentEvent", back_populates="shipment", order_by="ShipmentEvent.at")


class ShipmentEvent(Base):
    __tablename__ = "shipment_events"
    id = Column(Integer, primary_key=True)
    shipment_id = Column(ForeignKey("shipments.id"), nullable=False, index=True)
    at = Column(DateTime, nullable=False)
    status = Column(String(20), nullable=False)
    location = Column(String(80), nullable=False, default="")
    description = Column(String(200), nullable=False, default="")

    shipment = relationship("Shipment", back_populates="events")


class VerificationAttempt(Base):
    """Each order-number + email check a conversation made; the failure budget counts these."""

    __tablename__ = "verification_attempts"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    order_id = Column(ForeignKey("orders.id"))
    succeeded = Column(Boolean, nullable=False)
    at = Column(DateTime, nullable=False)


# --- Issue #15: order-guessing throttle (bot/orders/verification_throttle.py).
class VerificationFailure(Base):
    """A failed order-number + email check, kept across conversations and restarts so
    guessing is throttled per order number, per email and per channel client."""

    __tablename__ = "verification_failures"
    id = Column(Integer, primary_key=True)
    order_number = Column(String(20), nullable=False, default="", index=True)
    email_hash = Column(String(64), nullable=False, default="", index=True)  # SHA-256 hex
    client = Column(String(255), nullable=False, default="", index=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    throttled = Column(Boolean, nullable=False, default=False)  # refused without checking the pair
    at = Column(DateTime, nullable=False, index=True)


class VerifiedOrder(Base):
    """A conversation proved it owns an order; actions on the order require this row."""

    __tablename__ = "verified_orders"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False)
    order_id = Column(ForeignKey("orders.id"), nullable=False)
    verified_at = Column(DateTime, nullable=False)
    # Issue #15: access lapses after VERIFICATION_IDLE_MINUTES without use; each use refreshes it.
    last_used_at = Column(DateTime)  # unset: counts from verified_at
    __table_args__ = (UniqueConstraint("conversation_id", "order_id"),)

    order = relationship("Order")


class Return(Base):
    """A return or exchange (RMA)."""

    __tablename__ = "returns"
    id = Column(Integer, primary_key=True)
    rma = Column(String(20), nullable=False, unique=True)
    order_id = Column(ForeignKey("orders.id"), nullable=False, index=True)
    kind = Column(String(10), nullable=False)  # return | exchange
    reason = Column(String(40), nullable=False)
    refund_method = Column(String(30), nullable=False)  # original_payment | store_credit | none
    status = Column(String(20), nullable=False, default="open")
    conversation_id = Column(String(255))
    created_at = Column(DateTime, nullable=False)

    order = relationship("Order")
    items = relationship("ReturnItem", back_populates="ret", cascade="all, delete-orphan")


class ReturnItem(Base):
    __tablename__ = "return_items"
    id = Column(Integer, primary_key=True)
    return_id = Column(ForeignKey("returns.id"), nullable=False, index=True)
    order_item_id = Column(ForeignKey("order_items.id"), nullable=False, unique=True)
    quantity = Column(Integer, nullable=False)
    exchange_product_id = Column(ForeignKey("products.id"))

    ret = relationship("Return", back_populates="items")
    order_item = relationship("OrderItem")
    exchange_product = relationship("Product")


REFUND_STATUSES = ("pending_review", "approved", "issued", "denied")


class Refund(Base):
    """Money going back to a shopper. `idempotency_key` makes a repeated request a no-op."""

    __tablename__ = "refunds"
    id = Column(Integer, primary_key=True)
    order_id = Column(ForeignKey("orders.id"), nullable=False, index=True)
    return_id = Column(ForeignKey("returns.id"))
    amount = Column(Money, nullable=False)
    reason = Column(String(60), nullable=False)
    method = Column(String(30), nullable=False, default="original_payment")
    status = Column(String(20), nullable=False)
    required_level = Column(String(12), nullable=False)  # bot | agent | supervisor
    idempotency_key = Column(String(120), nullable=False, unique=True)
    conversation_id = Column(String(255))
    decided_by = Column(String(80))
    decided_at = Column(DateTime)
    created_at = Column(DateTime, nullable=False)

    order = relationship("Order", back_populates="refunds")
    ret = relationship("Return")


class AuditEntry(Base):
    """Who decided what about money or a ticket, and when. Never updated, only appended."""

    __tablename__ = "audit_log"
    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False)
    actor = Column(String(80), nullable=False)  # "bot", an agent's username, "system"
    action = Column(String(40), nullable=False)
    order_id = Column(ForeignKey("orders.id"))
    refund_id = Column(ForeignKey("refunds.id"))
    ticket_id = Column(ForeignKey("handoff_tickets.id"))
    amount = Column(Money)
    detail = Column(Text, nullable=False, default="")


class HandoffTicket(Base):
    __tablename__ = "handoff_tickets"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    channel = Column(String(40), nullable=False)
    customer_id = Column(ForeignKey("customers.id"))
    order_id = Column(ForeignKey("orders.id"))
    refund_id = Column(ForeignKey("refunds.id"))
    reason = Column(String(40), nullable=False)
    amount = Column(Money)
    summary = Column(Text, nullable=False, default="")
    transcript = Column(Text, nullable=False, default="[]")  # JSON list of {"who", "text"}
    status = Column(String(12), nullable=False, default="open")  # open | claimed | resolved
    assigned_to = Column(String(80))
    created_at = Column(DateTime, nullable=False)
    resolved_at = Column(DateTime)
    # 1 while the ticket is open, NULL once resolved: one open ticket per conversation.
    open_marker = Column(Integer, default=1)

    customer = relationship("Customer")
    order = relationship("Order")
    refund = relationship("Refund")

    __table_args__ = (UniqueConstraint("conversation_id", "open_marker", name="uq_one_open_ticket"),)


class AgentAccount(Base):
    """A person who works the support console; `refund_limit` is their own ladder limit."""

    __tablename__ = "agent_accounts"
    id = Column(Integer, primary_key=True)
    username = Column(String(80), nullable=False, unique=True)
    role = Column(String(12), nullable=False)  # agent | supervisor
    refund_limit = Column(Money, nullable=False)
    password_hash = Column(String(255), nullable=False)  # bot.support.accounts.hash_password
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False)
    failed_logins = Column(Integer, nullable=False, default=0)  # in a row, since the last lock-out
    locked_until = Column(DateTime)  # UTC; no login before then, even with the right password


class AgentSession(Base):
    """A console login. Only a hash of the cookie's token is stored."""

    __tablename__ = "agent_sessions"
    id = Column(Integer, primary_key=True)
    account_id = Column(ForeignKey("agent_accounts.id"), nullable=False, index=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False)
    expires_at = Column(DateTime, nullable=False)
    ended_at = Column(DateTime)  # logged out

    account = relationship("AgentAccount")


class ShopperNotice(Base):
    """A decision the shopper must hear about in their chat, kept until it was delivered.

    The console writes it with the decision; the bot's action_tell_agent_decision says it
    (wording in domain/) and stamps `delivered_at`, so a Rasa server that was down loses
    nothing and the agent sees what is still undelivered.
    """

    __tablename__ = "shopper_notices"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    ticket_id = Column(ForeignKey("handoff_tickets.id"))
    refund_id = Column(ForeignKey("refunds.id"))
    kind = Column(String(30), nullable=False)  # refund_approved | refund_denied
    amount = Column(Money)
    note = Column(Text, nullable=False, default="")
    actor = Column(String(80), nullable=False)
    created_at = Column(DateTime, nullable=False)
    delivered_at = Column(DateTime)


class WishlistItem(Base):
    """A product a shopper saved. The list belongs to the conversation and, once known, the
    customer; everything sharing `share_token` is one shareable list."""

    __tablename__ = "wishlist_items"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    customer_id = Column(ForeignKey("customers.id"), index=True)
    product_id = Column(ForeignKey("products.id"), nullable=False)
    added_at = Column(DateTime, nullable=False)
    share_token = Column(String(32), nullable=False, index=True)
    __table_args__ = (UniqueConstraint("conversation_id", "product_id"),)

    product = relationship("Product")
    customer = relationship("Customer")


class Reminder(Base):
    """A message the shopper asked for at a later time ("tell me when the sale starts").

    Kept here rather than in Rasa's in-memory scheduler, which forgets a reminder when the
    server restarts or the conversation starts a new session: a sale can be months away.
    One reminder of a kind per conversation: asking twice keeps the first.
    """

    __tablename__ = "reminders"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False)
    channel = Column(String(40), nullable=False)
    kind = Column(String(30), nullable=False)  # bot.engagement.reminders.KINDS
    due_at = Column(DateTime, nullable=False, index=True)
    status = Column(String(12), nullable=False, default="scheduled")  # scheduled | sending | sent | failed | cancelled
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime, nullable=False, index=True)
    claimed_at = Column(DateTime)
    sent_at = Column(DateTime)
    last_error = Column(Text)
    created_at = Column(DateTime, nullable=False)
    __table_args__ = (UniqueConstraint("conversation_id", "kind", "due_at", name="uq_one_reminder_per_kind"),)


# --- Issue #17: Shopify webhooks (bot/order_sources/shopify_webhooks.py).
class ShopifyWebhookDelivery(Base):
    """A Shopify webhook delivery already handled: a repeat of its id changes nothing.

    Written in the same transaction as the order changes it brought, so a crash never leaves
    one without the other. `order_number` and `changed_at` let an older delivery for an order
    that arrives after a newer one (retries come out of order; a captured one can be replayed
    with new headers, which the signature does not cover) be acknowledged without undoing it.
    """

    __tablename__ = "shopify_webhook_deliveries"
    id = Column(Integer, primary_key=True)
    webhook_id = Column(String(100), nullable=False, unique=True)  # X-Shopify-Webhook-Id
    topic = Column(String(60), nullable=False)
    order_number = Column(String(20), index=True)  # order topics only
    triggered_at = Column(DateTime, nullable=False)  # X-Shopify-Triggered-At, UTC
    changed_at = Column(DateTime, nullable=False, index=True)  # the signed payload's updated_at (else triggered_at), UTC
    received_at = Column(DateTime, nullable=False)  # UTC
    outcome = Column(String(200), nullable=False)  # applied | unchanged | superseded | ignored | ...


# --- Issue #18: proactive order updates (bot/engagement/order_updates.py).
class OrderUpdateOptOut(Base):
    """A conversation that said "stop updates": no order update is queued for it until it
    asks for them again (the row is then deleted)."""

    __tablename__ = "order_update_opt_outs"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, unique=True)
    opted_out_at = Column(DateTime, nullable=False)


class OrderUpdate(Base):
    """An order change one conversation is to hear about (the outbox).

    One row per (conversation, order, event key): a repeated webhook or CLI call for the same
    change adds nothing. Delivered like a Reminder (claimed, sent through Rasa, retried); the
    action that says it stamps `said_at` under a row lock so it is said at most once.
    """

    __tablename__ = "order_updates"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    order_id = Column(ForeignKey("orders.id"), nullable=False, index=True)
    kind = Column(String(30), nullable=False)  # bot.engagement.order_updates.KINDS
    event_key = Column(String(120), nullable=False)  # what makes this change this one (kind + detail)
    return_id = Column(ForeignKey("returns.id"))
    refund_id = Column(ForeignKey("refunds.id"))
    status = Column(String(12), nullable=False, default="scheduled")  # scheduled | sending | sent | failed | cancelled
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime, nullable=False, index=True)
    claimed_at = Column(DateTime)
    said_at = Column(DateTime)  # the action said it in the conversation
    sent_at = Column(DateTime)
    last_error = Column(Text)
    created_at = Column(DateTime, nullable=False)
    __table_args__ = (UniqueConstraint("conversation_id", "order_id", "event_key", name="uq_one_update_per_event"),)

    order = relationship("Order")
    ret = relationship("Return")
    refund = relationship("Refund")


class GiftArrivalCheck(Base):
    """When the runner last re-checked whether a watched gift order still arrives by Dec 24."""

    __tablename__ = "gift_arrival_checks"
    id = Column(Integer, primary_key=True)
    order_id = Column(ForeignKey("orders.id"), nullable=False, unique=True)
    checked_at = Column(DateTime, nullable=False)
    eta = Column(Date)  # the parcel's ETA then: a new one is checked on the next pass
    arrives_in_time = Column(Boolean)



# --- Issue #18: messages for a web chat page that may be closed (bot/web/webchat/outbox.py).
class WebchatMessage(Base):
    """A message pushed into a web chat conversation from outside a reply (an order update, an
    agent's answer), kept until a page of that chat session is open to show it, then shown once.

    Rasa's socket.io channel would emit it to whatever page is open right now, and a closed page
    would never see it; here it waits in the database, which every Rasa server shares.
    """

    __tablename__ = "webchat_messages"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)  # web:<session id>
    message = Column(Text, nullable=False)  # JSON, as Rasa's socket.io channel emits it
    created_at = Column(DateTime, nullable=False)
    claimed_at = Column(DateTime)  # a server is showing it right now
    shown_at = Column(DateTime, index=True)


# --- Issue #18: goodwill gestures (bot/money/goodwill.py).
class GoodwillGesture(Base):
    """Something given to make up for a wrong (store credit, a free shipping upgrade, free gift
    wrap): one per incident (`incident_key`), granted within the granter's ladder level."""

    __tablename__ = "goodwill_gestures"
    id = Column(Integer, primary_key=True)
    incident_key = Column(String(300), nullable=False, unique=True)  # late_gift:<order>, damaged:<order>, ...
    incident = Column(String(20), nullable=False)  # bot.money.goodwill.INCIDENTS
    kind = Column(String(20), nullable=False)  # bot.money.goodwill.KINDS
    value = Column(Money, nullable=False)
    code = Column(String(20), nullable=False, unique=True)  # what the shopper quotes at checkout
    customer_id = Column(ForeignKey("customers.id"), nullable=False, index=True)
    order_id = Column(ForeignKey("orders.id"))
    level = Column(String(12), nullable=False)  # bot | agent | supervisor
    granted_by = Column(String(80), nullable=False)  # "bot" or a console username
    conversation_id = Column(String(255))
    ticket_id = Column(ForeignKey("handoff_tickets.id"))
    created_at = Column(DateTime, nullable=False)

    order = relationship("Order")


# --- Issue #18: CSAT (bot/support/csat.py).
class CsatSurvey(Base):
    """"How did we do?" asked once per conversation, and the shopper's answer.

    `handled_by` is who the shopper rates: the agent who resolved the conversation's ticket, or
    "bot" when no person was involved.
    """

    __tablename__ = "csat_surveys"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, unique=True)
    handled_by = Column(String(80), nullable=False)
    ticket_id = Column(ForeignKey("handoff_tickets.id"))
    asked_at = Column(DateTime, nullable=False, index=True)
    score = Column(Integer)  # 1-5
    rated_at = Column(DateTime)
    comment = Column(Text)
    commented_at = Column(DateTime)


# --- Issue #18: holiday recap (bot/engagement/recap.py).


# --- Issue #19: the agents' desk at peak.


class TicketLabel(Base):
    """A label an agent put on a ticket (damaged, late gift, refund, VIP ...); one of each per ticket."""

    __tablename__ = "ticket_labels"
    id = Column(Integer, primary_key=True)
    ticket_id = Column(ForeignKey("handoff_tickets.id"), nullable=False, index=True)
    label = Column(String(40), nullable=False)
    added_by = Column(String(80), nullable=False)
    added_at = Column(DateTime, nullable=False)

    __table_args__ = (UniqueConstraint("ticket_id", "label", name="uq_ticket_label"),)


class CannedReply(Base):
    """A store-managed reply with {placeholders} filled from the ticket's order (bot.support.canned_replies)."""

    __tablename__ = "canned_replies"
    id = Column(Integer, primary_key=True)
    title = Column(String(80), nullable=False, unique=True)
    body = Column(Text, nullable=False)
    uses = Column(Integer, nullable=False, default=0)  # replies sent from it
    active = Column(Boolean, nullable=False, default=True)
    updated_by = Column(String(80), nullable=False)
    updated_at = Column(DateTime, nullable=False)


class ShopperPhoto(Base):
    """A photo a shopper sent (bot.support.photos): re-encoded, metadata stripped, kept with
    the conversation so that its ticket, opened before or after, shows it."""

    __tablename__ = "shopper_photos"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    channel = Column(String(40), nullable=False)
    content_type = Column(String(40), nullable=False)  # what is stored: image/jpeg or image/png
    image = Column(LargeBinary, nullable=False)
    thumbnail = Column(LargeBinary, nullable=False)  # JPEG, at most THUMBNAIL_SIZE
    width = Column(Integer, nullable=False)
    height = Column(Integer, nullable=False)
    sha256 = Column(String(64), nullable=False)  # of the stored image: the same photo twice is kept once
    received_at = Column(DateTime, nullable=False)

    __table_args__ = (UniqueConstraint("conversation_id", "sha256", name="uq_photo_once_per_conversation"),)
