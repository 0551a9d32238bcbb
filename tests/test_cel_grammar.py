"""cel-python's parser from a cache file: the same parser as cel-python's own, built once per machine."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import lark
import pytest
from celpy.celparser import CELParser

from workflow_kit import cel_grammar, cel_limits

TREE = cel_limits.BoundedRunner.tree_node_class
SOURCES = ["event.data.n > 1.5 && true", "'a' in ['a', 'b'] ? size(x) : -1", "state.m.filter(k, k != null)"]


@pytest.fixture
def fresh_parser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No parser in this process yet, and an empty cache folder; the process's parser afterwards."""
    kept = CELParser.CEL_PARSER
    monkeypatch.setenv("WORKFLOW_KIT_CACHE_DIR", str(tmp_path / "cache"))
    CELParser.CEL_PARSER = None
    yield tmp_path / "cache"
    CELParser.CEL_PARSER = kept


def test_the_options_are_cel_pythons_own(fresh_parser: Path) -> None:
    CELParser(tree_class=TREE)  # cel-python builds its parser
    theirs = CELParser.CEL_PARSER
    assert theirs is not None
    CELParser.CEL_PARSER = None
    cel_grammar.preload(TREE)
    ours = CELParser.CEL_PARSER
    assert ours is not None and ours is not theirs
    assert theirs.options.cache is False and ours.options.cache
    assert {**ours.options.options, "cache": False} == theirs.options.options  # every option, not only ours
    for source in SOURCES:
        assert ours.parse(source) == theirs.parse(source)


def test_the_second_process_reads_the_cache_the_first_wrote(fresh_parser: Path) -> None:
    cel_grammar.preload(TREE)
    [written] = fresh_parser.iterdir()  # one file, no partial one left
    assert written.name.startswith("cel-parser-") and written.suffix == ".lark"
    first = CELParser.CEL_PARSER
    CELParser.CEL_PARSER = None
    cel_grammar.preload(TREE)
    assert CELParser.CEL_PARSER is not first
    assert [p.name for p in fresh_parser.iterdir()] == [written.name]
    assert CELParser.CEL_PARSER is not None and CELParser.CEL_PARSER.parse(SOURCES[0]) == first.parse(SOURCES[0])  # type: ignore[union-attr]


def test_an_upgrade_of_lark_makes_another_file(fresh_parser: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    grammar = cel_grammar.GRAMMAR.read_text()
    before = cel_grammar.cache_file(grammar, TREE)
    monkeypatch.setattr(lark, "__version__", "0.0.1")
    assert cel_grammar.cache_file(grammar, TREE) != before


def test_without_a_writable_cache_folder_the_parser_is_built_anyway(fresh_parser: Path) -> None:
    fresh_parser.parent.joinpath("cache").write_text("a file where the folder would be")
    cel_grammar.preload(TREE)
    assert CELParser.CEL_PARSER is not None and not CELParser.CEL_PARSER.options.cache


def test_expressions_work_in_a_new_process_with_and_without_the_cache(tmp_path: Path) -> None:
    code = "from workflow_kit.expressions import evaluate; print(evaluate('1 + 2 == 3', {}))"
    env = {"WORKFLOW_KIT_CACHE_DIR": str(tmp_path), "PATH": "", "PYTHONPATH": os.environ["PYTHONPATH"]}
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 0 and done.stdout.strip() == "True", done.stderr
        assert not done.stderr  # no "failed to load from cache" from Lark
    assert len(list(tmp_path.glob("cel-parser-*.lark"))) == 1
