"""The soak: the real shape for `--minutes` (10 by default) on PostgreSQL: 4 worker processes
(``workflow-kit worker``) and 2 API processes (``workflow-kit serve --no-worker``, each on its own port
of 127.0.0.1), mixed traffic from 20 tenants through HTTP, then every run checked.

    scripts/with-postgres nice .venv/bin/python -m bench.soak [--minutes 10] [--rate 20]

Each tenant has five workflows (bench/soak_app.py's actions): an event's (one step), a sleep's (a step,
a 3 s sleep, a step), a wait's (waits for the order's ``soak/paid``, sent 2 s after the order, then a
step), a retry's (a step that fails its first attempt) and a webhook's (``POST /hooks/<id>``, one
step). The traffic: `--rate` requests a second, alternating between the two API processes, each for a
random tenant and workflow; once a second a read of a tenant's runs (``GET /api/runs``).

When the time is up, the soak waits for every run to end, then checks that each accepted event (or
webhook request) started exactly one run and that it ended (none lost, none duplicated), and reports:
the p50/p99 from an event's receipt to its run's first step (from the database's own timestamps), the
API's latencies per kind of request, the answers that were not 2xx, and the resident memory (RSS) of
every process, sampled every 5 s: the first minute's mean against the last minute's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from workflow_kit import WorkflowKit
from workflow_kit.runtime.storage import schema

from .history import percentile
from .kit_side import fresh_database

ROOT = Path(__file__).resolve().parent.parent
APP = "bench.soak_app:kit"
TENANTS = [f"soak-{n:02}" for n in range(20)]
KINDS = {"event": 4, "sleep": 2, "wait": 2, "retry": 2, "webhook": 2}
"""Each kind of traffic and its weight."""
RSS_EVERY_S = 5.0
PAID_IF = "async.data.order == event.data.order"
OPEN = ("queued", "running", "sleeping", "waiting")


def step(action_id: str, kind: str = "work", **inputs: Any) -> dict[str, Any]:
    return {"id": action_id, "kind": kind, "inputs": inputs}


def chain(*actions: dict[str, Any]) -> dict[str, Any]:
    ids = ["$source", *(a["id"] for a in actions)]
    return {"actions": list(actions), "edges": [{"from": a, "to": b} for a, b in itertools.pairwise(ids)]}


WORKFLOWS: dict[str, tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]] = {
    "event": ([{"event": "soak/go"}], chain(step("a")), {}),
    "sleep": ([{"event": "soak/sleep"}], chain(step("a"), step("nap", "builtin:sleep", duration="3s"), step("b")), {}),
    "wait": (
        [{"event": "soak/order"}],
        chain(
            step("paid", "builtin:wait_for_event", event="soak/paid", timeout="60s", **{"if": PAID_IF}),
            step("a"),
        ),
        {},
    ),
    "retry": ([{"event": "soak/flaky"}], chain(step("a", "flaky")), {"retries": 3}),
    "webhook": ([{"type": "webhook", "event": "soak/hooked"}], chain(step("a")), {}),
}


def setup(url: str, secret: str) -> dict[str, str]:
    """Each tenant's five workflows, published and enabled; each tenant's hook id."""
    from .soak_app import kit as app

    kit = WorkflowKit(database_url=url, secret=secret)
    for kind in ("work", "flaky"):
        kit.register(app.registry.get(kind))  # type: ignore[arg-type]
    hooks: dict[str, str] = {}
    try:
        for tenant in TENANTS:
            for name, (triggers, definition, settings) in WORKFLOWS.items():
                record = kit.workflows.create_sync(
                    tenant, name=name, triggers=triggers, workflow=definition, settings=settings or None
                )
                if name == "webhook":
                    hook = record.triggers[0].hook
                    assert hook is not None
                    hooks[tenant] = hook
        return hooks
    finally:
        kit.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Processes:
    """The workers and API servers, each logging to a file of its own."""

    url: str
    secret: str
    logs: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    ports: list[int] = field(default_factory=list)

    def spawn(self, name: str, *args: str) -> None:
        env = {**os.environ, "WORKFLOW_KIT_SECRET": self.secret, "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-m", "workflow_kit.cli", *args, "--app", APP, "--database-url", self.url]
        with (self.logs / f"{name}.log").open("wb") as log:
            self.procs[name] = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)

    def start(self, workers: int, apis: int) -> None:
        for n in range(workers):
            self.spawn(f"worker-{n}", "worker", "--concurrency", "32")
        for n in range(apis):
            port = free_port()
            self.ports.append(port)
            self.spawn(f"api-{n}", "serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port))
        deadline = time.monotonic() + 60
        for port in self.ports:
            while True:
                self.check()
                if time.monotonic() > deadline:
                    raise SystemExit(f"the API on port {port} did not come up: see {self.logs}")
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                        break
                time.sleep(0.2)

    def check(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                tail = (self.logs / f"{name}.log").read_text()[-3000:]
                raise SystemExit(f"{name} exited with {proc.returncode}:\n{tail}")

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def rss_mb(pid: int) -> float | None:
    """The process's resident memory (MB), from /proc; None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@dataclass
