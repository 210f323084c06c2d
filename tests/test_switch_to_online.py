"""Switching to online from one's personal page, on the day too: the seat goes to the waitlist."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.models import (
    EventFormat,
    MessageKind,
    Mode,
    OutboxMessage,
    Registration,
    RegistrationStatus,
)
from tests.conftest import (
    add_checkin,
    csrf_token_from,
    make_event,
    make_registration,
    outbox_rows,
    parsed_email,
)


def started_event(**fields):
    """A hybrid seminar that began an hour ago; registration closed yesterday."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    return make_event(
        "seminar",
        {"ahal": 1, "ashgabat": 10},
        starts_at=start,
        registration_closes_at=start - timedelta(days=1),
        **fields,
    )


@pytest.fixture
def seminar(app):
    event = started_event()
    ayna = make_registration(event, name="Aýna Orazowa", site="ahal")
    waiting = make_registration(
        event, name="Merdan Waiting", site="ahal", status=RegistrationStatus.WAITLISTED
    )
    db.session.query(OutboxMessage).delete()
    db.session.commit()
    return event, ayna, waiting


def page_of(client, registration) -> str:
    response = client.get(f"/r/{registration.manage_token}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def switch(client, registration):
    html = page_of(client, registration)
    token = csrf_token_from(html[html.index('id="switch-online-heading"') :])
    return client.post(f"/r/{registration.manage_token}/online", data={"online-csrf_token": token})


def fresh(registration) -> Registration:
    db.session.expire_all()
    return db.session.get(Registration, registration.id)


def text_of(row: OutboxMessage) -> str:
    message = parsed_email(row)
    return message.get_body(preferencelist=("plain",)).get_content()


def test_switching_to_online_on_the_day_frees_the_seat_and_sends_the_join_link(seminar, client):
    event, ayna, waiting = seminar
    html = page_of(client, ayna)
    assert "Take part online instead" in html
    assert "Change how you take part" not in html  # registration has closed

    done = switch(client, ayna)
    assert done.status_code == 302
    assert done.headers["Location"].endswith(f"/r/{ayna.manage_token}")
    html = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "You now take part online" in html
    assert "Take part online instead" not in html

    ayna = fresh(ayna)
    assert ayna.mode == Mode.ONLINE and ayna.site_id is None
    assert ayna.status == RegistrationStatus.CONFIRMED
    # Ahal had one seat: it goes to the first on the waiting list.
    assert fresh(waiting).status == RegistrationStatus.CONFIRMED
    [promoted] = outbox_rows(MessageKind.PROMOTED)
    assert promoted.registration_id == waiting.id
    # The updated invite carries the personal join link.
    [updated] = outbox_rows(MessageKind.UPDATED)
    assert updated.recipient == ayna.email
    assert f"/r/{ayna.manage_token}/join" in text_of(updated)


def test_not_the_reverse_once_registration_has_closed(seminar, client):
    event, ayna, _waiting = seminar
    switch(client, ayna)
    html = page_of(client, ayna)
    assert "Switch to online" not in html
    response = client.post(
        f"/r/{ayna.manage_token}",
        data={
            "change-csrf_token": csrf_token_from(html),
            "change-participation": "ahal",
        },
    )
    assert "This registration can no longer be changed." in response.get_data(as_text=True)
    assert fresh(ayna).mode == Mode.ONLINE


def test_someone_admitted_at_a_site_today_cannot_switch(seminar, client):
    event, ayna, waiting = seminar
    add_checkin(event, ayna, "ahal")
    html = page_of(client, ayna)
    assert (
        "You were checked in at Ahal information centre today, "
        "so you can no longer switch to online."
    ) in html
    assert "Switch to online</button>" not in html
    token = csrf_token_from(html[html.index('id="switch-online-heading"') :])
    done = client.post(f"/r/{ayna.manage_token}/online", data={"online-csrf_token": token})
    assert done.status_code == 302
    html = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "you can no longer switch to online" in html
    assert fresh(ayna).mode == Mode.IN_PERSON
    assert fresh(waiting).status == RegistrationStatus.WAITLISTED
    assert outbox_rows(MessageKind.UPDATED) == []


def test_an_undone_check_in_does_not_stop_the_switch(seminar, client):
    event, ayna, _waiting = seminar
    add_checkin(event, ayna, "ahal", annulled=True)
    assert switch(client, ayna).status_code == 302
    assert fresh(ayna).mode == Mode.ONLINE


def test_no_switch_once_the_event_is_over(app, client):
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=5)
    event = make_event("past", {"ahal": 5}, starts_at=start, duration=timedelta(hours=4))
    ayna = make_registration(event, name="Aýna Orazowa", site="ahal")
    html = page_of(client, ayna)
    assert "Take part online instead" not in html
    done = client.post(
        f"/r/{ayna.manage_token}/online", data={"online-csrf_token": csrf_token_from(html)}
    )
    html = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "The event is over" in html
    assert fresh(ayna).mode == Mode.IN_PERSON


@pytest.mark.parametrize("case", ["in_person_only", "waitlisted", "already_online"])
def test_no_switch_where_it_does_not_apply(app, client, case):
    event = started_event(
        format=EventFormat.IN_PERSON if case == "in_person_only" else EventFormat.HYBRID
    )
    if case == "already_online":
        person = make_registration(event, name="Jeren Online", site=None)
    else:
        status = RegistrationStatus.WAITLISTED if case == "waitlisted" else None
        person = make_registration(
            event, name="Batyr Gurbanow", site="ahal", status=status or RegistrationStatus.CONFIRMED
        )
    before = (person.mode, person.site_id, person.status)
    html = page_of(client, person)
    assert "Take part online instead" not in html
    client.post(
        f"/r/{person.manage_token}/online", data={"online-csrf_token": csrf_token_from(html)}
    )
    person = fresh(person)
    assert (person.mode, person.site_id, person.status) == before


def test_switching_needs_the_pages_csrf_token(seminar, client):
    _event, ayna, _waiting = seminar
    assert client.post(f"/r/{ayna.manage_token}/online").status_code == 400
    assert fresh(ayna).mode == Mode.IN_PERSON
