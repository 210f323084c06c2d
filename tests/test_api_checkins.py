"""The scanner API over HTTP: the contract's answers, bad input, tokens and query counts."""

from __future__ import annotations

import secrets
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import create_app
from app.extensions import db
from app.models import (
    ApiToken,
    CheckIn,
    CheckInMethod,
    CheckInResult,
    OutboxMessage,
    RefusalReason,
    Registration,
    RegistrationStatus,
    hash_api_token,
    utcnow,
)
from tests.conftest import (
    Config,
    bearer,
    checkin_rows,
    get_csrf,
    make_event,
    make_registration,
    new_id,
    post_checkin,
    requires_postgres,
    token_for,
)


@pytest.fixture
def event(app):
    return make_event("seminar", {"ashgabat": 50, "ahal": 1})


@pytest.fixture
def ahal_token(coordinator):
    return token_for(coordinator)


@pytest.fixture
def org_token(organizer):
    return token_for(organizer)


# --- the answers of POST /checkins -----------------------------------------------


def test_an_admission_answers_201_with_the_person_and_the_checkin(client, event, ahal_token):
    person = make_registration(
        event, name="Aýna Orazowa", site="ahal", organization="Ahal information centre"
    )
    client_id = new_id()
    scanned_at = (utcnow() - timedelta(minutes=2)).replace(microsecond=0)

    response = post_checkin(
        client,
        ahal_token,
        person.badge_code,
        client_id=client_id,
        scanned_at=scanned_at.isoformat().replace("+00:00", "Z"),
        force=False,
        device="Door phone",
    )

    assert response.status_code == 201
    assert response.is_json
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["registration"]["name"] == "Aýna Orazowa"
    assert body["registration"]["organization"] == "Ahal information centre"
    assert body["registration"]["mode"] == "in_person"
    assert body["registration"]["site"] == "ahal"
    assert body["checkin"]["client_id"] == client_id
    assert body["checkin"]["result"] == "admitted"
    assert body["checkin"]["scanned_at"] == scanned_at.isoformat()
    assert body["checkin"]["device"] == "Door phone"
    assert body["checkin"]["staff"] == "Ahal"
    assert "email" not in body["registration"]


def test_the_same_client_id_again_answers_200_with_the_same_body(client, event, ahal_token):
    person = make_registration(event, site="ahal")
    client_id = new_id()
    first = post_checkin(client, ahal_token, person.badge_code, client_id=client_id)
    again = post_checkin(client, ahal_token, person.badge_code, client_id=client_id)

    assert (first.status_code, again.status_code) == (201, 200)
    first_body, again_body = first.get_json(), again.get_json()
    assert again_body.pop("replayed") is True and first_body.pop("replayed") is False
    assert again_body == first_body
    assert len(checkin_rows()) == 1


def test_refusals_answer_409_or_404_with_their_reason(client, event, org_token):
    admitted = make_registration(event, name="In Already", site="ashgabat")
    elsewhere = make_registration(event, name="Ahal Person", site="ahal")
    waiting = make_registration(
        event, name="Waiting", site="ashgabat", status=RegistrationStatus.WAITLISTED
    )
    cancelled = make_registration(
        event, name="Cancelled", site="ashgabat", status=RegistrationStatus.CANCELLED
    )
    assert post_checkin(client, org_token, admitted.badge_code, site="ashgabat").status_code == 201

    cases = [
        (admitted.badge_code, 409, "already_checked_in"),
        (elsewhere.badge_code, 409, "wrong_site"),
        (waiting.badge_code, 409, "not_admitted"),
        (cancelled.badge_code, 409, "not_admitted"),
        ("THISISNOTABADGE", 404, "unknown_code"),
    ]
    for code, status, reason in cases:
        response = post_checkin(client, org_token, code, site="ashgabat")
        assert response.status_code == status, reason
        body = response.get_json()
        assert body["status"] == "error" and body["reason"] == reason
        assert body["message"]
        assert body["checkin"]["result"] == "refused"

    already = post_checkin(client, org_token, admitted.badge_code, site="ashgabat").get_json()
    assert already["previous"]["site"] == "ashgabat"
    assert already["previous"]["staff"] == "Organizer"
    assert (
        post_checkin(client, org_token, elsewhere.badge_code, site="ashgabat").get_json()[
            "registration"
        ]["site_name"]
        == "Ahal information centre"
    )
    assert [r.reason for r in checkin_rows()[1:6]] == [
        RefusalReason.ALREADY_CHECKED_IN,
        RefusalReason.WRONG_SITE,
        RefusalReason.NOT_ADMITTED,
        RefusalReason.NOT_ADMITTED,
        RefusalReason.UNKNOWN_CODE,
    ]


