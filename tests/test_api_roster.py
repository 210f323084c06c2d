"""GET /roster with ?since=: a scanner fetches its site's list once, then only what changed."""

from __future__ import annotations

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
