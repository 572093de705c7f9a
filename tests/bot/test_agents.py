"""Console accounts: hashed passwords, expiring sessions, each person's own refund limit, and
the audit log of what they did."""
from __future__ import annotations

import dataclasses
import datetime as dt
import io
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.cli.agents import add_command, reset_password_command
from bot.money import audit
from bot.store.engine import Store
from bot.store.models import AgentAccount, AgentSession, AuditEntry, HandoffTicket, ShopperNotice
from bot.support import accounts as agents, desk as agent_desk, shopper_notices
from tests.bot.ladder_fixtures import refund_ticket

PASSWORD = "a long enough secret"


def logged(store, **where) -> list[tuple[str, str]]:
    with store.session() as s:
        query = select(AuditEntry.actor, AuditEntry.action).order_by(AuditEntry.id)
        for column, value in where.items():
            query = query.where(getattr(AuditEntry, column) == value)
        return [tuple(row) for row in s.execute(query)]


def account(store, settings, username="dana", role="agent", limit=None):
    limit = settings.agent_refund_limit if limit is None else limit
    with store.session() as s:
        return agents.add_account(s, username, role, limit, PASSWORD, settings)


def log_in(store, username, password, settings, now=None):
    """As the console logs in: one writing unit of work (the session row, the audit entry)."""
    with store.session() as s:
        return agents.log_in(s, username, password, settings, now)


def agent_for(store, token, now=None):
    """As the console looks up a cookie on every page: one read-only unit of work."""
    with store.reading() as s:
        return agents.agent_for_token(s, token, now)


# ------------------------------------------------------------------ passwords


def test_a_password_is_stored_salted_and_verifies_only_itself():
    first, second = agents.hash_password(PASSWORD), agents.hash_password(PASSWORD)

    assert first != second  # a fresh salt each time
    assert PASSWORD not in first
    assert agents.verify_password(PASSWORD, first) and agents.verify_password(PASSWORD, second)
    assert not agents.verify_password(PASSWORD + "!", first)
    assert not agents.verify_password("", first)


@pytest.mark.parametrize("stored", ["", "plain-text", "md5$abc", "scrypt$1$2$3$zz$yy"])
def test_a_malformed_stored_hash_never_verifies(stored):
    assert not agents.verify_password(PASSWORD, stored)


# ------------------------------------------------------------------ accounts


def test_an_account_keeps_its_own_limit_and_is_audited(store, settings):
    account(store, settings, limit=Decimal("250"))

    with store.session() as s:
        row = s.execute(select(AgentAccount)).scalar_one()
        assert (row.username, row.role, row.refund_limit) == ("dana", "agent", Decimal("250.00"))
        assert agents.verify_password(PASSWORD, row.password_hash)
    assert logged(store) == [("system", audit.AGENT_ACCOUNT_ADDED)]


@pytest.mark.parametrize(
    "username, role, limit, password, complaint",
    [
        ("x", "agent", "10", PASSWORD, "usernames"),
        ("Dana Smith", "agent", "10", PASSWORD, "usernames"),
        ("dana", "boss", "10", PASSWORD, "role"),
        ("dana", "agent", "-1", PASSWORD, "zero or more"),
        ("dana", "agent", "lots", PASSWORD, "amount"),
        ("dana", "agent", "10", "short", "at least"),
    ],
)
def test_bad_account_details_are_refused_with_the_reason(store, settings, username, role, limit, password, complaint):
    with pytest.raises(agents.AccountError, match=complaint):
        with store.session() as s:
            agents.add_account(s, username, role, limit, password, settings)
    with store.session() as s:
        assert s.execute(select(AgentAccount)).first() is None


def test_a_username_is_taken_once(store, settings):
    account(store, settings)
    with pytest.raises(agents.AccountError, match="already"):
        account(store, settings, username="DANA")


def test_the_command_reads_the_password_from_stdin(store, settings):
    out = io.StringIO()
    code = add_command("lee", "supervisor", "5000", store=store, stdin=io.StringIO(PASSWORD + "\n"), out=out)

    assert code == 0 and "lee (supervisor) created, refund limit 5000.00" in out.getvalue()
    assert log_in(store, "lee", PASSWORD, settings) is not None
    assert add_command("lee", "agent", "1", store=store, stdin=io.StringIO(PASSWORD + "\n"), out=out) == 1


def test_the_demo_accounts_get_the_configured_limits_and_a_password_shown_once(store, settings):
    with store.session() as s:
        first = agents.ensure_demo_accounts(s, settings)
    with store.session() as s:
        again = agents.ensure_demo_accounts(s, settings)

    assert [(u, role, limit) for u, role, _, limit in first] == [(u, role, limit) for u, role, _, limit in again]
    assert [password for _, _, password, _ in again] == [None, None]
    limits = {role: limit for _, role, _, limit in first}
    assert limits == {"agent": settings.agent_refund_limit, "supervisor": settings.supervisor_refund_limit}
    for username, _, password, _ in first:
        assert log_in(store, username, password, settings) is not None


