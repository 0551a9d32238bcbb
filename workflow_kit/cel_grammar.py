"""cel-python's parser, built once per machine instead of once per process.

cel-python builds its Lark LALR parser from the CEL grammar the first time an environment is made: about
0.2 s of CPU in every process that evaluates CEL (the CLI, each worker, each server, each test process).
Lark can keep the analysed grammar in a cache file; `preload` gives cel-python a parser made with the
same options and such a cache, in the user's cache folder (``$WORKFLOW_KIT_CACHE_DIR``, else
``$XDG_CACHE_HOME/workflow-kit``, else ``~/.cache/workflow-kit``). The file's name holds a digest of the
grammar, the options and the Lark and Python versions, so an upgrade makes a new file; it is written
under a temporary name and renamed, so a process starting meanwhile never reads half of it. Without a
writable folder the parser is built as cel-python builds it.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import lark
from celpy.celparser import CELParser

GRAMMAR = Path(sys.modules[CELParser.__module__].__file__ or "").with_name("cel.lark")


def options(tree_class: type) -> dict[str, Any]:
    """The options cel-python's `CELParser` gives Lark (test_cel_grammar checks they still agree)."""
    return {
        "parser": "lalr",
        "start": "expr",
        "debug": True,
        "g_regex_flags": re.M,
        "lexer_callbacks": {"IDENT": CELParser.ambiguous_literals},
        "propagate_positions": True,
        "maybe_placeholders": False,
        "priority": "invert",
        "tree_class": tree_class,
    }


def cache_folder() -> Path:
    configured = os.environ.get("WORKFLOW_KIT_CACHE_DIR")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "workflow-kit"


def cache_file(grammar: str, tree_class: type) -> Path:
    settings = {name: value for name, value in options(tree_class).items() if name != "lexer_callbacks"}
    identity = repr((grammar, sorted(settings.items()), lark.__version__, sys.version_info[:2]))
    return cache_folder() / f"cel-parser-{hashlib.sha256(identity.encode()).hexdigest()[:20]}.lark"


def preload(tree_class: type) -> None:
    """Give cel-python its parser (once per process), from the cache file when there is one."""
    if CELParser.CEL_PARSER is not None:
        return
    grammar = GRAMMAR.read_text()
    target = cache_file(grammar, tree_class)
    if target.is_file():
        CELParser.CEL_PARSER = lark.Lark(grammar, cache=str(target), **options(tree_class))
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, partial = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".partial")
        os.close(handle)
    except OSError:  # no writable cache folder: build it as cel-python would
        CELParser.CEL_PARSER = lark.Lark(grammar, **options(tree_class))
        return
    try:
        os.unlink(partial)  # Lark writes the file itself, and only when it is not there already
        CELParser.CEL_PARSER = lark.Lark(grammar, cache=partial, **options(tree_class))
        os.replace(partial, target)
    except OSError:
        Path(partial).unlink(missing_ok=True)
