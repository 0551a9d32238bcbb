"""Action definitions: schemas from annotations, the handler contract, the registry and the catalog."""

import dataclasses
from typing import Annotated, Any, NotRequired, TypedDict

import msgspec
import pytest
from jsonschema import Draft202012Validator

from workflow_kit import ActionDefinition, NonRetriableError, PredefinedEdge, WorkflowKit
from workflow_kit.actions import MAX_RETRIES, InputError, OutputError

# ---------------------------------------------------------------------------------------------------
# Types used as inputs and outputs


class Order(msgspec.Struct):
    """An order to place."""

    sku: Annotated[str, msgspec.Meta(title="SKU", description="The product code")]
    quantity: int
    note: str = ""
    gift: bool = False


class Address(msgspec.Struct):
    city: str
    zip: str = "00000"


class Customer(msgspec.Struct):
    name: str
    address: Address
    tags: list[str] = []


class Receipt(msgspec.Struct):
    total: float
    items: list[str]


class Signup(TypedDict):
    email: str
    plan: NotRequired[str]


@dataclasses.dataclass
class Reminder:
    message: str
    minutes: int = 5


def order_handler(ctx, inputs: Order) -> Receipt:
    return Receipt(total=1.0, items=[inputs.sku])


def customer_handler(ctx, inputs: Customer) -> Customer:
    return inputs


def signup_handler(ctx, inputs: Signup) -> None:
    return None


def reminder_handler(ctx, inputs: Reminder) -> int:
    return inputs.minutes


def free_handler(ctx, inputs: dict[str, Any]) -> dict[str, Any]:
    return inputs


def unannotated_handler(ctx, inputs):
    return inputs


def ctx_only_handler(ctx) -> str:
    return "done"


async def async_handler(ctx, inputs: Order) -> int:
    return inputs.quantity


def sync_handler(ctx, inputs: Order) -> int:
    return inputs.quantity


def define(handler: Any, kind: str = "test", **kwargs: Any) -> ActionDefinition:
    return ActionDefinition.from_handler(handler, kind=kind, **kwargs)


# ---------------------------------------------------------------------------------------------------
# Input schemas


def test_struct_input_schema() -> None:
    schema = define(order_handler).input_schema
    assert schema["type"] == "object"
    assert set(schema["properties"]) == {"sku", "quantity", "note", "gift"}
    assert sorted(schema["required"]) == ["quantity", "sku"]
    assert schema["properties"]["quantity"]["type"] == "integer"
    assert schema["properties"]["note"]["default"] == ""
    assert schema["properties"]["gift"] == {"type": "boolean", "default": False}
    assert schema["additionalProperties"] is False
    Draft202012Validator.check_schema(schema)


def test_struct_input_schema_keeps_meta_title_and_description() -> None:
    schema = define(order_handler).input_schema
    sku = schema["properties"]["sku"]
    assert sku["title"] == "SKU"
    assert sku["description"] == "The product code"
    assert sku["type"] == "string"
    assert schema["description"] == "An order to place."


def test_typeddict_input_schema() -> None:
    schema = define(signup_handler).input_schema
    assert schema["type"] == "object"
    assert set(schema["properties"]) == {"email", "plan"}
    assert schema["required"] == ["email"]
    assert schema["additionalProperties"] is False


def test_dataclass_input_schema() -> None:
    schema = define(reminder_handler).input_schema
    assert schema["type"] == "object"
    assert schema["properties"]["message"]["type"] == "string"
    assert schema["properties"]["minutes"] == {"type": "integer", "default": 5}
    assert schema["required"] == ["message"]
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize("handler", [free_handler, unannotated_handler], ids=["dict-str-any", "unannotated"])
def test_mapping_input_schema_is_a_free_form_object(handler: Any) -> None:
    schema = define(handler).input_schema
    assert schema["type"] == "object"
    assert "additionalProperties" not in schema
    assert "properties" not in schema
    validator = Draft202012Validator(schema)
    assert validator.is_valid({"anything": [1, {"x": None}]})
    assert not validator.is_valid([1, 2])


