"""Throttles order-number guessing across conversations (issue #15).

The per-conversation budget (MAX_VERIFICATION_ATTEMPTS) stops one chat, but an attacker just
opens another. Failures are therefore also kept per order number, per email (hashed) and per
channel client in the database, so the limits hold across conversations, processes and
restarts. Counting is over a sliding window of GUESS_WINDOW_MINUTES.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.money import audit
from bot.privacy.log_masking import mask_text
from bot.settings import Settings
from bot.store.models import VerificationFailure

VERIFICATION_FAILED = "verification_failed"
VERIFICATION_THROTTLED = "verification_throttled"


def client_bucket(channel: str | None, client: str | None) -> str:
    """The per-client key for a channel's client (an address), or "" for none. The machine's own
    addresses are no client: a local test, or a proxy whose forwarded addresses Rasa was not
    told to trust (TRUSTED_PROXIES), would otherwise put every shopper in one bucket,
    and 20 wrong guesses would lock them all out (the order and email limits still apply)."""
    if not client:
        return ""
    try:
        address = ipaddress.ip_address(client.strip("[]"))
    except ValueError:
        address = None
    if address is not None and (address.is_loopback or address.is_unspecified):
        return ""
    return f"{channel or 'unknown'}:{client}"


def email_hash(email: str | None) -> str:
    """SHA-256 of the normalised email, so the table never holds a shopper's address."""
    return hashlib.sha256((email or "").strip().lower().encode()).hexdigest() if email else ""


def mask_email(email: str | None) -> str:
    """"liam.carter@example.com" -> "l***@example.com" for the audit log, as the logs mask it."""
    masked = mask_text(email) if email else ""
    return masked if "***@" in masked else "-"


def _failures_since(session: Session, column, value: str, since: dt.datetime) -> int:
    return session.execute(
        select(func.count(VerificationFailure.id)).where(column == value, VerificationFailure.at > since)
    ).scalar_one()


def is_throttled(
    session: Session, *, order_number: str | None, email: str | None, client: str, settings: Settings,
    now: dt.datetime | None = None,
) -> bool:
    """True when the order number, the email or the client used up its failures in the window."""
    now = now or settings.now()
    since = now - dt.timedelta(minutes=settings.guess_window_minutes)
    checks = (
        (VerificationFailure.order_number, order_number or "", settings.guess_limit_per_order),
        (VerificationFailure.email_hash, email_hash(email), settings.guess_limit_per_email),
        (VerificationFailure.client, client or "", settings.guess_limit_per_client),
    )
    return any(value and _failures_since(session, column, value, since) >= limit for column, value, limit in checks)


def record_failure(
    session: Session, *, conversation_id: str, order_number: str | None, email: str | None, client: str,
    throttled: bool, settings: Settings, now: dt.datetime | None = None,
) -> None:
    """Counts a failed (or refused) check and writes it to the audit log, email masked."""
    now = now or settings.now()
    session.add(
        VerificationFailure(
            order_number=order_number or "",
            email_hash=email_hash(email),
            client=client or "",
            conversation_id=conversation_id,
            throttled=throttled,
            at=now,
        )
    )
    audit.record(
        session,
        actor="bot",
        action=VERIFICATION_THROTTLED if throttled else VERIFICATION_FAILED,
        at=now,
        detail=(
            f"order {order_number or '-'}, email {mask_email(email)}, client {client or '-'},"
            f" conversation {conversation_id}"
        ),
    )


def was_throttled(session: Session, conversation_id: str) -> bool:
    """True once a check in this conversation was refused by the throttle: the conversation
    then ends its look-up like a locked one and is offered a person."""
    return session.execute(
        select(VerificationFailure.id).where(
            VerificationFailure.conversation_id == conversation_id, VerificationFailure.throttled.is_(True)
        ).limit(1)
    ).first() is not None
