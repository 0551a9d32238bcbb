"""A run's life in the database: created (events in, flow control, schedules), admitted (slots),
parked and woken (waits), ended; `runs.py` owns every change of a run's status, and what a change
causes is settled by `settle.py` in the same transaction."""
