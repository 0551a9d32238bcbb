"""``workflow-kit``: the command line.

    workflow-kit migrate [--app MODULE:KIT | --database-url URL]
    workflow-kit serve   --app MODULE:KIT [--host 127.0.0.1] [--port 8000] [--demo] [--no-worker]
                         [--log-format text|json] [--metrics [--metrics-per-workflow]]
    workflow-kit worker  --app MODULE:KIT [--concurrency N] [--lease-ms MS] [--poll-ms MS] [--log-format text|json]
                         [--metrics-port PORT [--metrics-per-workflow]]
    workflow-kit send    --app MODULE:KIT TENANT EVENT_JSON
    workflow-kit runs    --app MODULE:KIT TENANT [--workflow ID] [--status STATUS] [--limit N]
    workflow-kit connections new-key       (prints a key for WORKFLOW_KIT_SECRET_KEYS)
    workflow-kit connections rotate-keys --app MODULE:KIT   (re-encrypts every secret under the newest key)

``--app`` names the kit the way uvicorn names an app: ``mypkg.module:kit`` (an attribute holding a
`WorkflowKit`, or a function returning one). ``--database-url`` overrides the kit's database.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import logging
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

import msgspec

from . import logs
from .errors import WorkflowKitError
from .kit import WorkflowKit


def load_app(spec: str) -> WorkflowKit:
    """Import ``module:attribute`` and return the `WorkflowKit` it names (calling it if a factory)."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise SystemExit(f"--app must look like mypkg.module:kit, got {spec!r}")
    sys.path.insert(0, ".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SystemExit(f"cannot import {module_name!r}: {exc}") from None
    target: Any = module
    for part in attribute.split("."):
        target = getattr(target, part, None)
        if target is None:
            raise SystemExit(f"{module_name!r} has no attribute {attribute!r}")
    if not isinstance(target, WorkflowKit) and callable(target) and _takes_no_arguments(target):
        target = target()
    if not isinstance(target, WorkflowKit):
        raise SystemExit(f"{spec!r} is not a WorkflowKit (got {type(target).__name__})")
    return target


def _module_of(spec: str) -> Any:
    return sys.modules.get(spec.partition(":")[0])


def _takes_no_arguments(factory: Any) -> bool:
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return False
    return all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters)


def _kit(args: argparse.Namespace) -> WorkflowKit:
    kit = load_app(args.app) if args.app else WorkflowKit()
    if args.database_url:
        kit.database_url = args.database_url
    return kit


def _print_json(value: Any) -> None:
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(value)).decode() + "\n")


