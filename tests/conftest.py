"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL is the one at TEST_POSTGRES_URL (default: the local server, database tinsel_test,
created on first use). Unreachable, its half of the suite is skipped on a laptop and fails
under CI=true, so CI can never go green without having tested PostgreSQL.
"""
from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from bot.settings import load_settings
from bot.store.engine import Store, create_database_if_missing
from tests import servers  # noqa: F401  (gives this run its own API and action server secrets)

if TYPE_CHECKING:
    from tests.servers import RasaServer

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/tinsel_test"
)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    try:
        create_database_if_missing(POSTGRES_URL)
    except sa.exc.OperationalError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL unreachable at {POSTGRES_URL} under CI: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_URL}: {exc}")
    return POSTGRES_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tinsel-test.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(database_url) -> Store:
    """An empty schema on a fresh store; dropped again after the test."""
    s = Store(database_url)
    s.drop_schema()
    s.create_schema()
    yield s
    s.drop_schema()
    s.dispose()


@pytest.fixture
def settings():
    """Settings as the running assistant reads them (.env and environment)."""
    return load_settings()


@pytest.fixture
def tracker_table(store):
    """Rasa's `events` table in the test database, as Rasa's SQL tracker store creates it."""
    from bot.rasa_link import rasa_api

    rasa_api.tracker_events.create(store.engine)
    yield rasa_api.tracker_events
    rasa_api.tracker_events.drop(store.engine)


@pytest.fixture
def dead_rasa_url() -> str:
    """An address where no Rasa server listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def conversation_id() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory) -> Store:
    """A seeded demo store on SQLite, shared by the conversation tests."""
    from tests.servers import seeded_demo_store

    demo = seeded_demo_store(tmp_path_factory.mktemp("demo") / "demo-store.db")
    yield demo
    demo.dispose()


@pytest.fixture(scope="session")
def assistant(demo_store, tmp_path_factory):
    """The trained model with a real action server on the demo store."""
    from tests.assistant import ActionServer, Assistant
    from tests.servers import require_model

    require_model()
    server = ActionServer(demo_store.url, tmp_path_factory.mktemp("actions") / "actions.log")
    bot = Assistant(server.url)
    yield bot
    bot.close()
    server.stop()


# --- the whole stack as `make run` starts it ---------------------------------------------------


@dataclass
class RunningStack:
    """A seeded SQLite demo store, a real action server, a real Rasa server (--enable-api,
    REST + socket.io from credentials.yml, tracker store in the same database) and the web chat
    page served against it."""

    rasa_url: str
    database_url: str
    store: Store
    webchat_url: str
    action_server_url: str
    rasa: "RasaServer"
    workdir: Path


@pytest.fixture(scope="session")
def running_stack(tmp_path_factory):
    from tests.servers import (ROOT, ActionServer, RasaServer, WebchatServer, free_port, require_model,
                               seeded_demo_store)

    require_model()
    workdir = tmp_path_factory.mktemp("stack")
    store = seeded_demo_store(workdir / "demo-store.db")
    servers = []
    try:
        actions = ActionServer(store.url, workdir / "actions.log")
        servers.append(actions)
        webchat_port = free_port()
        rasa = RasaServer(database_url=store.url, action_server_url=actions.url,
                          credentials=ROOT / "credentials.yml", log_path=workdir / "rasa.log",
                          # Libraries at INFO: Sanic's access log would print request URLs, which
                          # carry the API token; tests/security checks no log shows it.
                          env={**os.environ, "WEBCHAT_ORIGIN": f"http://127.0.0.1:{webchat_port}",
                               "LOG_LEVEL_LIBRARIES": "INFO"})
        servers.append(rasa)
        webchat = WebchatServer(rasa.url, workdir / "webchat.log", port=webchat_port)
        servers.append(webchat)
        yield RunningStack(rasa_url=rasa.url, database_url=store.url, store=store, webchat_url=webchat.url,
                           action_server_url=actions.url, rasa=rasa, workdir=workdir)
    finally:
        for server in reversed(servers):
            server.stop()
        store.dispose()
