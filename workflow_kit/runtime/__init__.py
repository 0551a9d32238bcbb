"""The durable runtime: workflows stored per tenant, events received, runs executed by workers.

    rules/      pure decisions (no database): triggers, cron, wait keys, settings, admission arithmetic
    storage/    the database: engine and migrations, group-commit writer, direct statements, tables, rows
    lifecycle/  a run's life: runs.py (the one writer of wk_runs) and what feeds it: events in, flow
                control, slots, waits, schedules; effects.py + settle.py settle what a change causes
    worker/     claims, a claimed run's journal, the loop; host.py is what the kit hands a worker
    stores/     what the kit exposes: kit.workflows, kit.runs, kit.events

Imports go one way (rules <- storage <- lifecycle <- worker, stores) and never to the kit; see
docs/architecture.md.
"""
