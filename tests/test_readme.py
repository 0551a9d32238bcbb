"""The README's Python examples run as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_quickstart_runs_and_prints_what_it_says(tmp_path: Path) -> None:
    blocks = python_blocks()
    assert blocks, "the README has no Python example"
    script = tmp_path / "quickstart.py"
    script.write_text(blocks[0])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout's code, wherever the package is installed
    out = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.splitlines() == ["[]", "completed {'sum': 11.0, 'big': {'result': True}}"]


def test_durable_quickstart_runs_in_a_fresh_folder(tmp_path: Path) -> None:
    blocks = python_blocks()
    script = tmp_path / "durable.py"
    script.write_text(blocks[1])
    env = {k: v for k, v in os.environ.items() if k != "WORKFLOW_KIT_DATABASE_URL"}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.splitlines() == ["completed {'w': 'sent to ann@example.com'}"]
    assert (tmp_path / "workflow-kit.db").exists()


# Where each shell command of the README is run for real (so the README cannot rot).
RUN_BY = {
    "make demo": "tests/browser/test_demo.py",
    "make test": ".ci/run",
    "workflow-kit serve": "tests/test_api_server.py",
    "workflow-kit seed": "tests/test_seeds.py",
    "workflow-kit migrate": "tests/test_cli.py",
    "workflow-kit worker": "tests/test_cli.py",
}


def test_every_shell_command_in_the_readme_is_run_by_a_test() -> None:
    root = README.parent
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(), flags=re.DOTALL)
    commands = [line.split("#")[0].strip() for block in blocks for line in block.splitlines() if line.strip()]
    assert commands, "the README shows no command"
    for command in commands:
        words = [w for w in command.split() if "=" not in w or w.startswith("-")]
        name = " ".join(words[:2])
        assert name in RUN_BY, f"nothing runs {command!r}: add a test and list it here"
        runner = (root / RUN_BY[name]).read_text()
        assert words[1] in runner, f"{RUN_BY[name]} does not run {name!r}"
