"""The agenda: list, add, edit and delete items, with times in the event's zone."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AgendaItem
from tests.conftest import make_event, post_form

#: The seminar's start: 10:00 on 10 March 2031 in Ashgabat (UTC+5); it lasts four hours.
START = datetime(2031, 3, 10, 5, 0, tzinfo=UTC)


def items(event) -> list[AgendaItem]:
    return list(
        db.session.scalars(
            sa.select(AgendaItem)
            .where(AgendaItem.event_id == event.id)
            .order_by(AgendaItem.starts_at)
        )
    )


def item_form(times: tuple[str, str] = ("11:00", "12:00"), **fields) -> dict:
    """The agenda item form, filled in for ``times`` on 10 March 2031; ``fields`` replace values."""
    starts, ends = times
    return {
        "title": "Panel",
        "speakers": "",
        "starts_at": f"2031-03-10T{starts}",
        "ends_at": f"2031-03-10T{ends}",
        **fields,
    }


def test_add_edit_and_delete_an_item(client, signed_in_organizer):
    event = make_event("seminar", starts_at=START)
    assert len(items(event)) == 1  # the factory's opening

    response = post_form(
        client,
        "/manage/events/seminar/agenda",
        item_form(
            title="Digitalisation in public administration",
            speakers="UNDP experts\n\n  Institute of State, Law and Democracy  \n",
            times=("11:00", "11:45"),
        ),
    )
    assert response.status_code == 302
    item = next(i for i in items(event) if i.title.startswith("Digitalisation"))
    # 11:00 in Ashgabat (UTC+5) is 06:00 UTC.
    assert item.starts_at == datetime(2031, 3, 10, 6, 0, tzinfo=UTC)
    assert item.ends_at == datetime(2031, 3, 10, 6, 45, tzinfo=UTC)
    assert item.speakers == "UNDP experts\nInstitute of State, Law and Democracy"
    page = client.get("/manage/events/seminar/agenda").get_data(as_text=True)
    assert "Digitalisation in public administration" in page
    assert "UNDP experts<br>Institute of State, Law and Democracy" in page

    url = f"/manage/events/seminar/agenda/{item.id}/edit"
    assert 'value="2031-03-10T11:00"' in client.get(url).get_data(as_text=True)
    response = post_form(
        client,
        url,
        item_form(title="Digital reform", speakers="UNDP experts", times=("12:00", "12:30")),
    )
    assert response.status_code == 302
    db.session.expire_all()
    item = db.session.get(AgendaItem, item.id)
    assert item.title == "Digital reform"
    assert item.starts_at == datetime(2031, 3, 10, 7, 0, tzinfo=UTC)

    response = post_form(
        client,
        f"/manage/events/seminar/agenda/{item.id}/delete",
        {},
        page="/manage/events/seminar/agenda",
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(AgendaItem, item.id) is None
    assert len(items(event)) == 1


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"ends_at": "2031-03-10T10:30"}, "ends_at", "The end must be after the start."),
        ({"ends_at": "2031-03-10T11:00"}, "ends_at", "The end must be after the start."),
        ({"title": ""}, "title", "This field is required."),
        ({"title": "T" * 301}, "title", "longer than 300"),
        ({"starts_at": "31/12/2031"}, "starts_at", "Enter a date and time."),
        ({"ends_at": ""}, "ends_at", "This field is required."),
    ],
)
def test_bad_item_is_a_field_error_and_writes_nothing(
    client, signed_in_organizer, data, field, message
):
    event = make_event("seminar", starts_at=START)
    response = post_form(client, "/manage/events/seminar/agenda", item_form(**data))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html
    assert message in html
    assert len(items(event)) == 1


def test_bad_edit_changes_nothing(client, signed_in_organizer):
    event = make_event("seminar", starts_at=START)
    item = items(event)[0]
    before = (item.title, item.starts_at, item.ends_at)
    url = f"/manage/events/seminar/agenda/{item.id}/edit"
    response = post_form(
        client,
        url,
        item_form(title="Changed", times=("12:00", "11:00")),
    )
    assert response.status_code == 200
    db.session.expire_all()
    item = db.session.get(AgendaItem, item.id)
    assert (item.title, item.starts_at, item.ends_at) == before


def test_items_of_another_event_are_404(client, signed_in_organizer):
    make_event("seminar", starts_at=START)
    other = make_event("training")
    foreign = items(other)[0]
    assert client.get(f"/manage/events/seminar/agenda/{foreign.id}/edit").status_code == 404
    response = post_form(
        client,
        f"/manage/events/seminar/agenda/{foreign.id}/delete",
        {},
        page="/manage/events/seminar/agenda",
    )
    assert response.status_code == 404
    assert db.session.get(AgendaItem, foreign.id) is not None


def test_delete_with_bad_csrf_is_400(client, signed_in_organizer):
    event = make_event("seminar", starts_at=START)
    item = items(event)[0]
    response = client.post(
        f"/manage/events/seminar/agenda/{item.id}/delete", data={"csrf_token": "forged"}
    )
    assert response.status_code == 400
    assert len(items(event)) == 1


def test_html_in_titles_and_speakers_is_escaped(client, signed_in_organizer):
    event = make_event("seminar", starts_at=START)
    item = items(event)[0]
    item.title = "<b>Opening</b>"
    item.speakers = "<img src=x onerror=alert(1)>"
    db.session.commit()
    html = client.get("/manage/events/seminar/agenda").get_data(as_text=True)
    assert "<b>Opening</b>" not in html
    assert "&lt;b&gt;Opening&lt;/b&gt;" in html
    assert "<img src=x" not in html


OUTSIDE = "Agenda items must be within the event: from 2031-03-10 10:00 to 2031-03-10 14:00."


@pytest.mark.parametrize(
    ("times", "fields"),
    [
        (("09:30", "10:30"), ["starts_at"]),
        (("13:30", "14:30"), ["ends_at"]),
        (("14:15", "15:00"), ["starts_at", "ends_at"]),
    ],
)
def test_an_item_outside_the_event_is_refused_at_its_field(
    client, signed_in_organizer, times, fields
):
    event = make_event("seminar", starts_at=START)
    response = post_form(client, "/manage/events/seminar/agenda", item_form(times))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for field in ("starts_at", "ends_at"):
        shown = f'<p class="error" id="{field}-error">{OUTSIDE}</p>' in html
        assert shown == (field in fields)
    assert len(items(event)) == 1


def test_an_item_a_day_away_is_refused_when_edited(client, signed_in_organizer):
    event = make_event("seminar", starts_at=START)
    item = items(event)[0]
    response = post_form(
        client,
        f"/manage/events/seminar/agenda/{item.id}/edit",
        {**item_form(), "starts_at": "2031-03-11T10:00", "ends_at": "2031-03-11T10:30"},
    )
    assert response.status_code == 200
    assert f'id="starts_at-error">{OUTSIDE}' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(AgendaItem, item.id).starts_at == START


@pytest.mark.parametrize("seconds", [0, 17])
def test_an_item_at_the_events_exact_start_and_end_is_accepted(
    client, signed_in_organizer, seconds
):
    # Stored times may carry seconds that the form does not show.
    event = make_event("seminar", starts_at=START.replace(second=seconds))
    response = post_form(
        client, "/manage/events/seminar/agenda", item_form(("10:00", "14:00"), title="All day")
    )
    assert response.status_code == 302
    [item] = [i for i in items(event) if i.title == "All day"]
    assert (item.starts_at, item.ends_at) == (START, START + timedelta(hours=4))


def test_the_public_agenda_of_a_two_day_event_shows_each_items_day(client, signed_in_organizer):
    make_event("seminar", starts_at=START, duration=timedelta(days=1, hours=4))
    response = post_form(
        client,
        "/manage/events/seminar/agenda",
        {**item_form(), "starts_at": "2031-03-11T09:00", "ends_at": "2031-03-11T10:00"},
    )
    assert response.status_code == 302
    html = client.get("/events/seminar").get_data(as_text=True)
    [agenda] = re.findall(r'<ol class="agenda">.*?</ol>', html, re.S)
    [opening, panel] = re.findall(r"<li>(.*?)</li>", agenda, re.S)
    assert opening.startswith("Mar 10, 2031, <strong>") and "Opening" in opening
    assert panel.startswith("Mar 11, 2031, <strong>") and "Panel" in panel
