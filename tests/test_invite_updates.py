"""Invites follow every change they carry: a site's name or address, and the agenda."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from app.events.services import (
    AgendaInput,
    add_agenda_item,
    delete_agenda_item,
    update_agenda_item,
)
from app.extensions import db
from app.mail.notices import expand_notices
from app.models import EventStatus, MessageKind, OutboxMessage, Registration, RegistrationStatus
from app.sites.services import SiteInput, update_site
from tests.conftest import (
    make_event,
    make_registration,
    make_site,
    outbox_rows,
    parsed_email,
    post_form,
)


def updates() -> list[OutboxMessage]:
    """The updated invites, once the worker has written the emails of waiting notices."""
    expand_notices()
    return outbox_rows(MessageKind.UPDATED)


def invite(row: OutboxMessage):
    """The METHOD and VEVENT of an email's calendar part."""
    message = parsed_email(row)
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    calendar = Calendar.from_ical(part.get_content().encode("utf-8"))
    [vevent] = calendar.walk("VEVENT")
    return str(calendar["METHOD"]), vevent


def site_input(site, **changes) -> SiteInput:
    values = {
        "name": site.name,
        "region": site.region,
        "address": site.address,
        "is_main_venue": site.is_main_venue,
    }
    return SiteInput(**{**values, **changes})


def sequence_of(registration: Registration) -> int:
    db.session.expire_all()
    return db.session.get(Registration, registration.id).sequence


# --- a site's name or address ----------------------------------------------------


@pytest.fixture
def people(app):
    """People at Ahal and elsewhere, in events of every state."""
    event = make_event("seminar", {"ashgabat": 50, "ahal": 10})
    at_ahal = make_registration(event, name="Ahal One", site="ahal")
    waiting = make_registration(
        event, name="Ahal Waiting", site="ahal", status=RegistrationStatus.WAITLISTED
    )
    make_registration(event, name="Ahal Gone", site="ahal", status=RegistrationStatus.CANCELLED)
    make_registration(event, name="Capital Person", site="ashgabat")
    make_registration(event, name="Online Person", site=None)
    draft = make_event("draft", {"ahal": 10}, status=EventStatus.DRAFT)
    make_registration(draft, name="Draft Person", site="ahal")
    past = make_event("past", {"ahal": 10}, starts_in=timedelta(days=-3))
    make_registration(past, name="Past Person", site="ahal")
    cancelled = make_event("cancelled", {"ahal": 10}, status=EventStatus.CANCELLED)
    make_registration(cancelled, name="Cancelled Event Person", site="ahal")
    other = make_event("other", {"ahal": 10}, starts_in=timedelta(days=30))
    at_ahal_later = make_registration(other, name="Ahal Later", site="ahal")
    return {"at_ahal": at_ahal, "waiting": waiting, "at_ahal_later": at_ahal_later}


def test_a_new_address_updates_the_invite_of_everyone_coming_to_that_site(people):
    site = make_site("ahal")
    before = sequence_of(people["at_ahal"])
    update_site(site, site_input(site, address="12 Magtymguly avenue, Änew"))
    db.session.commit()

    rows = updates()
    expected = [people["at_ahal"], people["waiting"], people["at_ahal_later"]]
    assert sorted(r.registration_id for r in rows) == sorted(r.id for r in expected)
    for row in rows:
        registration = db.session.get(Registration, row.registration_id)
        if registration.status == RegistrationStatus.WAITLISTED:
            continue  # no seat yet, so no invite: the email alone tells them
        method, vevent = invite(row)
        assert method == "REQUEST"
        assert str(vevent["LOCATION"]) == "Ahal information centre, 12 Magtymguly avenue, Änew"
        assert vevent["SEQUENCE"] == registration.sequence
    assert sequence_of(people["at_ahal"]) == before + 1


def test_a_new_name_updates_the_invites_too(people):
    site = make_site("ahal")
    update_site(site, site_input(site, name="Änew information centre"))
    db.session.commit()
    row = next(r for r in updates() if r.registration_id == people["at_ahal"].id)
    _method, vevent = invite(row)
    assert str(vevent["LOCATION"]).startswith("Änew information centre, ")