class Traffic:
    """What the soak sent and saw."""

    expected: dict[str, str] = field(default_factory=dict)
    """Every accepted event (or webhook request) meant to start one run: its id -> its kind."""
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    answers: Counter[str] = field(default_factory=Counter)
    """``<request kind> <status>`` of every answer that was not 2xx, and transport errors."""
    rss: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: defaultdict(list))
    load: list[float] = field(default_factory=list)


async def request(client: httpx.AsyncClient, traffic: Traffic, label: str, method: str, url: str,
                  **kwargs: Any) -> httpx.Response | None:  # fmt: skip
    begun = time.perf_counter()
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        traffic.answers[f"{label} {type(exc).__name__}"] += 1
        return None
    traffic.latencies[label].append((time.perf_counter() - begun) * 1000)
    if response.status_code >= 300:
        traffic.answers[f"{label} {response.status_code}"] += 1
        return None
    return response


async def one(client: httpx.AsyncClient, base: str, tenant: str, token: str, hook: str, kind: str,
              traffic: Traffic, rng: random.Random, later: set[asyncio.Task[Any]]) -> None:  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}
    if kind == "webhook":
        response = await request(client, traffic, "webhook", "POST", f"{base}/hooks/{hook}", json={"n": rng.random()})
        if response is not None:
            traffic.expected[response.json()["event_id"]] = kind
        return
    name = {"event": "soak/go", "sleep": "soak/sleep", "wait": "soak/order", "retry": "soak/flaky"}[kind]
    order = secrets.token_hex(8)
    body = {"name": name, "data": {"order": order}}
    response = await request(client, traffic, "send", "POST", f"{base}/api/events", headers=headers, json=body)
    if response is None:
        return
    [event_id] = response.json()["ids"]
    traffic.expected[event_id] = kind
    if kind == "wait":

        async def pay() -> None:
            await asyncio.sleep(2)
            paid = {"name": "soak/paid", "data": {"order": order}}
            await request(client, traffic, "send", "POST", f"{base}/api/events", headers=headers, json=paid)

        task = asyncio.create_task(pay())
        later.add(task)
        task.add_done_callback(later.discard)


async def drive(procs: Processes, tokens: dict[str, str], hooks: dict[str, str], args: argparse.Namespace,
                traffic: Traffic) -> None:  # fmt: skip
    """Send the traffic until the time is up (and sample every process's memory meanwhile)."""
    rng = random.Random(args.seed)
    kinds, weights = list(KINDS), list(KINDS.values())
    bases = [f"http://127.0.0.1:{port}" for port in procs.ports]
    later: set[asyncio.Task[Any]] = set()
    begun = time.monotonic()
    end = begun + args.minutes * 60

    async def sample() -> None:
        while time.monotonic() < end:
            at = time.monotonic() - begun
            for name, proc in procs.procs.items():
                rss = rss_mb(proc.pid)
                if rss is not None:
                    traffic.rss[name].append((at, rss))
            traffic.load.append(os.getloadavg()[0])
            await asyncio.sleep(RSS_EVERY_S)

    async def reads(client: httpx.AsyncClient) -> None:
        n = 0
        while time.monotonic() < end:
            tenant = rng.choice(TENANTS)
            headers = {"Authorization": f"Bearer {tokens[tenant]}"}
            base = bases[n % len(bases)]
            await request(
                client, traffic, "list runs", "GET", f"{base}/api/runs", headers=headers, params={"limit": 20}
            )
            n += 1
            await asyncio.sleep(1)

    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        side = [asyncio.create_task(sample()), asyncio.create_task(reads(client))]
        inflight: set[asyncio.Task[Any]] = set()
        n = 0
        while time.monotonic() < end:
            procs.check()
            tenant = rng.choice(TENANTS)
            kind = rng.choices(kinds, weights)[0]
            task = asyncio.create_task(
                one(client, bases[n % len(bases)], tenant, tokens[tenant], hooks[tenant], kind, traffic, rng, later)
            )
            inflight.add(task)
            task.add_done_callback(inflight.discard)
            n += 1
            # the next request on schedule (not after this one's answer: an open loop, as real clients are)
            await asyncio.sleep(max(0.0, begun + n / args.rate - time.monotonic()))
        await asyncio.gather(*inflight, *side)
        await asyncio.gather(*list(later))


def settle(kit: WorkflowKit, timeout_s: float) -> float:
    """Wait until no run of the soak's tenants is open; the seconds it took."""
    begun = time.monotonic()
    R = schema.runs
    query = sa.select(sa.func.count()).where(R.c.tenant.in_(TENANTS), R.c.status.in_(OPEN))
    while True:
        with kit.db.read() as conn:
            left = int(conn.execute(query).scalar_one())
        if left == 0 or time.monotonic() - begun > timeout_s:
            return time.monotonic() - begun
        time.sleep(1)


@dataclass
class Checked:
    runs: int
    lost: list[str]
    duplicated: list[str]
    unexpected: int
    not_ended: int
    statuses: Counter[str]
    first_step_ms: list[float]


