"""The Rasa server's calls to the action server reuse their connections (issue #16).

Rasa 3.6's `EndpointConfig.request` opens a new aiohttp session, and so a new TCP connection,
for every call to the action server, and encodes the call (the whole conversation and the 37 kB
domain) with the standard json module. Under load (py-spy on a Rasa server at 20 shoppers) the
two took about a tenth of the server's time. The action endpoint here keeps one session per
event loop, whose connections are reused, and encodes with ujson (already installed, as Sanic's).

A connection is kept idle for KEEP_ALIVE_SECONDS, less than the action server's Sanic keeps its
side (5 s), so a call never goes out on a connection the server is closing. A killed action
server closes its connections and the pool drops them; the next call connects afresh. A stopped
one times out as before (rasa_extensions/resilient_actions.py).
"""
from __future__ import annotations

import asyncio
import atexit
from typing import Any, Dict, Optional

import aiohttp
import ujson
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

KEEP_ALIVE_SECONDS = 2.0


class _SessionLent:
    """`async with` over a kept session: the session stays open when the block ends."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self._session

    async def __aexit__(self, *exc_info: Any) -> None:
        return None


class KeptAliveEndpoint(EndpointConfig):
    """An EndpointConfig whose `request` reuses one session, and its connections, on its loop
    (a Rasa server has one event loop; tests start a new one now and then)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._session: Optional[aiohttp.ClientSession] = None
        self._session_loop: Optional[asyncio.AbstractEventLoop] = None
        self._closing: Optional[asyncio.Task] = None

    @classmethod
    def like(cls, endpoint: EndpointConfig) -> "KeptAliveEndpoint":
        return cls(endpoint.url, endpoint.params, endpoint.headers, endpoint.basic_auth, endpoint.token,
                   endpoint.token_name, endpoint.cafile, **endpoint.kwargs)

    def session(self) -> _SessionLent:  # type: ignore[override]
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._session_loop is not loop:
            self.let_go()
            self._session, self._session_loop = self._new_session(), loop
        return _SessionLent(self._session)

    def _new_session(self) -> aiohttp.ClientSession:
        auth = (aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
                if self.basic_auth else None)
        return aiohttp.ClientSession(
            headers=self.headers, auth=auth, json_serialize=ujson.dumps,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(keepalive_timeout=KEEP_ALIVE_SECONDS))

    def let_go(self) -> None:
        """Closes the session's connections without its loop, which has stopped (a finished test's,
        or the server's at exit), and without aiohttp's warnings about a session left open: on
        the loop running now, if there is one, else on a loop of its own."""
        session, self._session, self._session_loop = self._session, None, None
        if session is None or session.connector is None:
            return
        connector = session.connector
        session.detach()
        try:
            self._closing = asyncio.get_running_loop().create_task(_closed(connector))  # kept till done
        except RuntimeError:
            asyncio.run(_closed(connector))


async def _closed(connector: aiohttp.BaseConnector) -> None:
    await connector.close()


_kept: Dict[int, tuple] = {}


def kept_alive(endpoint: Optional[EndpointConfig]) -> Optional[EndpointConfig]:
    """The kept-alive twin of Rasa's action endpoint, one per endpoint object (Rasa creates a
    RemoteAction per call, all with the processor's one endpoint)."""
    if endpoint is None or isinstance(endpoint, KeptAliveEndpoint):
        return endpoint
    entry = _kept.get(id(endpoint))
    if entry is None or entry[0] is not endpoint:
        entry = (endpoint, KeptAliveEndpoint.like(endpoint))  # holds the original, so its id stays its own
        _kept[id(endpoint)] = entry
    return entry[1]


@atexit.register
def _close_every_session_left_open() -> None:
    for _, endpoint in list(_kept.values()):
        endpoint.let_go()
