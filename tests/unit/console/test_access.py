"""Who signs in and what they may see and do: passwords hashed, departments narrowed to their own cases."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from services.console.adapters.city import load_users
from services.console.domain.access import may_act, may_see, owner_filter
from services.console.domain.candidates import top_candidates
from services.console.domain.sessions import csrf_ok, new_session, token_hash
from services.console.domain.users import Role, User, authenticate, hash_password, verify_password
from services.console.settings import ConsoleSettings

CENTRE = User(username="op", name="值班员", role=Role.CENTRE, password_hash=hash_password("pw", iterations=1000))
URBAN = User(username="urban", name="城管", role=Role.DEPARTMENT, department="URBAN_MGMT",
             password_hash=hash_password("pw", iterations=1000))


def test_passwords_verify_only_against_their_own_hash() -> None:
    stored = hash_password("s3cret", iterations=1000)
    assert verify_password("s3cret", stored) and not verify_password("s3cret!", stored)
    assert "s3cret" not in stored


def test_authenticate_refuses_unknown_users_and_wrong_passwords() -> None:
    users = {"op": CENTRE}
    assert authenticate(users, "op", "pw") == CENTRE
    assert authenticate(users, "op", "nope") is None
    assert authenticate(users, "nobody", "pw") is None


def test_demo_accounts_load_and_their_documented_passwords_work() -> None:
    users = load_users(ConsoleSettings().users_file)
    assert authenticate(users, "centre", "centre-demo") is not None
    assert authenticate(users, "urban", "urban-demo") == users["urban"]
    assert users["urban"].department == "URBAN_MGMT"


def test_centre_acts_as_center_operator_and_a_department_as_itself() -> None:
    assert CENTRE.actor == "CENTER:op" and URBAN.actor == "URBAN_MGMT"


def test_a_department_sees_and_acts_on_its_own_cases_only() -> None:
    own, other = {"owner": "URBAN_MGMT"}, {"owner": "WATER"}
    assert may_see(URBAN, own) and not may_see(URBAN, other) and may_see(CENTRE, other)
    assert owner_filter(URBAN) == "URBAN_MGMT" and owner_filter(CENTRE) is None
    assert may_act(URBAN, own, "accept") is None
    assert may_act(URBAN, other, "accept") == "this case is not held by your department"
    assert may_act(URBAN, own, "dispatch") is not None
    assert may_act(CENTRE, other, "dispatch") is None
    assert may_see(URBAN, {"owner": "WATER", "assisting": ["URBAN_MGMT"]})  # 协办 an assisting department


def test_an_assisting_department_sees_the_case_but_the_lead_owns_its_actions() -> None:
    assisted = {"owner": "WATER", "assisting": ["URBAN_MGMT"]}
    assert may_see(URBAN, assisted)
    for kind in ("accept", "progress", "return", "resolve", "request_extension"):
        refusal = may_act(URBAN, assisted, kind)
        assert refusal is not None and "协办" in refusal
    assert may_act(CENTRE, assisted, "dispatch") is None


def test_sessions_store_only_a_hash_and_csrf_must_match() -> None:
    session = new_session(datetime(2026, 12, 1, tzinfo=UTC), 12)
    assert session.token_hash == token_hash(session.token) != session.token
    assert csrf_ok(session.csrf, session.csrf)
    assert not csrf_ok(session.csrf, None) and not csrf_ok(session.csrf, session.csrf + "x")


def test_candidates_come_from_the_explanation_with_names_and_reasons() -> None:
    case = {"explanation": {"classification": {"candidates": [
        {"item_code": "A04.001", "score": 0.4, "matched_keywords": ["井盖"], "conditions": []}]}}}
    items = {"A04.001": {"service_code": "A04.001", "service_name": "井盖缺失"}}
    assert top_candidates(case, items) == [{"item_code": "A04.001", "item_name": "井盖缺失", "owner": None,
                                            "score": 0.4, "why": "关键词 keywords: 井盖"}]


def test_users_file_errors_name_the_entry(tmp_path: Path) -> None:
    bad = tmp_path / "users.yaml"
    bad.write_text("users:\n  - {username: x, name: y, role: boss, password_hash: nope}\n")
    try:
        load_users(bad)
    except ValueError as exc:
        assert "users[0]" in str(exc)
    else:
        raise AssertionError("a bad user entry must stop the console")


def test_the_top_candidate_also_shows_the_models_features_and_nearest_example() -> None:
    case = {"explanation": {"classification": {
        "candidates": [{"item_code": "A04.001", "score": 0.4, "matched_keywords": [], "conditions": []},
                       {"item_code": "A04.002", "score": 0.2, "matched_keywords": ["井"], "conditions": []}],
        "strongest_features": [{"feature": "井盖", "weight": 1.2}], "nearest_examples": [{"text": "井盖坏了"}]}}}
    first, second = top_candidates(case, {})
    assert first["why"] == "模型特征 model features: 井盖; 相似案例 nearest example: 井盖坏了"
    assert second["why"] == "关键词 keywords: 井"
