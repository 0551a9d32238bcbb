"""A blog CMS action pack, after the blog automation of Inngest's user-defined workflows guide.

Posts live in their own table (``demo_blog_posts``) in the kit's database. Every action does its work
in durable sub-steps: loading the post, asking the AI, saving the result.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from workflow_kit import ActionContext, NonRetriableError, WorkflowKit
from workflow_kit.ai import LOCAL_LABEL, LocalProvider


class Post(SQLModel, table=True):
    __tablename__ = "demo_blog_posts"

    tenant: str = Field(primary_key=True, max_length=128)
    id: int = Field(primary_key=True)
    title: str
    subtitle: str = ""
    status: str = "draft"
    markdown: str = ""
    markdown_ai_revision: str | None = None
    ai_publishing_recommendations: str | None = None


POSTS = Post.__table__  # type: ignore[attr-defined]


class PostOut(msgspec.Struct):
    tenant: str
    id: int
    title: str
    subtitle: str
    status: str
    markdown: str
    markdown_ai_revision: str | None
    ai_publishing_recommendations: dict[str, Any] | None


class BlogStore:
    """The posts, in the kit's database (writes go through the kit's write transactions)."""

    def __init__(self, kit: WorkflowKit) -> None:
        self.kit = kit
        self._ready = False

    def ensure(self) -> None:
        if not self._ready:
            self.kit.db.ensure_schema()
            POSTS.create(self.kit.db.engine, checkfirst=True)
            self._ready = True

    def get(self, tenant: str, post_id: int) -> PostOut:
        self.ensure()
        with self.kit.db.read() as conn:
            row = conn.execute(POSTS.select().where(POSTS.c.tenant == tenant, POSTS.c.id == post_id)).mappings().first()
        if row is None:
            raise NonRetriableError(f"there is no blog post {post_id}")
        return _out(row)

    def all(self, tenant: str) -> list[PostOut]:
        self.ensure()
        with self.kit.db.read() as conn:
            rows = conn.execute(POSTS.select().where(POSTS.c.tenant == tenant).order_by(POSTS.c.id)).mappings()
            return [_out(row) for row in rows]

    def update(self, tenant: str, post_id: int, **values: Any) -> None:
        self.ensure()
        with self.kit.db.write() as conn:
            conn.execute(POSTS.update().where(POSTS.c.tenant == tenant, POSTS.c.id == post_id).values(**values))

    def insert_missing(self, tenant: str, posts: list[dict[str, Any]]) -> int:
        self.ensure()
        added = 0
        with self.kit.db.write() as conn:
            for post in posts:
                found = conn.execute(
                    sa.select(POSTS.c.id).where(POSTS.c.tenant == tenant, POSTS.c.id == post["id"])
                ).first()
                if found is None:
                    conn.execute(POSTS.insert().values(tenant=tenant, **post))
                    added += 1
        return added


def _out(row: Any) -> PostOut:
    recommendations = json.loads(row["ai_publishing_recommendations"]) if row["ai_publishing_recommendations"] else None
    return PostOut(
        tenant=row["tenant"],
        id=row["id"],
        title=row["title"],
        subtitle=row["subtitle"],
        status=row["status"],
        markdown=row["markdown"],
        markdown_ai_revision=row["markdown_ai_revision"],
        ai_publishing_recommendations=recommendations,
    )


# -- the actions' typed inputs and outputs ----------------------------------------------------------


class PostInput(msgspec.Struct, forbid_unknown_fields=True):
    post_id: int


class ApprovalInput(msgspec.Struct, forbid_unknown_fields=True):
    post_id: int
    timeout: str = "1d"


class Revision(msgspec.Struct):
    post_id: int
    markdown: str
    ai: str
    """Which model wrote it (``local`` is the labelled stand-in)."""


class Approval(msgspec.Struct):
    post_id: int
    approved: bool
    applied: bool


class Applied(msgspec.Struct):
    post_id: int
    applied: bool


class SocialPosts(msgspec.Struct):
    post_id: int
    posts: list[str]
    ai: str


TOC_PROMPT = (
    "Add a table of contents (a Markdown list of the headings) at the top of this Markdown article. "
    "Reply with the article only."
)
GRAMMAR_PROMPT = "Fix the grammar and spelling mistakes of this Markdown article. Reply with the article only."
LINKEDIN_PROMPT = "Write two LinkedIn posts announcing this article, one per line."
TWEET_PROMPT = "Write three tweets announcing this article, one per line."


class PostEvent(msgspec.Struct):
    """What the CMS sends when a post changes: the post's id and its status now."""

    id: Annotated[int, msgspec.Meta(description="The post's id")]
    status: Annotated[str, msgspec.Meta(description="draft, under review or published")]


