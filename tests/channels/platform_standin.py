"""A local stand-in for the parts of Slack's Web API and Telegram's Bot API that Rasa's
connectors call, so the tests see exactly what the assistant would have sent to the platform.

Slack:    POST <base>/slack/api/chat.postMessage   (JSON or form, Bearer token)
Telegram: POST <base>/telegram/bot<token>/getMe | setWebhook | sendMessage | getFile   (form or JSON)
          GET  <base>/telegram/file/bot<token>/<file path>   (a file added with `add_file`)

A Telegram chat in `blocked_chats` is refused as the real Bot API refuses a chat whose user
blocked the bot (403); refused calls go to `refused`, not `calls`.
"""
from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Call:
    platform: str
    method: str
    params: dict
    token: str


BLOCKED_BY_USER = {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}


@dataclass
class PlatformStandIn:
    telegram_bot_name: str
    calls: list[Call] = field(default_factory=list)
    refused: list[Call] = field(default_factory=list)
    blocked_chats: set[int] = field(default_factory=set)
    # file_id -> (its bytes, the file_size getFile reports); Telegram's files for getFile to find.
    files: dict[str, tuple[bytes, int]] = field(default_factory=dict)

    def __post_init__(self):
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.slack_api_url = f"{self.base_url}/slack/api/"
        self.telegram_api_url = f"{self.base_url}/telegram"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add_file(self, file_id: str, data: bytes, reported_size: int | None = None) -> None:
        """A file a shopper sent, for getFile and the download; `reported_size` stands in for
        a platform that misstates it (default: the real size)."""
        with self._lock:
            self.files[file_id] = (data, len(data) if reported_size is None else reported_size)

    def file_path(self, file_id: str) -> str:
        return f"photos/{file_id}.jpg"

    def calls_to(self, platform: str, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.platform == platform and c.method == method]

    def wait_for(self, platform: str, method: str, seconds: float = 90, where=None, **params) -> list[Call]:
        """The calls of `method` whose params include `params` (and for which `where(call)` is
        true, when given), once there is at least one."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            matching = [c for c in self.calls_to(platform, method)
                        if all(str(c.params.get(k)) == str(v) for k, v in params.items())
                        and (where is None or where(c))]
            if matching:
                return matching
            time.sleep(0.2)
        raise AssertionError(f"no {platform} {method} with {params} within {seconds:.0f}s; calls: {self.calls}")

    def messages_to(self, chat_id: int) -> list[str]:
        """The texts Telegram accepted for this chat, oldest first."""
        return [c.params.get("text") for c in self.calls_to("telegram", "sendMessage")
                if str(c.params.get("chat_id")) == str(chat_id)]

    def _record(self, call: Call) -> int:
        """Keeps the call; the HTTP status the platform answers it with."""
        blocked = call.platform == "telegram" and call.method == "sendMessage" \
            and int(call.params.get("chat_id", 0)) in self.blocked_chats
        with self._lock:
            (self.refused if blocked else self.calls).append(call)
        return 403 if blocked else 200

    def _answer(self, call: Call) -> dict:
        if call.platform == "slack" and call.method == "chat.postMessage":
            return {"ok": True, "channel": call.params.get("channel"), "ts": f"{time.time():.6f}"}
        if call.platform == "telegram" and call.method == "getMe":
            return {"ok": True, "result": {"id": int(call.token.split(":")[0]), "is_bot": True,
                                           "first_name": "Tinsel", "username": self.telegram_bot_name}}
        if call.platform == "telegram" and call.method == "setWebhook":
            return {"ok": True, "result": True, "description": "Webhook was set"}
        if call.platform == "telegram" and call.method == "getFile":
            found = self.files.get(str(call.params.get("file_id")))
            if found is None:
                return {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"}
            return {"ok": True, "result": {"file_id": call.params["file_id"], "file_unique_id": call.params["file_id"],
                                           "file_size": found[1], "file_path": self.file_path(call.params["file_id"])}}
        if call.platform == "telegram" and call.method == "sendMessage":
            return {"ok": True, "result": {
                "message_id": len(self.calls), "date": int(time.time()),
                "chat": {"id": int(call.params["chat_id"]), "type": "private"}, "text": call.params.get("text")}}
        return {"ok": False, "error": "unknown_method", "description": f"{call.method} is not stood in for"}

    def _handler(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def serve_file(self, path: str) -> bool:
                """A GET of a file added with add_file (by its file path); False for other paths."""
                download = re.fullmatch(r"/telegram/file/bot([^/]+)/photos/([\w-]+)\.jpg", path)
                if self.command != "GET" or download is None:
                    return False
                standin._record(Call("telegram", "file", {"file_id": download.group(2)}, download.group(1)))
                data, _ = standin.files.get(download.group(2), (None, 0))
                if data is None:
                    self.send_error(404)
                    return True
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return True

            def do_POST(self):
                if self.serve_file(urllib.parse.urlparse(self.path).path):
                    return
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if "json" in (self.headers.get("Content-Type") or ""):
                    params = json.loads(body or "{}")
                else:
                    params = {k: v[0] for k, v in urllib.parse.parse_qs(body).items()}
                path = urllib.parse.urlparse(self.path).path
                slack = re.fullmatch(r"/slack/api/([\w.]+)", path)
                telegram = re.fullmatch(r"/telegram/bot([^/]+)/(\w+)", path)
                if slack:
                    token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                    call = Call("slack", slack.group(1), params, token)
                elif telegram:
                    call = Call("telegram", telegram.group(2), params, telegram.group(1))
                else:
                    self.send_error(404)
                    return
                status = standin._record(call)
                answer = standin._answer(call) if status == 200 else BLOCKED_BY_USER
                status = answer.get("error_code", status)  # as the Bot API answers a bad request (getFile)
                answer = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST

            def log_message(self, *args):
                pass

        return Handler
