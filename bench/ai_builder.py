"""How well the configured AI model drafts workflows from words, over the demo's blog actions.

    .venv/bin/python -m bench.ai_builder [--only 3] [--rounds 2]

An evaluation set of requests a blog editor might type, each with what a correct draft must contain:
the kinds of its steps, its connections (by kind: "$source" is the trigger), its refs (an input of a
step reading the event or another step's output), its conditions (the trigger's filter, a branch), and
its trigger. Each request goes through `workflow_kit.drafting` exactly as the editor's "Describe what
should happen" sends it (structured outputs, validation, repair rounds), and is scored: valid (no
problem left), and structurally right (every expectation met). The model is the kit's, from the same
environment variables (OPENAI_API_KEY, OPENAI_BASE_URL, WORKFLOW_KIT_AI_MODEL); without a key it says
so and exits 0. The set is kept to compare models and prompts over time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from workflow_kit import WorkflowKit
from workflow_kit.ai import provider_from_environment
from workflow_kit.drafting import Draft, draft_workflow, unavailable_reason

SOURCE = "$source"


@dataclass(frozen=True)
class Case:
    """One request and what its draft must contain."""

    words: str
    kinds: tuple[str, ...]
    """Every kind that must be among the steps (repeated kinds must appear as often)."""
    edges: tuple[tuple[str, str], ...] = ()
    """Connections by kind: ("$source", "add_toc") is the trigger to a table-of-contents step."""
    refs: tuple[tuple[str, str, str], ...] = ()
    """(kind, input, source): the input of a step of that kind is a ref to ``event.data.<x>`` (source
    "event") or to the output of a step of the kind named."""
    trigger_event: str | None = None
    trigger_if: str | None = None
    """A word the trigger's filter must contain (e.g. "review")."""
    cron: bool = False
    branch: tuple[str, str] | None = None
    """(branch name, kind): a builtin:if leads along this branch to a step of this kind."""
    condition: str | None = None
    """A word the builtin:if's condition must contain."""
    extra: dict[str, Any] = field(default_factory=dict)


