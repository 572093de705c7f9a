"""`make run-scaled`: Tinsel as a store runs it at peak (issue #16).

HAProxy on the public port (RASA_PORT, 5005) in front of REPLICAS Rasa servers (default 2, one
Sanic worker each) and ACTION_REPLICAS action servers (default 1); conversations and the store in
PostgreSQL, conversation locks in Redis; one reminder runner, the console and the web chat page,
as `make run` starts them. The README's curl and the web chat work through it unchanged.

DATABASE_URL and LOCK_STORE_URL come from .env; when .env leaves the store on the SQLite default,
this uses PostgreSQL's `tinsel` database (created and seeded with the demo store when missing),
and Redis at redis://127.0.0.1:6379/1 when LOCK_STORE_URL is unset.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.rasa_link.tracker_env import rasa_env
from bot.settings import PROJECT_ROOT, load_settings
from bot.store.engine import create_database_if_missing
from deploy.haproxy import HAProxy, Layout

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/tinsel"
DEFAULT_LOCK_STORE_URL = "redis://127.0.0.1:6379/1"
RASA_BASE_PORT = 5010  # replicas on 5011, 5012, ... (127.0.0.1 only)
ACTIONS_FRONTEND_PORT = 5055  # HAProxy, for Rasa; the action servers on 5061, 5062, ...
ACTIONS_BASE_PORT = 5060
VENV_BIN = Path(sys.executable).parent


def scaled_env(replicas_env: dict[str, str]) -> dict[str, str]:
    """The environment every process gets (from the process environment and .env): the shared
    store, the shared locks, the proxy."""
    settings = load_settings(replicas_env)
    env = dict(replicas_env)
    if settings.database_url.startswith("sqlite"):
        env["DATABASE_URL"] = DEFAULT_DATABASE_URL
    if not settings.lock_store_url:
        env["LOCK_STORE_URL"] = DEFAULT_LOCK_STORE_URL
    env["TRUSTED_PROXIES"] = "1"
    env["ACTION_SERVER_URL"] = f"http://127.0.0.1:{ACTIONS_FRONTEND_PORT}/webhook"
    env["RASA_URL"] = f"http://127.0.0.1:{env.get('RASA_PORT', '5005')}"
    env.update(rasa_env(load_settings(env)))
    return env


def start(command: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=PROJECT_ROOT, env=env)


def rasa_command(port: int) -> list[str]:
    return [str(VENV_BIN / "rasa"), "run", "--model", "models/tinsel.tar.gz", "--interface", "127.0.0.1",
            "--port", str(port), "--enable-api", "--auth-token", os.environ.get("TINSEL_API_TOKEN", ""),
            "--cors", os.environ.get("WEBCHAT_ORIGIN", ""), "--credentials", ".rasa/credentials.yml",
            "--endpoints", "endpoints.yml"]


def stop_on_signal(*_) -> None:
    raise KeyboardInterrupt


def layout_of(env: dict[str, str]) -> Layout:
    replicas, action_replicas = int(env.get("REPLICAS", "2")), int(env.get("ACTION_REPLICAS", "1"))
    return Layout(public_host="0.0.0.0", public_port=int(env.get("RASA_PORT", "5005")),
                  rasa_ports=tuple(RASA_BASE_PORT + n for n in range(1, replicas + 1)),
                  actions_port=ACTIONS_FRONTEND_PORT,
                  action_server_ports=tuple(ACTIONS_BASE_PORT + n for n in range(1, action_replicas + 1)))


def prepare(env: dict[str, str]) -> None:
    """The database (created and seeded with the demo store when missing) and Rasa's channels."""
    create_database_if_missing(env["DATABASE_URL"])
    python = sys.executable
    subprocess.run([python, "-m", "bot", "seed", "--demo"], cwd=PROJECT_ROOT, env=env, check=True)
    credentials = subprocess.run([python, "-m", "bot", "rasa-credentials"], cwd=PROJECT_ROOT, env=env,
                                 check=True, capture_output=True, text=True).stdout
    (PROJECT_ROOT / ".rasa").mkdir(exist_ok=True)
    (PROJECT_ROOT / ".rasa" / "credentials.yml").write_text(credentials)


def start_all(layout: Layout, env: dict[str, str]) -> list[subprocess.Popen]:
    python = sys.executable
    processes = [start([python, "-m", "actions.server", "--port", str(port)], env)
                 for port in layout.action_server_ports]
    processes += [start(rasa_command(port), env) for port in layout.rasa_ports]
    processes += [start([python, "-m", "bot", command], env) for command in ("console", "webchat")]
    processes.append(start([python, "-m", "bot", "reminders", "run", "--interval", "10"], env))
    return processes


def main() -> int:
    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGINT, stop_on_signal)  # also when started in the background
    load_settings()  # puts .env into os.environ (the process environment wins)
    env = scaled_env(dict(os.environ))
    os.environ.update(env)  # rasa_command reads the token from here
    layout = layout_of(env)
    prepare(env)
    print(f"==> Store and conversations: {make_url(env['DATABASE_URL']).render_as_string(hide_password=True)}; "
          f"locks: Redis; {len(layout.rasa_ports)} Rasa servers and {len(layout.action_server_ports)} action "
          f"server(s) behind HAProxy on :{layout.public_port}")
    processes: list[subprocess.Popen] = []
    proxy = None
    try:
        processes = start_all(layout, env)
        proxy = HAProxy(layout, Path(tempfile.mkdtemp(prefix="tinsel-haproxy-")))
        proxy.wait_until_serving(seconds=600)
        print(f"==> Serving through HAProxy: REST and web chat on :{layout.public_port}. Ctrl-C stops all.")
        while all(p.poll() is None for p in processes) and proxy.process.poll() is None:
            time.sleep(1)
        print("==> A process stopped; stopping the others (its output is above).")
    except KeyboardInterrupt:
        pass
    finally:
        stop_all(proxy, processes)
    return 0


def stop_all(proxy: HAProxy | None, processes: list[subprocess.Popen]) -> None:
    print("\n==> Stopping Tinsel")
    if proxy is not None:
        proxy.stop()
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
