"""A stack of its own for fault tests: they kill, stop and restart its parts, so they must not
share the session's `running_stack`. One Rasa server serves the whole module; the action server
behind it is restarted on the same port whenever a test needs it back."""
from __future__ import annotations

import os
import signal
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from bot.store.models import Order
from tests.servers import ROOT, ActionServer, RasaServer, free_port, require_model, seeded_demo_store


def shipped_order(store) -> tuple[str, str]:
    """A shipped demo order's number and its shopper's email."""
    with store.session() as s:
        order = s.execute(select(Order).where(Order.status == "shipped").order_by(Order.id)).scalars().first()
        return order.number, order.customer.email


@dataclass
class FaultStack:
    """Rasa in front of a replaceable action server on a fixed port."""

    workdir: Path
    store: object
    action_port: int
    actions: ActionServer
    rasa: RasaServer | None
    parser_process: str = "0"  # PARSER_PROCESS for its Rasa server

    @property
    def action_server_url(self) -> str:
        return f"http://127.0.0.1:{self.action_port}/webhook"

    def kill_actions(self) -> None:
        """SIGKILL: the action server dies mid-conversation without a goodbye."""
        self.actions.process.kill()
        self.actions.stop()

    def start_actions(self, database_url: str | None = None) -> ActionServer:
        self.actions = ActionServer(database_url or self.store.url, self.workdir / f"actions-{uuid.uuid4().hex[:6]}.log",
                                    port=self.action_port)
        return self.actions

    def pause_actions(self) -> None:
        self.actions.process.send_signal(signal.SIGSTOP)

    def resume_actions(self) -> None:
        self.actions.process.send_signal(signal.SIGCONT)


@pytest.fixture(scope="module")
def fault_stack(request, tmp_path_factory):
    """Its Rasa server parses in-process (PARSER_PROCESS=0: no parser process to wait for at
    start-up) unless the module sets PARSER_PROCESS = "1", as the one testing that process does."""
    require_model()
    workdir = tmp_path_factory.mktemp("faults")
    store = seeded_demo_store(workdir / "demo-store.db")
    action_port = free_port()
    stack = FaultStack(workdir, store, action_port, ActionServer(store.url, workdir / "actions.log", port=action_port),
                       rasa=None, parser_process=getattr(request.module, "PARSER_PROCESS", "0"))
    try:
        stack.rasa = start_rasa(stack)
        yield stack
    finally:
        if stack.rasa is not None:
            stack.rasa.stop()
        stack.actions.stop()
        store.dispose()


def start_rasa(stack: FaultStack) -> RasaServer:
    """`rasa run` on the stack's store (also its tracker store), custom actions on the fixed port."""
    return RasaServer(database_url=stack.store.url, action_server_url=stack.action_server_url,
                      credentials=ROOT / "credentials.yml", log_path=stack.workdir / f"rasa-{uuid.uuid4().hex[:6]}.log",
                      env={**os.environ, "PARSER_PROCESS": stack.parser_process})


@pytest.fixture
def healthy_actions(fault_stack):
    """Each test starts (and leaves) a running, unpaused action server on the store."""
    if fault_stack.actions.process.poll() is not None:
        fault_stack.start_actions()
    yield fault_stack
    if fault_stack.actions.process.poll() is None:
        fault_stack.resume_actions()


def scratch_postgres_url(base_url: str) -> str:
    return sa.engine.make_url(base_url).set(database=f"tinsel_faults_{uuid.uuid4().hex[:8]}").render_as_string(
        hide_password=False)


def admin_engine(url: str):
    return sa.create_engine(sa.engine.make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def set_connections_allowed(url: str, allowed: bool) -> None:
    """ALLOW_CONNECTIONS on the scratch database; refusing also ends the open connections."""
    name = sa.engine.make_url(url).database
    engine = admin_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"true" if allowed else "false"}'))
            if not allowed:
                conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                             {"name": name})
    finally:
        engine.dispose()


@pytest.fixture
def scratch_postgres_store(postgres_url):
    """A demo store in a PostgreSQL database of its own, dropped afterwards."""
    from bot.settings import load_settings
    from bot.order_sources.demo import build_demo_store
    from bot.store.engine import Store

    url = scratch_postgres_url(postgres_url)
    name = sa.engine.make_url(url).database
    engine = admin_engine(url)
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    store = Store(url)
    try:
        store.create_schema()
        build_demo_store(store, load_settings())
        yield store
    finally:
        store.dispose()
        set_connections_allowed(url, False)
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        engine.dispose()
