"""A small blog CMS action pack, after the blog automation in Inngest's user-defined workflows guide.

These run in memory for now; the database-backed pack with AI review arrives with the demo issue.
"""

from __future__ import annotations

import re

import msgspec

from workflow_kit import ActionContext, ActionContextSync, WorkflowKit


class Markdown(msgspec.Struct):
    markdown: str


class WithToc(msgspec.Struct):
    markdown: str
    headings: list[str]


class Reviewed(msgspec.Struct):
    markdown: str
    fixes: int


class ApprovalInputs(msgspec.Struct):
    post_id: int
    timeout: str = "1d"


class Approval(msgspec.Struct):
    approved: bool
    approver: str | None = None


class ApplyInputs(msgspec.Struct):
    post_id: int
    markdown: str
    note: str = ""


class Applied(msgspec.Struct):
    post_id: int
    applied: bool
    note: str


_TYPOS = {"teh": "the", "recieve": "receive", "seperate": "separate", "occured": "occurred"}


def register(kit: WorkflowKit) -> WorkflowKit:
    """Register the blog actions on `kit` and return it."""

    @kit.action(kind="add_toc", name="Add a Table of Contents", icon="list")
    def add_toc(ctx: ActionContextSync, inputs: Markdown) -> WithToc:
        """Insert a table of contents built from the post's headings."""
        headings: list[str] = ctx.step.run(
            "extract-headings", lambda: re.findall(r"^#{1,3} (.+)$", inputs.markdown, flags=re.MULTILINE)
        )
        toc = "\n".join(f"- {h}" for h in headings)
        return WithToc(
            markdown=f"## Contents\n{toc}\n\n{inputs.markdown}" if headings else inputs.markdown, headings=headings
        )

    @kit.action(kind="grammar_review", name="Perform a grammar review", icon="spell-check")
    def grammar_review(ctx: ActionContextSync, inputs: Markdown) -> Reviewed:
        """Fix common typos (a deterministic stand-in for the AI review)."""

        def review() -> dict[str, object]:
            text, fixes = inputs.markdown, 0
            for wrong, right in _TYPOS.items():
                text, count = re.subn(rf"\b{wrong}\b", right, text)
                fixes += count
            return {"markdown": text, "fixes": fixes}

        return ctx.step.run("review-grammar", review, output_type=Reviewed)  # type: ignore[no-any-return]

    @kit.action(kind="wait_for_approval", name="Apply changes after approval", icon="check")
    async def wait_for_approval(ctx: ActionContext, inputs: ApprovalInputs) -> Approval:
        """Wait for an editor to approve the suggestions (the blog-post.approve-ai-suggestions event)."""
        approval = await ctx.step.wait_for_event(
            "wait-for-approval",
            event="blog-post.approve-ai-suggestions",
            if_exp="async.data.id == event.data.id",
            timeout=inputs.timeout,
        )
        if approval is None:
            return Approval(approved=False)
        return Approval(approved=True, approver=approval["data"].get("approver"))

    @kit.action(kind="apply_changes", name="Apply changes", icon="save")
    def apply_changes(ctx: ActionContextSync, inputs: ApplyInputs) -> Applied:
        """Save the revised post."""
        ctx.step.run("save-post", lambda: len(inputs.markdown))
        return Applied(post_id=inputs.post_id, applied=True, note=inputs.note)

    return kit