def test_nested_struct_input_schema_uses_defs_and_is_self_contained() -> None:
    schema = define(customer_handler).input_schema
    assert schema["type"] == "object"
    assert schema["properties"]["address"] == {"$ref": "#/$defs/Address"}
    address = schema["$defs"]["Address"]
    assert address["properties"]["city"] == {"type": "string"}
    assert address["required"] == ["city"]
    assert address["additionalProperties"] is False
    assert schema["additionalProperties"] is False

    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    assert validator.is_valid({"name": "Ann", "address": {"city": "Oslo"}})
    assert validator.is_valid({"name": "Ann", "address": {"city": "Oslo", "zip": "0150"}, "tags": ["a"]})
    assert not validator.is_valid({"name": "Ann", "address": {"zip": "0150"}})
    assert not validator.is_valid({"name": "Ann", "address": {"city": "Oslo", "street": "Main"}})
    assert not validator.is_valid({"name": "Ann", "address": {"city": "Oslo"}, "extra": 1})
    assert not validator.is_valid({"name": "Ann", "address": {"city": 1}})


def test_nested_struct_schema_survives_a_json_round_trip() -> None:
    schema = define(customer_handler).input_schema
    decoded = msgspec.json.decode(msgspec.json.encode(schema))
    validator = Draft202012Validator(decoded)
    assert validator.is_valid({"name": "Ann", "address": {"city": "Oslo"}})
    assert not validator.is_valid({"name": "Ann", "address": {"city": 5}})


def test_handler_taking_only_ctx_has_an_empty_closed_input_object() -> None:
    definition = define(ctx_only_handler)
    schema = definition.input_schema
    assert definition.takes_inputs is False
    assert schema["type"] == "object"
    assert schema.get("properties", {}) == {}
    assert schema.get("required", []) == []
    assert schema["additionalProperties"] is False
    validator = Draft202012Validator(schema)
    assert validator.is_valid({})
    assert not validator.is_valid({"x": 1})


# ---------------------------------------------------------------------------------------------------
# Output schemas


def test_output_schema_of_int() -> None:
    assert define(reminder_handler).output_schema == {"type": "integer"}


def test_output_schema_of_struct() -> None:
    schema = define(order_handler).output_schema
    assert schema["type"] == "object"
    assert schema["properties"]["total"] == {"type": "number"}
    assert schema["properties"]["items"] == {"type": "array", "items": {"type": "string"}}
    assert sorted(schema["required"]) == ["items", "total"]
    Draft202012Validator.check_schema(schema)
    assert Draft202012Validator(schema).is_valid({"total": 2.5, "items": ["a"]})


def test_output_schema_of_nested_struct_is_self_contained() -> None:
    schema = define(customer_handler).output_schema
    validator = Draft202012Validator(schema)
    assert validator.is_valid({"name": "Ann", "address": {"city": "Oslo"}})
    assert not validator.is_valid({"name": "Ann", "address": {"city": 5}})


def test_output_schema_of_none() -> None:
    assert define(signup_handler).output_schema == {"type": "null"}


@pytest.mark.parametrize("handler", [unannotated_handler, lambda ctx, inputs: None], ids=["def", "lambda"])
def test_output_schema_without_annotation_is_any(handler: Any) -> None:
    definition = define(handler)
    assert definition.output_schema == {}
    assert definition.output_type is Any


class NotJson:
    pass


def not_json_output_handler(ctx, inputs: dict[str, Any]) -> NotJson:
    return NotJson()


def test_output_type_that_cannot_be_json_raises_type_error() -> None:
    with pytest.raises(TypeError, match="output type"):
        define(not_json_output_handler)


# ---------------------------------------------------------------------------------------------------
# Signatures


def test_sync_and_async_handlers_are_told_apart() -> None:
    assert define(async_handler).is_async is True
    assert define(sync_handler).is_async is False


def test_types_are_read_from_the_signature() -> None:
    definition = define(order_handler)
    assert definition.input_type is Order
    assert definition.output_type is Receipt
    assert definition.takes_inputs is True


def list_input_handler(ctx, inputs: list[int]) -> int:
    return 0


def int_keyed_handler(ctx, inputs: dict[int, Any]) -> int:
    return 0


