"""The worker: claims due runs with leases (`claims.py`), drives each on a database journal
(`journal.py`), and loops (`loop.py`). The kit hands it what it needs (`host.py`): the worker never
imports the kit."""
