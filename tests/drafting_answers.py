"""Scripted answers of a model drafting workflows over the demo's blog actions (for the fake OpenAI server)."""

from __future__ import annotations

import json
from typing import Any

from fake_openai import completion

REVIEW_WORDS = "When a post moves to review, add a table of contents and then fix its grammar."


def step(step_id: str, kind: str, explanation: str, parent: str | None = None, **inputs: Any) -> dict[str, Any]:
    return {"id": step_id, "kind": kind, "name": None, "parent": parent, "inputs": inputs, "explanation": explanation}


def answer(steps: list[dict[str, Any]], edges: list[tuple[str, str]], **extra: Any) -> dict[str, Any]:
    return {
        "name": "Review posts",
        "summary": "Adds a table of contents, then fixes the grammar of a post moved to review.",
        "trigger": {"event": "blog-post.updated", "if": "event.data.status == 'under review'", "cron": None},
        "steps": steps,
        "edges": [{"from": a, "to": b, "branch": None, "condition": None} for a, b in edges],
        **extra,
    }


INVALID = answer(
    [
        step("toc", "add_toc", "Adds a table of contents to the post.", post_id="!ref($.event.data.id)"),
        step("grammar", "grammar_review", "Fixes the grammar.", post_id="!ref($.state.contents.post_id)"),
    ],
    [("$source", "toc"), ("toc", "grammar")],
)
VALID = answer(
    [
        step("toc", "add_toc", "Adds a table of contents to the post.", post_id="!ref($.event.data.id)"),
        step("grammar", "grammar_review", "Fixes the grammar of the same post.", post_id="!ref($.state.toc.post_id)"),
    ],
    [("$source", "toc"), ("toc", "grammar")],
)


def reply(body: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, Any]]:
    """A 200 chat completion whose content is `body` as JSON text."""
    return 200, {}, completion(json.dumps(body))


WITH_TWEETS = answer(
    [
        *VALID["steps"],
        step("tweets", "generate_tweet_posts", "Writes tweets about the post.", post_id="!ref($.state.toc.post_id)"),
    ],
    [("$source", "toc"), ("toc", "grammar"), ("grammar", "tweets")],
)


LOOP_WORDS = "Every Monday, add a table of contents to posts 1, 2 and 3"


def loop_answer(post_id: str) -> dict[str, Any]:
    """A for-each loop over three posts, a table of contents for each (`post_id`: the body step's input),
    then an event sent once the loop is done."""
    body = answer(
        [
            step("each", "builtin:for_each", "Goes through posts 1, 2 and 3.", items="[1, 2, 3]", concurrency=None),
            step("toc", "add_toc", "Adds a table of contents to each post.", parent="each", post_id=post_id),
            step("done", "builtin:send_event", "Tells the product the posts are done.", name="posts.refreshed"),
        ],
        [("$source", "each"), ("each", "toc"), ("each", "done")],
        trigger={"event": None, "if": None, "cron": "0 9 * * 1"},
    )
    body["steps"][0]["result"] = "toc"
    return body