def str_input_handler(ctx, inputs: str) -> int:
    return 0


@pytest.mark.parametrize("handler", [list_input_handler, int_keyed_handler, str_input_handler])
def test_bad_input_annotation_raises_type_error_at_registration(handler: Any) -> None:
    kit = WorkflowKit()
    with pytest.raises(TypeError, match=r"msgspec Struct, a TypedDict, a dataclass or dict\[str, Any\]") as info:
        kit.action(kind="bad")(handler)
    assert "'bad'" in str(info.value)
    assert "bad" not in kit.registry


def three_params(ctx, inputs: dict[str, Any], extra: int) -> None:
    return None


def no_params() -> None:
    return None


@pytest.mark.parametrize(("handler", "count"), [(three_params, 3), (no_params, 0)])
def test_wrong_number_of_parameters_raises_type_error(handler: Any, count: int) -> None:
    with pytest.raises(TypeError, match=rf"\(ctx\) or \(ctx, inputs\), got {count} parameters"):
        WorkflowKit().action(kind="bad")(handler)


def test_not_callable_raises_type_error() -> None:
    with pytest.raises(TypeError, match="not callable"):
        define(42)


@pytest.mark.parametrize("kind", ["", "   ", "$source"])
def test_invalid_kind_raises_value_error(kind: str) -> None:
    with pytest.raises(ValueError, match="kind"):
        define(free_handler, kind=kind)


# ---------------------------------------------------------------------------------------------------
# The kit and its registry


def test_decorator_registers_and_returns_the_handler_unchanged() -> None:
    kit = WorkflowKit()
    returned = kit.action(kind="order", name="Place order", description="Places it", icon="cart")(order_handler)
    assert returned is order_handler
    definition = kit.registry.get("order")
    assert definition is not None
    assert definition.handler is order_handler
    assert (definition.kind, definition.name, definition.description, definition.icon) == (
        "order",
        "Place order",
        "Places it",
        "cart",
    )


def test_name_defaults_to_kind() -> None:
    assert define(free_handler, kind="x:free").name == "x:free"


def documented_handler(ctx, inputs: dict[str, Any]) -> None:
    """Send a welcome email.

    The email uses the account's default template.
    """


def undocumented_handler(ctx, inputs: dict[str, Any]) -> None:
    return None


def test_description_defaults_to_the_first_docstring_paragraph() -> None:
    assert define(documented_handler).description == "Send a welcome email."
    assert define(undocumented_handler).description == ""
    assert define(documented_handler, description="Explicit").description == "Explicit"
    assert define(documented_handler, description="").description == ""


def test_duplicate_kind_raises_value_error() -> None:
    kit = WorkflowKit()
    kit.action(kind="order")(order_handler)
    with pytest.raises(ValueError, match="duplicate action kind 'order'"):
        kit.action(kind="order")(free_handler)
    registered = kit.registry.get("order")
    assert registered is not None
    assert registered.handler is order_handler


def test_registering_a_builtin_kind_again_raises_value_error() -> None:
    with pytest.raises(ValueError, match="builtin:if"):
        WorkflowKit().action(kind="builtin:if")(free_handler)


def test_builtin_if_is_registered_by_default() -> None:
    catalog = {a["kind"]: a for a in WorkflowKit().public_actions()}
    builtin = catalog["builtin:if"]
    assert builtin["name"] == "If"
    assert builtin["edges"] == {
        "allow_add": False,
        "edges": [
            {"name": "True", "conditional": {"type": "if", "ref": "!ref($.output.result)"}},
            {"name": "False", "conditional": {"type": "else", "ref": "!ref($.output.result)"}},
        ],
    }
    assert builtin["outputs"]["properties"]["result"] == {"type": "boolean"}
    condition = builtin["inputs"]["properties"]["condition"]
    assert any(branch.get("format") == "cel" for branch in condition["anyOf"])
    assert builtin["inputs"]["required"] == ["condition"]


def test_disable_builtin_actions() -> None:
    kit = WorkflowKit(disable_builtin_actions=True)
    assert "builtin:if" not in kit.registry
    assert kit.public_actions() == []
    assert len(kit.registry) == 0


