"""The control-flow signals: how a run's execution is stopped, paused or sent back, in one place.

Each is a `BaseException`, not an `Exception`, so a handler's ``except Exception`` cannot swallow it:
they carry no error of the user's, only the news that this execution must not go on as it was.

- `Suspend`: the action cannot go on now (a sleep, a wait for an event, a retry's backoff); the run
  parks until its wake time.
- `Interrupted`: the run is being stopped (cancelled, or its worker is shutting down): start no
  further step; another execution resumes it from its journal.
- `StaleRun`: this worker no longer owns the run (its lease passed to another worker, or the run was
  cancelled); nothing it writes is recorded.
- `ReloadRun`: the run's state changed under this worker (an event won a race with a timeout): hand it
  back and load it again.
- `JournalUnavailable`: the database failed while recording the run; the run is retried later, not
  failed.
"""

from __future__ import annotations

__all__ = ["Interrupted", "JournalUnavailable", "ReloadRun", "StaleRun", "Suspend"]


class Suspend(BaseException):
    """The action cannot go on now: it is sleeping, waiting for an event, or backing off before a retry."""


class Interrupted(BaseException):
    """The run is being stopped (cancelled, or its worker is shutting down): start no further step."""


class StaleRun(BaseException):
    """This worker no longer owns the run: its lease passed to another worker, or the run was cancelled."""


class ReloadRun(BaseException):
    """The run's state changed under this worker (an event won a race with a timeout): load it again."""


class JournalUnavailable(BaseException):
    """The database failed while recording the run; the run is retried later, not failed."""
