"""Tinsel's servers as subprocesses, the way `make run` starts them, for tests and benchmarks:
each on a free port, waited for until it answers, or an error that names its log."""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = Path(os.environ.get("TINSEL_MODEL", ROOT / "models" / "tinsel.tar.gz"))
VENV_BIN = Path(sys.executable).parent


def use_test_secrets() -> None:
    """Fresh secrets for this test or benchmark process and the servers it starts, so nothing
    reads (or needs) the developer's own `.env`: set in the environment, they win over it."""
    for name in ("TINSEL_API_TOKEN", "ACTION_SERVER_TOKEN"):
        os.environ[name] = f"test-{secrets.token_urlsafe(24)}"
    from bot.settings import get_settings

    get_settings.cache_clear()


use_test_secrets()


def settings_defaults() -> dict[str, str]:
    """Every variable `load_settings` reads, with the committed default it falls back to ("" where
    the default is "unset"). Recorded from load_settings itself, so a new setting is covered too."""
    from bot.settings import load_settings

    defaults: dict[str, str] = {}

    class Recorder(dict):
        def get(self, name, default=None):
            defaults[name] = "" if default is None else str(default)
            return default

    load_settings(Recorder())
    return defaults


def use_test_environment() -> None:
    """The test run's environment (tests/conftest.py): every setting at its committed default,
    plus fresh secrets. Set in the environment, they win over any `.env` (load_settings never
    lets `.env` override the environment) here and in every server the tests start, so neither
    the developer's `.env` nor settings exported in their shell change what the tests see.
    Tests and fixtures set what they need on top (monkeypatch.setenv, a server's `env`)."""
    os.environ.update(settings_defaults())
    use_test_secrets()


def api_token() -> str:
    return os.environ["TINSEL_API_TOKEN"]