def test_public_actions_is_json_and_never_holds_a_function() -> None:
    kit = WorkflowKit()
    kit.action(kind="order", name="Order", description="Order it", icon="cart")(order_handler)
    kit.action(kind="remind", edges=[{"name": "Done"}], allow_add=False)(reminder_handler)
    catalog = kit.public_actions()

    encoded = msgspec.json.encode(catalog)
    assert msgspec.json.decode(encoded) == catalog

    def walk(value: Any) -> None:
        assert not callable(value)
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(catalog)
    assert [a["kind"] for a in catalog if not a["kind"].startswith("builtin:")] == ["order", "remind"]
    for entry in catalog:
        assert set(entry) == {"kind", "name", "description", "icon", "inputs", "outputs", "edges", "side_effects"}
        assert "handler" not in entry

    by_kind = {entry["kind"]: entry for entry in catalog}
    order = by_kind["order"]
    assert order["name"] == "Order"
    assert order["description"] == "Order it"
    assert order["icon"] == "cart"
    assert order["inputs"] == kit.registry.get("order").input_schema  # type: ignore[union-attr]
    assert order["outputs"]["properties"]["total"] == {"type": "number"}
    assert order["edges"] == {"allow_add": True, "edges": []}
    assert by_kind["remind"]["edges"] == {"allow_add": False, "edges": [{"name": "Done"}]}


def test_predefined_edges_accept_dicts_and_objects() -> None:
    conditional = {"type": "match", "ref": "!ref($.output)", "value": 1}
    definition = define(free_handler, edges=[PredefinedEdge("One", conditional), {"name": "Other"}])
    assert definition.edges == (PredefinedEdge("One", conditional), PredefinedEdge("Other"))
    assert definition.public()["edges"]["edges"] == [{"name": "One", "conditional": conditional}, {"name": "Other"}]


def test_user_actions_have_side_effects_unless_they_say_not() -> None:
    kit = WorkflowKit()
    kit.action(kind="order")(order_handler)
    kit.action(kind="quote", side_effects=False)(free_handler)
    by_kind = {entry["kind"]: entry for entry in kit.public_actions()}
    assert by_kind["order"]["side_effects"] is True
    assert by_kind["quote"]["side_effects"] is False
    assert kit.registry.get("quote").side_effects is False  # type: ignore[union-attr]


def test_builtins_that_only_steer_the_run_have_no_side_effects() -> None:
    by_kind = {entry["kind"]: entry["side_effects"] for entry in WorkflowKit().public_actions()}
    assert by_kind == {
        "builtin:if": False,
        "builtin:sleep": False,
        "builtin:sleep_until": False,
        "builtin:wait_for_event": False,
        "builtin:send_event": True,  # it can start other workflows
        "builtin:invoke": True,  # it runs another workflow
        "builtin:for_each": False,  # the steps inside say for themselves
        "builtin:repeat_until": False,
    }


@pytest.mark.parametrize("retries", [-1, MAX_RETRIES + 1, 100])
def test_retries_out_of_range_raise_value_error(retries: int) -> None:
    assert MAX_RETRIES == 20
    with pytest.raises(ValueError, match="retries"):
        WorkflowKit().action(kind="r", retries=retries)(free_handler)


@pytest.mark.parametrize("retries", [None, 0, 3, 20])
def test_retries_in_range_are_kept(retries: int | None) -> None:
    kit = WorkflowKit()
    kit.action(kind="r", retries=retries)(free_handler)
    definition = kit.registry.get("r")
    assert definition is not None
    assert definition.retries == retries


# ---------------------------------------------------------------------------------------------------
# Inputs at run time


def test_prepare_inputs_converts_to_the_struct() -> None:
    prepared = define(order_handler).prepare_inputs({"sku": "A1", "quantity": 2})
    assert prepared == Order(sku="A1", quantity=2, note="", gift=False)


def test_prepare_inputs_converts_nested_structs() -> None:
    prepared = define(customer_handler).prepare_inputs({"name": "Ann", "address": {"city": "Oslo"}})
    assert prepared == Customer(name="Ann", address=Address(city="Oslo", zip="00000"), tags=[])


