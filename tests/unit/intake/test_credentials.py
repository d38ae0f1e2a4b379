"""API keys, HMAC-signed bodies and grid workers' tokens (the clock is a parameter)."""

from __future__ import annotations

from services.intake.domain.credentials import (
    Denied,
    check_api_key,
    check_signature,
    check_worker_token,
    issue_worker_token,
    sign_body,
)

SOURCES = {"hotline-12345": "k-hotline", "grid-app": "k-grid"}
NOW = 1_795_400_000
BODY = b'{"ticket_no":"T-1"}'


def test_an_api_key_names_its_source_and_an_unknown_key_is_401() -> None:
    assert check_api_key(SOURCES, "k-grid") == "grid-app"
    assert check_api_key(SOURCES, "k-nope") == Denied(401, "unknown API key")
    assert isinstance(check_api_key(SOURCES, ""), Denied)


def test_a_body_signed_with_the_sources_secret_inside_the_window_is_accepted() -> None:
    header = sign_body("k-hotline", NOW - 299, BODY)
    assert check_signature(SOURCES, "hotline-12345", header, BODY, NOW, window=300) == "hotline-12345"


def test_signatures_outside_the_window_are_replays() -> None:
    for skew in (-301, 301):
        denied = check_signature(SOURCES, "hotline-12345", sign_body("k-hotline", NOW + skew, BODY), BODY, NOW, 300)
        assert isinstance(denied, Denied) and denied.status == 401 and "replay" in denied.reason


def test_a_tampered_body_or_another_sources_secret_is_a_bad_signature() -> None:
    header = sign_body("k-hotline", NOW, BODY)
    assert check_signature(SOURCES, "hotline-12345", header, BODY + b" ", NOW, 300) == Denied(401, "bad signature")
    assert check_signature(SOURCES, "grid-app", header, BODY, NOW, 300) == Denied(401, "bad signature")


def test_malformed_signature_headers_and_unknown_sources_are_401() -> None:
    for header in ("", "v1=abc", "t=soon,v1=abc", "t=,", "garbage"):
        assert isinstance(check_signature(SOURCES, "hotline-12345", header, BODY, NOW, 300), Denied)
    assert check_signature(SOURCES, "nobody", sign_body("x", NOW, BODY), BODY, NOW, 300).status == 401  # type: ignore[union-attr]


def test_a_worker_token_is_bound_to_its_worker_and_its_secret() -> None:
    token = issue_worker_token("s3cret", "W0001")
    assert check_worker_token("s3cret", token) == "W0001"
    assert check_worker_token("other", token) == Denied(401, "invalid worker token")
    assert check_worker_token("s3cret", token.replace("W0001", "W0002")) == Denied(401, "invalid worker token")
    assert check_worker_token("s3cret", "no-dots") == Denied(401, "malformed worker token")
    assert isinstance(check_worker_token("s3cret", "gw2.W0001." + token.split(".")[2]), Denied)