async def _run_worker(kit: WorkflowKit, args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await kit.migrate()
    if args.metrics_port:
        from prometheus_client import start_http_server

        from . import metrics

        registry = metrics.enable(kit, per_workflow=args.metrics_per_workflow).registry
        start_http_server(args.metrics_port, addr="127.0.0.1", registry=registry)
    async with kit.worker(concurrency=args.concurrency, lease_ms=args.lease_ms, poll_ms=args.poll_ms) as worker:
        logging.getLogger("workflow_kit.worker").info("worker %s started on %s", worker.name, kit.database_url)
        await stop.wait()


def _serve(kit: WorkflowKit, args: argparse.Namespace) -> None:
    import uvicorn

    from editor_api import ConfigurationError, create_app

    kit.migrate_sync()
    module = _module_of(args.app) if args.app else None
    extra_routes: list[Any] = []
    if args.metrics:
        extra_routes.append(_metrics_route(kit, per_workflow=args.metrics_per_workflow))
    try:
        origins = args.cors_origin or [o for o in os.environ.get("WORKFLOW_KIT_CORS_ORIGINS", "").split(",") if o]
        app = create_app(
            kit,
            demo=args.demo,
            run_worker=not args.no_worker,
            cors_origins=origins,
            api_routes=getattr(module, "api_routes", ()),
            routes=[*getattr(module, "routes", ()), *extra_routes],
        )
    except ConfigurationError as exc:
        raise SystemExit(f"error: {exc}") from None
    # Litestar installed its own log handlers when the app was made: ours again, with the app's secrets
    logs.configure(args.log_format, secrets=[*_secrets(kit), *app.state.authenticator.secrets])
    print(f"workflow-kit editor on http://{args.host}:{args.port}/ (API at /api, OpenAPI at /schema/openapi.json)")
    if kit.ai.name == "local":
        print("AI steps: no OPENAI_API_KEY, so a labelled local stand-in writes deterministic text (not AI).")
    else:
        print(f"AI steps: {kit.ai.name}, model {kit.ai.model}")
    # log_config=None: uvicorn's loggers (the access log among them) go to the handler above, through its
    # filter, which redacts credentials (a token or ticket in a query string) from every line
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", lifespan="on", log_config=None)


def _metrics_route(kit: WorkflowKit, *, per_workflow: bool) -> Any:
    """``GET /metrics``: the kit's Prometheus metrics (no token: serve binds 127.0.0.1 unless told
    otherwise; put it behind the network's own access rules)."""
    from litestar.handlers import asgi

    from . import metrics

    served = metrics.app(kit, per_workflow=per_workflow)

    @asgi("/metrics", is_mount=True)
    async def metrics_endpoint(scope: Any, receive: Any, send: Any) -> None:
        await served(scope, receive, send)

    return metrics_endpoint


def _secrets(kit: WorkflowKit) -> list[str | None]:
    """What must never appear in a log line: the signing secret, server keys, the AI provider's key."""
    keys = os.environ.get("WORKFLOW_KIT_SERVER_KEYS", "").split(",")
    return [kit.secret, os.environ.get("OPENAI_API_KEY"), *(key.strip() for key in keys)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="workflow-kit", description="workflow-kit: durable user-defined workflows")
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument("--app", help="the kit, as mypkg.module:kit")
        cmd.add_argument("--database-url", help="overrides the kit's database URL")
        return cmd

    command("migrate", "create or upgrade the database tables")
    command("seed", "load the app's seed data (its module's seed(kit) function), idempotently")
    serve = command("serve", "serve the editor API and the editor, with an in-process worker")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="no secret needed; hands out demo tokens")
    serve.add_argument("--no-worker", action="store_true", help="serve only; run workers separately")
    serve.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        help="a host page's origin allowed to call the API (repeat; also $WORKFLOW_KIT_CORS_ORIGINS)",
    )
    worker = command("worker", "run a worker until interrupted")
    worker.add_argument("--concurrency", type=int, default=32)
    worker.add_argument("--lease-ms", type=int, default=30_000)
    worker.add_argument("--poll-ms", type=int, default=1_000)
    for cmd in (serve, worker):
        cmd.add_argument(
            "--log-format",
            choices=logs.LOG_FORMATS,
            default="text",
            help="text, or json: one JSON object a line (runs, attempts, events, requests), credentials redacted",
        )
        cmd.add_argument(
            "--metrics-per-workflow", action="store_true", help="label run and attempt metrics with the workflow"
        )
    serve.add_argument("--metrics", action="store_true", help="serve Prometheus metrics at /metrics")
    worker.add_argument("--metrics-port", type=int, help="serve Prometheus metrics on 127.0.0.1:PORT")
    send = command("send", "send an event for a tenant")
    send.add_argument("tenant")
    send.add_argument("event", help='JSON, e.g. \'{"name": "app/signup", "data": {"id": 1}}\' (or a list)')
    runs = command("runs", "list a tenant's runs, newest first")
    runs.add_argument("tenant")
    runs.add_argument("--workflow")
    runs.add_argument("--status")
    runs.add_argument("--limit", type=int, default=20)

    connections = command("connections", "encryption keys of the connections' secrets")
    connections.add_argument(
        "task",
        choices=["new-key", "rotate-keys"],
        help="new-key: print a new key to put first in WORKFLOW_KIT_SECRET_KEYS; "
        "rotate-keys: encrypt every stored secret again under the newest key",
    )

    args = parser.parse_args(argv)
    if args.command == "connections" and args.task == "new-key":
        from .secrets import new_key

        print(new_key())  # no database, no kit: a key is 32 random bytes
        return 0
    kit = _kit(args)
    logs.configure(getattr(args, "log_format", "text"), secrets=_secrets(kit))
    if getattr(args, "log_format", "text") == "json":  # a line per run and attempt: asked for, not by default
        kit.observers.append(logs.RunLog())
    try:
        if args.command == "migrate":
            print(f"schema at revision {kit.migrate_sync()} on {kit.database_url}")
        elif args.command == "worker":
            asyncio.run(_run_worker(kit, args))
        elif args.command == "serve":
            _serve(kit, args)
        elif args.command == "seed":
            seed = getattr(_module_of(args.app), "seed", None) if args.app else None
            if seed is None:
                raise SystemExit("seed needs --app mypkg.module:kit, with a seed(kit) function in that module")
            kit.migrate_sync()
            print(f"seeded: {seed(kit)}")
        elif args.command == "send":
            try:
                events = msgspec.json.decode(args.event)
            except msgspec.DecodeError as exc:
                raise SystemExit(f"the event is not valid JSON: {exc}") from None
            except RecursionError:
                raise SystemExit("the event is not valid JSON: it is nested too deeply") from None
            try:
                ids = kit.send_sync(args.tenant, events)
            except ValueError as exc:  # an unusable tenant id
                raise SystemExit(f"error: {exc}") from None
            _print_json({"ids": ids})
        elif args.command == "connections":
            kit.migrate_sync()
            count = kit.connections.rotate_keys_sync()
            print(f"{count} secret{'s' if count != 1 else ''} encrypted again under the key {kit.keyring.newest!r}")
        elif args.command == "runs":
            found = kit.runs.list_sync(args.tenant, args.workflow, args.status, limit=args.limit)
            _print_json([msgspec.structs.replace(run, actions=[]) for run in found])
    except WorkflowKitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        kit.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