def test_prepare_inputs_for_dataclass_typeddict_and_dict() -> None:
    assert define(reminder_handler).prepare_inputs({"message": "hi"}) == Reminder(message="hi", minutes=5)
    assert define(signup_handler).prepare_inputs({"email": "a@b.c"}) == {"email": "a@b.c"}
    assert define(free_handler).prepare_inputs({"x": [1, 2]}) == {"x": [1, 2]}


def test_prepare_inputs_for_ctx_only_handler() -> None:
    definition = define(ctx_only_handler)
    definition.prepare_inputs({})
    with pytest.raises(InputError, match=r"inputs\.x"):
        definition.prepare_inputs({"x": 1})


@pytest.mark.parametrize(
    ("inputs", "named"),
    [
        ({"sku": "A1", "quantity": "two"}, "inputs.quantity"),
        ({"sku": "A1"}, "inputs.quantity"),
        ({"sku": "A1", "quantity": 1, "colour": "red"}, "inputs.colour"),
        ({"sku": 5, "quantity": 1}, "inputs.sku"),
        ({"sku": "A1", "quantity": 1, "gift": "yes"}, "inputs.gift"),
    ],
)
def test_prepare_inputs_rejects_bad_inputs(inputs: dict[str, Any], named: str) -> None:
    with pytest.raises(InputError) as info:
        define(order_handler, kind="order").prepare_inputs(inputs)
    assert isinstance(info.value, NonRetriableError)
    assert named in str(info.value)
    assert "'order'" in str(info.value)
    assert info.value.code == "invalid_input"


def test_prepare_inputs_names_nested_fields() -> None:
    with pytest.raises(InputError, match=r"inputs\.address\.city"):
        define(customer_handler).prepare_inputs({"name": "Ann", "address": {"city": 5}})


def test_input_and_output_errors_are_non_retriable() -> None:
    assert issubclass(InputError, NonRetriableError)
    assert issubclass(OutputError, NonRetriableError)
    assert OutputError.code == "invalid_output"


# ---------------------------------------------------------------------------------------------------
# Outputs at run time


def test_encode_output_converts_a_struct_to_a_dict() -> None:
    encoded = define(order_handler).encode_output(Receipt(total=2.5, items=["a", "b"]))
    assert encoded == {"total": 2.5, "items": ["a", "b"]}
    assert type(encoded) is dict


def test_encode_output_converts_nested_structs() -> None:
    value = Customer(name="Ann", address=Address(city="Oslo"))
    encoded = define(customer_handler).encode_output(value)
    assert encoded == {"name": "Ann", "address": {"city": "Oslo", "zip": "00000"}, "tags": []}


@pytest.mark.parametrize(
    ("handler", "value", "expected"),
    [
        (reminder_handler, 5, 5),
        (signup_handler, None, None),
        (free_handler, {"a": [1, "x"]}, {"a": [1, "x"]}),
        (unannotated_handler, {"any": "thing"}, {"any": "thing"}),
        (ctx_only_handler, "done", "done"),
    ],
)
def test_encode_output_accepts_matching_values(handler: Any, value: Any, expected: Any) -> None:
    assert define(handler).encode_output(value) == expected


def bool_output_handler(ctx, inputs: dict[str, Any]) -> bool:
    return True


@pytest.mark.parametrize(
    ("handler", "value"),
    [
        (reminder_handler, "soon"),
        (reminder_handler, 1.5),
        (reminder_handler, True),
        (reminder_handler, None),
        (signup_handler, 1),
        (ctx_only_handler, 5),
        (order_handler, {"total": 1.0}),
        (order_handler, Order(sku="x", quantity=1)),
        (reminder_handler, "5"),
        (bool_output_handler, "true"),
    ],
)
def test_encode_output_rejects_values_not_matching_the_declared_type(handler: Any, value: Any) -> None:
    with pytest.raises(OutputError, match="does not match its declared type"):
        define(handler, kind="out").encode_output(value)


@pytest.mark.parametrize("handler", [free_handler, unannotated_handler])
def test_encode_output_rejects_values_that_are_not_json(handler: Any) -> None:
    with pytest.raises(OutputError, match="is not JSON"):
        define(handler).encode_output({"x": object()})
