"""The people behind the support console: accounts, passwords, logins and refund limits.

Each account has its own refund limit in the database, read at the moment of every decision
(never from the session or a form). Passwords are stored as salted scrypt hashes and compared
in constant time; a login is an AgentSession row holding only the SHA-256 of the cookie's
random token, so a copy of the database does not let anyone in. Session expiry uses the
wall clock (UTC), never TINSEL_TODAY, which pins the store's calendar for demos.

Every function here works in the caller's unit of work (a Session): the console, the terminal
and the demo seed open it, `store.session()` where a login, log-out or account change is
written and `store.reading()` for a look-up.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.money import audit
from bot.settings import Settings, get_settings
from bot.store.models import AgentAccount, AgentSession

ROLES = ("agent", "supervisor")
MIN_PASSWORD_LENGTH = 8
# Guessing a password: this many wrong ones in a row lock the account for LOCKOUT.
MAX_FAILED_LOGINS = 5
LOCKOUT = dt.timedelta(minutes=15)
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P, _SCRYPT_LENGTH = 2**14, 8, 1, 32

# Demo logins `python -m bot seed` creates in the demo store only, each with a password generated
# for this install and printed once (a password written in the code is everyone's password).
DEMO_ACCOUNTS = (("agent.riley", "agent"), ("supervisor.morgan", "supervisor"))
# Audit action of `python -m bot agents reset-password` (next to bot.money.audit's console actions).
AGENT_PASSWORD_RESET = "agent_password_reset"


class AccountError(ValueError):
    """An account could not be created; the message says why, for the operator."""


@dataclass(frozen=True)
class Agent:
    """The logged-in person, as one console request sees them."""

    account_id: int
    username: str
    role: str
    session_id: int
    csrf_token: str


@dataclass(frozen=True)
class Login:
    agent: Agent
    token: str  # goes into the cookie; only its hash is stored
    expires_at: dt.datetime


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=_SCRYPT_LENGTH)


def hash_password(password: str) -> str:
    """"scrypt$n$r$p$salt$hash" with a fresh random salt."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        candidate = _scrypt(password, bytes.fromhex(salt), int(n), int(r), int(p))
        return hmac.compare_digest(candidate, bytes.fromhex(digest))
    except ValueError:
        return False


# Compared against when the username does not exist, so both failures take as long.
_UNKNOWN_ACCOUNT_HASH = hash_password(secrets.token_hex(16))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_limit(text: str | Decimal) -> Decimal:
    try:
        limit = Decimal(str(text).strip())
    except InvalidOperation:
        raise AccountError(f"the refund limit must be an amount like 2000.00, not {text!r}") from None
    if not limit.is_finite() or limit < 0:
        raise AccountError(f"the refund limit must be zero or more, not {text!r}")
    return limit.quantize(Decimal("0.01"))


def add_account(
    session: Session,
    username: str,
    role: str,
    refund_limit: str | Decimal,
    password: str,
    settings: Settings | None = None,
    actor: str = "system",
) -> AgentAccount:
    """Creates a console account; AccountError says what is wrong with the input."""
    settings = settings or get_settings()
    username = username.strip().lower()
    if not USERNAME_PATTERN.match(username):
        raise AccountError(
            "usernames are 2-80 characters: lowercase letters, digits, dots, dashes, underscores"
        )
    if role not in ROLES:
        raise AccountError(f"the role must be one of {', '.join(ROLES)}, not {role!r}")
    limit = parse_limit(refund_limit)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if session.execute(select(AgentAccount.id).where(AgentAccount.username == username)).first():
        raise AccountError(f"there is already an account called {username}")
    account = AgentAccount(
        username=username,
        role=role,
        refund_limit=limit,
        password_hash=hash_password(password),
        active=True,
        created_at=settings.now(),
    )
    session.add(account)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=audit.AGENT_ACCOUNT_ADDED,
        at=settings.now(),
        amount=limit,
        detail=f"{username} ({role}), refund limit {limit}",
    )
    return account


def ensure_demo_accounts(session: Session, settings: Settings) -> list[tuple[str, str, str | None, Decimal]]:
    """The demo logins, created if missing: [(username, role, password, limit)].

    The password is a fresh random one for an account created now and None for one that
    already existed: only its hash is kept, so it can be shown once, when it is made.
    """
    limits = {"agent": settings.agent_refund_limit, "supervisor": settings.supervisor_refund_limit}
    existing = set(session.execute(select(AgentAccount.username)).scalars())
    created = {}
    for username, role in DEMO_ACCOUNTS:
        if username not in existing:
            created[username] = secrets.token_urlsafe(12)
            add_account(session, username, role, limits[role], created[username], settings, actor="seed")
    stored = {a.username: a.refund_limit for a in session.execute(select(AgentAccount)).scalars()}
    return [(u, role, created.get(u), stored[u]) for u, role in DEMO_ACCOUNTS]


