"""GET /roster with ?since=: a scanner fetches its site's list once, then only what changed."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import CheckIn, Registration, RegistrationStatus, Site, utcnow
from tests.conftest import (
    bearer,
    make_event,
    make_registration,
    new_id,
    post_checkin,
    token_for,
)

ROSTER = "/api/v1/events/seminar/roster?site=ahal"


@pytest.fixture
def event(app):
    return make_event("seminar", {"ashgabat": 50, "ahal": 1800})


@pytest.fixture
def token(coordinator):
    return token_for(coordinator)


def roster(client, token, since=None):
    url = ROSTER if since is None else f"{ROSTER}&since={since}"
    response = client.get(url, headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def check_in(client, token, code):
    client_id = new_id()
    assert post_checkin(client, token, code, client_id=client_id).status_code == 201
    return client_id


def age_everything(hours=1):
    """Moves every change recorded so far an hour back, as if made before the last sync."""
    before = utcnow() - timedelta(hours=hours)
    db.session.execute(sa.update(Registration).values(updated_at=before))
    db.session.execute(sa.update(CheckIn).values(received_at=before))
    db.session.execute(
        sa.update(CheckIn).where(CheckIn.annulled_at.is_not(None)).values(annulled_at=before)
    )
    db.session.commit()


def quoted(cursor: str) -> str:
    return cursor.replace("+", "%2B")


def test_without_since_the_whole_roster_comes_with_a_cursor(client, event, token):
    make_registration(event, name="Aýna Orazowa", site="ahal")
    make_registration(event, name="Bägül Annaýewa", site="ahal")

    body = roster(client, token)

    assert [person["name"] for person in body["registrations"]] == [
        "Aýna Orazowa",
        "Bägül Annaýewa",
    ]
    assert body["cursor"]
    assert "removed" not in body


def test_since_lists_only_the_people_changed_after_the_cursor(client, event, token):
    arrives = make_registration(event, name="Arrives Later", site="ahal")
    make_registration(event, name="Stays Put", site="ahal")
    undone = make_registration(event, name="Undone Later", site="ahal")
    undone_checkin = check_in(client, token, undone.badge_code)
    cancels = make_registration(event, name="Cancels Later", site="ahal")
    moves = make_registration(event, name="Moves Away", site="ahal")
    age_everything()
    cursor = roster(client, token)["cursor"]
    # Nothing changed yet: nobody is sent again.
    assert roster(client, token, quoted(cursor))["registrations"] == []

    check_in(client, token, arrives.badge_code)
    deleted = client.delete(
        f"/api/v1/events/seminar/checkins/{undone_checkin}", headers=bearer(token)
    )
    assert deleted.status_code == 200
    db.session.get(Registration, cancels.id).status = RegistrationStatus.CANCELLED
    moved = db.session.get(Registration, moves.id)
    moved.site_id = db.session.scalar(sa.select(Site.id).where(Site.slug == "ashgabat"))
    db.session.commit()
    make_registration(event, name="New Person", site="ahal")

    body = roster(client, token, quoted(cursor))

    people = {person["name"]: person for person in body["registrations"]}
    assert set(people) == {"Arrives Later", "Undone Later", "Cancels Later", "New Person"}
    assert people["Arrives Later"]["checkin"]["site"] == "ahal"
    assert people["Undone Later"]["checkin"] is None
    assert people["Cancels Later"]["status"] == "cancelled"
    assert body["removed"] == [moves.badge_code]
    # The counts are always the whole site's.
    assert body["counts"]["expected"] == 4
    assert body["counts"]["arrived"] == 1
    assert body["cursor"] >= cursor


def test_a_cursor_that_is_not_one_is_refused_at_its_field(client, event, token):
    for since in ("yesterday", "2025-05-20T10:03:00", "2025-05-20T25:03:00Z"):
        response = client.get(f"{ROSTER}&since={since}", headers=bearer(token))
        assert response.status_code == 422
        assert response.get_json()["field"] == "since"


def test_a_large_site_changes_by_a_few_lean_answers(client, event, token):
    """1,700 people: the whole list once, then a change of one person in a small answer."""
    people = [
        make_registration(event, name=f"Person {n:04}", email=f"p{n}@example.org", site="ahal")
        for n in range(1700)
    ]
    age_everything()
    whole = roster(client, token)
    check_in(client, token, people[7].badge_code)

    changed = roster(client, token, quoted(whole["cursor"]))

    assert len(whole["registrations"]) == 1700
    assert [person["name"] for person in changed["registrations"]] == ["Person 0007"]
    # About 400 bytes a person whole; a change is a small fraction of it.
    assert len(json.dumps(whole)) < 1700 * 500
    assert len(json.dumps(changed)) < 2000


def code_hash(code: str) -> str:
    """The first 8 hex digits of the SHA-256 of a badge code, as the API documents them."""
    return hashlib.sha256(code.encode("utf-8")).hexdigest()[:8]


def elsewhere(body) -> dict[tuple[str | None, str], set[str]]:
    return {(group["site"], group["state"]): set(group["codes"]) for group in body["elsewhere"]}


def test_people_of_other_sites_come_by_code_hash_and_state_without_names(
    client, event, token, organizer
):
    make_registration(event, name="Aýna Orazowa", site="ahal")
    expected = make_registration(event, name="Expected Elsewhere", site="ashgabat")
    arrived = make_registration(event, name="Arrived Elsewhere", site="ashgabat")
    waiting = make_registration(
        event, name="Waiting Elsewhere", site="ashgabat", status=RegistrationStatus.WAITLISTED
    )
    online = make_registration(event, name="Online Person", site=None)
    other_event = make_event("other", {"ashgabat": 10})
    make_registration(other_event, name="Another Event", site="ashgabat")
    assert post_checkin(client, token_for(organizer), arrived.badge_code, site="ashgabat")

    body = roster(client, token)

    assert elsewhere(body) == {
        ("ashgabat", "expected"): {code_hash(expected.badge_code)},
        ("ashgabat", "arrived"): {code_hash(arrived.badge_code)},
        ("ashgabat", "not_admitted"): {code_hash(waiting.badge_code)},
        (None, "expected"): {code_hash(online.badge_code)},
    }
    names = {group["site"]: group["site_name"] for group in body["elsewhere"]}
    assert names == {"ashgabat": "Ashgabat information centre", None: None}
    text = json.dumps(body)
    for person in (expected, arrived, waiting, online):
        assert person.name not in text and person.badge_code not in text


def test_someone_of_another_site_let_in_here_is_on_the_roster_not_elsewhere(client, event, token):
    visitor = make_registration(event, name="Visitor", site="ashgabat")
    assert post_checkin(client, token, visitor.badge_code, force=True).status_code == 201

    body = roster(client, token)

    assert [person["name"] for person in body["registrations"]] == ["Visitor"]
    assert body["elsewhere"] == []


def test_since_sends_only_the_people_elsewhere_who_changed(client, event, token, organizer):
    stays = make_registration(event, name="Stays Put", site="ashgabat")
    arrives = make_registration(event, name="Arrives Elsewhere", site="ashgabat")
    moves = make_registration(event, name="Moves Away", site="ahal")
    age_everything()
    whole = roster(client, token)
    assert code_hash(stays.badge_code) in elsewhere(whole)["ashgabat", "expected"]

    assert post_checkin(client, token_for(organizer), arrives.badge_code, site="ashgabat")
    moved = db.session.get(Registration, moves.id)
    moved.site_id = db.session.scalar(sa.select(Site.id).where(Site.slug == "ashgabat"))
    db.session.commit()
    changed = roster(client, token, quoted(whole["cursor"]))

    assert elsewhere(changed) == {
        ("ashgabat", "arrived"): {code_hash(arrives.badge_code)},
        ("ashgabat", "expected"): {code_hash(moves.badge_code)},
    }
    assert moves.badge_code in changed["removed"]


def test_each_person_lists_the_sessions_they_were_admitted_to(client, event, token):
    person = make_registration(event, name="Aýna Orazowa", site="ahal")
    make_registration(event, name="Bägül Annaýewa", site="ahal")
    opening = event.agenda_items[0]
    opening.counts_attendance = True
    db.session.commit()
    admitted = post_checkin(client, token, person.badge_code, session=opening.id)
    assert admitted.status_code == 201, admitted.get_json()

    people = {entry["name"]: entry for entry in roster(client, token)["registrations"]}
    assert people["Aýna Orazowa"]["sessions"] == [opening.id]
    assert people["Bägül Annaýewa"]["sessions"] == []
    # The session is not the day's admission.
    assert people["Aýna Orazowa"]["checkin"] is None

    client_id = admitted.get_json()["checkin"]["client_id"]
    undone = client.delete(f"/api/v1/events/seminar/checkins/{client_id}", headers=bearer(token))
    assert undone.status_code == 200
    people = {entry["name"]: entry for entry in roster(client, token)["registrations"]}
    assert people["Aýna Orazowa"]["sessions"] == []