def test_saving_a_site_unchanged_or_with_another_region_sends_nothing(people):
    site = make_site("ahal")
    update_site(site, site_input(site, name=f"  {site.name} "))
    update_site(site, site_input(site, region="Ahal velayat", is_main_venue=True))
    db.session.commit()
    assert updates() == []
    assert sequence_of(people["at_ahal"]) == 0


def test_the_site_page_saved_unchanged_sends_nothing_and_changed_sends(
    client, signed_in_organizer, people
):
    site = make_site("ahal")
    url = f"/manage/sites/{site.id}/edit"
    form = {"name": site.name, "region": site.region, "address": site.address}
    assert post_form(client, url, form).status_code == 302
    assert updates() == []
    response = post_form(client, url, {**form, "address": "5 Garaşsyzlyk street"})
    assert response.status_code == 302
    assert len(updates()) == 3


# --- the agenda -----------------------------------------------------------------


@pytest.fixture
def seminar(app):
    event = make_event(starts_at=datetime(2031, 3, 10, 5, 0, tzinfo=UTC))  # 10:00 local
    people = [
        make_registration(event, name="In Person", site="ahal"),
        make_registration(event, name="Online", site=None),
    ]
    make_registration(event, name="Gone", site="ahal", status=RegistrationStatus.CANCELLED)
    return event, people


def local(hour: int, minute: int = 0) -> datetime:
    return datetime(2031, 3, 10, hour, minute)


def descriptions() -> dict[int, str]:
    return {row.registration_id: str(invite(row)[1]["DESCRIPTION"]) for row in updates()}


def test_a_new_agenda_item_sends_invites_with_the_new_agenda(seminar):
    event, people = seminar
    add_agenda_item(event, AgendaInput("Right to education", local(13), local(13, 30), "A. B."))
    db.session.commit()

    texts = descriptions()
    assert sorted(texts) == sorted(p.id for p in people)
    for text in texts.values():
        # The new item, in its place after the opening.
        assert "13:00–13:30 Right to education (A. B.)" in text
        assert text.index("Opening") < text.index("Right to education")
    assert {invite(row)[1]["SEQUENCE"] for row in updates()} == {1}


def test_changing_and_removing_an_agenda_item_update_the_invites(seminar):
    event, people = seminar
    [opening] = event.agenda_items
    update_agenda_item(opening, AgendaInput("Welcome", local(10), local(10, 45), ""))
    db.session.commit()
    texts = descriptions()
    assert len(texts) == len(people)
    assert all("10:00–10:45 Welcome" in t for t in texts.values())

    assert [item.title for item in event.agenda_items] == ["Welcome"]  # as a page has it
    delete_agenda_item(opening)
    db.session.commit()
    assert len(updates()) == 2 * len(people)
    last = updates()[len(people) :]
    for row in last:
        _method, vevent = invite(row)
        assert "Welcome" not in str(vevent["DESCRIPTION"])
        assert vevent["SEQUENCE"] == 2


def test_an_agenda_item_saved_unchanged_sends_nothing(seminar):
    event, _people = seminar
    [opening] = event.agenda_items
    update_agenda_item(
        opening, AgendaInput(opening.title, local(10), local(10, 30), opening.speakers)
    )
    db.session.commit()
    assert updates() == []
    assert event.ical_sequence == 0


def test_a_draft_events_agenda_sends_nothing(app):
    event = make_event(status=EventStatus.DRAFT)
    make_registration(event)
    start = event.local(event.starts_at).replace(tzinfo=None)
    add_agenda_item(event, AgendaInput("Panel", start, start + timedelta(hours=1)))
    db.session.commit()
    assert updates() == []


def test_the_agenda_page_sends_the_update(client, signed_in_organizer, seminar):
    event, people = seminar
    response = post_form(
        client,
        "/manage/events/seminar/agenda",
        {"title": "Closing", "starts_at": "2031-03-10T13:00", "ends_at": "2031-03-10T13:30"},
    )
    assert response.status_code == 302
    assert len(updates()) == len(people)
    assert all("13:00–13:30 Closing" in t for t in descriptions().values())