class ApprovalEvent(msgspec.Struct):
    """An editor approved the AI revision of a post."""

    id: Annotated[int, msgspec.Meta(description="The post's id")]


def declare_events(kit: WorkflowKit) -> None:
    """The blog's events, with realistic examples (the seeded posts), for the editor's samples."""
    kit.event_type(
        "blog-post.updated",
        schema=PostEvent,
        examples=[{"id": 1, "status": "under review"}, {"id": 3, "status": "draft"}],
        description="A post was changed in the CMS (e.g. moved to review)",
    )
    kit.event_type(
        "blog-post.published",
        schema=PostEvent,
        examples=[{"id": 2, "status": "published"}, {"id": 1, "status": "published"}],
        description="A post was published",
    )
    kit.event_type(
        "blog-post.approve-ai-suggestions",
        schema=ApprovalEvent,
        examples=[{"id": 1}],
        description="An editor approved the AI revision of a post",
    )


def register(kit: WorkflowKit, store: BlogStore | None = None) -> BlogStore:
    """Register the blog actions and declare the blog's events on `kit`; returns the posts store."""
    blog = store or BlogStore(kit)
    declare_events(kit)

    async def load(ctx: ActionContext, post_id: int) -> PostOut:
        return await ctx.step.run("load-blog-post", lambda: blog.get(ctx.tenant, post_id), output_type=PostOut)  # type: ignore[no-any-return]

    async def revise(ctx: ActionContext, post_id: int, prompt: str, step_id: str) -> Revision:
        post = await load(ctx, post_id)
        text = post.markdown_ai_revision or post.markdown
        answer = await ctx.step.ai.infer(
            step_id, messages=[{"role": "system", "content": prompt}, {"role": "user", "content": text}]
        )
        revised = str(answer["content"]).strip()
        await ctx.step.run("save-ai-revision", lambda: blog.update(ctx.tenant, post_id, markdown_ai_revision=revised))
        return Revision(post_id=post_id, markdown=revised, ai=str(answer["provider"]))

    @kit.action(kind="add_toc", name="Add a Table of Contents", icon="list")
    async def add_toc(ctx: ActionContext, inputs: PostInput) -> Revision:
        """An AI-written table of contents at the top of the post (a revision to approve)."""
        return await revise(ctx, inputs.post_id, TOC_PROMPT, "add-toc-to-article")

    @kit.action(kind="grammar_review", name="Perform a grammar review", icon="spell-check")
    async def grammar_review(ctx: ActionContext, inputs: PostInput) -> Revision:
        """AI fixes of grammar and spelling (a revision to approve)."""
        return await revise(ctx, inputs.post_id, GRAMMAR_PROMPT, "get-ai-grammar-fixes")

    @kit.action(kind="wait_for_approval", name="Apply changes after approval", icon="check")
    async def wait_for_approval(ctx: ActionContext, inputs: ApprovalInput) -> Approval:
        """Wait for an editor to approve the AI revision (blog-post.approve-ai-suggestions), then apply it."""
        approval = await ctx.step.wait_for_event(
            "wait-for-ai-suggestion-approval",
            event="blog-post.approve-ai-suggestions",
            if_exp=f"async.data.id == {inputs.post_id}",  # the approval of this action's post
            timeout=inputs.timeout,
        )
        if approval is None:
            await ctx.step.run(
                "discard-ai-revision", lambda: blog.update(ctx.tenant, inputs.post_id, markdown_ai_revision=None)
            )
            return Approval(post_id=inputs.post_id, approved=False, applied=False)
        applied = await ctx.step.run("apply-changes", lambda: _apply(blog, ctx.tenant, inputs.post_id))
        return Approval(post_id=inputs.post_id, approved=True, applied=bool(applied))

    @kit.action(kind="apply_changes", name="Apply changes", icon="save")
    async def apply_changes(ctx: ActionContext, inputs: PostInput) -> Applied:
        """Replace the post with its AI revision, without waiting for approval."""
        applied = await ctx.step.run("apply-changes", lambda: _apply(blog, ctx.tenant, inputs.post_id))
        return Applied(post_id=inputs.post_id, applied=bool(applied))

    async def social(ctx: ActionContext, post_id: int, prompt: str, step_id: str, key: str) -> SocialPosts:
        post = await load(ctx, post_id)
        answer = await ctx.step.ai.infer(
            step_id,
            messages=[
                {"role": "system", "content": prompt},
                {"role": "user", "content": f"# {post.title}\n{post.subtitle}"},
            ],
        )
        lines = [line.strip("-• ").strip() for line in str(answer["content"]).splitlines() if line.strip()]

        def save() -> None:
            current = blog.get(ctx.tenant, post_id).ai_publishing_recommendations or {}
            blog.update(ctx.tenant, post_id, ai_publishing_recommendations=json.dumps({**current, key: lines}))

        await ctx.step.run("save-ai-recommendations", save)
        return SocialPosts(post_id=post_id, posts=lines, ai=str(answer["provider"]))

    @kit.action(kind="generate_linkedin_posts", name="Generate LinkedIn posts", icon="send")
    async def generate_linkedin_posts(ctx: ActionContext, inputs: PostInput) -> SocialPosts:
        """AI-written LinkedIn posts announcing the article."""
        return await social(ctx, inputs.post_id, LINKEDIN_PROMPT, "generate-linked-posts", "linkedin")

    @kit.action(kind="generate_tweet_posts", name="Generate Twitter posts", icon="send")
    async def generate_tweet_posts(ctx: ActionContext, inputs: PostInput) -> SocialPosts:
        """AI-written tweets announcing the article."""
        return await social(ctx, inputs.post_id, TWEET_PROMPT, "generate-tweets", "twitter")

    declare_templates(kit)
    return blog