def test_force_admits_a_person_registered_elsewhere(client, event, org_token):
    person = make_registration(event, site="ahal")
    assert post_checkin(client, org_token, person.badge_code, site="ashgabat").status_code == 409
    response = post_checkin(client, org_token, person.badge_code, site="ashgabat", force=True)
    assert response.status_code == 201
    assert response.get_json()["checkin"]["forced"] is True


def test_a_coordinator_gets_403_at_another_site_and_nothing_is_recorded(client, event, ahal_token):
    person = make_registration(event, site="ashgabat")
    response = post_checkin(client, ahal_token, person.badge_code, site="ashgabat", force=True)
    assert response.status_code == 403
    assert response.get_json()["reason"] == "forbidden"
    assert checkin_rows() == []


def test_a_search_checkin_records_its_method(client, event, ahal_token):
    person = make_registration(event, site="ahal")
    response = post_checkin(client, ahal_token, person.badge_code, method="search")
    assert response.status_code == 201
    assert checkin_rows()[0].method == CheckInMethod.SEARCH


# --- bad input -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"site": "ahal", "client_id": "c0ffee00-0000-4000-8000-000000000000"}, "code"),
        ({"code": "X", "client_id": "c0ffee00-0000-4000-8000-000000000000"}, "site"),
        ({"code": "X", "site": "ahal"}, "client_id"),
        ({"code": "X", "site": "ahal", "client_id": 12345678}, "client_id"),
        ({"code": "X", "site": "ahal", "client_id": ["a"]}, "client_id"),
        ({"code": "X", "site": "ahal", "client_id": "short"}, "client_id"),
        ({"code": 42, "site": "ahal", "client_id": "c0ffee00-0000-4000-8000-000000000000"}, "code"),
        (
            {
                "code": "X",
                "site": "ahal",
                "client_id": "c0ffee00-0000-4000-8000-000000000000",
                "force": "yes",
            },
            "force",
        ),
        (
            {
                "code": "X",
                "site": "ahal",
                "client_id": "c0ffee00-0000-4000-8000-000000000000",
                "scanned_at": "yesterday",
            },
            "scanned_at",
        ),
        (
            {
                "code": "X",
                "site": "ahal",
                "client_id": "c0ffee00-0000-4000-8000-000000000000",
                "scanned_at": "2025-05-20T10:00:00",
            },
            "scanned_at",
        ),
        (
            {
                "code": "X",
                "site": "ahal",
                "client_id": "c0ffee00-0000-4000-8000-000000000000",
                "method": "online_join",
            },
            "method",
        ),
        (
            {"code": "X", "site": "mars", "client_id": "c0ffee00-0000-4000-8000-000000000000"},
            "site",
        ),
        # What the description refuses, the API refuses too: a trailing newline, a time
        # that is not RFC 3339, a device that is not text, a code over its limit as sent.
        ({"code": "X", "site": "ahal", "client_id": "c0ffee00-0000-4000-8000-000\n"}, "client_id"),
        (
            {
                "code": "X",
                "site": "ahal",
                "client_id": "c0ffee00-0000-4000-8000-000000000000",
                "scanned_at": "20250520T100000Z",
            },
            "scanned_at",
        ),
        (
            {
                "code": "X",
                "site": "ahal",
                "client_id": "c0ffee00-0000-4000-8000-000000000000",
                "device": 42,
            },
            "device",
        ),
        (
            {
                "code": " " + "X" * 2000,
                "site": "ahal",
                "client_id": "c0ffee00-0000-4000-8000-000000000000",
            },
            "code",
        ),
    ],
)
def test_malformed_bodies_get_422_with_a_reason_and_change_nothing(
    client, event, ahal_token, body, field
):
    response = client.post("/api/v1/events/seminar/checkins", json=body, headers=bearer(ahal_token))
    assert response.status_code == 422
    assert response.is_json
    data = response.get_json()
    assert data["status"] == "error" and data["reason"] in {"invalid", "unknown_site"}
    assert data.get("field") == field
    assert checkin_rows() == []


