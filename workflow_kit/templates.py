"""Workflow templates: ready-made workflows developers ship beside their actions, for the editor's gallery.

``kit.template("review-post", name=..., description=..., workflow={...}, trigger={...}, tags=[...])``
checks the template when it is registered (at start-up): its workflow against the kit's actions, its
trigger and its settings as saving a workflow would. A template that does not validate raises
`TemplateError` listing every problem with its path (``workflow.actions[0].inputs.post_id``), so a broken
template never reaches an end user. The one kind of problem a template may have is a blank: an input it
leaves for the user to fill in (``to_fill``, see `blanks`), which the editor asks for before the first save.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import jsonlimits
from .blanks import find_blanks
from .errors import Problem, WorkflowValidationError
from .validation import validate

if TYPE_CHECKING:
    from .actions import ActionRegistry

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MAX_TAGS = 10
MAX_TEXT = 2000


class TemplateError(ValueError):
    """A template that cannot be registered; `problems` says what is wrong and where."""

    def __init__(self, template_id: str, problems: list[Problem]) -> None:
        self.template_id = template_id
        self.problems = problems
        shown = "; ".join(str(p) for p in problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        super().__init__(f"template {template_id!r} is not valid: {shown}{more}")


@dataclass(frozen=True, eq=False)
class Template:
    """A checked template: a workflow instance with its trigger, settings, and what the gallery shows."""

    id: str
    name: str
    description: str
    workflow: dict[str, Any]
    trigger: dict[str, Any]
    settings: dict[str, Any]
    tags: tuple[str, ...]

    @classmethod
    def declare(
        cls,
        registry: ActionRegistry,
        template_id: str,
        *,
        name: str,
        description: str = "",
        workflow: dict[str, Any],
        trigger: dict[str, Any] | str,
        settings: dict[str, Any] | None = None,
        tags: Sequence[str] = (),
        cron_seconds: bool = False,
    ) -> Template:
        """Check a template against `registry`; raises `TemplateError` with every problem."""
        from .runtime.rules.settings import WorkflowSettings
        from .runtime.rules.triggers import parse_trigger

        if not isinstance(template_id, str) or not ID_PATTERN.match(template_id):
            raise TemplateError(
                str(template_id),
                [Problem("invalid_template", "id", "an id is 1 to 64 lowercase letters, digits, '.', '_' or '-'")],
            )
        problems: list[Problem] = []
        if not isinstance(name, str) or not name.strip() or len(name) > 256:
            problems.append(Problem("invalid_template", "name", "a template needs a name of 1 to 256 characters"))
        if not isinstance(description, str) or len(description) > MAX_TEXT:
            problems.append(Problem("invalid_template", "description", f"at most {MAX_TEXT} characters of text"))
        if isinstance(tags, str) or len(tags) > MAX_TAGS or not all(isinstance(t, str) and t.strip() for t in tags):
            problems.append(Problem("invalid_template", "tags", f"a list of at most {MAX_TAGS} non-empty words"))
        if not isinstance(workflow, dict):
            problems.append(Problem("invalid_template", "workflow", "a workflow instance (a JSON object)"))
        else:
            try:
                jsonlimits.encode(workflow, "workflow")
            except (TypeError, ValueError) as exc:
                problems.append(Problem("invalid_template", "workflow", str(exc)))
            else:
                problems += [
                    Problem(p.code, f"workflow.{p.path}" if p.path else "workflow", p.message)
                    for p in validate(workflow, registry)
                    if p.code != "blank"
                ]
        trigger_value = {"event": trigger} if isinstance(trigger, str) else trigger
        try:
            parse_trigger(trigger_value, cron_seconds=cron_seconds)
        except WorkflowValidationError as exc:
            problems += exc.problems
        try:
            WorkflowSettings.parse(settings)
        except WorkflowValidationError as exc:
            problems += exc.problems
        if problems:
            raise TemplateError(template_id, problems)
        return cls(
            id=template_id,
            name=name.strip(),
            description=description,
            workflow=copy.deepcopy(workflow),
            trigger=copy.deepcopy(trigger_value),
            settings=copy.deepcopy(settings or {}),
            tags=tuple(t.strip() for t in tags),
        )

    def public(self) -> dict[str, Any]:
        """The JSON the editor gets: what the gallery shows, the instance, and its blanks in order."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "tags": list(self.tags),
            "trigger": copy.deepcopy(self.trigger),
            "settings": copy.deepcopy(self.settings),
            "workflow": copy.deepcopy(self.workflow),
            "blanks": [
                {"action_id": b.action_id, "input": b.input, "question": b.question, "path": b.path}
                for b in find_blanks(self.workflow)
            ],
        }


class TemplateRegistry:
    """The templates a kit ships, by id, in the order they were registered."""

    def __init__(self) -> None:
        self._templates: dict[str, Template] = {}

    def register(self, template: Template) -> None:
        if template.id in self._templates:
            raise TemplateError(template.id, [Problem("duplicate_template", "id", "this id is already registered")])
        self._templates[template.id] = template

    def get(self, template_id: str) -> Template | None:
        return self._templates.get(template_id)

    def __iter__(self) -> Iterator[Template]:
        return iter(self._templates.values())

    def __len__(self) -> int:
        return len(self._templates)

    def public(self) -> list[dict[str, Any]]:
        return [template.public() for template in self._templates.values()]
