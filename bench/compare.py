"""The kit and DBOS Transact side by side: 10-step no-op workflows, same machine, same storage, one run.

    WITH_POSTGRES_DURABLE=1 scripts/with-postgres .venv/bin/python -m bench.compare --repeat 3

(`make bench` runs exactly that, after installing the `bench` extra.) Every measurement is its own
process on a fresh database: `bench.kit_side` for the kit, `bench.dbos_side` for DBOS (a process
singleton); their docstrings say exactly what each one times. The rounds interleave every
configuration, so a noisy moment of the machine spreads over all of them; the tables give medians of
the rounds, and the ratios compare medians measured in the same run.

Configurations:
- kit, SQLite (WAL) with ``synchronous=FULL``: the default; a committed step survives a power loss.
- kit, SQLite (WAL) with ``synchronous=normal``: survives a process crash, may lose the last commits
  on a power loss.
- DBOS, SQLite: DBOS's own setting (rollback journal, ``synchronous=FULL``: SQLite's default).
- DBOS, SQLite WAL: the file set to WAL before DBOS opens it (``synchronous=FULL`` still).
- kit and DBOS on PostgreSQL when ``WORKFLOW_KIT_TEST_POSTGRES_URL`` is set (scripts/with-postgres
  sets it; with ``WITH_POSTGRES_DURABLE=1`` the cluster keeps fsync and synchronous_commit on, as in
  production).

Measurements:
- sequential: one run at a time (the kit: a worker with concurrency 1; DBOS: the workflow called in a
  loop);
- 20 concurrent (the kit: a worker with concurrency 20; DBOS: 20 threads, and a DBOS queue with
  ``worker_concurrency=20`` polled every ``--poll`` seconds);
- latency, event sent -> first step started, p50 / p99, idle and with 10 other runs in flight (the kit:
  ``kit.send`` to an in-process worker; DBOS: ``Queue.enqueue`` to a queue polled every ``--poll`` s).

The kit drains `--kit-runs` runs per throughput measurement and DBOS `--dbos-runs` (DBOS is an order
of magnitude slower: the same count would make one round take many minutes, or the kit's clock cover
well under a second).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Config:
    """One system on one storage setting."""

    label: str
    system: str  # "kit" or "dbos"
    storage: str  # "sqlite" or "postgres": ratios compare within a storage
    database: Callable[[Path, int, str | None], list[str]]  # (folder, count, postgres url) -> arguments


@dataclass(frozen=True)
class Measurement:
    key: str
    args: tuple[str, ...]


def _sqlite(prefix: str, query: str = "", *extra: str) -> Callable[[Path, int, str | None], list[str]]:
    return lambda folder, count, _pg: ["--db-url", f"sqlite:///{folder / f'{prefix}-{count}.sqlite'}{query}", *extra]


def _postgres(folder: Path, count: int, url: str | None) -> list[str]:
    assert url is not None
    return ["--db-url", url]


CONFIGS = [
    Config("kit, SQLite WAL, synchronous=FULL (default)", "kit", "sqlite", _sqlite("kit")),
    Config("kit, SQLite WAL, synchronous=NORMAL", "kit", "sqlite", _sqlite("kit", "?synchronous=normal")),
    Config("DBOS, SQLite (its default: rollback journal)", "dbos", "sqlite", _sqlite("dbos")),
    Config("DBOS, SQLite WAL", "dbos", "sqlite", _sqlite("dbos", "", "--wal")),
    Config("kit, PostgreSQL", "kit", "postgres", _postgres),
    Config("DBOS, PostgreSQL", "dbos", "postgres", _postgres),
]
KIT_BASELINE = CONFIGS[0].label  # the default setting is the one the ratios speak for


def measurements(system: str, runs: int, events: int, poll: float) -> list[Measurement]:
    throughput = ("--mode", "throughput", "--runs", str(runs))
    latency = ("--mode", "latency", "--events", str(events))
    if system == "kit":
        return [
            Measurement("seq", (*throughput, "--concurrency", "1")),
            Measurement("c20", (*throughput, "--concurrency", "20")),
            Measurement("lat-idle", latency),
            Measurement("lat-load", (*latency, "--load")),
        ]
    queue = ("--poll", str(poll))
    return [
        Measurement("seq", (*throughput, "--concurrency", "1")),
        Measurement("c20", (*throughput, "--concurrency", "20")),
        Measurement("c20-queue", (*throughput, "--concurrency", "20", "--via", "queue", *queue)),
        Measurement("lat-idle", (*latency, *queue)),
        Measurement("lat-load", (*latency, *queue, "--load")),
    ]


class Runner:
    def __init__(self, folder: Path, postgres_url: str | None, out: Path | None) -> None:
        self.folder = folder
        self.postgres_url = postgres_url
        self.out = out
        self.count = 0
        self.results: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def run(self, config: Config, m: Measurement) -> None:
        self.count += 1
        module = "bench.kit_side" if config.system == "kit" else "bench.dbos_side"
        cmd = [sys.executable, "-m", module, *config.database(self.folder, self.count, self.postgres_url), *m.args]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        started = time.monotonic()
        try:
            proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False)
        except subprocess.TimeoutExpired:
            print(f"  {config.label} / {m.key}: timed out", file=sys.stderr)
            return
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
        if proc.returncode != 0 or not lines:
            print(f"  {config.label} / {m.key}: failed ({proc.returncode}):\n{proc.stderr[-3000:]}", file=sys.stderr)
            return
        result: dict[str, Any] = {"config": config.label, "key": m.key, **json.loads(lines[-1])}
        self.results.setdefault((config.label, m.key), []).append(result)
        if self.out:
            with self.out.open("a") as f:
                f.write(json.dumps(result) + "\n")
        took = time.monotonic() - started
        print(f"  {config.label:<46} {m.key:<9} {took:5.1f}s  {summary(result)}", file=sys.stderr)


def summary(r: dict[str, Any]) -> str:
    if r["mode"] == "throughput":
        return f"{r['steps_per_s']:.0f} steps/s, {r['runs_per_s']:.1f} runs/s"
    text = f"p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms ({r['samples']} samples)"
    if r.get("load_runs_per_s"):
        text += f", load {r['load_runs_per_s']:.1f} runs/s"
    return text


def median_of(results: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in results))


def cell(results: list[dict[str, Any]]) -> str:
    if not results:
        return "-"
    if results[0]["mode"] == "throughput":
        return f"{median_of(results, 'steps_per_s'):,.0f} ({median_of(results, 'runs_per_s'):,.1f} runs/s)"
    return f"{median_of(results, 'p50_ms'):.1f} / {median_of(results, 'p99_ms'):.1f} ms"


COLUMNS = [
    ("seq", "sequential, steps/s"),
    ("c20", "20 concurrent, steps/s"),
    ("c20-queue", "20 concurrent via a DBOS queue"),
    ("lat-idle", "event -> first step, idle"),
    ("lat-load", "event -> first step, 10 runs in flight"),
]


def print_tables(configs: list[Config], got: dict[tuple[str, str], list[dict[str, Any]]], poll: float) -> None:
    print("| configuration | " + " | ".join(label for _, label in COLUMNS) + " |")
    print("|---|" + "---|" * len(COLUMNS))
    for config in configs:
        print(f"| {config.label} | " + " | ".join(cell(got.get((config.label, key), [])) for key, _ in COLUMNS) + " |")
    print(f"\n(DBOS's queue polled every {poll:g} s; its default is 1 s.)\n")
    print("Ratios, kit default (SQLite FULL; PostgreSQL) over DBOS's best on the same storage:\n")
    for storage in ("sqlite", "postgres"):
        kit = next((c for c in configs if c.system == "kit" and c.storage == storage), None)
        dbos = [c for c in configs if c.system == "dbos" and c.storage == storage]
        if kit is None or not dbos:
            continue
        for key, what in (("seq", "sequential"), ("c20", "20 concurrent")):
            mine = got.get((kit.label, key))
            theirs = [
                median_of(r, "steps_per_s") for c in dbos for k in (key, f"{key}-queue") if (r := got.get((c.label, k)))
            ]
            if mine and theirs:
                ratio = median_of(mine, "steps_per_s") / max(theirs)
                print(f"- {storage}, {what}: {ratio:.1f}x")
        mine = got.get((kit.label, "lat-idle"))
        theirs = [median_of(r, "p50_ms") for c in dbos if (r := got.get((c.label, "lat-idle")))]
        if mine and theirs:
            print(f"- {storage}, idle latency p50: {min(theirs) / median_of(mine, 'p50_ms'):.1f}x lower")


def settings_lines(configs: list[Config], got: dict[tuple[str, str], list[dict[str, Any]]]) -> None:
    for config in configs:
        found = [r for (label, _), rs in got.items() if label == config.label for r in rs if r.get("settings")]
        if found:
            settings = ", ".join(f"{k}={v}" for k, v in found[0]["settings"].items())
            print(f"- {config.label}: {settings}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--kit-runs", type=int, default=1000)
    parser.add_argument("--dbos-runs", type=int, default=300)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--poll", type=float, default=0.1, help="DBOS's queue polling interval, seconds")
    parser.add_argument("--only", default="", help="comma-separated words a configuration's label must hold")
    parser.add_argument("--out", type=Path, help="append every JSON result to this file")
    args = parser.parse_args()

    postgres_url = os.environ.get("WORKFLOW_KIT_TEST_POSTGRES_URL")
    configs = [c for c in CONFIGS if c.storage != "postgres" or postgres_url]
    for word in filter(None, args.only.split(",")):
        configs = [c for c in configs if word.lower() in c.label.lower()]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="wk-compare-") as tmp:
        runner = Runner(Path(tmp), postgres_url, args.out)
        for round_no in range(args.repeat):
            print(f"round {round_no + 1} of {args.repeat}", file=sys.stderr)
            for config in configs:
                runs = args.kit_runs if config.system == "kit" else args.dbos_runs
                for m in measurements(config.system, runs, args.events, args.poll):
                    runner.run(config, m)
    minutes = (time.monotonic() - started) / 60
    print(
        f"10-step no-op workflows; throughput over {args.kit_runs} runs (kit) and {args.dbos_runs} (DBOS), "
        f"latency over {args.events} events; medians of {args.repeat} rounds ({minutes:.0f} min in all).\n"
    )
    print_tables(configs, runner.results, args.poll)
    print()
    settings_lines(configs, runner.results)


if __name__ == "__main__":
    main()
