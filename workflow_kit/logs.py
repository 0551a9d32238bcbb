"""The logs of ``workflow-kit serve`` and ``worker``: text, or one JSON object a line
(``--log-format json``), through a filter that never lets a credential through; and `RunLog`, the
observer that writes one line per thing worth knowing (a run started, ended, failed; an attempt failed
or will be retried; events received), naming the run, tenant, workflow, version, action and step.

JSON lines are python-json-logger's (on msgspec): every ``extra=`` field of a record becomes a key.
The filter rewrites a record's message (and its traceback) before any formatter sees it: query
parameters that carry credentials (``token``, ``ticket``, ...), ``Bearer`` values, anything shaped like
a JWT, and the process's own secrets (the signing secret, server keys, API keys) become ``[redacted]``."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Sequence
from typing import IO, Any

from pythonjsonlogger.msgspec import MsgspecFormatter

from .errors import ErrorInfo
from .observe import AttemptInfo, Observer, RunInfo

REDACTED = "[redacted]"
SENSITIVE_PARAMETERS = (
    *("token", "ticket", "access_token", "id_token", "refresh_token", "api_key", "apikey", "key", "secret"),
    *("password", "client_secret", "code", "code_verifier", "state"),  # OAuth: the code its return carries
)
LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
EVENTS_LOGGER = "workflow_kit.events"

_PARAMETER = re.compile(r"([?&;](?:" + "|".join(SENSITIVE_PARAMETERS) + r")=)[^&;\s\"'#]*", re.IGNORECASE)
_BEARER = re.compile(r"(\bbearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
MIN_SECRET_TO_SCRUB = 8
"""Known secrets shorter than this are not searched for (they would match ordinary words)."""


def redact(text: str, secrets: Sequence[str] = ()) -> str:
    """`text` without credentials: sensitive query parameters' values, bearer tokens, JWTs, `secrets`."""
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    if "=" in text:
        text = _PARAMETER.sub(r"\1" + REDACTED, text)
    if "eyJ" in text:
        text = _JWT.sub(REDACTED, text)
    return _BEARER.sub(r"\1" + REDACTED, text)


class RedactSecrets(logging.Filter):
    """Rewrites each record's message and string fields without credentials (see `redact`)."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        self.secrets = tuple(sorted({s for s in secrets if s and len(s) >= MIN_SECRET_TO_SCRUB}, key=len, reverse=True))

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            _, method, path, _, status = record.args  # (client, method, path, http version, status)
            record.method, record.path, record.status = method, redact(str(path), self.secrets), status
        message = record.getMessage()
        clean = redact(message, self.secrets)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        for name, value in list(vars(record).items()):
            if name not in _STANDARD and isinstance(value, str):
                setattr(record, name, redact(value, self.secrets))
        return True


_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class _Text(logging.Formatter):
    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__(TEXT_FORMAT)
        self._secrets = secrets

    def formatException(self, ei: Any) -> str:
        return redact(super().formatException(ei), self._secrets)


class _Json(MsgspecFormatter):
    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
        self._secrets = secrets

    def formatException(self, ei: Any) -> str:
        return redact(str(super().formatException(ei)), self._secrets)


def configure(
    log_format: str = "text",
    *,
    secrets: Iterable[str | None] = (),
    level: int = logging.INFO,
    stream: IO[str] | None = None,
) -> logging.Handler:
    """Send every log record of the process (the kit's, the editor API's, uvicorn's, Litestar's) to one
    handler on `stream` (stderr), as text or JSON lines, through `RedactSecrets`. Call it again after
    anything that installs handlers of its own (Litestar does, when an app is made)."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"unknown log format {log_format!r}: {' or '.join(LOG_FORMATS)}")
    redactor = RedactSecrets(secrets)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(redactor)
    handler.setFormatter(_Json(redactor.secrets) if log_format == "json" else _Text(redactor.secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "litestar"):
        logger = logging.getLogger(name)
        for old in list(logger.handlers):
            logger.removeHandler(old)
        logger.propagate = True
    return handler


class RunLog(Observer):
    """One log line (logger ``workflow_kit.events``) per run started or ended, attempt that failed, and
    batch of events received; INFO, and WARNING for failures. Fields: ``run_id``, ``tenant``,
    ``workflow``, ``version``, ``action``, ``step``, ``status``, ``error``, ``duration_ms``, ``events``."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._log = logger or logging.getLogger(EVENTS_LOGGER)

    def run_started(self, run: RunInfo, now_ms: int) -> None:
        if self._log.isEnabledFor(logging.INFO):
            self._log.info("run started", extra=_fields(run, status="running"))

    def run_ended(self, run: RunInfo, status: str, error: ErrorInfo | None, now_ms: int) -> None:
        level = logging.WARNING if status == "failed" else logging.INFO
        if self._log.isEnabledFor(level):
            extra = _fields(run, status=status)
            if error is not None:
                extra["error"] = f"{error.name}: {error.message}"
            self._log.log(level, f"run {status}", extra=extra)

    def attempt_ended(self, run: RunInfo, attempt: AttemptInfo) -> None:
        if attempt.outcome == "completed" or not self._log.isEnabledFor(logging.WARNING):
            return
        extra = _fields(run, status=attempt.outcome, action=attempt.action_id, step=attempt.step)
        extra["duration_ms"] = attempt.duration_ms
        if attempt.error is not None:
            extra["error"] = f"{attempt.error.name}: {attempt.error.message}"
        what = "step attempt" if attempt.step is not None else "action attempt"
        verdict = "failed; it will be retried" if attempt.outcome == "retrying" else "failed"
        self._log.warning(f"{what} {verdict}", extra=extra)

    def events_received(self, tenant: str, names: Sequence[str], event_ids: Sequence[str]) -> None:
        if self._log.isEnabledFor(logging.INFO):
            extra = {"tenant": tenant, "events": list(names), "event_ids": list(event_ids)}
            self._log.info("events received", extra=extra)


def _fields(run: RunInfo, **more: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "run_id": run.run_id,
        "tenant": run.tenant,
        "workflow": run.workflow_id,
        "version": run.version,
    }
    fields.update({key: value for key, value in more.items() if value is not None})
    return fields