def check(kit: WorkflowKit, expected: dict[str, str]) -> Checked:
    """Each expected event's runs (exactly one, ended), and each run's time from its event's receipt to
    its first step's start."""
    R, A, E = schema.runs, schema.run_actions, schema.events
    per_event: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    first: list[float] = []
    with kit.db.read() as conn:
        rows = conn.execute(
            sa.select(R.c.id, R.c.event_id, R.c.status, E.c.received_at, sa.func.min(A.c.started_at))
            .select_from(R.join(E, E.c.id == R.c.event_id).outerjoin(A, A.c.run_id == R.c.id))
            .where(R.c.tenant.in_(TENANTS))
            .group_by(R.c.id, R.c.event_id, R.c.status, E.c.received_at)
        ).all()
    for _run, event_id, status, received, started in rows:
        per_event[event_id] += 1
        statuses[status] += 1
        if started is not None:
            first.append(float(started - received))
    return Checked(
        runs=len(rows),
        lost=[e for e in expected if per_event[e] == 0],
        duplicated=[e for e, n in per_event.items() if n > 1],
        unexpected=sum(n for e, n in per_event.items() if e not in expected),
        not_ended=sum(n for s, n in statuses.items() if s in OPEN),
        statuses=statuses,
        first_step_ms=first,
    )


def rss_trend(samples: list[tuple[float, float]], minutes: float) -> tuple[float, float, float]:
    """Mean RSS of the first minute, of the last minute, and the maximum (MB)."""
    last_start = max(0.0, minutes * 60 - 60)
    head = [mb for at, mb in samples if at < 60] or [samples[0][1]]
    tail = [mb for at, mb in samples if at >= last_start] or [samples[-1][1]]
    return statistics.mean(head), statistics.mean(tail), max(mb for _, mb in samples)


def report(args: argparse.Namespace, traffic: Traffic, checked: Checked, settled_s: float) -> list[str]:
    lines = [
        f"soak: {args.minutes:g} min, {len(TENANTS)} tenants, {args.workers} workers + {args.apis} API processes"
        f" on PostgreSQL, {args.rate:g} requests/s; load average (1 min) mean {statistics.mean(traffic.load):.1f},"
        f" max {max(traffic.load):.1f}",
        f"runs: {checked.runs} for {len(traffic.expected)} accepted events"
        f" ({', '.join(f'{k} {n}' for k, n in sorted(Counter(traffic.expected.values()).items()))});"
        f" lost {len(checked.lost)}, duplicated {len(checked.duplicated)}, unexpected {checked.unexpected},"
        f" not ended {checked.not_ended} (all ended {settled_s:.0f} s after the traffic);"
        f" statuses {dict(sorted(checked.statuses.items()))}",
    ]
    if checked.first_step_ms:
        f = checked.first_step_ms
        lines.append(
            f"event -> first step: p50 {statistics.median(f):.0f} ms, p99 {percentile(f, 99):.0f} ms,"
            f" max {max(f):.0f} ms ({len(f)} runs)"
        )
    for label, values in sorted(traffic.latencies.items()):
        lines.append(
            f"API {label}: p50 {statistics.median(values):.1f} ms, p99 {percentile(values, 99):.1f} ms"
            f" ({len(values)} requests)"
        )
    lines.append(f"answers not 2xx: {dict(traffic.answers) or 'none'}")
    for name, samples in sorted(traffic.rss.items()):
        head, tail, top = rss_trend(samples, args.minutes)
        lines.append(
            f"RSS {name}: first minute {head:.0f} MB, last minute {tail:.0f} MB ({tail - head:+.0f} MB),"
            f" max {top:.0f} MB"
        )
    return lines


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=20.0, help="requests a second (besides one read a second)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--apis", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.rate <= 0 or args.workers < 1 or args.apis < 1:
        parser.error("--minutes and --rate must be positive, --workers and --apis at least 1")
    return args


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    server = os.environ.get("WORKFLOW_KIT_TEST_POSTGRES_URL")
    if not server:
        raise SystemExit("the soak runs on PostgreSQL: scripts/with-postgres .venv/bin/python -m bench.soak")
    with fresh_database(server) as url:
        yield url


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    secret = secrets.token_urlsafe(32)
    with postgres() as url, tempfile.TemporaryDirectory(prefix="wk-soak-") as tmp:
        kit = WorkflowKit(database_url=url, secret=secret)
        kit.migrate_sync()
        hooks = setup(url, secret)
        tokens = {tenant: kit.editor_token(tenant, "soak") for tenant in TENANTS}
        procs = Processes(url, secret, Path(tmp))
        traffic = Traffic()
        try:
            procs.start(args.workers, args.apis)
            asyncio.run(drive(procs, tokens, hooks, args, traffic))
            settled = settle(kit, timeout_s=300)
            procs.check()
        finally:
            procs.stop()
        checked = check(kit, traffic.expected)
        kit.close()
        print("\n".join(report(args, traffic, checked, settled)))
        if checked.lost or checked.duplicated or checked.not_ended:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