UPDATED, PUBLISHED, APPROVED = "blog-post.updated", "blog-post.published", "blog-post.approve-ai-suggestions"
CASES: tuple[Case, ...] = (
    Case(
        "When a post is published, write tweets about it.",
        ("generate_tweet_posts",),
        ((SOURCE, "generate_tweet_posts"),),
        (("generate_tweet_posts", "post_id", "event"),),
        PUBLISHED,
    ),
    Case(
        "When a post is published, write LinkedIn posts and tweets about it at the same time.",
        ("generate_linkedin_posts", "generate_tweet_posts"),
        ((SOURCE, "generate_linkedin_posts"), (SOURCE, "generate_tweet_posts")),
        trigger_event=PUBLISHED,
    ),
    Case(
        "When a post moves to review, add a table of contents.",
        ("add_toc",),
        ((SOURCE, "add_toc"),),
        (("add_toc", "post_id", "event"),),
        UPDATED,
        trigger_if="review",
    ),
    Case(
        "When a post moves to review, add a table of contents, then review its grammar.",
        ("add_toc", "grammar_review"),
        ((SOURCE, "add_toc"), ("add_toc", "grammar_review")),
        trigger_event=UPDATED,
        trigger_if="review",
    ),
    Case(
        "When a post moves to review, fix its grammar, then apply the changes once an editor approves them.",
        ("grammar_review", "wait_for_approval"),
        ((SOURCE, "grammar_review"), ("grammar_review", "wait_for_approval")),
        trigger_event=UPDATED,
    ),
    Case(
        "When a post changes, fix the grammar and apply the fixes straight away.",
        ("grammar_review", "apply_changes"),
        ((SOURCE, "grammar_review"), ("grammar_review", "apply_changes")),
        (("apply_changes", "post_id", "grammar_review"),),
        UPDATED,
    ),
    Case(
        "When a post changes and its status is published, write tweets.",
        ("builtin:if", "generate_tweet_posts"),
        ((SOURCE, "builtin:if"),),
        trigger_event=UPDATED,
        branch=("True", "generate_tweet_posts"),
        condition="published",
    ),
    Case(
        "When a post changes: if it is published write LinkedIn posts, otherwise add a table of contents.",
        ("builtin:if", "generate_linkedin_posts", "add_toc"),
        ((SOURCE, "builtin:if"),),
        trigger_event=UPDATED,
        branch=("False", "add_toc"),
        condition="published",
    ),
    Case("Every Monday at 9:00, add a table of contents to post 1.", ("add_toc",), ((SOURCE, "add_toc"),), cron=True),
    Case(
        "Every day at 8 in the morning, review the grammar of post 3 and apply the fixes.",
        ("grammar_review", "apply_changes"),
        ((SOURCE, "grammar_review"), ("grammar_review", "apply_changes")),
        cron=True,
    ),
    Case(
        "When a post is published, wait one hour, then write tweets.",
        ("builtin:sleep", "generate_tweet_posts"),
        ((SOURCE, "builtin:sleep"), ("builtin:sleep", "generate_tweet_posts")),
        trigger_event=PUBLISHED,
    ),
    Case(
        "When a post is published, wait a day, then write LinkedIn posts.",
        ("builtin:sleep", "generate_linkedin_posts"),
        ((SOURCE, "builtin:sleep"), ("builtin:sleep", "generate_linkedin_posts")),
        trigger_event=PUBLISHED,
    ),
    Case(
        "When an editor approves the AI suggestions of a post, apply the changes.",
        ("apply_changes",),
        ((SOURCE, "apply_changes"),),
        (("apply_changes", "post_id", "event"),),
        APPROVED,
    ),
    Case(
        "When a post moves to review, add a table of contents and wait up to two days for approval.",
        ("add_toc", "wait_for_approval"),
        ((SOURCE, "add_toc"), ("add_toc", "wait_for_approval")),
        trigger_event=UPDATED,
        extra={"timeout": ("wait_for_approval", "2d")},
    ),
    Case(
        "When a post is published, send the event blog-post.announced with the post's id.",
        ("builtin:send_event",),
        ((SOURCE, "builtin:send_event"),),
        trigger_event=PUBLISHED,
    ),
    Case(
        "When a post moves to review, review the grammar, then tweet about it after an editor approves.",
        ("grammar_review", "wait_for_approval", "generate_tweet_posts"),
        (("grammar_review", "wait_for_approval"), ("wait_for_approval", "generate_tweet_posts")),
        trigger_event=UPDATED,
    ),
    Case(
        "When a post is published, write tweets; if that fails, write LinkedIn posts instead.",
        ("generate_tweet_posts", "generate_linkedin_posts"),
        ((SOURCE, "generate_tweet_posts"),),
        trigger_event=PUBLISHED,
        extra={"failed_edge": ("generate_tweet_posts", "generate_linkedin_posts")},
    ),
    Case(
        "When a draft post is updated, add a table of contents.",
        ("add_toc",),
        ((SOURCE, "add_toc"),),
        trigger_event=UPDATED,
        trigger_if="draft",
    ),
    Case(
        "When a post is published, add a table of contents, then use its post id to write tweets.",
        ("add_toc", "generate_tweet_posts"),
        (("add_toc", "generate_tweet_posts"),),
        (("generate_tweet_posts", "post_id", "add_toc"),),
        PUBLISHED,
    ),
    Case(
        "When a post moves to review, add a table of contents, review the grammar, and wait for approval.",
        ("add_toc", "grammar_review", "wait_for_approval"),
        ((SOURCE, "add_toc"), ("add_toc", "grammar_review"), ("grammar_review", "wait_for_approval")),
        trigger_event=UPDATED,
        trigger_if="review",
    ),
    Case(
        "When a post is published, wait for the event blog-post.approve-ai-suggestions for up to a day, then tweet.",
        ("builtin:wait_for_event", "generate_tweet_posts"),
        ((SOURCE, "builtin:wait_for_event"),),
        trigger_event=PUBLISHED,
    ),
    Case(
        "When a post changes and its id is greater than 100, review its grammar.",
        ("builtin:if", "grammar_review"),
        ((SOURCE, "builtin:if"),),
        trigger_event=UPDATED,
        branch=("True", "grammar_review"),
        condition="id",
    ),
)