def _apply(blog: BlogStore, tenant: str, post_id: int) -> bool:
    post = blog.get(tenant, post_id)
    if not post.markdown_ai_revision:
        return False
    blog.update(tenant, post_id, markdown=post.markdown_ai_revision, markdown_ai_revision=None)
    return True


# -- the labelled local stand-in for the AI --------------------------------------------------------

_TYPOS = {"teh": "the", "recieve": "receive", "seperate": "separate", "occured": "occurred", "definately": "definitely"}


class BlogLocalAI(LocalProvider):
    """Without an OpenAI key: deterministic edits that show the flow (never mistaken for a model's)."""

    def answer(self, system: str, user: str) -> str:
        if system == TOC_PROMPT:
            headings = re.findall(r"^#{1,3} (.+)$", user, flags=re.MULTILINE)
            toc = "\n".join(f"- {h}" for h in headings)
            return f"<!-- {LOCAL_LABEL} -->\n## Contents\n{toc}\n\n{user}" if headings else user
        if system == GRAMMAR_PROMPT:
            fixed = user
            for wrong, right in _TYPOS.items():
                fixed = re.sub(rf"\b{wrong}\b", right, fixed)
                fixed = re.sub(rf"\b{wrong.capitalize()}\b", right.capitalize(), fixed)
            return fixed
        title = user.splitlines()[0].lstrip("# ").strip() if user.strip() else "our new article"
        if system == LINKEDIN_PROMPT:
            first = f"New on the blog: {title}. Read it today. [{LOCAL_LABEL}]"
            return f"{first}\nWe wrote about {title}: feedback welcome. [{LOCAL_LABEL}]"
        if system == TWEET_PROMPT:
            return "\n".join(f"{title}, part {n}: read the post! [{LOCAL_LABEL}]" for n in (1, 2, 3))
        return super().answer(system, user)


def review_workflow() -> dict[str, Any]:
    """When a post is moved to review: a ToC, a grammar review, then apply once an editor approves."""
    post = "!ref($.event.data.id)"
    return {
        "name": "When a blog post is moved to review",
        "description": "Getting a review from AI",
        "actions": [
            {"id": "toc", "kind": "add_toc", "name": "Add a Table of Contents", "inputs": {"post_id": post}},
            {
                "id": "grammar",
                "kind": "grammar_review",
                "name": "Perform a grammar review",
                "inputs": {"post_id": post},
            },
            {
                "id": "approval",
                "kind": "wait_for_approval",
                "name": "Apply changes after approval",
                "inputs": {"post_id": post, "timeout": "1d"},
            },
        ],
        "edges": [
            {"from": "$source", "to": "toc"},
            {"from": "toc", "to": "grammar"},
            {"from": "grammar", "to": "approval"},
        ],
    }


def publish_workflow() -> dict[str, Any]:
    """When a post is published: LinkedIn posts and tweets, in parallel."""
    post = "!ref($.event.data.id)"
    return {
        "name": "When a blog post is published",
        "description": "Actions performed to optimize the distribution of blog posts",
        "actions": [
            {"id": "linkedin", "kind": "generate_linkedin_posts", "inputs": {"post_id": post}},
            {"id": "twitter", "kind": "generate_tweet_posts", "inputs": {"post_id": post}},
        ],
        "edges": [{"from": "$source", "to": "linkedin"}, {"from": "$source", "to": "twitter"}],
    }


