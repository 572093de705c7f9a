"""The console served for real (in a thread, on a free port) against the test's store, with a
stand-in Rasa server that runs the bot's own action when the console asks it to."""
from __future__ import annotations

import asyncio
import html
import json
import re
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sanic import Sanic

import bot.store.engine
from actions.agent_decisions import ActionTellAgentDecision
from actions.csat import ActionAskCsat
from bot.support import accounts as agents
from bot.web.console import create_app

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"

# Sanic 21.12 rewrites its protocol class when an app starts; test mode lets it do that again
# for every app a test starts in this process (what the sanic-testing package sets).
Sanic.test_mode = True


class ConsoleServer:
    def __init__(self, app):
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._app = app
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._ready.wait(20):
            raise RuntimeError("the console did not start")

    def _run(self):
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())

    async def _serve(self):
        self._serving = asyncio.current_task()
        self._server = await self._app.create_server(sock=self._sock, return_asyncio_server=True, access_log=False)
        await self._server.startup()
        self._ready.set()
        try:
            await self._server.serve_forever()
        except asyncio.CancelledError:
            pass

    def stop(self):
        async def close():
            self._server.close()
            await self._server.wait_closed()
            self._serving.cancel()  # serve_forever does not return on close: the thread would wait 10 s

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._thread.join(10)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Page:
    status: int
    headers: dict
    body: str

    @property
    def location(self) -> str | None:
        return self.headers.get("location")

    def csrf(self) -> str:
        return html.unescape(re.search(r'name="csrf" value="([^"]+)"', self.body).group(1))

    def text(self) -> str:
        """The page's words, without tags, for asserting what an agent reads."""
        return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", self.body)))


@dataclass
class Client:
    """A browser-like HTTP client: keeps the session cookie, shows redirects instead of following."""

    base: str
    cookies: dict = field(default_factory=dict)

    def _open(self, path: str, data: dict | None = None) -> Page:
        request = urllib.request.Request(
            self.base + path,
            data=urllib.parse.urlencode(data).encode() if data is not None else None,
            method="POST" if data is not None else "GET",
        )
        if self.cookies:
            request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            resp = opener.open(request, timeout=30)
        except urllib.error.HTTPError as exc:
            resp = exc
        headers = {k.lower(): v for k, v in resp.headers.items()}
        for raw in resp.headers.get_all("Set-Cookie") or []:
            name, _, rest = raw.partition("=")
            value = rest.split(";")[0]
            if "max-age=0" in raw.lower() or not value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return Page(resp.status if hasattr(resp, "status") else resp.code, headers, resp.read().decode())

    def get(self, path: str) -> Page:
        return self._open(path)

    def post(self, path: str, data: dict | None = None) -> Page:
        return self._open(path, data or {})

    def log_in(self, username: str, password: str = PASSWORD) -> Page:
        """Opens the login page and submits its form."""
        token = re.search(r'name="login_token" value="([^"]+)"', self.get("/login").body).group(1)
        return self.post("/login", {"username": username, "password": password, "login_token": html.unescape(token)})

    def act(self, ticket_id: int, action: str, **fields) -> Page:
        """Posts one of the ticket page's forms, with the CSRF token the page carries."""
        token = self.get(f"/tickets/{ticket_id}").csrf()
        return self.post(f"/tickets/{ticket_id}/{action}", {"csrf": token, **fields})


@pytest.fixture(scope="session")
def domain() -> dict:
    from rasa.shared.core.domain import Domain

    return Domain.load(str(ROOT / "domain")).as_dict()


# The bot's actions the console has Rasa run (POST /conversations/<id>/execute).
BOT_ACTIONS = {"action_tell_agent_decision": ActionTellAgentDecision, "action_ask_csat": ActionAskCsat}


@pytest.fixture
def fake_rasa(store, domain, monkeypatch):
    """Rasa's HTTP API as the console uses it. /execute runs the bot's real action on the test's
    store, as Rasa and the action server would; `said` collects what the shopper was shown."""
    monkeypatch.setattr(bot.store.engine, "_store", store)

    @dataclass
    class Recorder:
        url: str = ""
        calls: list = field(default_factory=list)  # (path, query, body)
        said: list = field(default_factory=list)  # (conversation id, response name, values)
        paused_after_execute: bool = True  # False: as when Rasa started a new session first

    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            url = urllib.parse.urlsplit(self.path)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"null")
            recorder.calls.append((url.path, dict(urllib.parse.parse_qsl(url.query)), body))
            conversation = urllib.parse.unquote(url.path.split("/")[2])
            action = BOT_ACTIONS.get(body.get("name")) if url.path.endswith("/execute") else None
            if action is not None:
                dispatcher = CollectingDispatcher()
                tracker = Tracker(conversation, {}, {}, [], True, None, {}, "action_listen")
                action().run(dispatcher, tracker, domain)
                for message in dispatcher.messages:
                    values = {k: v for k, v in message.items() if k not in ("response", "text")}
                    recorder.said.append((conversation, message["response"], values))
            answer = {"tracker": {"paused": recorder.paused_after_execute}} if url.path.endswith("/execute") else {}
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps(answer).encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    recorder.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield recorder
    server.shutdown()
    server.server_close()


@pytest.fixture
def accounts(store, settings):
    """An agent with the configured agent limit and a supervisor with the supervisor limit."""
    with store.session() as s:
        agents.add_account(s, "dana", "agent", settings.agent_refund_limit, PASSWORD, settings)
        agents.add_account(s, "sam", "supervisor", settings.supervisor_refund_limit, PASSWORD, settings)
    return {"agent": "dana", "supervisor": "sam"}


def start_console(store, settings, rasa_url):
    return ConsoleServer(create_app(store, replace(settings, rasa_url=rasa_url)))


@pytest.fixture
def console(store, settings, fake_rasa):
    server = start_console(store, settings, fake_rasa.url)
    yield server
    server.stop()


@pytest.fixture
def client(console) -> Client:
    return Client(console.url)
