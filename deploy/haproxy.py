"""HAProxy in front of several Rasa servers and action servers (issue #16).

Rasa's socket.io channel keeps a socket's state in the server that accepted it, so the web chat
goes to one Rasa server per browser (by its address: the widget's requests carry no cookie to
the Rasa port); REST, Slack and Telegram posts are balanced round robin, the Redis lock store
and the SQL tracker store keeping each conversation whole across servers. HAProxy adds
X-Forwarded-For, which Rasa trusts with TRUSTED_PROXIES=1, so the order-guessing throttle sees
each shopper's own address. Action servers get a private frontend of their own.
"""
from __future__ import annotations

import csv
import io
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Layout:
    public_host: str
    public_port: int
    rasa_ports: tuple[int, ...]
    actions_port: int | None = None  # the action servers' private frontend, on 127.0.0.1
    action_server_ports: tuple[int, ...] = ()
    stats_port: int | None = None  # HAProxy's statistics page, on 127.0.0.1 (/stats, /stats;csv)


def _servers(prefix: str, ports: tuple[int, ...], check: str) -> str:
    return "\n".join(f"  server {prefix}{n} 127.0.0.1:{port} check {check}" for n, port in enumerate(ports, 1))


def haproxy_config(layout: Layout) -> str:
    check = "inter 2s fall 2 rise 1"
    text = f"""global
  maxconn 4096

defaults
  mode http
  option forwardfor
  timeout connect 5s
  timeout client 130s
  timeout server 130s
  timeout tunnel 1h

frontend public
  bind {layout.public_host}:{layout.public_port}
  acl web_chat path_beg /socket.io
  use_backend rasa_by_browser if web_chat
  default_backend rasa

backend rasa
  balance roundrobin
  option httpchk GET /
{_servers("rasa", layout.rasa_ports, check)}

backend rasa_by_browser
  balance source
  hash-type consistent
  option httpchk GET /
{_servers("rasa", layout.rasa_ports, check)}
"""
    if layout.actions_port and layout.action_server_ports:
        text += f"""
frontend actions
  bind 127.0.0.1:{layout.actions_port}
  default_backend action_servers

backend action_servers
  balance roundrobin
  option httpchk GET /health
{_servers("actions", layout.action_server_ports, check)}
"""
    if layout.stats_port:
        text += f"""
frontend stats
  bind 127.0.0.1:{layout.stats_port}
  stats enable
  stats uri /stats
"""
    return text


class HAProxy:
    """Debian's haproxy in the foreground (-db) with a generated configuration."""

    def __init__(self, layout: Layout, workdir: Path, log_path: Path | None = None):
        self.layout = layout
        self.config_path = Path(workdir) / "haproxy.cfg"
        self.config_path.write_text(haproxy_config(layout))
        subprocess.run(["haproxy", "-c", "-q", "-f", str(self.config_path)], check=True)
        self._log = open(log_path or Path(workdir) / "haproxy.log", "w")
        self.process = subprocess.Popen(["haproxy", "-db", "-f", str(self.config_path)],
                                        stdout=self._log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{layout.public_port}"

    def wait_until_serving(self, seconds: float = 60) -> None:
        """Until every Rasa server behind it passed a health check (a request then reaches one)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("haproxy exited; see its log")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2) as answer:
                    if answer.status == 200:
                        time.sleep(2.5)  # one more check interval, so every server is up, not only the first
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"haproxy not serving after {seconds:.0f}s")

    def requests_per_server(self) -> dict[str, dict[str, int]]:
        """{backend: {server: requests sent to it}} from the statistics page (stats_port)."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.layout.stats_port}/stats;csv", timeout=10) as answer:
            rows = csv.DictReader(io.StringIO(answer.read().decode().lstrip("# ")))
            counts: dict[str, dict[str, int]] = {}
            for row in rows:
                if row["svname"] not in ("FRONTEND", "BACKEND"):
                    counts.setdefault(row["pxname"], {})[row["svname"]] = int(row["stot"] or 0)
            return counts

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self._log.close()
