"""Webhooks over real HTTP, to a real ``workflow-kit serve`` (one per module, on 127.0.0.1): GitHub- and
Stripe-style signatures, a replay outside the tolerance, each bad request's status (404, 401, 413 by its
declared length and by a chunked body that passes the limit, 429 with ``Retry-After``, 422), and the
accepted request's run."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_api_server import ROOT, SECRET, server, write_app

from workflow_kit import WorkflowKit

SHOUT = {
    "actions": [{"id": "loud", "kind": "shout", "inputs": {"text": "!ref($.event.data.text)"}}],
    "edges": [{"from": "$source", "to": "loud"}],
}


class Served:
    def __init__(self, base: str, client: httpx.Client, headers: dict[str, str]) -> None:
        self.base = base
        self.client = client
        self.headers = headers

    def hook(self, verification: dict[str, Any], **settings: Any) -> tuple[str, str]:
        """A published, enabled workflow with a webhook trigger checked as `verification`: the hook's
        id and its secret."""
        created = self.client.post(
            "/api/workflows",
            headers=self.headers,
            json={
                "name": "Hooked",
                "triggers": [{"type": "webhook"}],
                "workflow": SHOUT,
                "publish": True,
                "enabled": True,
            },
        )
        assert created.status_code == 201, created.text
        hook_id = created.json()["triggers"][0]["hook"]
        put = self.client.put(
            f"/api/hooks/{hook_id}", headers=self.headers, json={"verification": verification, **settings}
        )
        assert put.status_code == 200, put.text
        secret = self.client.post(f"/api/hooks/{hook_id}/secret", headers=self.headers).json()["secret"]
        return hook_id, secret

    def run_of(self, event_id: str) -> dict[str, Any]:
        """The run the event started, once it has ended."""
        deadline = time.monotonic() + 30
        while True:
            runs = self.client.get("/api/runs", headers=self.headers, params={"event_id": event_id}).json()["items"]
            if runs and runs[0]["status"] in ("completed", "failed", "cancelled"):
                return dict(runs[0])
            assert time.monotonic() < deadline, runs
            time.sleep(0.05)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("hooks_server")
    database_url = write_app(folder)
    minter = WorkflowKit(database_url=database_url, secret=SECRET)
    headers = {"Authorization": f"Bearer {minter.editor_token('acme', 'ann')}"}
    with server(folder) as (base, _), httpx.Client(base_url=base, timeout=10) as client:
        yield Served(base, client, headers)
    minter.close()


def _hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def test_github_signed_request_starts_its_run(served: Served) -> None:
    hook_id, secret = served.hook({"style": "github"})
    body = json.dumps({"text": "pushed"}).encode()
    headers = {"Content-Type": "application/json", "X-GitHub-Delivery": "delivery-1"}
    signed = {**headers, "X-Hub-Signature-256": "sha256=" + _hex(secret, body)}
    answer = served.client.post(f"/hooks/{hook_id}", content=body, headers=signed)
    assert answer.status_code == 202, answer.text
    run = served.run_of(answer.json()["event_id"])
    assert run["status"] == "completed" and run["output"] == {"loud": "PUSHED!"}
    forged = {**headers, "X-Hub-Signature-256": "sha256=" + _hex(secret + "x", body)}
    assert served.client.post(f"/hooks/{hook_id}", content=body, headers=forged).status_code == 401


def test_stripe_signed_request_and_a_replay_outside_the_tolerance(served: Served) -> None:
    hook_id, secret = served.hook({"style": "stripe"})
    body = json.dumps({"id": "evt_1", "text": "paid"}).encode()

    def stripe(stamp: int) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "Stripe-Signature": f"t={stamp},v1={_hex(secret, f'{stamp}.'.encode() + body)}",
        }

    now = int(time.time())
    fresh = served.client.post(f"/hooks/{hook_id}", content=body, headers=stripe(now))
    assert fresh.status_code == 202, fresh.text
    replayed = served.client.post(f"/hooks/{hook_id}", content=body, headers=stripe(now - 301))
    assert replayed.status_code == 401 and "tolerance" in replayed.json()["message"]
    lines = served.client.get(f"/api/hooks/{hook_id}/requests", headers=served.headers).json()
    assert [line["status"] for line in lines] == [401, 202]


def test_every_bad_request(served: Served) -> None:
    hook_id, _ = served.hook({}, transform="{'name': 'shop/' + body.kind, 'data': body}", rate_limit=8)
    assert served.client.post("/hooks/unknown-hook-id", json={}).status_code == 404
    big = b"x" * (512 * 1024 + 1)
    assert served.client.post(f"/hooks/{hook_id}", content=big).status_code == 413
    chunked = served.client.post(f"/hooks/{hook_id}", content=iter([b"x" * 65_536] * 9))  # no length said
    assert chunked.status_code == 413
    failing = served.client.post(f"/hooks/{hook_id}", json={"no_kind": 1})
    assert failing.status_code == 422 and "the transform failed" in failing.json()["message"]
    accepted = served.client.post(f"/hooks/{hook_id}", json={"kind": "order", "text": "ok"})
    assert accepted.status_code == 202, accepted.text
    statuses = [served.client.post(f"/hooks/{hook_id}", json={"kind": "x"}).status_code for _ in range(5)]
    assert statuses[-1] == 429, statuses
    over = served.client.post(f"/hooks/{hook_id}", json={"kind": "x"})
    assert over.status_code == 429 and int(over.headers["Retry-After"]) >= 1


def test_the_readmes_curl_example_as_written(served: Served, tmp_path: Path) -> None:
    """The README's ``curl -X POST`` example, signed with ``openssl dgst``, run by bash as a user would."""
    if shutil.which("curl") is None or shutil.which("openssl") is None:
        pytest.skip("curl and openssl are needed to run the README's example")
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.DOTALL)
    [example] = [block for block in blocks if block.startswith("curl -X POST")]
    hook_id, secret = served.hook({"style": "github"})
    (tmp_path / "body.json").write_text('{"ref": "refs/heads/main", "text": "pushed"}')
    env = {**os.environ, "HOOK_ID": hook_id, "WEBHOOK_SECRET": secret}
    script = example.replace("http://127.0.0.1:8000", served.base)
    done = subprocess.run(
        ["bash", "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["status"] == "accepted"
    assert served.run_of(answer["event_id"])["output"] == {"loud": "PUSHED!"}