@pytest.mark.parametrize(
    "payload",
    [b"not json at all", b'["a", "list"]', b'{"code": "X",', b"", "\u00ff".encode("latin-1")],
)
def test_non_json_bodies_get_422_json(client, event, ahal_token, payload):
    response = client.post(
        "/api/v1/events/seminar/checkins",
        data=payload,
        headers={**bearer(ahal_token), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.get_json()["reason"] == "invalid"


def test_a_far_future_scan_time_is_refused(client, event, ahal_token):
    person = make_registration(event, site="ahal")
    later = (utcnow() + timedelta(hours=2)).isoformat()
    response = post_checkin(client, ahal_token, person.badge_code, scanned_at=later)
    assert response.status_code == 422
    assert "future" in response.get_json()["message"]
    assert checkin_rows() == []


def test_unknown_event_answers_404_json(client, event, ahal_token):
    response = client.post(
        "/api/v1/events/nope/checkins",
        json={"code": "X", "site": "ahal", "client_id": new_id()},
        headers=bearer(ahal_token),
    )
    assert response.status_code == 404
    assert response.get_json()["status"] == "error"


def test_a_method_a_path_does_not_allow_gets_405_json_with_allow(client, event, ahal_token):
    response = client.put("/api/v1/events/seminar/roster?site=ahal", headers=bearer(ahal_token))

    assert response.status_code == 405
    assert response.get_json()["reason"] == "method_not_allowed"
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_http_errors_under_the_api_are_json(client, event, ahal_token):
    for response in [
        client.get("/api/v1/events/seminar/checkins", headers=bearer(ahal_token)),
        client.get("/api/v1/no/such/thing", headers=bearer(ahal_token)),
    ]:
        assert response.status_code in (404, 405)
        assert response.is_json and response.get_json()["status"] == "error"


# --- tokens -------------------------------------------------------------------


def test_missing_unknown_revoked_and_malformed_credentials_get_401_json(client, event, coordinator):
    revoked = token_for(coordinator)
    token_row = db.session.scalar(
        sa.select(ApiToken).where(ApiToken.token_hash == hash_api_token(revoked))
    )
    token_row.revoked_at = utcnow()
    db.session.commit()
    person = make_registration(event, site="ahal")
    body = {"code": person.badge_code, "site": "ahal", "client_id": new_id()}

    for headers in [
        {},
        bearer("not-a-token"),
        bearer(revoked),
        {"Authorization": "Basic YWRtaW46YWRtaW4="},
        {"Authorization": "Bearer"},
    ]:
        response = client.post("/api/v1/events/seminar/checkins", json=body, headers=headers)
        assert response.status_code == 401, headers
        assert response.get_json()["reason"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert checkin_rows() == []


def test_tokens_from_the_cli_work_until_revoked(client, runner, event, coordinator):
    person = make_registration(event, site="ahal")
    result = runner.invoke(args=["users", "token", "ahal@example.org", "--label", "door"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert db.session.scalar(sa.select(ApiToken.token_hash)) == hash_api_token(token)
    assert post_checkin(client, token, person.badge_code).status_code == 201

    runner.invoke(args=["users", "revoke-tokens", "ahal@example.org"])
    assert post_checkin(client, token, person.badge_code).status_code == 401


def test_old_tokens_expire_when_a_maximum_age_is_configured(app, client, event, coordinator):
    token = token_for(coordinator)
    db.session.scalar(sa.select(ApiToken)).created_at = utcnow() - timedelta(days=40)
    db.session.commit()
    app.config["API_TOKEN_MAX_AGE_DAYS"] = 30
    response = client.get("/api/v1/events/seminar/roster?site=ahal", headers=bearer(token))
    assert response.status_code == 401


def test_a_deactivated_users_token_stops_working(client, event, coordinator, ahal_token):
    coordinator.is_active_user = False
    db.session.commit()
    response = client.get("/api/v1/events/seminar/roster?site=ahal", headers=bearer(ahal_token))
    assert response.status_code == 401


# --- the browser's session, with CSRF ----------------------------------------------


def test_a_signed_in_browser_may_call_the_api_with_its_csrf_token(client, auth, event, coordinator):
    person = make_registration(event, site="ahal")
    auth.login("ahal@example.org")
    token = get_csrf(client, "/manage/events/seminar/checkin/ahal")
    body = {"code": person.badge_code, "site": "ahal", "client_id": new_id()}

    missing = client.post("/api/v1/events/seminar/checkins", json=body)
    wrong = client.post(
        "/api/v1/events/seminar/checkins", json=body, headers={"X-CSRFToken": "forged"}
    )
    assert (missing.status_code, wrong.status_code) == (400, 400)
    assert missing.get_json()["reason"] == "csrf_failed"
    assert checkin_rows() == []

    ok = client.post("/api/v1/events/seminar/checkins", json=body, headers={"X-CSRFToken": token})
    assert ok.status_code == 201
    assert client.get("/api/v1/events/seminar/roster?site=ahal").status_code == 200


# --- undo -----------------------------------------------------------------------


def test_delete_undoes_a_checkin_and_keeps_it_on_record(client, event, ahal_token):
    person = make_registration(event, site="ahal")
    client_id = new_id()
    post_checkin(client, ahal_token, person.badge_code, client_id=client_id)

    response = client.delete(
        f"/api/v1/events/seminar/checkins/{client_id}", headers=bearer(ahal_token)
    )

    assert response.status_code == 200
    assert response.get_json()["checkin"]["annulled_at"]
    [row] = checkin_rows()
    assert row.annulled_at is not None and row.result == CheckInResult.ADMITTED
    roster = client.get(
        "/api/v1/events/seminar/roster?site=ahal", headers=bearer(ahal_token)
    ).get_json()
    assert roster["counts"]["arrived"] == 0
    assert post_checkin(client, ahal_token, person.badge_code).status_code == 201


def test_delete_answers_404_for_unknown_ids_and_409_for_refusals(client, event, ahal_token):
    client_id = new_id()
    post_checkin(client, ahal_token, "UNKNOWNCODE", client_id=client_id)
    unknown = client.delete(
        f"/api/v1/events/seminar/checkins/{new_id()}", headers=bearer(ahal_token)
    )
    refused = client.delete(
        f"/api/v1/events/seminar/checkins/{client_id}", headers=bearer(ahal_token)
    )
    assert unknown.status_code == 404 and unknown.is_json
    assert refused.status_code == 409 and refused.get_json()["reason"] == "nothing_to_undo"


# --- registrations: walk-ins and imports --------------------------------------------


def post_registration(client, token, **fields):
    return client.post("/api/v1/events/seminar/registrations", json=fields, headers=bearer(token))


def post_walk_in(client, token, site="ahal", **fields):
    """A walk-in at ``site``: registered at the door and checked in at once."""
    fields.setdefault("client_id", new_id())
    return post_registration(client, token, site=site, check_in=True, **fields)


def test_a_walk_in_is_registered_and_admitted_with_code_and_manage_url(client, event, ahal_token):
    response = post_walk_in(
        client,
        ahal_token,
        name="Merdan Annaýew",
        email="Merdan@Example.org",
        organization="Mary centre",
    )
    assert response.status_code == 201
    body = response.get_json()
    registration = db.session.scalar(sa.select(Registration))
    assert body["code"] == registration.badge_code
    assert body["manage_url"].endswith(f"/r/{registration.manage_token}")
    assert body["checkin"]["checkin"]["method"] == "walk_in"
    assert body["checkin"]["status"] == "ok"
    assert registration.email == "merdan@example.org"
    assert [r.method for r in checkin_rows()] == [CheckInMethod.WALK_IN]
    personal_page = client.get(body["manage_url"].removeprefix("http://localhost"))
    assert personal_page.status_code == 200


def test_a_resent_walk_in_answers_200_and_creates_nothing(client, event, ahal_token):
    fields = dict(name="Merdan", email="merdan@example.org", client_id=new_id())
    first = post_walk_in(client, ahal_token, **fields)
    again = post_walk_in(client, ahal_token, **fields)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["code"] == first.get_json()["code"]
    assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 1
    assert len(checkin_rows()) == 1


def test_a_walk_in_at_a_full_site_gets_409_site_full_and_nothing_is_written(
    client, event, ahal_token
):
    make_registration(event, name="Seat Taken", site="ahal")
    response = post_walk_in(client, ahal_token, name="Late Comer", email="late@example.org")
    assert response.status_code == 409
    assert response.get_json()["reason"] == "site_full"
    assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0
    assert checkin_rows() == []


def test_an_import_follows_the_capacity_rules(client, event, org_token):
    first = post_registration(
        client, org_token, name="First", email="first@example.org", site="ahal"
    )
    second = post_registration(
        client, org_token, name="Second", email="second@example.org", site="ahal"
    )
    online = post_registration(
        client, org_token, name="Online", email="online@example.org", mode="online"
    )
    assert (first.status_code, second.status_code, online.status_code) == (201, 201, 201)
    assert first.get_json()["registration"]["status"] == "confirmed"
    assert second.get_json()["registration"]["status"] == "waitlisted"
    assert online.get_json()["registration"]["mode"] == "online"
    assert checkin_rows() == []


def test_registration_input_is_checked(client, event, ahal_token, org_token):
    bad = [
        (dict(email="x@example.org", site="ahal"), 422),
        (dict(name="X", email="not-an-email", site="ahal"), 422),
        (dict(name="X", email="x@example.org", site="ahal", org_kind="alien"), 422),
        (dict(name="X", email="x@example.org", site="mars"), 422),
        (dict(name="X", email="x@example.org", site="ahal", check_in=True), 422),
        (dict(name="X", email="x@example.org", site="ashgabat"), 403),
        (dict(name="X", email="x@example.org", mode="online"), 403),
    ]
    for fields, status in bad:
        response = post_registration(client, ahal_token, **fields)
        assert response.status_code == status, fields
        assert response.get_json()["status"] == "error"
    assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        (dict(name="X", email="x@example.org", mode="in_person"), "site"),
        (dict(name="X", email="x@example.org", site="mars"), "site"),
        # An import does not use them, but does not let malformed ones pass either.
        (dict(name="X", email="x@example.org", site="ahal", client_id="no"), "client_id"),
        (dict(name="X", email="x@example.org", site="ahal", scanned_at="noon"), "scanned_at"),
        (dict(name="X", email="x@example.org", site="ahal", device=["phone"]), "device"),
    ],
)
def test_registration_refusals_name_the_field_of_the_body(client, event, org_token, fields, field):
    response = post_registration(client, org_token, **fields)

    assert response.status_code == 422
    assert response.get_json()["field"] == field
    assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 0


def test_an_email_registered_at_a_foreign_site_is_not_revealed(client, event, ahal_token):
    make_registration(event, name="Secret Person", email="secret@example.org", site="ashgabat")
    response = post_registration(
        client, ahal_token, name="Anyone", email="secret@example.org", site="ahal"
    )
    assert response.status_code == 409
    assert "Secret" not in response.get_data(as_text=True)
    assert "code" not in response.get_json()


# --- search, roster, attendance -----------------------------------------------------


def test_search_finds_people_ignoring_diacritics_within_the_users_sites(
    client, event, ahal_token, org_token
):
    make_registration(event, name="Aýgül Şükürowa", site="ahal")
    make_registration(event, name="Gülşat Şükürowa", site="ashgabat")

    def names(token, query, site=""):
        url = f"/api/v1/events/seminar/registrations?q={query}" + (f"&site={site}" if site else "")
        response = client.get(url, headers=bearer(token))
        assert response.status_code == 200
        return sorted(r["name"] for r in response.get_json()["results"])

    assert names(org_token, "sukurowa") == ["Aýgül Şükürowa", "Gülşat Şükürowa"]
    assert names(org_token, "sukurowa", "ashgabat") == ["Gülşat Şükürowa"]
    assert names(ahal_token, "sukurowa") == ["Aýgül Şükürowa"]
    foreign = client.get(
        "/api/v1/events/seminar/registrations?q=sukurowa&site=ashgabat", headers=bearer(ahal_token)
    )
    assert foreign.status_code == 403
    assert "Gülşat" not in foreign.get_data(as_text=True)


def test_the_roster_needs_an_allowed_site_of_this_event(client, event, ahal_token):
    make_registration(event, name="Ashgabat Person", site="ashgabat")
    other = make_event("other-event", {"balkan": 5})
    assert other
    base = "/api/v1/events/seminar/roster"
    assert client.get(base, headers=bearer(ahal_token)).status_code == 422
    assert client.get(base + "?site=balkan", headers=bearer(ahal_token)).status_code == 404
    foreign = client.get(base + "?site=ashgabat", headers=bearer(ahal_token))
    assert foreign.status_code == 403
    assert "Ashgabat Person" not in foreign.get_data(as_text=True)


def test_the_roster_lists_codes_statuses_and_arrivals(client, event, ahal_token):
    arrived = make_registration(event, name="Arrived", site="ahal")
    make_registration(event, name="Cancelled One", site="ahal", status=RegistrationStatus.CANCELLED)
    make_registration(event, name="Ashgabat Person", site="ashgabat")
    post_checkin(client, ahal_token, arrived.badge_code)

    body = client.get(
        "/api/v1/events/seminar/roster?site=ahal", headers=bearer(ahal_token)
    ).get_json()

    assert body["site"]["slug"] == "ahal"
    assert body["counts"] == {
        "expected": 1,
        "arrived": 1,
        "not_arrived": 0,
        "from_other_sites": 0,
    }
    people = {p["name"]: p for p in body["registrations"]}
    assert set(people) == {"Arrived", "Cancelled One"}
    assert people["Arrived"]["code"] == arrived.badge_code
    assert people["Arrived"]["checkin"]["site"] == "ahal"
    assert people["Cancelled One"]["status"] == "cancelled"
    assert people["Cancelled One"]["checkin"] is None


def test_attendance_counts_per_site_and_limits_coordinators(client, event, ahal_token, org_token):
    here = make_registration(event, name="Here", site="ahal")
    make_registration(event, name="Main", site="ashgabat")
    post_checkin(client, ahal_token, here.badge_code)

    everything = client.get("/api/v1/events/seminar/attendance", headers=bearer(org_token))
    mine = client.get("/api/v1/events/seminar/attendance", headers=bearer(ahal_token))
    foreign = client.get(
        "/api/v1/events/seminar/attendance?site=ashgabat", headers=bearer(ahal_token)
    )

    sites = {s["slug"]: s for s in everything.get_json()["sites"]}
    assert sites["ahal"]["checked_in"] == 1 and sites["ahal"]["confirmed"] == 1
    assert sites["ashgabat"]["not_arrived"] == 1
    assert everything.get_json()["totals"]["checked_in"] == 1
    assert [s["slug"] for s in mine.get_json()["sites"]] == ["ahal"]
    assert foreign.status_code == 403


def test_people_admitted_from_another_site_are_counted_apart(client, event, org_token):
    """Let in at Ahal though registered for Ashgabat: Ahal's own figures still add up."""
    for name in ("Ahal One", "Ahal Two"):
        here = make_registration(event, name=name, site="ahal")
        post_checkin(client, org_token, here.badge_code)
    visitor = make_registration(event, name="From Ashgabat", site="ashgabat")
    online = make_registration(event, name="Registered Online", site=None)
    for person in (visitor, online):
        assert post_checkin(client, org_token, person.badge_code, force=True).status_code == 201

    sites = {
        s["slug"]: s
        for s in client.get(
            "/api/v1/events/seminar/attendance", headers=bearer(org_token)
        ).get_json()["sites"]
    }
    ahal, ashgabat = sites["ahal"], sites["ashgabat"]
    assert ahal["from_other_sites"] == 2
    assert ahal["checked_in"] == 4  # everyone let in here, as before
    # The site's own people: those who arrived and those still awaited make up the confirmed.
    assert (ahal["confirmed"], ahal["confirmed"] - ahal["not_arrived"]) == (2, 2)
    assert ashgabat["from_other_sites"] == 0
    assert (ashgabat["confirmed"], ashgabat["checked_in"], ashgabat["not_arrived"]) == (1, 0, 0)

    roster = client.get(
        "/api/v1/events/seminar/roster?site=ahal", headers=bearer(org_token)
    ).get_json()
    assert roster["counts"] == {
        "expected": 2,
        "arrived": 4,
        "not_arrived": 0,
        "from_other_sites": 2,
    }


# --- cost ------------------------------------------------------------------------


def test_a_checkin_costs_at_most_three_statements_authentication_included(
    client, event, ahal_token, count_queries
):
    """A coordinator's scan: the token, the site they serve and the badge are one read.

    The counter sees the statements; a scanner's check-in sends no BEGIN or COMMIT
    around them (tests/test_checkin_hot_path.py watches the wire on PostgreSQL).
    """
    code = make_registration(event, site="ahal").badge_code
    db.session.remove()  # nothing cached: every lookup must hit the database
    with count_queries() as counter:
        response = post_checkin(client, ahal_token, code)
    assert response.status_code == 201
    assert counter.count <= 3, "\n".join(counter.statements)


def _bulk_registrations(event, count: int) -> None:
    from app.text import fold_for_search

    site_ids = [es.site_id for es in event.event_sites]
    rows_ = []
    for number in range(count):
        name = f"Participant {number:05d} Annaýewa"
        email = f"p{number}@example.org"
        rows_.append(
            {
                "event_id": event.id,
                "name": name,
                "email": email,
                "organization": "Centre",
                "mode": "in_person",
                "site_id": site_ids[number % len(site_ids)],
                "status": "confirmed",
                "manage_token": secrets.token_urlsafe(32),
                "badge_code": secrets.token_hex(16).upper(),
                "search_text": fold_for_search(f"{name} Centre {email}"),
            }
        )
    db.session.execute(sa.insert(Registration), rows_)
    db.session.commit()


def test_searching_ten_thousand_registrations_costs_the_same_queries_as_ten(
    client, app, org_token, count_queries
):
    small = make_event("small", {"ashgabat": 20000, "ahal": 20000})
    big = make_event("seminar", {"ashgabat": 20000, "ahal": 20000})
    _bulk_registrations(small, 10)
    _bulk_registrations(big, 10_000)

    counts = {}
    for slug in ("small", "seminar"):
        db.session.remove()
        with count_queries() as counter:
            response = client.get(
                f"/api/v1/events/{slug}/registrations?q=annayewa 0000", headers=bearer(org_token)
            )
        assert response.status_code == 200
        assert response.get_json()["results"]
        counts[slug] = counter.count
    assert counts["small"] == counts["seminar"] <= 3


# --- two scanners, one person ---------------------------------------------------------


@requires_postgres
def test_two_scanners_admitting_one_person_at_once_admit_exactly_once(event, organizer):
    people = [
        make_registration(event, name=f"Racer {n}", email=f"racer{n}@example.org", site="ashgabat")
        for n in range(5)
    ]
    token = token_for(organizer)
    codes = [p.badge_code for p in people]
    db.session.remove()

    results: list[tuple[str, int, dict]] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    # One app (own engine, own session) per scanner, built before the race starts.
    apps = [create_app(Config) for _ in range(3)]

    def scanner(scanner_app, code: str, barrier: threading.Barrier):
        try:
            with scanner_app.app_context():
                client = scanner_app.test_client()
                barrier.wait(timeout=20)
                response = client.post(
                    "/api/v1/events/seminar/checkins",
                    json={"code": code, "site": "ashgabat", "client_id": new_id()},
                    headers=bearer(token),
                )
                with lock:
                    results.append((code, response.status_code, response.get_json()))
                db.session.remove()
        except BaseException as error:  # reported below, not lost in the thread
            with lock:
                failures.append(error)

    for code in codes:
        barrier = threading.Barrier(len(apps))
        threads = [
            threading.Thread(target=scanner, args=(scanner_app, code, barrier), daemon=True)
            for scanner_app in apps
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    for scanner_app in apps:
        with scanner_app.app_context():
            db.engine.dispose()

    assert not failures, failures
    for code in codes:
        answers = sorted((status, body.get("reason")) for c, status, body in results if c == code)
        assert answers == [(201, None), (409, "already_checked_in"), (409, "already_checked_in")], (
            answers
        )
    admitted = db.session.scalar(
        sa.select(sa.func.count(CheckIn.id)).where(CheckIn.result == CheckInResult.ADMITTED)
    )
    assert admitted == len(codes)
    assert db.session.scalar(sa.select(sa.func.count(CheckIn.id))) == 3 * len(codes)
