"""Calls to the action server on kept-alive connections (rasa_extensions/action_connection.py),
against a real HTTP server on a local port: one connection for many calls where Rasa's own
endpoint opens one per call, the same body arrives, and a server that went away and came back
is reached again on a fresh connection."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

from aiohttp import web
from rasa.utils.endpoints import EndpointConfig

from rasa_extensions.action_connection import KeptAliveEndpoint, kept_alive
from rasa_extensions.resilient_actions import ResilientRemoteAction
from tests.servers import ROOT, free_port

PAYLOAD = {"next_action": "action_check_order", "sender_id": "shopper-1",
           "tracker": {"events": [{"event": "user", "text": "où est ma commande? 1/2", "timestamp": 1733380000.123456}]},
           "domain": {"slots": {"order_number": {"type": "text"}}}}


class ActionServerStandIn:
    """Answers every POST with an empty action result, noting each body and its connection."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connections: list[tuple] = []
        self.bodies: list[dict] = []
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        async def webhook(request: web.Request) -> web.Response:
            self.connections.append(request.transport.get_extra_info("peername"))
            self.bodies.append(await request.json())
            return web.json_response({"events": [], "responses": []})

        app = web.Application()
        app.router.add_post("/webhook", webhook)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhook"


def calls(endpoint_for, times: int) -> ActionServerStandIn:
    server = ActionServerStandIn(free_port())

    async def main():
        await server.start()
        endpoint = endpoint_for(server.url)
        try:
            for _ in range(times):
                assert await endpoint.request(json=PAYLOAD, method="post") == {"events": [], "responses": []}
        finally:
            await server.stop()

    asyncio.run(main())
    return server


def test_many_calls_share_one_connection_where_rasas_endpoint_opens_one_each():
    kept = calls(lambda url: kept_alive(EndpointConfig(url)), 5)
    rasas = calls(EndpointConfig, 5)
    assert len(kept.connections) == len(rasas.connections) == 5
    assert len(set(kept.connections)) == 1
    assert len(set(rasas.connections)) == 5


def test_the_same_body_arrives():
    server = calls(lambda url: kept_alive(EndpointConfig(url)), 1)
    assert server.bodies == [json.loads(json.dumps(PAYLOAD))]


def test_a_server_that_went_away_and_came_back_is_reached_again():
    port = free_port()

    async def main():
        endpoint = kept_alive(EndpointConfig(f"http://127.0.0.1:{port}/webhook"))
        first = ActionServerStandIn(port)
        await first.start()
        await endpoint.request(json=PAYLOAD, method="post")
        await first.stop()  # closes its connections, as a killed process's are closed
        second = ActionServerStandIn(port)
        await second.start()
        try:
            assert await endpoint.request(json=PAYLOAD, method="post") == {"events": [], "responses": []}
        finally:
            await second.stop()
        return first, second

    first, second = asyncio.run(main())
    assert (len(first.bodies), len(second.bodies)) == (1, 1)


def test_every_remote_action_of_one_endpoint_shares_its_kept_alive_twin():
    endpoint = EndpointConfig("http://127.0.0.1:5055/webhook", headers={"Authorization": "Bearer x"})
    one, other = ResilientRemoteAction("action_a", endpoint), ResilientRemoteAction("action_b", endpoint)
    assert isinstance(one.action_endpoint, KeptAliveEndpoint)
    assert one.action_endpoint is other.action_endpoint
    assert one.action_endpoint.url == endpoint.url and one.action_endpoint.headers == endpoint.headers
    assert ResilientRemoteAction("action_c", None).action_endpoint is None


def test_a_process_that_never_closed_its_session_exits_without_aiohttps_warnings(tmp_path):
    """A Rasa server stops without closing what it opened: its log stays free of "Unclosed"."""
    script = tmp_path / "call_and_exit.py"
    script.write_text(
        "import asyncio, sys\n"
        "from rasa.utils.endpoints import EndpointConfig\n"
        "from rasa_extensions.action_connection import kept_alive\n"
        "from tests.rasa_extensions.test_action_connection import ActionServerStandIn, PAYLOAD\n"
        "from tests.servers import free_port\n"
        "async def main():\n"
        "    server = ActionServerStandIn(free_port())\n"
        "    await server.start()\n"
        "    await kept_alive(EndpointConfig(server.url)).request(json=PAYLOAD, method='post')\n"
        "    print('called', flush=True)\n"
        "asyncio.run(main())\n")
    done = run_with_every_warning(script)
    assert done.returncode == 0, done.stderr
    assert "called" in done.stdout
    assert "Unclosed" not in done.stderr


def test_one_endpoint_on_a_new_event_loop_lets_the_old_session_go_quietly(tmp_path):
    """Tests run one event loop after another: the session of a finished loop is closed on the
    next one, with no "Unclosed" warning and no coroutine left unawaited."""
    script = tmp_path / "two_loops.py"
    script.write_text(
        "import asyncio, gc\n"
        "from rasa.utils.endpoints import EndpointConfig\n"
        "from rasa_extensions.action_connection import kept_alive\n"
        "from tests.rasa_extensions.test_action_connection import ActionServerStandIn, PAYLOAD\n"
        "from tests.servers import free_port\n"
        "port = free_port()\n"
        "endpoint = kept_alive(EndpointConfig(f'http://127.0.0.1:{port}/webhook'))\n"
        "async def call():\n"
        "    server = ActionServerStandIn(port)\n"
        "    await server.start()\n"
        "    await endpoint.request(json=PAYLOAD, method='post')\n"
        "    await server.stop()\n"
        "asyncio.run(call())\n"
        "asyncio.run(call())\n"
        "gc.collect()\n"
        "print('called twice', flush=True)\n")
    done = run_with_every_warning(script)
    assert done.returncode == 0, done.stderr
    assert "called twice" in done.stdout
    assert "Unclosed" not in done.stderr
    assert "never awaited" not in done.stderr


def run_with_every_warning(script) -> subprocess.CompletedProcess:
    """The script in a Python of its own, every warning shown, the project importable."""
    return subprocess.run([sys.executable, "-W", "always", str(script)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
