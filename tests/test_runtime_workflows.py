"""Stored workflows (``kit.workflows``) on both databases: records, drafts, published versions,
optimistic concurrency, enabling, listing, deleting, tenant isolation, input validation, and a
workflow's several triggers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from helpers import action, chain, count_selects, edge, workflow

from workflow_kit import ActionContextSync, Trigger, WorkflowKit
from workflow_kit.errors import WorkflowValidationError
from workflow_kit.runtime.models import ConflictError, NotFoundError, WorkflowRecord
from workflow_kit.timeutil import VirtualClock

TENANT = "acme"
OTHER = "globex"


@pytest.fixture(autouse=True)
def _actions(kit: WorkflowKit) -> None:
    """Register the small actions the workflows below use."""

    @kit.action(kind="noop")
    def noop(ctx: ActionContextSync, inputs: dict[str, Any]) -> str:
        return "ok"

    @kit.action(kind="say")
    def say(ctx: ActionContextSync, inputs: dict[str, Any]) -> Any:
        return inputs.get("word")


def say(word: str) -> dict[str, Any]:
    """A one-action workflow whose output is `word` (distinct content per version)."""
    return workflow([action("s", "say", word=word)], [edge("$source", "s")])


def invalid() -> dict[str, Any]:
    """Well-formed JSON that fails validation: an unknown kind and an edge to a missing action."""
    return workflow([action("a", "nope")], [edge("$source", "a"), edge("a", "ghost")])


def create(kit: WorkflowKit, tenant: str = TENANT, **overrides: Any) -> WorkflowRecord:
    options: dict[str, Any] = {"name": "Flow", "trigger": "app/go", "workflow": chain("a")}
    options.update(overrides)
    return kit.workflows.create_sync(tenant, **options)


def codes_and_paths(exc: WorkflowValidationError) -> set[tuple[str, str]]:
    return {(p.code, p.path) for p in exc.problems}


# --- create ------------------------------------------------------------------------------------


def test_create_with_defaults_publishes_version_1_and_enables(kit: WorkflowKit, clock: VirtualClock) -> None:
    record = kit.workflows.create_sync(TENANT, name="  Welcome  ", trigger="app/user.created", workflow=chain("a", "b"))
    assert record.id
    assert record.tenant == TENANT
    assert record.name == "Welcome"
    assert record.description == ""
    assert record.enabled is True
    assert record.version == 1
    assert record.published_version == 1
    assert record.trigger.event == "app/user.created"
    assert record.trigger.if_ is None
    assert record.settings == {}
    assert [a["id"] for a in record.draft["actions"]] == ["a", "b"]
    assert record.created_at == record.updated_at == clock.now_ms()

    assert kit.workflows.get_sync(TENANT, record.id) == record
    [v1] = kit.workflows.versions_sync(TENANT, record.id)
    assert v1.number == 1
    assert v1.workflow_id == record.id
    assert v1.workflow == record.draft
    assert v1.trigger.event == "app/user.created"
    assert kit.workflows.version_sync(TENANT, record.id, 1) == v1


def test_create_keeps_description_trigger_condition_and_settings(kit: WorkflowKit) -> None:
    record = create(
        kit,
        description="Greets new users",
        trigger={"event": "app/user.*", "if": "event.data.plan == 'pro'"},
        settings={"retries": 3},
    )
    assert record.description == "Greets new users"
    assert record.trigger.event == "app/user.*"
    assert record.trigger.if_ == "event.data.plan == 'pro'"
    assert record.settings == {"retries": 3}
    [v1] = kit.workflows.versions_sync(TENANT, record.id)
    assert v1.trigger.if_ == "event.data.plan == 'pro'"
    assert v1.settings == {"retries": 3}


def test_create_without_publish_is_a_disabled_draft(kit: WorkflowKit) -> None:
    record = create(kit, publish=False)  # enabled=True by default, but nothing is published
    assert record.enabled is False
    assert record.published_version is None
    assert record.version == 1
    assert kit.workflows.versions_sync(TENANT, record.id) == []
    with pytest.raises(NotFoundError):
        kit.workflows.version_sync(TENANT, record.id, 1)

    with pytest.raises(WorkflowValidationError) as info:
        kit.workflows.enable_sync(TENANT, record.id)
    assert [p.code for p in info.value.problems] == ["not_published"]
    assert kit.workflows.get_sync(TENANT, record.id).enabled is False

    v1 = kit.workflows.publish_sync(TENANT, record.id)
    assert v1.number == 1
    assert kit.workflows.get_sync(TENANT, record.id).enabled is False  # publishing does not enable
    assert kit.workflows.enable_sync(TENANT, record.id).enabled is True
    assert kit.workflows.get_sync(TENANT, record.id).published_version == 1


def test_create_disabled_but_published(kit: WorkflowKit) -> None:
    record = create(kit, enabled=False)
    assert record.enabled is False
    assert record.published_version == 1
    assert kit.workflows.enable_sync(TENANT, record.id).enabled is True


def test_create_with_an_invalid_workflow_and_publish_raises_and_stores_nothing(kit: WorkflowKit) -> None:
    with pytest.raises(WorkflowValidationError) as info:
        create(kit, workflow=invalid())
    assert ("unknown_kind", "actions[0].kind") in codes_and_paths(info.value)
    assert ("unknown_edge_target", "edges[1].to") in codes_and_paths(info.value)
    assert kit.workflows.list_sync(TENANT) == []


def test_a_draft_may_be_invalid_when_not_published(kit: WorkflowKit) -> None:
    record = create(kit, workflow=invalid(), publish=False)
    assert record.draft["actions"][0]["kind"] == "nope"
    assert kit.workflows.get_sync(TENANT, record.id).draft == record.draft

    updated = kit.workflows.update_sync(TENANT, record.id, workflow=workflow([], []))  # no start: still a draft
    assert updated.version == 2
    assert updated.draft == {"actions": [], "edges": []}
    assert updated.published_version is None


def test_create_with_a_malformed_workflow_raises_even_as_a_draft(kit: WorkflowKit) -> None:
    with pytest.raises(WorkflowValidationError) as info:
        create(kit, workflow={"actions": "not a list", "edges": []}, publish=False)
    assert {p.code for p in info.value.problems} == {"invalid_format"}
    assert kit.workflows.list_sync(TENANT) == []


@pytest.mark.parametrize("name", ["", "   "])
def test_create_needs_a_name(kit: WorkflowKit, name: str) -> None:
    with pytest.raises(WorkflowValidationError) as info:
        create(kit, name=name)
    assert codes_and_paths(info.value) == {("invalid_name", "name")}
    assert kit.workflows.list_sync(TENANT) == []


# --- update ------------------------------------------------------------------------------------


def test_update_bumps_the_version_and_applies_fields(kit: WorkflowKit, clock: VirtualClock) -> None:
    record = create(kit, workflow=say("one"))
    clock.advance(timedelta(seconds=5))

    updated = kit.workflows.update_sync(
        TENANT,
        record.id,
        name="Renamed",
        description="now described",
        trigger={"event": "app/order.*", "if": "event.data.total > 10"},
        settings={"retries": 5},
    )
    assert updated.version == 2
    assert updated.name == "Renamed"
    assert updated.description == "now described"
    assert updated.trigger.event == "app/order.*"
    assert updated.trigger.if_ == "event.data.total > 10"
    assert updated.settings == {"retries": 5}
    assert updated.updated_at == clock.now_ms()
    assert updated.created_at == record.created_at
    assert updated.published_version == 1  # fields apply at once, without a new version
    assert kit.workflows.get_sync(TENANT, record.id) == updated

    again = kit.workflows.update_sync(TENANT, record.id, workflow=say("two"))
    assert again.version == 3
    assert again.draft == say("two")
    assert again.published_version == 1  # the workflow itself waits for a publish
    assert kit.workflows.version_sync(TENANT, record.id, 1).workflow == say("one")

    trigger_only = kit.workflows.update_sync(TENANT, record.id, trigger="app/plain")
    assert trigger_only.version == 4
    assert trigger_only.trigger.event == "app/plain"
    assert trigger_only.trigger.if_ is None


def test_update_with_publish_publishes_the_new_draft(kit: WorkflowKit) -> None:
    record = create(kit, workflow=say("one"))
    updated = kit.workflows.update_sync(TENANT, record.id, workflow=say("two"), publish=True)
    assert updated.version == 2
    assert updated.published_version == 2
    assert [v.number for v in kit.workflows.versions_sync(TENANT, record.id)] == [2, 1]
    assert kit.workflows.version_sync(TENANT, record.id, 2).workflow == say("two")


def test_update_with_an_invalid_workflow_and_publish_changes_nothing(kit: WorkflowKit) -> None:
    record = create(kit, workflow=say("one"))
    with pytest.raises(WorkflowValidationError) as info:
        kit.workflows.update_sync(TENANT, record.id, workflow=invalid(), name="Never", publish=True)
    assert ("unknown_kind", "actions[0].kind") in codes_and_paths(info.value)
    assert kit.workflows.get_sync(TENANT, record.id) == record
    assert [v.number for v in kit.workflows.versions_sync(TENANT, record.id)] == [1]


def test_stale_expected_version_is_a_conflict(kit: WorkflowKit) -> None:
    record = create(kit)
    first = kit.workflows.update_sync(TENANT, record.id, name="First", expected_version=1)
    assert first.version == 2

    with pytest.raises(ConflictError) as info:
        kit.workflows.update_sync(TENANT, record.id, name="Second", expected_version=1)
    assert info.value.current_version == 2
    assert info.value.code == "conflict"
    assert kit.workflows.get_sync(TENANT, record.id) == first

    with pytest.raises(ConflictError):
        kit.workflows.publish_sync(TENANT, record.id, expected_version=1)
    assert [v.number for v in kit.workflows.versions_sync(TENANT, record.id)] == [1]

    assert kit.workflows.update_sync(TENANT, record.id, name="Second", expected_version=2).name == "Second"
    assert kit.workflows.publish_sync(TENANT, record.id, expected_version=3).number == 2


# --- publish and versions ----------------------------------------------------------------------


def test_publish_numbers_versions_and_keeps_each_immutable(kit: WorkflowKit, clock: VirtualClock) -> None:
    record = create(kit, workflow=say("one"), trigger="app/one", settings={"retries": 1})
    for word, trigger, retries in [("two", "app/two", 2), ("three", "app/three", 3)]:
        clock.advance(timedelta(seconds=1))
        kit.workflows.update_sync(TENANT, record.id, workflow=say(word), trigger=trigger, settings={"retries": retries})
        version = kit.workflows.publish_sync(TENANT, record.id)
        assert version.workflow == say(word)
        assert version.created_at == clock.now_ms()

    versions = kit.workflows.versions_sync(TENANT, record.id)
    assert [v.number for v in versions] == [3, 2, 1]
    assert len({v.id for v in versions}) == 3
    assert kit.workflows.get_sync(TENANT, record.id).published_version == 3

    # Later edits of the draft never change a published version.
    kit.workflows.update_sync(TENANT, record.id, workflow=say("four"), trigger="app/four", settings={"retries": 4})
    for number, word in [(1, "one"), (2, "two"), (3, "three")]:
        version = kit.workflows.version_sync(TENANT, record.id, number)
        assert version.number == number
        assert version.workflow == say(word)
        assert version.trigger.event == f"app/{word}"
        assert version.settings == {"retries": number}
    assert kit.workflows.versions_sync(TENANT, record.id) == versions
    with pytest.raises(NotFoundError):
        kit.workflows.version_sync(TENANT, record.id, 4)


def test_publish_of_an_invalid_draft_raises_with_paths_and_changes_nothing(kit: WorkflowKit) -> None:
    record = create(kit, workflow=say("one"))
    draft = kit.workflows.update_sync(TENANT, record.id, workflow=invalid())
    assert draft.version == 2

    with pytest.raises(WorkflowValidationError) as info:
        kit.workflows.publish_sync(TENANT, record.id)
    assert ("unknown_kind", "actions[0].kind") in codes_and_paths(info.value)
    assert ("unknown_edge_target", "edges[1].to") in codes_and_paths(info.value)
    assert all(p.path and p.message for p in info.value.problems)

    assert kit.workflows.get_sync(TENANT, record.id) == draft
    assert [v.number for v in kit.workflows.versions_sync(TENANT, record.id)] == [1]
    assert kit.workflows.version_sync(TENANT, record.id, 1).workflow == say("one")

    # Fixing the draft lets the next publish take number 2 (the failed one used no number).
    kit.workflows.update_sync(TENANT, record.id, workflow=say("fixed"))
    assert kit.workflows.publish_sync(TENANT, record.id).number == 2


def test_publish_of_a_draft_that_was_never_valid(kit: WorkflowKit) -> None:
    record = create(kit, workflow=invalid(), publish=False)
    with pytest.raises(WorkflowValidationError):
        kit.workflows.publish_sync(TENANT, record.id)
    after = kit.workflows.get_sync(TENANT, record.id)
    assert after.published_version is None
    assert after.enabled is False
    assert kit.workflows.versions_sync(TENANT, record.id) == []


# --- version notes -----------------------------------------------------------------------------


def test_a_published_version_notes_its_author_and_message(kit: WorkflowKit) -> None:
    record = create(kit, workflow=say("one"), author="ann", message="First cut")
    kit.workflows.update_sync(TENANT, record.id, workflow=say("two"))
    second = kit.workflows.publish_sync(TENANT, record.id, message="  Says two now \n", author="bob")
    assert (second.author, second.message) == ("bob", "Says two now")  # trimmed
    kit.workflows.update_sync(TENANT, record.id, workflow=say("three"), publish=True, author="cy", message="Three")
    kit.workflows.update_sync(TENANT, record.id, workflow=say("four"))
    fourth = kit.workflows.publish_sync(TENANT, record.id)
    assert (fourth.author, fourth.message) == (None, None)
    kit.workflows.update_sync(TENANT, record.id, workflow=say("five"))
    assert kit.workflows.publish_sync(TENANT, record.id, message="   ", author="").message is None  # blank is none

    notes = [(v.number, v.author, v.message) for v in kit.workflows.versions_sync(TENANT, record.id)]
    assert notes == [
        (5, None, None),
        (4, None, None),
        (3, "cy", "Three"),
        (2, "bob", "Says two now"),
        (1, "ann", "First cut"),
    ]
    assert kit.workflows.version_sync(TENANT, record.id, 2) == second
    snapshot = kit.workflows.snapshot_sync(TENANT, record.id)  # a test run's snapshot has no notes
    assert (snapshot.number, snapshot.author, snapshot.message) == (None, None, None)


def test_a_version_message_may_be_500_characters(kit: WorkflowKit) -> None:
    record = create(kit, publish=False)
    version = kit.workflows.publish_sync(TENANT, record.id, message="m" * 500, author="a" * 256)
    assert (version.message, version.author) == ("m" * 500, "a" * 256)
    assert kit.workflows.version_sync(TENANT, record.id, 1).message == "m" * 500


@pytest.mark.parametrize(
    ("notes", "code", "path"),
    [
        ({"message": "m" * 501}, "invalid_message", "message"),
        ({"message": "a\x00b"}, "invalid_message", "message"),
        ({"message": 5}, "invalid_message", "message"),
        ({"author": "a" * 257}, "invalid_author", "author"),
        ({"author": "a\x00"}, "invalid_author", "author"),
    ],
)
def test_a_bad_version_note_is_a_problem_and_publishes_nothing(
    kit: WorkflowKit, notes: dict[str, Any], code: str, path: str
) -> None:
    record = create(kit, publish=False)
    with pytest.raises(WorkflowValidationError) as info:
        kit.workflows.publish_sync(TENANT, record.id, **notes)
    [problem] = info.value.problems
    assert (problem.code, problem.path) == (code, path)
    assert problem.message
    with pytest.raises(WorkflowValidationError):
        kit.workflows.update_sync(TENANT, record.id, workflow=say("x"), publish=True, **notes)
    with pytest.raises(WorkflowValidationError):
        create(kit, name="other", **notes)
    assert kit.workflows.get_sync(TENANT, record.id) == record
    assert kit.workflows.versions_sync(TENANT, record.id) == []
    assert [r.id for r in kit.workflows.list_sync(TENANT)] == [record.id]


# --- unpublished changes -----------------------------------------------------------------------


def changed(kit: WorkflowKit, workflow_id: str, tenant: str = TENANT) -> bool:
    return kit.workflows.draft_changes_sync(tenant, [kit.workflows.get_sync(tenant, workflow_id)])[workflow_id]


def test_a_new_workflow_has_changes_once_its_draft_has_an_action(kit: WorkflowKit) -> None:
    empty = create(kit, workflow=workflow([], []), publish=False)
    assert changed(kit, empty.id) is False  # an untouched new workflow has nothing to publish
    kit.workflows.update_sync(TENANT, empty.id, trigger="app/other", settings={"retries": 1})
    assert changed(kit, empty.id) is False  # ... nor with a trigger and settings but no action
    kit.workflows.update_sync(TENANT, empty.id, workflow=chain("a"))
    assert changed(kit, empty.id) is True
    drafted = create(kit, publish=False)
    assert changed(kit, drafted.id) is True


def test_draft_changes_follow_the_draft_trigger_and_settings(kit: WorkflowKit) -> None:
    record = create(kit, workflow=say("one"), settings={"retries": 1})
    assert changed(kit, record.id) is False  # right after publishing

    for edit in ({"workflow": say("two")}, {"trigger": "app/elsewhere"}, {"settings": {"retries": 2}}):
        kit.workflows.update_sync(TENANT, record.id, **edit)
        assert changed(kit, record.id) is True, edit
        kit.workflows.publish_sync(TENANT, record.id)
        assert changed(kit, record.id) is False, edit

    kit.workflows.update_sync(TENANT, record.id, trigger={"event": "app/elsewhere", "if": "event.data.n > 1"})
    assert changed(kit, record.id) is True  # a condition is part of the trigger
    kit.workflows.update_sync(TENANT, record.id, trigger="app/elsewhere")
    assert changed(kit, record.id) is False  # back as published
    kit.workflows.update_sync(TENANT, record.id, name="Renamed", description="not part of a version")
    assert changed(kit, record.id) is False
    kit.workflows.update_sync(TENANT, record.id, workflow=say("two"))  # the same instance, saved again
    assert changed(kit, record.id) is False
    kit.workflows.update_sync(TENANT, record.id, workflow={**say("two"), "metadata": {"positions": {"s": {"x": 1}}}})
    assert changed(kit, record.id) is True  # the layout is kept in the instance, so it is published too


def test_draft_changes_compare_json_not_python_equality(kit: WorkflowKit) -> None:
    record = create(kit, workflow=say("one"))
    kit.workflows.update_sync(
        TENANT, record.id, workflow=workflow([action("s", "say", word=1)], [edge("$source", "s")])
    )
    kit.workflows.publish_sync(TENANT, record.id)
    kit.workflows.update_sync(
        TENANT, record.id, workflow=workflow([action("s", "say", word=True)], [edge("$source", "s")])
    )
    assert changed(kit, record.id) is True  # 1 == True in Python, not in JSON


def test_draft_changes_of_a_page_take_one_query(kit: WorkflowKit) -> None:
    records = [create(kit, name=f"w{n}", workflow=say(str(n))) for n in range(4)]
    kit.workflows.update_sync(TENANT, records[1].id, workflow=say("edited"))
    never = create(kit, name="never", publish=False)
    page = kit.workflows.list_sync(TENANT)
    with count_selects(kit) as selects:
        changes = kit.workflows.draft_changes_sync(TENANT, page)
    assert len(selects) == 1
    assert changes == {r.id: r.id in (records[1].id, never.id) for r in page}
    # Another tenant's view of these workflows holds no published version of them.
    assert kit.workflows.published_versions_sync(OTHER, [r.id for r in page]) == {}
    assert kit.workflows.draft_changes_sync(TENANT, []) == {}


# --- enable / disable --------------------------------------------------------------------------


def test_enable_and_disable(kit: WorkflowKit, clock: VirtualClock) -> None:
    record = create(kit)
    clock.advance(timedelta(seconds=1))
    disabled = kit.workflows.disable_sync(TENANT, record.id)
    assert disabled.enabled is False
    assert disabled.updated_at == clock.now_ms()
    assert disabled.published_version == 1
    assert disabled.version == record.version  # enabling is not an edit of the draft
    assert kit.workflows.get_sync(TENANT, record.id).enabled is False

    assert kit.workflows.disable_sync(TENANT, record.id).enabled is False  # idempotent
    enabled = kit.workflows.enable_sync(TENANT, record.id)
    assert enabled.enabled is True
    assert kit.workflows.get_sync(TENANT, record.id).enabled is True
    assert kit.workflows.enable_sync(TENANT, record.id).enabled is True


# --- list --------------------------------------------------------------------------------------


def test_list_is_most_recently_updated_first_and_pages(kit: WorkflowKit, clock: VirtualClock) -> None:
    ids = []
    for name in ["a", "b", "c", "d", "e"]:
        ids.append(create(kit, name=name).id)
        clock.advance(timedelta(seconds=1))
    assert [r.name for r in kit.workflows.list_sync(TENANT)] == ["e", "d", "c", "b", "a"]

    kit.workflows.update_sync(TENANT, ids[1], description="touched")  # b moves to the front
    assert [r.name for r in kit.workflows.list_sync(TENANT)] == ["b", "e", "d", "c", "a"]

    assert [r.name for r in kit.workflows.list_sync(TENANT, limit=2)] == ["b", "e"]
    assert [r.name for r in kit.workflows.list_sync(TENANT, limit=2, offset=2)] == ["d", "c"]
    assert [r.name for r in kit.workflows.list_sync(TENANT, limit=2, offset=4)] == ["a"]
    assert kit.workflows.list_sync(TENANT, limit=2, offset=5) == []
    assert [r.id for r in kit.workflows.list_sync(TENANT)] == [ids[1], ids[4], ids[3], ids[2], ids[0]]


def test_list_is_scoped_to_the_tenant(kit: WorkflowKit, clock: VirtualClock) -> None:
    mine = create(kit, TENANT, name="mine")
    clock.advance(timedelta(seconds=1))
    theirs = create(kit, OTHER, name="theirs")
    assert [r.id for r in kit.workflows.list_sync(TENANT)] == [mine.id]
    assert [r.id for r in kit.workflows.list_sync(OTHER)] == [theirs.id]
    assert kit.workflows.list_sync("initech") == []
    assert kit.workflows.get_sync(OTHER, theirs.id).tenant == OTHER


# --- delete and not found ----------------------------------------------------------------------


def test_delete_then_get_raises_not_found(kit: WorkflowKit) -> None:
    keep = create(kit, name="keep")
    gone = create(kit, name="gone")
    assert kit.workflows.delete_sync(TENANT, gone.id) is None
    with pytest.raises(NotFoundError):
        kit.workflows.get_sync(TENANT, gone.id)
    with pytest.raises(NotFoundError):
        kit.workflows.delete_sync(TENANT, gone.id)
    with pytest.raises(NotFoundError):
        kit.workflows.update_sync(TENANT, gone.id, name="back")
    assert [r.id for r in kit.workflows.list_sync(TENANT)] == [keep.id]
    assert kit.workflows.get_sync(TENANT, keep.id) == keep


OPERATIONS: dict[str, Callable[[WorkflowKit, str, str], Any]] = {
    "get": lambda kit, tenant, wid: kit.workflows.get_sync(tenant, wid),
    "update": lambda kit, tenant, wid: kit.workflows.update_sync(tenant, wid, name="hijacked"),
    "update_workflow": lambda kit, tenant, wid: kit.workflows.update_sync(
        tenant, wid, workflow=chain("x"), publish=True
    ),
    "update_expected_version": lambda kit, tenant, wid: kit.workflows.update_sync(
        tenant, wid, name="hijacked", expected_version=1
    ),
    "publish": lambda kit, tenant, wid: kit.workflows.publish_sync(tenant, wid),
    "enable": lambda kit, tenant, wid: kit.workflows.enable_sync(tenant, wid),
    "disable": lambda kit, tenant, wid: kit.workflows.disable_sync(tenant, wid),
    "delete": lambda kit, tenant, wid: kit.workflows.delete_sync(tenant, wid),
    "versions": lambda kit, tenant, wid: kit.workflows.versions_sync(tenant, wid),
    "version": lambda kit, tenant, wid: kit.workflows.version_sync(tenant, wid, 1),
}


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_another_tenants_workflow_is_not_found(kit: WorkflowKit, operation: str) -> None:
    record = create(kit, TENANT)
    with pytest.raises(NotFoundError):
        OPERATIONS[operation](kit, OTHER, record.id)
    # ... and the owner's workflow is untouched.
    assert kit.workflows.get_sync(TENANT, record.id) == record
    assert [v.number for v in kit.workflows.versions_sync(TENANT, record.id)] == [1]


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_an_unknown_id_is_not_found(kit: WorkflowKit, operation: str) -> None:
    create(kit, TENANT)
    with pytest.raises(NotFoundError):
        OPERATIONS[operation](kit, TENANT, "01NOSUCHWORKFLOW")


# --- trigger validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "trigger",
    [
        "app/user.created",
        "app/*",
        "app/user.*",
        "billing/invoice.paid.*",
        {"event": "app/user.created"},
        {"event": "app/*", "if": "event.data.plan == 'pro'"},
        {"event": "app/x", "if": "has(event.data.n) && event.data.n > 2"},
        {"event": "app/x", "if": None},
    ],
)
def test_valid_triggers(kit: WorkflowKit, trigger: Any) -> None:
    record = create(kit, trigger=trigger)
    expected_event = trigger if isinstance(trigger, str) else trigger["event"]
    expected_if = None if isinstance(trigger, str) else trigger.get("if")
    assert record.trigger.event == expected_event
    assert record.trigger.if_ == expected_if
    updated = kit.workflows.update_sync(TENANT, record.id, trigger=trigger)
    assert updated.trigger == record.trigger


@pytest.mark.parametrize(
    ("trigger", "code", "path"),
    [
        ("", "invalid_trigger", "trigger.event"),
        ("   ", "invalid_trigger", "trigger.event"),
        ("*", "invalid_trigger", "trigger.event"),
        ("app*", "invalid_trigger", "trigger.event"),
        ("app/user.up*", "invalid_trigger", "trigger.event"),
        ("app/*.x", "invalid_trigger", "trigger.event"),
        ("app/**", "invalid_trigger", "trigger.event"),
        ("app/*/*", "invalid_trigger", "trigger.event"),
        ("a" * 300, "invalid_trigger", "trigger.event"),
        ({"if": "true"}, "invalid_trigger", "trigger.event"),
        ({"event": 5}, "invalid_trigger", "trigger.event"),
        ({"event": "app/x", "when": "true"}, "invalid_trigger", "trigger.when"),
        ({"event": "app/x", "if": 5}, "invalid_trigger", "trigger.if"),
        ({"event": "app/x", "if": "event.data.n >"}, "invalid_expression", "trigger.if"),
        ({"event": "app/x", "if": "user.id == 'u1'"}, "invalid_expression", "trigger.if"),
        ({"event": "app/x", "if": "async.data.n == 1"}, "invalid_expression", "trigger.if"),
    ],
)
def test_invalid_triggers(kit: WorkflowKit, trigger: Any, code: str, path: str) -> None:
    with pytest.raises(WorkflowValidationError) as info:
        create(kit, trigger=trigger)
    assert (code, path) in codes_and_paths(info.value)
    assert kit.workflows.list_sync(TENANT) == []

    record = create(kit, trigger="app/ok")
    with pytest.raises(WorkflowValidationError) as info:
        kit.workflows.update_sync(TENANT, record.id, trigger=trigger)
    assert (code, path) in codes_and_paths(info.value)
    assert kit.workflows.get_sync(TENANT, record.id) == record


# --- several triggers ------------------------------------------------------------------------------


def test_a_workflow_has_a_list_of_triggers_and_its_versions_keep_them(kit: WorkflowKit) -> None:
    triggers = [{"event": "shop/order.created", "if": "event.data.total > 100"}, {"cron": " 0 9  * * * "}, "shop/*"]
    record = create(kit, trigger=None, triggers=triggers)
    expected = (
        Trigger(event="shop/order.created", if_="event.data.total > 100"),
        Trigger(cron="0 9 * * *"),  # normalized
        Trigger(event="shop/*"),
    )
    assert record.triggers == expected
    assert record.trigger == expected[0]  # the first, for code that knows one trigger
    assert kit.workflows.get_sync(TENANT, record.id).triggers == expected
    assert kit.workflows.version_sync(TENANT, record.id, 1).triggers == expected

    one = create(kit, trigger="app/go")
    assert one.triggers == (Trigger(event="app/go"),)  # one trigger is a list of one
    edited = kit.workflows.update_sync(TENANT, record.id, triggers=["app/a", {"cron": "0 9 * * *"}])
    assert edited.triggers == (Trigger(event="app/a"), Trigger(cron="0 9 * * *"))
    assert kit.workflows.version_sync(TENANT, record.id, 1).triggers == expected  # until published
    assert changed(kit, record.id) is True
    kit.workflows.publish_sync(TENANT, record.id)
    assert kit.workflows.version_sync(TENANT, record.id, 2).triggers == edited.triggers
    alone = kit.workflows.update_sync(TENANT, record.id, trigger="app/b")
    assert alone.triggers == (Trigger(event="app/b"),)  # `trigger` alone replaces the list


def test_ten_triggers_at_most(kit: WorkflowKit) -> None:
    ten = [f"app/e{i}" for i in range(10)]
    assert len(create(kit, trigger=None, triggers=ten).triggers) == 10
    with pytest.raises(WorkflowValidationError) as info:
        create(kit, trigger=None, triggers=[*ten, "app/e10"])
    assert codes_and_paths(info.value) == {("too_many_triggers", "triggers")}
    assert "at most 10 triggers" in info.value.problems[0].message


@pytest.mark.parametrize(
    ("triggers", "problems"),
    [
        ([], {("invalid_trigger", "triggers")}),
        ("app/x", {("invalid_trigger", "triggers")}),  # a list, not one trigger
        ({"event": "app/x"}, {("invalid_trigger", "triggers")}),
        (["app/a", "app/b", " app/a "], {("duplicate_trigger", "triggers[2]")}),
        (["app/a", {"event": "app/a", "if": "event.data.n > 1"}], set()),  # differ by their condition
        ([{"cron": "0 9 * * *"}, {"cron": "0  9 * * *"}], {("duplicate_trigger", "triggers[1]")}),
        (
            ["app/ok", {"event": "app/x", "if": "event.data.n >"}, {"cron": "0 25 * * *"}, "app*"],
            {
                ("invalid_expression", "triggers[1].if"),
                ("invalid_trigger", "triggers[2].cron"),
                ("invalid_trigger", "triggers[3].event"),
            },  # every problem at once, each on its trigger
        ),
        ([{"cron": "0 9 * * *", "if": "true"}], {("invalid_trigger", "triggers[0].if")}),
        ([{"event": "app/x", "when": "true"}], {("invalid_trigger", "triggers[0].when")}),
        ([5], {("invalid_trigger", "triggers[0]")}),
    ],
)
def test_invalid_lists_of_triggers(kit: WorkflowKit, triggers: Any, problems: set[tuple[str, str]]) -> None:
    if not problems:
        assert len(create(kit, trigger=None, triggers=triggers).triggers) == len(triggers)
        return
    with pytest.raises(WorkflowValidationError) as info:
        create(kit, trigger=None, triggers=triggers)
    assert codes_and_paths(info.value) == problems
    assert kit.workflows.list_sync(TENANT) == []
    assert [(p.code, p.path) for p in kit.workflows.triggers_problems(triggers)] == [
        (p.code, p.path) for p in info.value.problems
    ]
    record = create(kit)
    with pytest.raises(WorkflowValidationError) as info:
        kit.workflows.update_sync(TENANT, record.id, triggers=triggers)
    assert codes_and_paths(info.value) == problems
    assert kit.workflows.get_sync(TENANT, record.id) == record


def test_a_workflow_needs_a_trigger(kit: WorkflowKit) -> None:
    with pytest.raises(WorkflowValidationError) as info:
        create(kit, trigger=None)
    assert codes_and_paths(info.value) == {("invalid_trigger", "triggers")}


def test_trigger_and_triggers_together(kit: WorkflowKit) -> None:
    # Creating: `trigger` must be the first of `triggers`.
    record = create(kit, trigger="app/a", triggers=["app/a", "app/b"])
    assert record.triggers == (Trigger(event="app/a"), Trigger(event="app/b"))
    with pytest.raises(WorkflowValidationError) as info:
        create(kit, trigger="app/c", triggers=["app/a", "app/b"])
    assert codes_and_paths(info.value) == {("invalid_trigger", "trigger")}

    # Updating with both, as a record read and sent back has them: what changed from the stored wins.
    changed_list = kit.workflows.update_sync(TENANT, record.id, trigger="app/a", triggers=["app/x", "app/b"])
    assert changed_list.triggers == (Trigger(event="app/x"), Trigger(event="app/b"))
    changed_first = kit.workflows.update_sync(TENANT, record.id, trigger="app/y", triggers=["app/x", "app/b"])
    assert changed_first.triggers == (Trigger(event="app/y"), Trigger(event="app/b"))  # the first replaced
    with pytest.raises(WorkflowValidationError) as info:
        kit.workflows.update_sync(TENANT, record.id, trigger="app/b", triggers=["app/y", "app/b"])
    assert codes_and_paths(info.value) == {("duplicate_trigger", "triggers[1]")}  # the first made the second
    with pytest.raises(WorkflowValidationError) as info:
        kit.workflows.update_sync(TENANT, record.id, trigger="app/p", triggers=["app/q"])
    assert codes_and_paths(info.value) == {("invalid_trigger", "trigger")}  # both changed, and they disagree
    assert kit.workflows.get_sync(TENANT, record.id) == changed_first


# --- settings validation -----------------------------------------------------------------------


@pytest.mark.parametrize("retries", [0, 1, 20])
def test_valid_settings(kit: WorkflowKit, retries: int) -> None:
    record = create(kit, settings={"retries": retries})
    assert record.settings == {"retries": retries}
    assert kit.workflows.versions_sync(TENANT, record.id)[0].settings == {"retries": retries}
    assert kit.workflows.update_sync(TENANT, record.id, settings={}).settings == {}


@pytest.mark.parametrize(
    ("settings", "paths"),
    [
        ({"retries": -1}, {"settings.retries"}),
        ({"retries": 21}, {"settings.retries"}),
        ({"retries": "3"}, {"settings.retries"}),
        ({"retries": True}, {"settings.retries"}),
        ({"retries": 2.5}, {"settings.retries"}),
        ({"concurrency": 4}, {"settings", "settings.concurrency"}),
        ([1, 2], {"settings"}),
    ],
)
def test_invalid_settings(kit: WorkflowKit, settings: Any, paths: set[str]) -> None:
    with pytest.raises(WorkflowValidationError) as info:
        create(kit, settings=settings)
    [problem] = info.value.problems
    assert problem.code == "invalid_settings"
    assert problem.path in paths, problem.path
    assert kit.workflows.list_sync(TENANT) == []

    record = create(kit, settings={"retries": 2})
    with pytest.raises(WorkflowValidationError) as info:
        kit.workflows.update_sync(TENANT, record.id, settings=settings)
    assert info.value.problems[0].code == "invalid_settings"
    assert kit.workflows.get_sync(TENANT, record.id) == record
    # Checked without saving, the settings have the same problems.
    assert kit.workflows.settings_problems(settings) == info.value.problems


# --- tenants -----------------------------------------------------------------------------------

BAD_TENANTS = ["", "   ", "t" * 129, None, 42]


@pytest.mark.parametrize("tenant", BAD_TENANTS, ids=["empty", "blank", "too-long", "none", "int"])
def test_bad_tenant_strings_raise_value_error(kit: WorkflowKit, tenant: Any) -> None:
    record = create(kit)
    with pytest.raises(ValueError, match="tenant"):
        create(kit, tenant)
    with pytest.raises(ValueError, match="tenant"):
        kit.workflows.list_sync(tenant)
    for operation in OPERATIONS.values():
        with pytest.raises(ValueError, match="tenant"):
            operation(kit, tenant, record.id)
    assert [r.id for r in kit.workflows.list_sync(TENANT)] == [record.id]


def test_longest_tenant_is_accepted(kit: WorkflowKit) -> None:
    tenant = "t" * 128
    record = create(kit, tenant)
    assert kit.workflows.get_sync(tenant, record.id).tenant == tenant
    with pytest.raises(NotFoundError):
        kit.workflows.get_sync(tenant[:-1], record.id)