def test_each_install_gets_its_own_demo_passwords(store, settings, tmp_path):
    other = Store(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        other.create_schema()
        with store.session() as s:
            mine = [password for _, _, password, _ in agents.ensure_demo_accounts(s, settings)]
        with other.session() as s:
            theirs = [password for _, _, password, _ in agents.ensure_demo_accounts(s, settings)]
    finally:
        other.dispose()
    assert len(set(mine + theirs)) == 4
    assert all(len(password) >= agents.MIN_PASSWORD_LENGTH for password in mine)


def test_reset_password_lets_the_new_one_in_and_logs_out_the_old(store, settings):
    account(store, settings)
    old_login = log_in(store, "dana", PASSWORD, settings)

    code = reset_password_command("dana", store=store, stdin=io.StringIO("brand-new-pass\n"), out=io.StringIO())

    assert code == 0
    assert agent_for(store, old_login.token) is None
    assert log_in(store, "dana", PASSWORD, settings) is None
    assert log_in(store, "dana", "brand-new-pass", settings) is not None


def test_reset_password_of_an_unknown_account_says_so(store, settings):
    out = io.StringIO()
    assert reset_password_command("nobody", store=store, stdin=io.StringIO("brand-new-pass\n"), out=out) == 1
    assert "no account called nobody" in out.getvalue()


# ------------------------------------------------------------------ logins and sessions


def test_logging_in_stores_only_a_hash_of_the_token(store, settings):
    account(store, settings)

    login = log_in(store, "dana", PASSWORD, settings)

    with store.session() as s:
        row = s.execute(select(AgentSession)).scalar_one()
    assert row.token_hash == agents.token_hash(login.token) and login.token not in row.token_hash
    assert agent_for(store, login.token).username == "dana"
    assert logged(store)[-1] == ("dana", audit.CONSOLE_LOGIN)


@pytest.mark.parametrize("username, password, why", [
    ("dana", "wrong password!", "wrong password"),
    ("nobody", PASSWORD, "unknown account"),
])
def test_a_failed_login_gets_no_session_and_is_audited(store, settings, username, password, why):
    account(store, settings)

    assert log_in(store, username, password, settings) is None

    with store.session() as s:
        assert s.execute(select(AgentSession)).first() is None
        entry = s.execute(select(AuditEntry).order_by(AuditEntry.id.desc())).scalars().first()
        assert (entry.actor, entry.action, entry.detail) == (username, audit.CONSOLE_LOGIN_FAILED, why)


def test_an_inactive_account_cannot_log_in(store, settings):
    account(store, settings)
    with store.session() as s:
        s.execute(select(AgentAccount)).scalar_one().active = False
    assert log_in(store, "dana", PASSWORD, settings) is None


def test_a_session_expires_after_the_configured_minutes(store, settings):
    account(store, settings)
    start = dt.datetime(2026, 12, 1, 9, 0)
    login = log_in(store, "dana", PASSWORD, settings, now=start)
    lasts = dt.timedelta(minutes=settings.console_session_minutes)

    assert agent_for(store, login.token, now=start + lasts - dt.timedelta(seconds=1)) is not None
    assert agent_for(store, login.token, now=start + lasts) is None


def test_a_logged_out_or_unknown_token_is_nobody(store, settings):
    account(store, settings)
    login = log_in(store, "dana", PASSWORD, settings)

    with store.session() as s:
        agents.log_out(s, login.agent, settings)

    assert agent_for(store, login.token) is None
    assert agent_for(store, "made-up") is None
    assert agent_for(store, None) is None
    assert logged(store)[-1] == ("dana", audit.CONSOLE_LOGOUT)


def test_the_csrf_token_belongs_to_the_session(store, settings):
    account(store, settings)
    mine = log_in(store, "dana", PASSWORD, settings).agent
    other = log_in(store, "dana", PASSWORD, settings).agent

    assert agents.csrf_matches(mine, mine.csrf_token)
    assert not agents.csrf_matches(mine, other.csrf_token)
    assert not agents.csrf_matches(mine, "") and not agents.csrf_matches(mine, None)


# ------------------------------------------------------------------ each person's own limit


def approve_as(store, settings, username, ticket_id):
    with store.reading() as s:
        who = s.execute(select(AgentAccount).where(AgentAccount.username == username)).scalar_one()
        limit = agents.refund_limit_of(s, who.id)
    return agent_desk.approve(store, ticket_id, username, limit, settings)


def test_an_agent_cannot_approve_above_their_own_limit_and_it_goes_to_a_supervisor(
    store, settings, conversation_id, dead_rasa_url
):
    settings = dataclasses.replace(settings, rasa_url=dead_rasa_url)
    account(store, settings)
    account(store, settings, "sam", "supervisor", settings.supervisor_refund_limit)
    ticket_id = refund_ticket(store, settings, conversation_id, settings.agent_refund_limit + Decimal("0.01"))

    refused = approve_as(store, settings, "dana", ticket_id)

    assert (refused.ok, refused.kind) == (False, "needs_supervisor")
    with store.session() as s:
        refund = s.get(HandoffTicket, ticket_id).refund
        assert (refund.status, refund.required_level) == ("pending_review", "supervisor")
        assert s.execute(select(ShopperNotice)).first() is None

    approved = approve_as(store, settings, "sam", ticket_id)

    assert approved.ok and approved.delivered is False  # Rasa is down: decided, shopper not told yet
    with store.session() as s:
        refund = s.get(HandoffTicket, ticket_id).refund
        assert (refund.status, refund.decided_by) == ("approved", "sam")
        notice = s.execute(select(ShopperNotice)).scalar_one()
        assert (notice.kind, notice.amount, notice.delivered_at) == ("refund_approved", refund.amount, None)
    assert logged(store, refund_id=refund.id)[-2:] == [
        ("dana", audit.REFUND_APPROVAL_REFUSED), ("sam", audit.REFUND_APPROVED),
    ]


def test_a_lower_personal_limit_wins_over_the_ladder(store, settings, conversation_id):
    account(store, settings, "junior", limit=settings.bot_refund_limit + 10)
    ticket_id = refund_ticket(store, settings, conversation_id, settings.bot_refund_limit + 20)

    assert approve_as(store, settings, "junior", ticket_id).kind == "needs_supervisor"


def test_an_agent_forwards_a_refund_without_deciding_it(store, settings, conversation_id):
    ticket_id = refund_ticket(store, settings, conversation_id, settings.bot_refund_limit + 1)

    outcome = agent_desk.forward(store, ticket_id, "dana", "regular customer", settings)

    assert outcome.ok
    with store.session() as s:
        refund = s.get(HandoffTicket, ticket_id).refund
        assert (refund.status, refund.required_level) == ("pending_review", "supervisor")
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == audit.REFUND_FORWARDED)).scalar_one()
        assert (entry.actor, entry.refund_id) == ("dana", refund.id) and "regular customer" in entry.detail


