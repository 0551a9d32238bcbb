"""A kit for the browser test of sample data and step tests (tests/browser/test_step_test.py): an order
event declared with a schema and examples, a look-up without side effects, and a step that "sends" an
email (it has side effects: the editor asks before testing it)."""

from __future__ import annotations

import msgspec

from workflow_kit import ActionContextSync, WorkflowKit

kit = WorkflowKit()


class OrderPlaced(msgspec.Struct):
    order_id: int
    email: str
    total: float
    coupon: str | None = None


kit.event_type(
    "shop/order.placed",
    schema=OrderPlaced,
    examples=[
        {"order_id": 1042, "email": "ann@example.com", "total": 59.9},
        {"order_id": 7, "email": "bob@example.com", "total": 5.0},
    ],
    description="A customer placed an order",
)


class Lookup(msgspec.Struct):
    email: str


class Customer(msgspec.Struct):
    name: str
    tier: str


@kit.action(kind="find_customer", name="Find the customer", description="Looks the customer up", side_effects=False)
def find_customer(ctx: ActionContextSync, inputs: Lookup) -> Customer:
    name = inputs.email.split("@")[0].capitalize()
    return Customer(name=name, tier="gold" if name == "Ann" else "silver")


class Email(msgspec.Struct):
    to: str
    subject: str = "Thanks"


class Sent(msgspec.Struct):
    to: str
    subject: str


@kit.action(kind="send_email", name="Send an email", description="Sends an email to the customer")
def send_email(ctx: ActionContextSync, inputs: Email) -> Sent:
    return Sent(to=inputs.to, subject=inputs.subject)
