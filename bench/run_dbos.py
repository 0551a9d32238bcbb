"""Run DBOS Transact's side of the runtime benchmark: the whole matrix, one process per measurement.

    WITH_POSTGRES_DURABLE=1 scripts/with-postgres .venv/bin/python -m bench.run_dbos --repeat 3

Databases: a plain DBOS SQLite file (DBOS leaves SQLite in its rollback-journal mode), a SQLite file set to
WAL before DBOS opens it, and PostgreSQL when WORKFLOW_KIT_TEST_POSTGRES_URL is set (a fresh database per
measurement; run it with WITH_POSTGRES_DURABLE=1 so commits are flushed as in production). Each
measurement is a `bench.dbos_side` process on a fresh database (see its docstring for what is measured).

Repeated `--repeat` times, in interleaved rounds, per database:
- sequential: `--runs` workflows called one after another;
- 20 concurrent, threads: 20 threads calling the workflow;
- 20 concurrent, queue: a DBOS queue with worker_concurrency 20 polled every `--poll` seconds;
- latency, idle and under load: enqueue -> first step through that queue, `--events` samples (fewer if
  a measurement's 60 s time limit runs out first: the sample count is printed).
Once per database (`--default-events` samples, 0 to skip): the same queue measurements with DBOS's default
polling interval (1 s), which takes about a second per latency sample.

Prints medians (of the rounds' p50 and of their p99 for latency); `--out FILE` keeps every JSON result.
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POLL_S = 1.0


@dataclass(frozen=True)
class Measurement:
    key: str  # a column of the tables
    args: tuple[str, ...]


def matrix(runs: int, events: int, poll: float) -> list[Measurement]:
    p = str(poll)
    return [
        Measurement("seq", ("--mode", "throughput", "--runs", str(runs), "--concurrency", "1")),
        Measurement("c20-threads", ("--mode", "throughput", "--runs", str(runs), "--concurrency", "20")),
        Measurement(
            "c20-queue",
            ("--mode", "throughput", "--runs", str(runs), "--concurrency", "20", "--via", "queue", "--poll", p),
        ),
        Measurement("lat-idle", ("--mode", "latency", "--events", str(events), "--poll", p)),
        Measurement("lat-load", ("--mode", "latency", "--events", str(events), "--poll", p, "--load")),
    ]


def default_poll_matrix(runs: int, events: int) -> list[Measurement]:
    return [
        Measurement(
            "c20-queue",
            ("--mode", "throughput", "--runs", str(runs), "--concurrency", "20", "--via", "queue"),
        ),
        Measurement("lat-idle", ("--mode", "latency", "--events", str(events))),
        Measurement("lat-load", ("--mode", "latency", "--events", str(events), "--load")),
    ]


class Runner:
    def __init__(self, folder: Path, postgres_url: str | None) -> None:
        self.folder = folder
        self.postgres_url = postgres_url
        self.count = 0

    def db_args(self, db: str) -> list[str]:
        self.count += 1
        if db == "postgres":
            assert self.postgres_url
            return ["--db-url", self.postgres_url]
        url = f"sqlite:///{self.folder / f'dbos-{self.count}.sqlite'}"
        return ["--db-url", url, *(["--wal"] if db == "sqlite-wal" else [])]

    def run(self, db: str, m: Measurement) -> dict[str, Any] | None:
        cmd = [sys.executable, "-m", "bench.dbos_side", *self.db_args(db), *m.args]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        started = time.monotonic()
        try:
            proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False)
        except subprocess.TimeoutExpired:
            print(f"  {db} {m.key}: timed out", file=sys.stderr)
            return None
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
        if proc.returncode != 0 or not lines:
            print(f"  {db} {m.key}: failed ({proc.returncode}):\n{proc.stderr[-3000:]}", file=sys.stderr)
            return None
        result: dict[str, Any] = json.loads(lines[-1])
        print(f"  {db:<10} {m.key:<11} {time.monotonic() - started:5.1f}s  {summary(result)}", file=sys.stderr)
        return result


def summary(r: dict[str, Any]) -> str:
    if r["mode"] == "throughput":
        return f"{r['steps_per_s']:.0f} steps/s, {r['runs_per_s']:.1f} runs/s"
    text = f"p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms ({r['samples']} samples)"
    if "load_runs_per_s" in r:
        text += f", load {r['load_runs_per_s']:.1f} runs/s"
    return text


def median_of(results: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in results))


def cell(results: list[dict[str, Any]]) -> str:
    if not results:
        return "failed"
    if results[0]["mode"] == "throughput":
        return f"{median_of(results, 'steps_per_s'):.0f} steps/s ({median_of(results, 'runs_per_s'):.1f} runs/s)"
    text = f"{median_of(results, 'p50_ms'):.1f} / {median_of(results, 'p99_ms'):.1f} ms"
    notes = [f"n={min(r['samples'] for r in results)}"]
    if "load_runs_per_s" in results[0]:
        notes.append(f"load {median_of(results, 'load_runs_per_s'):.0f} runs/s")
    return f"{text} ({', '.join(notes)})"


def settings_text(results: list[dict[str, Any]]) -> str:
    s = results[0].get("settings", {}) if results else {}
    if "journal_mode" in s:
        return f"journal_mode={s['journal_mode']}, synchronous={s['synchronous']}, SQLite {s['sqlite_version']}"
    if "fsync" in s:
        return (
            f"PostgreSQL {s['server_version'].split()[0]}, fsync={s['fsync']}, "
            f"synchronous_commit={s['synchronous_commit']}, full_page_writes={s['full_page_writes']}"
        )
    return "?"


def table(title: str, columns: list[tuple[str, str]], dbs: list[str], got: dict[tuple[str, str], list[Any]]) -> None:
    print(f"\n{title}\n")
    print("| database | " + " | ".join(label for _, label in columns) + " |")
    print("|---|" + "---|" * len(columns))
    for db in dbs:
        print(f"| {db} | " + " | ".join(cell(got.get((db, key), [])) for key, _ in columns) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--poll", type=float, default=0.1, help="the tuned queue polling interval, seconds")
    parser.add_argument("--default-events", type=int, default=10, help="latency samples at DBOS's default polling")
    parser.add_argument("--dbs", default="sqlite,sqlite-wal,postgres")
    parser.add_argument("--out", type=Path, help="append every JSON result to this file")
    args = parser.parse_args()

    postgres_url = os.environ.get("WORKFLOW_KIT_TEST_POSTGRES_URL")
    dbs = [db for db in args.dbs.split(",") if db != "postgres" or postgres_url]
    tuned = matrix(args.runs, args.events, args.poll)
    default = default_poll_matrix(args.runs, args.default_events) if args.default_events > 0 else []
    got: dict[tuple[str, str], list[dict[str, Any]]] = {}
    got_default: dict[tuple[str, str], list[dict[str, Any]]] = {}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dbos-bench-") as tmp:
        runner = Runner(Path(tmp), postgres_url)

        def record(into: dict[tuple[str, str], list[dict[str, Any]]], db: str, m: Measurement) -> None:
            result = runner.run(db, m)
            if result is not None:
                into.setdefault((db, m.key), []).append(result)
                if args.out:
                    with args.out.open("a") as f:
                        f.write(json.dumps(result) + "\n")

        for round_no in range(args.repeat):
            print(f"round {round_no + 1} of {args.repeat}", file=sys.stderr)
            for m in tuned:
                for db in dbs:
                    record(got, db, m)
        if default:
            print(f"DBOS's default polling ({DEFAULT_POLL_S:g} s), once", file=sys.stderr)
            for m in default:
                for db in dbs:
                    record(got_default, db, m)
    elapsed = time.monotonic() - started

    print(
        f"DBOS Transact: 10-step no-op workflows, {args.runs} runs per throughput measurement, "
        f"{args.events} events per latency measurement; medians of {args.repeat} rounds ({elapsed:.0f} s in all)."
    )
    for db in dbs:
        print(f"- {db}: {settings_text(got.get((db, 'seq'), []))}")
    table(
        f"Throughput, and latency (enqueue -> first step, p50 / p99) with the queue polled every {args.poll:g} s",
        [
            ("seq", "sequential"),
            ("c20-threads", "20 concurrent (threads)"),
            ("c20-queue", f"20 concurrent (queue, poll {args.poll:g} s)"),
            ("lat-idle", "latency idle"),
            ("lat-load", "latency under load"),
        ],
        dbs,
        got,
    )
    if default:
        table(
            f"DBOS's default queue polling ({DEFAULT_POLL_S:g} s), one round, {args.default_events} latency samples",
            [
                ("c20-queue", "20 concurrent (queue)"),
                ("lat-idle", "latency idle"),
                ("lat-load", "latency under load"),
            ],
            dbs,
            got_default,
        )


if __name__ == "__main__":
    main()
