"""The README's examples run as written: every Python block, twice in the same folder (as a user who runs
an example again would), and every shell command is run by some test."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


# What a block prints, where the README says so in its comments (`print(...)  # <what it prints>`).
PRINTS = {
    0: ["[]", "completed {'sum': 11.0, 'big': {'result': True}}"],
    1: ["completed {'w': 'sent to ann@example.com'}"],
    5: ["{'index': 1, 'event': 'shop/refund.*'}", "{'f': 'trigger 1 started it, with shop/refund.issued'}"],
}


def run_block(code: str, folder: Path, name: str) -> list[str]:
    script = folder / f"{name}.py"
    script.write_text(code)
    env = {k: v for k, v in os.environ.items() if k != "WORKFLOW_KIT_DATABASE_URL" and not k.startswith("OPENAI")}
    env["PYTHONPATH"] = str(ROOT)  # this checkout's code, wherever the package is installed
    out = subprocess.run(
        [sys.executable, str(script)], cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, f"README block {name} failed:\n{out.stderr}"
    return out.stdout.splitlines()


def test_the_readme_has_examples_that_say_what_they_print() -> None:
    blocks = python_blocks()
    assert len(blocks) >= 4, "the README lost its examples"
    for index, lines in PRINTS.items():
        for line in lines:
            assert line in blocks[index], f"block {index} no longer says it prints {line!r}"


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_every_python_block_runs_twice_in_the_same_folder(index: int, tmp_path: Path) -> None:
    code = python_blocks()[index]
    first = run_block(code, tmp_path, f"block{index}")
    second = run_block(code, tmp_path, f"block{index}")
    if index in PRINTS:
        assert first == PRINTS[index]
    assert second == first, "running the example again printed something else"


def test_the_durable_example_keeps_its_database_in_the_folder(tmp_path: Path) -> None:
    run_block(python_blocks()[1], tmp_path, "durable")
    assert (tmp_path / "workflow-kit.db").exists()


# Where each shell command of the README is run for real (so the README cannot rot).
RUN_BY = {
    "pip install": "tests/test_packaging.py",
    "make demo": "tests/browser/test_demo.py",
    "make test": ".ci/run",
    "workflow-kit serve": "tests/test_api_server.py",
    "workflow-kit seed": "tests/test_seeds.py",
    "workflow-kit migrate": "tests/test_cli.py",
    "workflow-kit worker": "tests/test_cli.py",
}


def test_every_shell_command_in_the_readme_is_run_by_a_test() -> None:
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(), flags=re.DOTALL)
    commands = [line.split("#")[0].strip() for block in blocks for line in block.splitlines() if line.strip()]
    assert commands, "the README shows no command"
    for command in commands:
        words = [w for w in command.split() if "=" not in w or w.startswith("-")]
        name = " ".join(words[:2])
        assert name in RUN_BY, f"nothing runs {command!r}: add a test and list it here"
        runner = (ROOT / RUN_BY[name]).read_text()
        assert words[1] in runner, f"{RUN_BY[name]} does not run {name!r}"


def test_the_readme_refers_to_nothing_outside_the_repository() -> None:
    text = README.read_text()
    assert not re.search(r"(?<!\.)\.\./", text), "the README points outside the repository"
    for path in re.findall(r"`((?:docs|frontend|tests|scripts|bench|seeds)/[\w./-]+)`", text):
        if "*" not in path:
            assert (ROOT / path).exists(), f"the README names {path}, which is not in the repository"