def check(case: Case, draft: Draft) -> list[str]:
    """What the draft misses of the case's expectations (empty: structurally right)."""
    missed: list[str] = []
    actions = draft.workflow.get("actions", [])
    kind_of = {a["id"]: a["kind"] for a in actions}
    kinds = [a["kind"] for a in actions]
    for kind in set(case.kinds):
        if kinds.count(kind) < case.kinds.count(kind):
            missed.append(f"a step {kind}")
    pairs = {(kind_of.get(e["from"], e["from"]), kind_of.get(e["to"], "")) for e in draft.workflow.get("edges", [])}
    missed += [f"an edge {a} -> {b}" for a, b in case.edges if (a, b) not in pairs]
    for kind, name, source in case.refs:
        values = [str(a.get("inputs", {}).get(name, "")) for a in actions if a["kind"] == kind]
        if source == "event":
            ok = any(v.startswith("!ref($.event.data.") for v in values)
        else:
            ids = [i for i, k in kind_of.items() if k == source]
            ok = any(f"$.state.{i}." in v for v in values for i in ids)
        if not ok:
            missed.append(f"{kind}.{name} from {source}")
    trigger = draft.triggers[0] if draft.triggers else {}
    if case.cron and not trigger.get("cron"):
        missed.append("a schedule")
    if case.trigger_event and trigger.get("event") != case.trigger_event:
        missed.append(f"the trigger {case.trigger_event}")
    if case.trigger_if and case.trigger_if not in str(trigger.get("if") or ""):
        missed.append(f"a trigger filter on {case.trigger_if!r}")
    ifs = [a for a in actions if a["kind"] == "builtin:if"]
    if case.condition and not any(case.condition in str(a.get("inputs", {}).get("condition", "")) for a in ifs):
        missed.append(f"a condition on {case.condition!r}")
    if case.branch:
        name, kind = case.branch
        branches = [e for e in draft.workflow.get("edges", []) if kind_of.get(e["from"]) == "builtin:if"]
        if not any(e.get("name") == name and kind_of.get(e["to"]) == kind for e in branches):
            missed.append(f"the {name} branch to {kind}")
    failed = case.extra.get("failed_edge")
    if failed:
        edges = draft.workflow.get("edges", [])
        ok = any(
            (kind_of.get(e["from"]), kind_of.get(e["to"])) == failed
            and (e.get("conditional") or {}).get("type") == "failed"
            for e in edges
        )
        if not ok:
            missed.append(f"a failure edge {failed[0]} -> {failed[1]}")
    timeout = case.extra.get("timeout")
    if timeout:
        kind, value = timeout
        if not any(
            a["kind"] == kind and re.sub(r"\s", "", str(a.get("inputs", {}).get("timeout"))) == value for a in actions
        ):
            missed.append(f"{kind}.timeout = {value}")
    return missed


def demo_kit() -> WorkflowKit:
    from seeds.blog import register

    kit = WorkflowKit(ai=provider_from_environment())
    register(kit)
    return kit


def check_cases(kit: WorkflowKit) -> None:
    """Every kind the set expects exists in the demo's catalog (the set is kept in step with it)."""
    known = {entry["kind"] for entry in kit.public_actions()} | {SOURCE}
    for number, case in enumerate(CASES, 1):
        wanted = set(case.kinds) | {k for edge in case.edges for k in edge} | {r[0] for r in case.refs}
        unknown = wanted - known
        if unknown:
            raise SystemExit(f"case {number} names kinds the demo does not have: {sorted(unknown)}")


async def evaluate(kit: WorkflowKit, cases: tuple[Case, ...], rounds: int) -> int:
    valid = right = 0
    started = time.perf_counter()
    for number, case in enumerate(cases, 1):
        try:
            draft = await draft_workflow(kit, case.words, max_repair_rounds=rounds)
        except Exception as exc:  # a provider error on one case is that case's score, not the run's end
            print(f"{number:2}. ERROR {exc}: {case.words}")
            continue
        missed = check(case, draft)
        valid += not draft.problems
        right += not missed and not draft.problems
        verdict = (
            "ok"
            if not missed and not draft.problems
            else "; ".join([*(p.message for p in draft.problems[:2]), *missed])
        )
        print(f"{number:2}. valid={not draft.problems!s:5} repairs={draft.repair_rounds} {verdict}: {case.words}")
    total = len(cases)
    seconds = time.perf_counter() - started
    print(f"\nmodel {kit.ai.model}: valid {valid}/{total}, structurally right {right}/{total} ({seconds:.0f} s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", type=int, default=0, help="run the first N requests only")
    parser.add_argument("--rounds", type=int, default=2, help="repair rounds per request")
    args = parser.parse_args(argv)
    kit = demo_kit()
    check_cases(kit)
    reason = unavailable_reason(kit)
    if reason is not None or not os.environ.get("OPENAI_API_KEY"):
        print(f"No AI model is configured, so nothing was evaluated ({len(CASES)} requests kept): {reason or ''}")
        return 0
    cases = CASES[: args.only] if args.only else CASES
    return asyncio.run(evaluate(kit, cases, args.rounds))


if __name__ == "__main__":
    sys.exit(main())
