"""Finding 5 of issue #15: demo console logins with passwords written in the code (and in the
README) worked on every install, including a real store's PostgreSQL. Tried again as an operator
and a stranger would: `python -m bot seed` run for real, the console logged into over HTTP."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from bot.settings import load_settings
from bot.store.engine import Store
from bot.store.models import AgentAccount, Order
from tests.console.conftest import ROOT, Client, start_console

OLD_DEMO_LOGINS = [("agent.riley", "riley-demo-2026"), ("supervisor.morgan", "morgan-demo-2026")]


def seed(database_url: str, *flags: str) -> str:
    """`python -m bot seed` in its own process, as an operator runs it."""
    result = subprocess.run(
        [sys.executable, "-m", "bot", "seed", *flags], env={**os.environ, "DATABASE_URL": database_url},
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def scratch_postgres(postgres_url):
    """A new, uniquely named PostgreSQL database, dropped afterwards."""
    name = f"tinsel_seed_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(sa.engine.make_url(postgres_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_seeding_a_postgresql_database_creates_the_tables_but_no_accounts_and_no_orders(scratch_postgres):
    out = seed(scratch_postgres)

    assert "No demo orders and no console accounts" in out
    store = Store(scratch_postgres)
    try:
        with store.session() as s:
            assert s.execute(select(func.count(AgentAccount.id))).scalar_one() == 0
            assert s.execute(select(func.count(Order.id))).scalar_one() == 0
    finally:
        store.dispose()


@pytest.fixture
def demo_console(tmp_path):
    """A freshly seeded SQLite demo store, its console served over HTTP, and what the seed printed."""
    url = f"sqlite:///{tmp_path / 'demo-store.db'}"
    out = seed(url, "--demo")
    store = Store(url)
    server = start_console(store, load_settings(), "http://127.0.0.1:9")
    yield server, out
    server.stop()
    store.dispose()


@pytest.mark.parametrize("username, old_password", OLD_DEMO_LOGINS)
def test_the_old_published_demo_passwords_do_not_open_a_fresh_demo_console(demo_console, username, old_password):
    server, printed = demo_console
    stranger = Client(server.url)

    page = stranger.log_in(username, old_password)

    assert page.status == 401
    assert stranger.get("/").status == 303  # still sent to the login page
    # The account exists and opens with the password printed once by the seed.
    own_password = re.search(rf"{re.escape(username)} / (\S+) ", printed).group(1)
    operator = Client(server.url)
    assert operator.log_in(username, own_password).status == 303
    assert operator.get("/").status == 200