def action_server_headers() -> dict[str, str]:
    """What Rasa sends the action server (endpoints.yml), for in-process agents."""
    return {"Authorization": f"Bearer {os.environ['ACTION_SERVER_TOKEN']}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """A subprocess serving HTTP on 127.0.0.1:`port`; ready once `ready_path` answers."""

    name = "server"
    ready_path = "/health"

    def __init__(self, command: list[str], *, port: int, env: dict[str, str], log_path: Path,
                 ready_seconds: float = 120):
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.env = env
        self.log_path = Path(log_path)
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        try:
            self._wait_until_ready(ready_seconds)
        except Exception:
            self.stop()
            raise

    def is_ready(self, body: bytes) -> bool:
        return True

    def _wait_until_ready(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.process.returncode}); see {self.log_path}")
            try:
                with urllib.request.urlopen(self.base_url + self.ready_path, timeout=2) as r:
                    if self.is_ready(r.read()):
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} not ready after {seconds:.0f}s; see {self.log_path}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


class ActionServer(ServerProcess):
    """`rasa run actions` on the store at `database_url`."""

    name = "action server"

    def __init__(self, database_url: str, log_path: Path, port: int | None = None,
                 env: dict[str, str] | None = None):
        port = port or free_port()
        super().__init__(
            [sys.executable, "-m", "actions.server", "--port", str(port)],
            port=port, env={**(env or os.environ), "DATABASE_URL": database_url}, log_path=log_path,
        )
        self.url = f"{self.base_url}/webhook"


def rasa_env(env: dict[str, str]) -> dict[str, str]:
    """The variables endpoints.yml reads, from `python -m bot rasa-env` as the Makefile runs it."""
    output = subprocess.run([sys.executable, "-m", "bot", "rasa-env"], cwd=ROOT, env=env, check=True,
                            capture_output=True, text=True).stdout
    exports = (shlex.split(line)[1] for line in output.splitlines() if line.startswith("export "))
    return dict(item.split("=", 1) for item in exports)


def rasa_credentials(env: dict[str, str], path: Path) -> Path:
    """`python -m bot rasa-credentials > path`, as `make run` writes .rasa/credentials.yml."""
    result = subprocess.run([sys.executable, "-m", "bot", "rasa-credentials"], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"python -m bot rasa-credentials failed: {result.stderr}")
    path.write_text(result.stdout)
    return path


class RasaServer(ServerProcess):
    """`rasa run --enable-api` on the trained model with the project's endpoints.yml: custom
    actions at `action_server_url`, conversations in the store's database."""

    name = "rasa run"
    ready_path = "/status"

    def __init__(self, *, database_url: str, action_server_url: str, credentials: Path, log_path: Path,
                 env: dict[str, str] | None = None, model: Path = MODEL, port: int | None = None):
        port = port or free_port()
        env = {**(env or os.environ), "DATABASE_URL": database_url, "ACTION_SERVER_URL": action_server_url}
        env.update(rasa_env(env))
        self.ready_path = "/status?" + urllib.parse.urlencode({"token": env["TINSEL_API_TOKEN"]})
        # As the Makefile starts it: the API behind the token, CORS for the web chat page only.
        super().__init__(
            [str(VENV_BIN / "rasa"), "run", "--model", str(model), "--enable-api",
             "--auth-token", env["TINSEL_API_TOKEN"], "--cors", env["WEBCHAT_ORIGIN"],
             "--port", str(port), "--credentials", str(credentials), "--endpoints", str(ROOT / "endpoints.yml")],
            port=port, env=env, log_path=log_path, ready_seconds=300,
        )
        self.url = self.base_url
        self.api_token = env["TINSEL_API_TOKEN"]

    def is_ready(self, body: bytes) -> bool:
        return bool(json.loads(body).get("model_id"))

    def say(self, sender: str, text: str) -> str:
        """One message over the REST channel; everything the bot answered, joined by newlines."""
        request = urllib.request.Request(
            f"{self.url}/webhooks/rest/webhook", data=json.dumps({"sender": sender, "message": text}).encode(),
            headers={"Content-Type": "application/json"}, method="POST",
        )
        with urllib.request.urlopen(request, timeout=120) as r:
            return "\n".join(m.get("text", "") for m in json.loads(r.read()) if m.get("text"))


class WebchatServer(ServerProcess):
    """`python -m bot webchat`: the shoppers' chat page, talking to Rasa at `rasa_url`."""

    name = "web chat server"

    def __init__(self, rasa_url: str, log_path: Path, port: int | None = None,
                 env: dict[str, str] | None = None):
        port = port or free_port()
        super().__init__(
            [sys.executable, "-m", "bot", "webchat", "--host", "127.0.0.1", "--port", str(port)],
            port=port, env={**(env or os.environ), "RASA_URL": rasa_url}, log_path=log_path,
        )
        self.url = f"{self.base_url}/"


class RedisServer:
    """redis-server on a port of its own, keeping nothing on disk."""

    def __init__(self, port: int | None = None):
        port = self.port = port or free_port()
        self.process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                         "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
        import redis

        self.url = f"redis://127.0.0.1:{port}/1"
        client = redis.Redis(port=port, socket_timeout=1)
        for _ in range(50):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait(timeout=10)


def require_model() -> None:
    """Skips a test that needs the trained model on a laptop without one; fails it under CI."""
    import pytest

    if MODEL.exists():
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{MODEL} is missing under CI: `make test` trains it first")
    pytest.skip(f"{MODEL} not trained yet (make train)")


def seeded_demo_store(path: Path, today: dt.date | None = None):
    """A fresh SQLite demo store at `path`, seeded as `python -m bot seed` does (for the store's
    date `today`, default the settings' own)."""
    from bot.settings import load_settings
    from bot.order_sources.demo import build_demo_store
    from bot.store.engine import Store

    settings = load_settings()
    if today is not None:
        settings = dataclasses.replace(settings, today_override=today)
    store = Store(f"sqlite:///{path}")
    store.create_schema()
    build_demo_store(store, settings)
    return store


def personal_touch_order(store, settings) -> tuple[str, str, str] | None:
    """The first shipped or delivered demo order whose customer is due a personal touch (a
    birthday offer, refill reminder or first-order thanks) on the settings' date: its number,
    email and the touch's text."""
    from sqlalchemy import select

    from bot.engagement import touches
    from bot.store.models import Order

    with store.session() as s:
        query = select(Order).where(Order.status.in_(("shipped", "delivered"))).order_by(Order.id)
        for order in s.execute(query).scalars():
            touch = touches.personal_touch(s, order.customer, touches.TouchContext(), settings.today(), settings)
            if touch is not None and touch.kind != "complement":
                return order.number, order.customer.email, touch.text
    return None


@functools.lru_cache(maxsize=1)
def stack_today() -> dt.date:
    """The store's date (TINSEL_TODAY) the shared demo stack is seeded and runs on
    (tests/conftest.py), so its conversation tests pass on every day of the year: see
    stack_date_for, from the test run's settings and the real date."""
    from bot.settings import load_settings

    return stack_date_for(load_settings(dict(os.environ, TINSEL_TODAY="")))


def stack_date_for(settings) -> dt.date:
    """The day before the holiday sale that is on or comes next after `settings.today()`
    (HOLIDAY_SALE_START; a shopper can still ask to be reminded of it), or the nearest day
    before that on which a demo customer is due a personal touch (from a demo store seeded for
    that day)."""
    from bot.engagement import holiday_calendar
    from bot.order_sources.demo import build_demo_store
    from bot.store.engine import Store

    day = holiday_calendar.holiday_sale(settings.today(), settings).start - dt.timedelta(days=1)
    for _ in range(366):
        on_day = dataclasses.replace(settings, today_override=day)
        if holiday_calendar.holiday_sale(day, on_day).status == "upcoming":
            store = Store("sqlite://")
            try:
                store.create_schema()
                build_demo_store(store, on_day)
                if personal_touch_order(store, on_day) is not None:
                    return day
            finally:
                store.dispose()
        day -= dt.timedelta(days=1)
    raise RuntimeError("no day in the year before the holiday sale has a demo customer due a personal touch")
