"""How Tinsel holds up under many shoppers at once, next to Rasa's own starter bot.

Starts Tinsel as the tests do (seeded SQLite demo store in a temp dir, action server,
`rasa run` on models/tinsel.tar.gz) and Rasa's starter bot (`rasa init`, cached in
bench/.cache/starter/), then sends both the same shopper scripts: a closed loop of
`--shoppers` concurrent shoppers (each waits for every answer) and a one-shopper run, in
`--rounds` rounds (3) with the bots taking turns, the figures pooled over the rounds.
Prints messages/s, p50/p95/p99 per message, errors and each server's peak RSS, the
Tinsel/starter ratios, and writes the figures to results/load.json. With --replicas N (default
2) the same load also runs against N Rasa servers behind HAProxy on PostgreSQL and Redis, as
`make run-scaled` lays them out.

    .venv/bin/python bench/load.py [--shoppers 20] [--replicas 2] [--tinsel-url URL] [--starter-url URL]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Read before tests.servers replaces it with a fresh test secret: a --tinsel-url server needs the real one.
OPERATOR_API_TOKEN = os.environ.get("TINSEL_API_TOKEN", "")

import aiohttp  # noqa: E402
from sqlalchemy import select  # noqa: E402

from bot.settings import load_settings  # noqa: E402
from bot.order_sources.demo import build_demo_store  # noqa: E402
from bot.store.engine import Store, create_database_if_missing  # noqa: E402
from bot.store.models import Order  # noqa: E402
from deploy.haproxy import HAProxy, Layout  # noqa: E402
from tests import servers  # noqa: E402

STARTER_DIR = ROOT / "bench" / ".cache" / "starter"
RESULTS = ROOT / "results" / "load.json"
WARMUP = ["hi", "where is my order?", "what is your return policy?", "thanks"]
STARTED: list[servers.ServerProcess] = []  # every server this run started, to stop on any exit


# --- servers -------------------------------------------------------------------------------------


class Tracked:
    """Registers a server before waiting for it, so Ctrl-C during its start still stops it."""

    def _wait_until_ready(self, seconds: float) -> None:
        STARTED.append(self)
        super()._wait_until_ready(seconds)


class TrackedActionServer(Tracked, servers.ActionServer):
    pass


class TrackedRasaServer(Tracked, servers.RasaServer):
    pass


class StarterServer(Tracked, servers.ServerProcess):
    """`rasa run --enable-api` on the starter model, run from its project dir (its own
    credentials.yml with the REST channel, in-memory tracker store, no action server)."""

    name = "starter rasa run"
    ready_path = "/status"

    def __init__(self, project: Path, model: Path, log_path: Path):
        self.port = servers.free_port()
        self.base_url = self.url = f"http://127.0.0.1:{self.port}"
        self.env, self.log_path = dict(os.environ), log_path
        self._log = open(log_path, "w")
        command = [str(servers.VENV_BIN / "rasa"), "run", "--enable-api", "--port", str(self.port),
                   "--model", str(model)]
        self.process = subprocess.Popen(command, cwd=project, env=self.env, stdout=self._log,
                                        stderr=subprocess.STDOUT)
        self._wait_until_ready(300)

    def is_ready(self, body: bytes) -> bool:
        return bool(json.loads(body).get("model_id"))


def wait_for_model(model: Path, seconds: float = 3600) -> None:
    """Another process may be training Tinsel right now: wait until its file is there and done."""
    deadline, last_size = time.monotonic() + seconds, -1
    if not model.exists():
        print(f"waiting for {model} (being trained elsewhere) ...", flush=True)
    while time.monotonic() < deadline:
        size = model.stat().st_size if model.exists() else -1
        if size > 0 and size == last_size:
            return
        last_size = size
        time.sleep(5)
    raise RuntimeError(f"{model} did not appear within {seconds:.0f}s")


def starter_model(project: Path) -> Path:
    """The starter bot's trained model, training it with `rasa init` only when none is cached."""
    models = sorted((project / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if models:
        return models[-1]
    print(f"training Rasa's starter bot in {project} (rasa init, about 70 s) ...", flush=True)
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir(parents=True)  # rasa init refuses a path that does not exist
    with open(project.parent / "starter-init.log", "w") as log:
        subprocess.run([str(servers.VENV_BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(project)],
                       cwd=project.parent, stdout=log, stderr=subprocess.STDOUT, check=True)
    return starter_model(project)


def start_tinsel(workdir: Path) -> tuple[str, servers.ServerProcess, object]:
    """The stack as tests/conftest.py `running_stack` starts it, minus the web chat page."""
    wait_for_model(servers.MODEL)
    store = servers.seeded_demo_store(workdir / "demo-store.db")
    actions = TrackedActionServer(store.url, workdir / "actions.log")
    credentials = servers.rasa_credentials(dict(os.environ), workdir / "credentials.yml")
    rasa = TrackedRasaServer(database_url=store.url, action_server_url=actions.url,
                             credentials=credentials, log_path=workdir / "rasa.log")
    return rasa.url, rasa, store


def start_scaled_tinsel(workdir: Path, replicas: int, database_url: str) -> "Bot":
    """As `make run-scaled` lays it out: `replicas` Rasa servers on one PostgreSQL store, their
    locks in a Redis of this run's own, HAProxy in front (deploy/haproxy.py)."""
    create_database_if_missing(database_url)
    store = Store(database_url)
    store.drop_schema()
    store.create_schema()
    build_demo_store(store, load_settings())
    redis = servers.RedisServer()
    STARTED.append(redis)
    actions = TrackedActionServer(store.url, workdir / "scaled-actions.log")
    env = {**os.environ, "LOCK_STORE_URL": redis.url, "TRUSTED_PROXIES": "1"}
    credentials = servers.rasa_credentials(env, workdir / "scaled-credentials.yml")

    def replica(n: int) -> servers.RasaServer:
        return TrackedRasaServer(database_url=store.url, action_server_url=actions.url, credentials=credentials,
                                 log_path=workdir / f"scaled-rasa-{n}.log", env=env)

    with ThreadPoolExecutor(replicas) as pool:
        rasas = list(pool.map(replica, range(1, replicas + 1)))
    proxy = HAProxy(Layout("127.0.0.1", servers.free_port(), tuple(r.port for r in rasas)), workdir)
    STARTED.append(proxy)
    proxy.wait_until_serving()
    return Bot(f"tinsel-x{replicas}", proxy.url, {"Authorization": f"Bearer {rasas[0].api_token}"}, None)


def demo_store_for_scripts(workdir: Path):
    """A store to take order numbers from when Tinsel runs elsewhere: the seed is deterministic."""
    return servers.seeded_demo_store(workdir / "orders-only.db")


# --- shopper scripts -----------------------------------------------------------------------------


def order_pairs(store, statuses: tuple[str, ...], limit: int = 6, keep=lambda order: True) -> list[tuple[str, str]]:
    """Real (order number, customer email) pairs, so verification succeeds as a shopper's would."""
    with store.session() as s:
        orders = s.execute(select(Order).where(Order.status.in_(statuses)).order_by(Order.id)).scalars().all()
        return [(o.number, o.customer.email) for o in orders if keep(o)][:limit]


def within_bot_refund_limit(order) -> bool:
    """A return the bot settles itself: over BOT_REFUND_LIMIT it hands the chat to a person and
    goes quiet, which would show up here as empty answers that are no fault."""
    limit = load_settings().bot_refund_limit
    return all(item.line_total <= limit for item in order.items)


def script_templates(track: tuple[str, str], ret: tuple[str, str]) -> list[list[str]]:
    """Four 12-message shoppers mixing tracking, FAQ, gift finder, return, handoff and thanks;
    the handoff comes last because Tinsel rightly goes quiet once a person is asked for."""
    (t_num, t_mail), (r_num, r_mail) = track, ret
    return [
        ["hi", "where is my order?", t_num, t_mail, "what is your return policy?", "do you do gift wrapping?",
         "I need a gift for my dad under $50", "he loves cooking", "thanks", "I want to return something",
         r_num, r_mail],
        ["hello", "I want to return something", r_num, r_mail, "the first one", "it doesn't fit",
         "what is your return policy?", "where is my order?", t_num, t_mail, "thanks",
         "can I talk to a person"],
        ["hey there", "I need a gift for my dad under $50", "he likes golf", "do you do gift wrapping?",
         "where is my order?", t_num, t_mail, "what is your return policy?", "I want to return something",
         "the first one", "thanks", "can I talk to a person"],
        ["hi", "do you do gift wrapping?", "what is your return policy?", "where is my order?", t_num, t_mail,
         "I need a gift for my dad under $50", "thanks", "I want to return something", r_num, r_mail,
         "can I talk to a person"],
    ]


def shopper_scripts(store, count: int) -> list[list[str]]:
    """`count` scripts, cycling templates and real orders so shoppers differ."""
    tracked = order_pairs(store, ("shipped", "delayed"))
    delivered = order_pairs(store, ("delivered",), keep=within_bot_refund_limit) or order_pairs(store, ("delivered",))
    scripts = []
    for i in range(count):
        templates = script_templates(tracked[i % len(tracked)], delivered[i % len(delivered)])
        scripts.append(templates[i % len(templates)])
    return scripts


# --- measuring -----------------------------------------------------------------------------------


@dataclass
class Outcomes:
    """What came back for every message of one phase against one bot."""

    latencies_ms: list[float] = field(default_factory=list)  # answered (HTTP 200), empty or not
    by_kind: dict[str, list[float]] = field(default_factory=dict)  # the same, by kind of message
    http_errors: int = 0
    timeouts: int = 0
    empty_answers: int = 0
    seconds: float = 0.0


@dataclass
class Bot:
    name: str
    url: str
    headers: dict[str, str]
    pid: int | None  # None: a server this run does not own, so its memory is not ours to read


async def send(session: aiohttp.ClientSession, bot: Bot, sender: str, text: str, out: Outcomes,
               timeout: float) -> None:
    """One message over the REST channel; sorts the result into answered / empty / error / timeout."""
    started = time.perf_counter()
    try:
        async with session.post(f"{bot.url}/webhooks/rest/webhook", json={"sender": sender, "message": text},
                                headers=bot.headers, timeout=aiohttp.ClientTimeout(total=timeout)) as r:
            if r.status != 200:
                out.http_errors += 1
                return
            messages = await r.json(content_type=None)
    except asyncio.TimeoutError:
        out.timeouts += 1
        return
    except (aiohttp.ClientError, ValueError):
        out.http_errors += 1
        return
    out.latencies_ms.append((time.perf_counter() - started) * 1000)
    out.by_kind.setdefault(message_kind(text), []).append(out.latencies_ms[-1])
    if not any(m.get("text") or m.get("image") or m.get("buttons") for m in messages or []):
        out.empty_answers += 1


def message_kind(text: str) -> str:
    """Scripts differ only in their order numbers and emails: those are one kind each."""
    return "<email>" if "@" in text else "<order number>" if text.strip("#").isdigit() else text


async def shopper(session, bot: Bot, sender: str, script: list[str], out: Outcomes, timeout: float) -> None:
    """Closed loop: each message only after the previous answer, as a person types."""
    for text in script:
        await send(session, bot, sender, text, out, timeout)


async def run_phase(bot: Bot, senders_scripts: list[tuple[str, list[str]]], concurrent: bool,
                    timeout: float) -> Outcomes:
    """All shoppers at once (concurrent) or one after another."""
    out = Outcomes()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        if concurrent:
            await asyncio.gather(*(shopper(session, bot, s, script, out, timeout) for s, script in senders_scripts))
        else:
            for s, script in senders_scripts:
                await shopper(session, bot, s, script, out, timeout)
        out.seconds = time.perf_counter() - started
    return out


def rss_kb(pid: int) -> int:
    """Resident memory now, from /proc (0 once the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def child_pids(pid: int) -> list[int]:
    """The process's children and theirs (a Rasa server's parser process), from /proc."""
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return children + [grandchild for child in children for grandchild in child_pids(child)]


async def sample_peak_rss(pid: int, peak: list[int], every: float = 0.2) -> None:
    """Keeps peak[0] at the highest VmRSS of the process and peak[1] at that of its children
    together, until cancelled."""
    while True:
        peak[0] = max(peak[0], rss_kb(pid))
        peak[1] = max(peak[1], sum(rss_kb(child) for child in child_pids(pid)))
        await asyncio.sleep(every)


@dataclass
class Round:
    """One round against one bot: its two phases, the server's peak memory, others' CPU."""

    load: Outcomes
    one_shopper: Outcomes
    peak_rss_kb: int
    peak_children_rss_kb: int
    other_processes_cpu_s: float = 0.0


async def measure_bot(bot: Bot, load_scripts, solo_scripts, run_id: str, timeout: float) -> Round:
    """Warm-up, the concurrent load, then the one-shopper run, sampling the server's memory throughout."""
    peak = [0, 0]
    sampler = asyncio.create_task(sample_peak_rss(bot.pid, peak)) if bot.pid else None
    try:
        await run_phase(bot, [(f"warmup-{run_id}-{bot.name}", WARMUP)], False, timeout)
        load = [(f"load-{run_id}-{bot.name}-{i}", s) for i, s in enumerate(load_scripts)]
        solo = [(f"solo-{run_id}-{bot.name}-{i}", s) for i, s in enumerate(solo_scripts)]
        print(f"{bot.name}: {len(load)} shoppers x {len(load_scripts[0])} messages ...", flush=True)
        loaded = await run_phase(bot, load, True, timeout)
        print(f"{bot.name}: one shopper, {len(solo)} scripts ...", flush=True)
        alone = await run_phase(bot, solo, False, timeout)
    finally:
        if sampler:
            sampler.cancel()
    return Round(loaded, alone, peak[0], peak[1])


def pooled(phases: list[Outcomes]) -> Outcomes:
    """Several rounds of one phase as one: messages/s over their summed time, percentiles over
    every answer."""
    out = Outcomes()
    for phase in phases:
        out.latencies_ms += phase.latencies_ms
        for kind, values in phase.by_kind.items():
            out.by_kind.setdefault(kind, []).extend(values)
        out.http_errors += phase.http_errors
        out.timeouts += phase.timeouts
        out.empty_answers += phase.empty_answers
        out.seconds += phase.seconds
    return out


def bot_figures(rounds: list[Round], has_pid: bool) -> dict:
    """A bot's figures over all its rounds, with each round's throughput to show the spread."""
    return {"load": {**summary(pooled([r.load for r in rounds])),
                     "messages_per_s_by_round": [summary(r.load)["messages_per_s"] for r in rounds]},
            "one_shopper": summary(pooled([r.one_shopper for r in rounds])),
            "peak_rss_mb": round(max(r.peak_rss_kb for r in rounds) / 1024, 1) if has_pid else None,
            "peak_children_rss_mb": round(max(r.peak_children_rss_kb for r in rounds) / 1024, 1) if has_pid else None,
            "other_processes_cpu_s": round(sum(r.other_processes_cpu_s for r in rounds), 1)}


def busy_cpu_seconds() -> float:
    """CPU time the whole machine spent busy (not idle, not waiting on I/O) since boot."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """This driver plus every server it started: what is not someone else's work."""
    started = [s.process.pid for s in STARTED]
    return sum(process_cpu_seconds(pid) for pid in [os.getpid(), *started, *(c for p in started for c in child_pids(p))])


def others_cpu_seconds(measure):
    """Runs `measure()` and says how much CPU other processes on the machine took meanwhile:
    a shared 2-core machine running someone's tests makes every figure worse."""
    busy, own = busy_cpu_seconds(), own_cpu_seconds()
    result = measure()
    return result, round((busy_cpu_seconds() - busy) - (own_cpu_seconds() - own), 1)


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile; None when nothing was answered."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summary(out: Outcomes) -> dict:
    sent = len(out.latencies_ms) + out.http_errors + out.timeouts
    return {"messages": sent, "seconds": round(out.seconds, 2),
            "messages_per_s": round(len(out.latencies_ms) / out.seconds, 2) if out.seconds else None,
            **{f"p{int(q * 100)}_ms": _round(percentile(out.latencies_ms, q)) for q in (0.5, 0.95, 0.99)},
            "http_errors": out.http_errors, "timeouts": out.timeouts, "empty_answers": out.empty_answers,
            "slowest_kinds_p95_ms": slowest_kinds(out)}


def slowest_kinds(out: Outcomes, count: int = 5) -> dict[str, float]:
    """The kinds of message with the highest p95: where the tail comes from."""
    p95 = {kind: percentile(values, 0.95) for kind, values in out.by_kind.items()}
    return {kind: _round(ms) for kind, ms in sorted(p95.items(), key=lambda item: -item[1])[:count]}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


# --- report --------------------------------------------------------------------------------------


def machine() -> dict:
    """Figures are only comparable on the same machine, under the same other load."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown")
    return {"cores": os.cpu_count(), "cpu_model": model, "load_average_before_measuring": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version()}


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def ratios(tinsel: dict, starter: dict) -> dict:
    """Tinsel / starter: below 1 in throughput and above 1 in p95 is what Tinsel's extra work costs."""
    return {"throughput": ratio(tinsel["load"]["messages_per_s"], starter["load"]["messages_per_s"]),
            "p95_load": ratio(tinsel["load"]["p95_ms"], starter["load"]["p95_ms"]),
            "p95_one_shopper": ratio(tinsel["one_shopper"]["p95_ms"], starter["one_shopper"]["p95_ms"])}


def cell(value) -> str:
    return "n/a" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def print_table(results: dict, info: dict, shoppers: int) -> None:
    print(f"\nmachine: {info['cores']} cores, {info['cpu_model']}, load average before measuring "
          f"{' '.join(map(str, info['load_average_before_measuring']))}, at end {' '.join(map(str, info['load_average_at_end']))}"
          " (other work on the machine skews every figure)")
    header = ("bot", "phase", "msgs", "msg/s", "p50 ms", "p95 ms", "p99 ms", "http err", "timeouts", "empty",
              "peak RSS MB", "its children MB")
    rows = [header]
    names = [name for name in ("tinsel", "starter", "tinsel_scaled") if name in results]
    for name in names:
        for phase, label in (("load", f"{shoppers} shoppers"), ("one_shopper", "1 shopper")):
            f = results[name][phase]
            rows.append((name, label, *(cell(f[k]) for k in ("messages", "messages_per_s", "p50_ms", "p95_ms",
                                                              "p99_ms", "http_errors", "timeouts", "empty_answers")),
                         cell(results[name]["peak_rss_mb"]), cell(results[name]["peak_children_rss_mb"])))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    print("msg/s in each round (the bots took turns, so a slow minute of the machine hits each): "
          + "; ".join(f"{name} " + " ".join(cell(v) for v in results[name]["load"]["messages_per_s_by_round"])
                      for name in names))
    print("CPU taken by other processes while measuring: "
          + ", ".join(f"{name} {results[name]['other_processes_cpu_s']} s" for name in names))
    r = results["ratios"]
    print(f"Tinsel/starter: throughput x{cell(r['throughput'])}, p95 under load x{cell(r['p95_load'])}, "
          f"one-shopper p95 x{cell(r['p95_one_shopper'])}")
    if "scaled_over_one_server" in r:
        print(f"Replicas behind HAProxy / one server: throughput x{cell(r['scaled_over_one_server'])} "
              "(the replicas share this machine's cores with each other and the action server)")
    for name in names:
        slowest = results[name]["load"]["slowest_kinds_p95_ms"]
        print(f"{name}, slowest kinds of message under load (p95 ms): "
              + "; ".join(f"{kind!r} {cell(ms)}" for kind, ms in slowest.items()))
    print("peak RSS: the server process over warm-up, load and one-shopper run; its children: Tinsel's parser "
          f"process (PARSER_PROCESS); figures: {RESULTS}")


# --- main ----------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shoppers", type=int, default=20, help="concurrent shoppers in the load phase")
    parser.add_argument("--solo-scripts", type=int, default=3, help="scripts the one shopper sends in turn")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of both phases per bot, the bots taking turns; figures pool them")
    parser.add_argument("--timeout", type=float, default=60, help="seconds before a message counts as timed out")
    parser.add_argument("--tinsel-url", help="use a running Tinsel (TINSEL_API_TOKEN from the environment)")
    parser.add_argument("--starter-url", help="use a running starter bot")
    parser.add_argument("--replicas", type=int, default=2,
                        help="also measure this many Rasa servers behind HAProxy on PostgreSQL and Redis (0: skip)")
    parser.add_argument("--scaled-database-url", default="postgresql://postgres@127.0.0.1:5432/tinsel_bench",
                        help="the scratch PostgreSQL database of the replicas (emptied and seeded)")
    return parser.parse_args()


def interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def stop_on_signals() -> None:
    """SIGTERM unwinds like Ctrl-C, so the finally below still stops every server; Ctrl-C too
    when started in the background, where the shell has SIGINT ignored."""
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)


def start_bots(args, workdir: Path) -> tuple[Bot, Bot, object, dict]:
    """Both bots, started here or reached at their URLs; startup seconds for the record."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if args.tinsel_url:
        headers = {"Authorization": f"Bearer {OPERATOR_API_TOKEN}"} if OPERATOR_API_TOKEN else {}
        tinsel, store = Bot("tinsel", args.tinsel_url.rstrip("/"), headers, None), demo_store_for_scripts(workdir)
    else:
        url, rasa, store = start_tinsel(workdir)
        tinsel = Bot("tinsel", url, {"Authorization": f"Bearer {rasa.api_token}"}, rasa.process.pid)
        timings["tinsel_start_s"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    if args.starter_url:
        starter = Bot("starter", args.starter_url.rstrip("/"), {}, None)
    else:
        server = StarterServer(STARTER_DIR, starter_model(STARTER_DIR), workdir / "starter-rasa.log")
        starter = Bot("starter", server.url, {}, server.process.pid)
        timings["starter_start_s"] = round(time.perf_counter() - t0, 1)
    return tinsel, starter, store, timings


def run(args) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="tinsel-load-"))
    print(f"logs and demo store in {workdir}", flush=True)
    tinsel, starter, store, timings = start_bots(args, workdir)
    print(f"servers up: {timings}", flush=True)
    load_scripts = shopper_scripts(store, args.shoppers)
    solo_scripts = shopper_scripts(store, args.solo_scripts)
    run_id, info = uuid.uuid4().hex[:8], machine()
    bots = [("tinsel", tinsel), ("starter", starter)]
    if args.replicas:
        bots.append(("tinsel_scaled", start_scaled_tinsel(workdir, args.replicas, args.scaled_database_url)))
    rounds: dict[str, list[Round]] = {name: [] for name, _ in bots}
    for round_no in range(1, args.rounds + 1):  # bots take turns, so a slow minute of the machine hits each
        for name, bot in bots:
            measured, others = others_cpu_seconds(lambda: asyncio.run(
                measure_bot(bot, load_scripts, solo_scripts, f"{run_id}-{round_no}", args.timeout)))
            measured.other_processes_cpu_s = others
            rounds[name].append(measured)
    results = {name: bot_figures(rounds[name], bot.pid is not None) for name, bot in bots}
    results["ratios"] = ratios(results["tinsel"], results["starter"])
    if "tinsel_scaled" in results:
        results["ratios"]["scaled_over_one_server"] = ratio(results["tinsel_scaled"]["load"]["messages_per_s"],
                                                            results["tinsel"]["load"]["messages_per_s"])
    report = {"machine": info, "run_id": run_id, "shoppers": args.shoppers, "rounds": args.rounds,
              "messages_per_script": len(load_scripts[0]), "solo_scripts": args.solo_scripts,
              "startup": timings, "workdir": str(workdir), **results}
    info["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print_table(results, info, args.shoppers)
    return report


def main() -> int:
    args = parse_args()
    servers.use_test_secrets()  # fresh tokens for the servers started here, as tests/conftest.py has
    stop_on_signals()
    try:
        run(args)
        return 0
    except KeyboardInterrupt:
        print("\ninterrupted: stopping the servers this run started", flush=True)
        return 130
    finally:
        for server in reversed(STARTED):
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