SEED_POSTS: list[dict[str, Any]] = [
    {
        "id": 1,
        "title": "Durable workflows for everyone",
        "subtitle": "Why every step should survive a crash",
        "markdown": "# Why durable?\nTeh steps recieve their inputs from events, "
        "and a crash resumes where it stopped.\n\n"
        "# How it works\nEvery step is persisted. Sleeps and waits hold no worker.\n",
    },
    {
        "id": 2,
        "title": "Letting users build automations",
        "subtitle": "A visual editor over typed actions",
        "markdown": "# The editor\nUsers drag actions onto a canvas and connect them.\n\n"
        "# Typed actions\nThe forms come from the action's types; mistakes are caught when saving.\n",
    },
    {
        "id": 3,
        "title": "Ten things we learned running workflows",
        "subtitle": "Retries, backoff and idempotency keys",
        "markdown": "# Retries\nA failure is definately not the end: the step is retried with backoff.\n\n"
        "# Idempotency\nKeep step bodies seperate from side effects.\n",
    },
]

REVIEW_TRIGGER = {"event": "blog-post.updated", "if": "event.data.status == 'under review'"}
PUBLISH_TRIGGER = {"event": "blog-post.published"}
APPROVAL_TIMEOUT = timedelta(days=1)


# -- templates for the editor's gallery --------------------------------------------------------------

POST_FROM_EVENT = "!ref($.event.data.id)"
TRUE_EDGE = {"type": "if", "ref": "!ref($.output.result)"}


def _step(step_id: str, kind: str, **inputs: Any) -> dict[str, Any]:
    return {"id": step_id, "kind": kind, "inputs": inputs}


def declare_templates(kit: WorkflowKit) -> None:
    """Five ready-made workflows over the blog actions, for the editor's "New workflow" gallery. One
    runs on a schedule and leaves two inputs for the user to fill in (which post, how long to wait)."""
    review = review_workflow()
    kit.template(
        "blog.review-with-approval",
        name="Review a post with AI, apply after approval",
        description="When a post moves to review: add a table of contents, fix the grammar, then apply the "
        "changes once an editor approves them (or drop them after a day).",
        workflow={"actions": review["actions"], "edges": review["edges"]},
        trigger=REVIEW_TRIGGER,
        tags=["review", "AI"],
    )
    kit.template(
        "blog.announce-on-social",
        name="Announce a published post on social media",
        description="When a post is published: write LinkedIn posts and tweets about it, side by side.",
        workflow={"actions": publish_workflow()["actions"], "edges": publish_workflow()["edges"]},
        trigger=PUBLISH_TRIGGER,
        tags=["social", "AI"],
    )
    kit.template(
        "blog.fix-grammar",
        name="Fix the grammar of every changed post",
        description="When a post changes: fix its grammar and spelling, and apply the fixes at once.",
        workflow={
            "actions": [
                _step("grammar", "grammar_review", post_id=POST_FROM_EVENT),
                _step("apply", "apply_changes", post_id="!ref($.state.grammar.post_id)"),
            ],
            "edges": [{"from": "$source", "to": "grammar"}, {"from": "grammar", "to": "apply"}],
        },
        trigger={"event": "blog-post.updated"},
        tags=["review", "AI"],
    )
    kit.template(
        "blog.tweet-when-published",
        name="Tweet when a post's status becomes published",
        description="When a post changes: if it is now published, write tweets announcing it.",
        workflow={
            "actions": [
                _step("published", "builtin:if", condition="event.data.status == 'published'"),
                _step("tweets", "generate_tweet_posts", post_id=POST_FROM_EVENT),
            ],
            "edges": [
                {"from": "$source", "to": "published"},
                {"from": "published", "to": "tweets", "name": "True", "conditional": TRUE_EDGE},
            ],
        },
        trigger={"event": "blog-post.updated"},
        tags=["social", "AI", "condition"],
    )
    kit.template(
        "blog.weekly-refresh",
        name="Refresh one post every week",
        description="Every Monday at 9:00: add a table of contents to a post you choose, review its grammar, "
        "and apply both once an editor approves.",
        workflow={
            "actions": [
                {**_step("toc", "add_toc"), "to_fill": {"post_id": "Which post should be refreshed? (its number)"}},
                _step("grammar", "grammar_review", post_id="!ref($.state.toc.post_id)"),
                {
                    **_step("approval", "wait_for_approval", post_id="!ref($.state.toc.post_id)"),
                    "to_fill": {"timeout": "How long may an editor take to approve? (e.g. 2d)"},
                },
            ],
            "edges": [
                {"from": "$source", "to": "toc"},
                {"from": "toc", "to": "grammar"},
                {"from": "grammar", "to": "approval"},
            ],
        },
        trigger={"cron": "0 9 * * 1"},
        tags=["review", "AI", "schedule"],
    )
