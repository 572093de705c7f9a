"""Runs the Rasa test stories in tests/stories/ against the trained model and a real action
server on a freshly seeded demo store, and fails on any wrong intent or action.

    .venv/bin/python tests/run_rasa_test_stories.py [--model models/tinsel.tar.gz]
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_health(url: str, process: subprocess.Popen, seconds: int = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"action server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"action server not healthy at {url} after {seconds}s")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=str(ROOT / "models" / "tinsel.tar.gz"))
    parser.add_argument("--stories", default=str(ROOT / "tests" / "stories"))
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="tinsel-stories-"))
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{workdir / 'store.db'}",
        "ACTION_SERVER_URL": f"http://127.0.0.1:{port}/webhook",
        "TRACKER_DIALECT": "sqlite",
        "TRACKER_HOST": "",
        "TRACKER_PORT": "",
        "TRACKER_USER": "",
        "TRACKER_PASSWORD": "",
        "TRACKER_DB": str(workdir / "tracker.db"),
    }
    subprocess.run([sys.executable, "-m", "bot", "seed", "--force"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    log = open(workdir / "actions.log", "w")
    actions = subprocess.Popen(
        [str(BIN / "rasa"), "run", "actions", "--port", str(port), "--actions", "actions"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        wait_for_health(f"http://127.0.0.1:{port}/health", actions)
        out = workdir / "results"
        result = subprocess.run(
            [str(BIN / "rasa"), "test", "core", "--model", args.model, "--stories", args.stories,
             "--endpoints", str(ROOT / "endpoints.yml"), "--out", str(out), "--no-plot"],
            cwd=ROOT, env=env,
        )
        failed_file = out / "failed_test_stories.yml"
        failed_text = failed_file.read_text() if failed_file.exists() else ""
        failed = failed_text.count("- story:")
        report = json.loads((out / "story_report.json").read_text()) if (out / "story_report.json").exists() else {}
        total = sum(1 for p in Path(args.stories).glob("*.yml") for line in p.read_text().splitlines()
                    if line.strip().startswith("- story:"))
        if failed:
            print(failed_text)
            print(f"Action server log: {workdir / 'actions.log'}")
        if report:
            print("Action prediction accuracy:", round(report.get("accuracy", 0.0), 4))
        print(f"stories: {total - failed} passed, {failed} failed")
        return 1 if failed or result.returncode != 0 else 0
    finally:
        actions.terminate()
        actions.wait(timeout=30)
        log.close()


if __name__ == "__main__":
    sys.exit(main())
