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

from bot.settings import get_settings, load_settings
from bot.store.engine import Store, create_database_if_missing
from tests import servers

# Every setting at its committed default plus this run's own secrets, in this process and every
# server it starts: the developer's `.env` (and settings exported in their shell) change nothing
# here (tests/test_settings_isolation.py). `make run` still reads `.env`.
servers.use_test_environment()

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
    """An empty schema on a fresh store; dropped again after the test. Rasa's tracker table too,
    which is not the store's schema but which a demo store fills (bot.support.demo_history)."""
    from bot.rasa_link import rasa_api

    s = Store(database_url)
    s.drop_schema()
    rasa_api.tracker_events.drop(s.engine, checkfirst=True)
    s.create_schema()
    yield s
    s.drop_schema()
    rasa_api.tracker_events.drop(s.engine, checkfirst=True)
    s.dispose()


@pytest.fixture
def settings():
    """The test run's settings: the committed defaults plus what the run and the test set in
    the environment (secrets, monkeypatch.setenv); never the developer's `.env`."""
    return load_settings(dict(os.environ))


# Fixtures of the shared demo stack, which runs on the store's date servers.stack_today().
STACK_FIXTURES = frozenset({"demo_store", "assistant", "running_stack"})


@pytest.fixture(scope="module", autouse=True)
def the_stacks_date(request):
    """In a module with tests on the shared demo stack, the tests and the module's own fixtures
    read the stack's date from their settings too (TINSEL_TODAY), so what they expect is computed
    for the day the store was seeded and runs on."""
    on_the_stack = any(getattr(item, "module", None) is request.module and not STACK_FIXTURES.isdisjoint(item.fixturenames)
                       for item in request.session.items)
    if not on_the_stack:
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TINSEL_TODAY", servers.stack_today().isoformat())
        get_settings.cache_clear()
        yield
    get_settings.cache_clear()


def stack_env(**extra: str) -> dict[str, str]:
    """The environment of the shared stack's servers: the test run's, on the stack's date."""
    return {**os.environ, "TINSEL_TODAY": servers.stack_today().isoformat(), **extra}


# Support hours under which the desk is always open (issue #19): for tests about a handoff while a
# person is there, which must not depend on the hour they run at.
DESK_ALWAYS_OPEN = {"SUPPORT_HOURS": "daily 12am-12am UTC", "HOLIDAY_SUPPORT_HOURS": "01-01=12am-12am UTC"}


@pytest.fixture
def desk_open(monkeypatch):
    """The desk open around the clock, for this test's settings and the actions' get_settings()."""
    for name, value in DESK_ALWAYS_OPEN.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield load_settings(dict(os.environ))
    get_settings.cache_clear()


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
    """A seeded demo store on SQLite, shared by the conversation tests, for servers.stack_today()."""
    from tests.servers import seeded_demo_store

    demo = seeded_demo_store(tmp_path_factory.mktemp("demo") / "demo-store.db", today=servers.stack_today())
    yield demo
    demo.dispose()


@pytest.fixture(scope="session")
def assistant(demo_store, tmp_path_factory):
    """The trained model with a real action server on the demo store."""
    from tests.assistant import ActionServer, Assistant
    from tests.servers import require_model

    require_model()
    server = ActionServer(demo_store.url, tmp_path_factory.mktemp("actions") / "actions.log", env=stack_env())
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
                               seeded_demo_store, stack_today)

    require_model()
    workdir = tmp_path_factory.mktemp("stack")
    store = seeded_demo_store(workdir / "demo-store.db", today=stack_today())
    servers = []
    try:
        actions = ActionServer(store.url, workdir / "actions.log", env=stack_env())
        servers.append(actions)
        webchat_port = free_port()
        rasa = RasaServer(database_url=store.url, action_server_url=actions.url,
                          credentials=ROOT / "credentials.yml", log_path=workdir / "rasa.log",
                          # Libraries at INFO: Sanic's access log would print request URLs, which
                          # carry the API token; tests/security checks no log shows it.
                          env=stack_env(WEBCHAT_ORIGIN=f"http://127.0.0.1:{webchat_port}",
                                        LOG_LEVEL_LIBRARIES="INFO"))
        servers.append(rasa)
        webchat = WebchatServer(rasa.url, workdir / "webchat.log", port=webchat_port, env=stack_env())
        servers.append(webchat)
        yield RunningStack(rasa_url=rasa.url, database_url=store.url, store=store, webchat_url=webchat.url,
                           action_server_url=actions.url, rasa=rasa, workdir=workdir)
    finally:
        for server in reversed(servers):
            server.stop()
        store.dispose()