def reset_password(
    session: Session, username: str, password: str, settings: Settings | None = None, actor: str = "system"
) -> None:
    """Gives an account a new password, lifts its lock-out and ends its console sessions
    (whoever knew the old one is logged out); AccountError says what is wrong."""
    settings = settings or get_settings()
    username = (username or "").strip().lower()
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    account = session.execute(select(AgentAccount).where(AgentAccount.username == username)).scalar_one_or_none()
    if account is None:
        raise AccountError(f"there is no account called {username}")
    account.password_hash = hash_password(password)
    account.failed_logins = 0
    account.locked_until = None
    now = utc_now()
    for console_session in session.execute(
        select(AgentSession).where(AgentSession.account_id == account.id, AgentSession.ended_at.is_(None))
    ).scalars():
        console_session.ended_at = now
    audit.record(session, actor=actor, action=AGENT_PASSWORD_RESET, at=settings.now(), detail=username)


def log_in(
    session: Session, username: str, password: str, settings: Settings | None = None, now: dt.datetime | None = None
) -> Login | None:
    """A new console session for the right username and password, else None; both are audited
    (and a wrong password counted), so the caller's unit of work writes."""
    settings = settings or get_settings()
    now = now or utc_now()
    username = username.strip().lower()[:80]
    account = session.execute(
        select(AgentAccount).where(AgentAccount.username == username).with_for_update()
    ).scalar_one_or_none()
    matches = verify_password(password, account.password_hash if account else _UNKNOWN_ACCOUNT_HASH)
    locked = account is not None and account.locked_until is not None and account.locked_until > now
    if account is None or not matches or not account.active or locked:
        if account is None:
            why = "unknown account"
        elif locked:
            why = f"locked until {account.locked_until:%H:%M} UTC after {MAX_FAILED_LOGINS} wrong passwords"
        elif not matches:
            why = _count_wrong_password(account, now)
        else:
            why = "inactive account"
        audit.record(
            session, actor=username or "?", action=audit.CONSOLE_LOGIN_FAILED, at=settings.now(), detail=why
        )
        return None
    account.failed_logins = 0
    token = secrets.token_urlsafe(32)
    console_session = AgentSession(
        account_id=account.id,
        token_hash=token_hash(token),
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + dt.timedelta(minutes=settings.console_session_minutes),
    )
    session.add(console_session)
    session.flush()
    audit.record(session, actor=account.username, action=audit.CONSOLE_LOGIN, at=settings.now(),
                 detail=f"console session {console_session.id}")
    agent = Agent(account.id, account.username, account.role, console_session.id, console_session.csrf_token)
    return Login(agent, token, console_session.expires_at)


def _count_wrong_password(account: AgentAccount, now: dt.datetime) -> str:
    account.failed_logins = (account.failed_logins or 0) + 1
    if account.failed_logins < MAX_FAILED_LOGINS:
        return "wrong password"
    account.failed_logins = 0
    account.locked_until = now + LOCKOUT
    return f"wrong password; locked for {LOCKOUT.seconds // 60} minutes"


def agent_for_token(session: Session, token: str | None, now: dt.datetime | None = None) -> Agent | None:
    """Who holds this cookie token, if the console session is current and the account active;
    it only reads, so every page view can look it up without the write lock."""
    if not token:
        return None
    now = now or utc_now()
    row = session.execute(
        select(AgentSession, AgentAccount)
        .join(AgentAccount, AgentSession.account_id == AgentAccount.id)
        .where(
            AgentSession.token_hash == token_hash(token),
            AgentSession.ended_at.is_(None),
            AgentSession.expires_at > now,
            AgentAccount.active.is_(True),
        )
    ).first()
    if row is None:
        return None
    console_session, account = row
    return Agent(account.id, account.username, account.role, console_session.id, console_session.csrf_token)


def csrf_matches(agent: Agent, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(agent.csrf_token.encode(), str(submitted).encode())


def log_out(
    session: Session, agent: Agent, settings: Settings | None = None, now: dt.datetime | None = None
) -> None:
    """Ends the agent's console session (once) and audits it."""
    settings = settings or get_settings()
    console_session = session.get(AgentSession, agent.session_id)
    if console_session is not None and console_session.ended_at is None:
        console_session.ended_at = now or utc_now()
        audit.record(session, actor=agent.username, action=audit.CONSOLE_LOGOUT, at=settings.now(),
                     detail=f"console session {console_session.id}")


def refund_limit_of(session: Session, account_id: int) -> Decimal | None:
    """The account's own limit as the database has it now (None: no such active account)."""
    account = session.get(AgentAccount, account_id)
    return account.refund_limit if account is not None and account.active else None


@dataclass(frozen=True)
class Named:
    """An active console account looked up by name (the terminal's `--agent`)."""

    username: str
    role: str
    refund_limit: Decimal


def active_account(session: Session, username: str) -> Named | None:
    """The active account called `username` with its own limit from the database, else None."""
    account = session.execute(
        select(AgentAccount).where(AgentAccount.username == (username or "").strip().lower())
    ).scalar_one_or_none()
    if account is None or not account.active:
        return None
    return Named(account.username, account.role, account.refund_limit)


def active_usernames(session: Session) -> list[str]:
    """Who a ticket can be assigned to: every active console account, by name."""
    return list(session.execute(
        select(AgentAccount.username).where(AgentAccount.active.is_(True)).order_by(AgentAccount.username)
    ).scalars())
