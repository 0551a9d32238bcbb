"""The webhook verification styles, as the services that sign compute them (the expected values are
built here with `hmac` directly, as each service documents, not with the module's own helpers)."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from workflow_kit.runtime.rules.signatures import (
    SignatureError,
    Verification,
    check,
    sign,
    verification_problems,
)

HOOK_SECRET = "It's a Secret to Everybody"  # GitHub's documented example, with its known signature
BODY = b"Hello, World!"
NOW = 1_700_000_000.0


def test_github_signature_of_githubs_documented_example() -> None:
    # GitHub's documentation: this secret and payload give this signature
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    github = Verification(style="github")
    check(github, HOOK_SECRET, {"x-hub-signature-256": expected}, BODY, NOW)
    assert sign(github, HOOK_SECRET, BODY, NOW) == {"x-hub-signature-256": expected}


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, r"no GitHub signature \(X-Hub-Signature-256 header\): the request is not signed"),
        ({"x-hub-signature-256": "sha256=" + "0" * 64}, "does not match"),
        ({"x-hub-signature-256": "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"}, "does not match"),
    ],
)
def test_github_signature_missing_or_wrong(headers: dict[str, str], reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        check(Verification(style="github"), HOOK_SECRET, headers, BODY, NOW)


def test_a_changed_body_fails_the_signature() -> None:
    github = Verification(style="github")
    headers = sign(github, HOOK_SECRET, BODY, NOW)
    with pytest.raises(SignatureError, match="does not match"):
        check(github, HOOK_SECRET, headers, BODY + b" ", NOW)


def _stripe_header(stamp: int, body: bytes, secret: str = HOOK_SECRET) -> str:
    signature = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={signature},v0=ignored"


def test_stripe_signature_within_the_tolerance() -> None:
    stripe = Verification(style="stripe")
    check(stripe, HOOK_SECRET, {"stripe-signature": _stripe_header(int(NOW) - 299, BODY)}, BODY, NOW)
    check(
        stripe, HOOK_SECRET, {"stripe-signature": sign(stripe, HOOK_SECRET, BODY, NOW)["stripe-signature"]}, BODY, NOW
    )


def test_stripe_replay_outside_the_tolerance_is_refused() -> None:
    header = {"stripe-signature": _stripe_header(int(NOW) - 301, BODY)}
    with pytest.raises(SignatureError, match="301 seconds old, over the tolerance of 300 seconds"):
        check(Verification(style="stripe"), HOOK_SECRET, header, BODY, NOW)
    check(Verification(style="stripe", tolerance=600), HOOK_SECRET, header, BODY, NOW)  # a wider tolerance takes it


@pytest.mark.parametrize(
    "header",
    ["t=abc,v1=00", "v1=00", f"t={int(NOW)}", ""],
)
def test_stripe_header_malformed(header: str) -> None:
    with pytest.raises(SignatureError, match="not t=<time>,v1=<signature>"):
        check(Verification(style="stripe"), HOOK_SECRET, {"stripe-signature": header}, BODY, NOW)


def test_stripe_signature_with_another_secret() -> None:
    with pytest.raises(SignatureError, match="does not match"):
        check(
            Verification(style="stripe"),
            HOOK_SECRET,
            {"stripe-signature": _stripe_header(int(NOW), BODY, "x")},
            BODY,
            NOW,
        )


def test_shared_secret_in_a_header() -> None:
    style = Verification(style="header", header="X-Token")
    check(style, HOOK_SECRET, {"x-token": HOOK_SECRET}, BODY, NOW)
    with pytest.raises(SignatureError, match="does not match"):
        check(style, HOOK_SECRET, {"x-token": HOOK_SECRET + "!"}, BODY, NOW)
    with pytest.raises(SignatureError, match="no X-Token header"):
        check(style, HOOK_SECRET, {}, BODY, NOW)
    assert Verification(style="header").secret_header == "x-webhook-secret"


def test_generic_hmac_with_algorithm_prefix_and_encoding() -> None:
    style = Verification(style="hmac", header="X-Signature", algorithm="sha1", prefix="sha1=")
    expected = "sha1=" + hmac.new(HOOK_SECRET.encode(), BODY, hashlib.sha1).hexdigest()
    check(style, HOOK_SECRET, {"x-signature": expected}, BODY, NOW)
    shopify = Verification(style="hmac", header="X-Shopify-Hmac-Sha256", encoding="base64")
    digest = base64.b64encode(hmac.new(HOOK_SECRET.encode(), BODY, hashlib.sha256).digest()).decode()
    check(shopify, HOOK_SECRET, {"x-shopify-hmac-sha256": digest}, BODY, NOW)
    with pytest.raises(SignatureError, match="does not match"):
        check(shopify, HOOK_SECRET, {"x-shopify-hmac-sha256": digest.lower()}, BODY, NOW)


def test_no_check_and_no_secret() -> None:
    check(Verification(), None, {}, BODY, NOW)
    assert sign(Verification(), HOOK_SECRET, BODY, NOW) == {}
    with pytest.raises(SignatureError, match="no secret yet"):
        check(Verification(style="github"), None, {}, BODY, NOW)


def test_the_message_never_holds_the_secret_or_the_expected_signature() -> None:
    github = Verification(style="github")
    expected = sign(github, HOOK_SECRET, BODY, NOW)["x-hub-signature-256"]
    with pytest.raises(SignatureError) as caught:
        check(github, HOOK_SECRET, {"x-hub-signature-256": "sha256=00"}, BODY, NOW)
    assert HOOK_SECRET not in str(caught.value) and expected not in str(caught.value)


def test_verification_problems_have_paths() -> None:
    assert verification_problems(Verification()) == []
    paths = [p.path for p in verification_problems(Verification(style="hmac", tolerance=0, prefix="x" * 51))]
    assert paths == ["verification.header", "verification.prefix", "verification.tolerance"]
    [bad] = verification_problems(Verification(style="header", header="X Token"))
    assert bad.path == "verification.header"