def test_a_denial_needs_a_note_for_the_shopper(store, settings, conversation_id, dead_rasa_url):
    settings = dataclasses.replace(settings, rasa_url=dead_rasa_url)
    ticket_id = refund_ticket(store, settings, conversation_id, settings.bot_refund_limit + 1)

    assert agent_desk.deny(store, ticket_id, "dana", "  ", settings).kind == "no_note"
    assert agent_desk.deny(store, ticket_id, "dana", "used item", settings).ok

    with store.session() as s:
        notice = s.execute(select(ShopperNotice)).scalar_one()
        assert (notice.kind, notice.note, notice.actor) == ("refund_denied", "used item", "dana")


def test_a_notice_is_said_once(store, settings, conversation_id, dead_rasa_url):
    settings = dataclasses.replace(settings, rasa_url=dead_rasa_url)
    ticket_id = refund_ticket(store, settings, conversation_id, settings.bot_refund_limit + 1)
    agent_desk.approve(store, ticket_id, "dana", settings.agent_refund_limit, settings)

    with store.session() as s:
        first = shopper_notices.take_undelivered(s, conversation_id, settings.now())
    with store.session() as s:
        second = shopper_notices.take_undelivered(s, conversation_id, settings.now())

    assert [n.kind for n in first] == ["refund_approved"] and second == []


def test_claiming_is_audited_and_a_colleagues_ticket_cannot_be_taken(store, settings, conversation_id):
    ticket_id = refund_ticket(store, settings, conversation_id, settings.bot_refund_limit + 1)

    assert agent_desk.claim(store, ticket_id, "dana", settings).kind == "claimed"
    assert agent_desk.claim(store, ticket_id, "dana", settings).kind == "already_yours"
    taken = agent_desk.claim(store, ticket_id, "lee", settings)

    assert (taken.ok, taken.kind) == (False, "taken") and "dana" in taken.message
    assert logged(store, ticket_id=ticket_id)[-1] == ("dana", audit.TICKET_CLAIMED)


def test_repeated_wrong_passwords_lock_the_account_for_a_while(store, settings):
    account(store, settings)
    start = agents.utc_now()
    for attempt in range(agents.MAX_FAILED_LOGINS):
        assert log_in(store, "dana", f"guess number {attempt}", settings, now=start) is None
    # Locked: even the right password is refused until the lock-out is over.
    assert log_in(store, "dana", PASSWORD, settings, now=start + agents.LOCKOUT / 2) is None
    with store.session() as s:
        assert s.execute(select(AgentSession)).first() is None
        details = s.execute(select(AuditEntry.detail).where(AuditEntry.action == audit.CONSOLE_LOGIN_FAILED)).scalars().all()
    assert "locked for" in details[agents.MAX_FAILED_LOGINS - 1] and details[-1].startswith("locked until")
    assert log_in(store, "dana", PASSWORD, settings, now=start + agents.LOCKOUT) is not None


def test_a_good_login_forgives_earlier_typos(store, settings):
    account(store, settings)
    for _ in range(agents.MAX_FAILED_LOGINS - 1):
        log_in(store, "dana", "typo typo", settings)
    assert log_in(store, "dana", PASSWORD, settings) is not None
    for _ in range(agents.MAX_FAILED_LOGINS - 1):
        log_in(store, "dana", "typo typo", settings)
    assert log_in(store, "dana", PASSWORD, settings) is not None
