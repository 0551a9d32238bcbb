"""Marks left by step bodies of the process tests' apps: one line per call, appended with a single
``write`` on an ``O_APPEND`` descriptor to ``$WK_MARKS/marks-<pid>.log`` (one file per process), so a
process killed with SIGKILL loses nothing it wrote (the kernel has it; no fsync needed)."""

from __future__ import annotations

import os
from pathlib import Path


def mark(line: str) -> None:
    path = Path(os.environ["WK_MARKS"]) / f"marks-{os.getpid()}.log"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)
