"""Paper sign-in sheets: row codes and blank rows on the PDF, recording a signed sheet, undo."""

from __future__ import annotations

import io
import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from app.attendance.lists import row_codes
from app.attendance.paper import _insert_paper_checkins
from app.extensions import db
from app.models import (
    CheckIn,
    CheckInMethod,
    CheckInResult,
    Registration,
    RegistrationStatus,
    Role,
    Site,
)
from tests.conftest import (
    add_checkin,
    csrf_token_from,
    make_event,
    make_registration,
    make_staff,
)

START = datetime(2025, 3, 14, 5, 0, tzinfo=UTC)  # 10:00 in Ashgabat
DAY_ONE, DAY_TWO = date(2025, 3, 14), date(2025, 3, 15)


@pytest.fixture
def seminar(app):
    """A two-day seminar that took place, at Ahal and Ashgabat."""
    event = make_event(
        "seminar", {"ashgabat": 50, "ahal": 10}, starts_at=START, duration=timedelta(hours=28)
    )
    people = {
        "ayna": make_registration(event, name="Aýna Orazowa", site="ahal"),
        "merdan": make_registration(event, name="Мердан Атаев", site="ahal"),
        "batyr": make_registration(event, name="Batyr Gurbanow", site="ahal"),
        "jeren": make_registration(event, name="Jeren Ataýewa", site="ashgabat"),
        "waiting": make_registration(
            event, name="Waitlisted Person", site="ahal", status=RegistrationStatus.WAITLISTED
        ),
    }
    return event, people


@pytest.fixture
def signed_in_coordinator(auth, coordinator):
    auth.login(coordinator.email)
    return coordinator


def paper_url(event, **query) -> str:
    suffix = "&".join(f"{key}={value}" for key, value in query.items())
    return f"/manage/events/{event.slug}/paper" + (f"?{suffix}" if suffix else "")


def paper_checkins(event) -> list[CheckIn]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(CheckIn)
            .where(CheckIn.event_id == event.id, CheckIn.method == CheckInMethod.PAPER)
            .order_by(CheckIn.id)
        )
    )


def everything(event) -> tuple:
    """What a refused sheet must leave as it was."""
    db.session.expire_all()
    checkins = db.session.scalar(sa.select(sa.func.count(CheckIn.id)))
    registrations = db.session.scalar(sa.select(sa.func.count(Registration.id)))
    return checkins, registrations


def walk_in(number: int, **fields) -> dict:
    return {f"walk_ins-{number}-{name}": value for name, value in fields.items()}


def record(client, event, site="ahal", day=DAY_ONE, signed=(), extra=None):
    page = client.get(paper_url(event, site=site, day=day.isoformat()))
    assert page.status_code == 200
    data = {
        "csrf_token": csrf_token_from(page.get_data(as_text=True)),
        "site": site,
        "day": day.isoformat(),
        "signed": [str(s) for s in signed],
        **(extra or {}),
    }
    return client.post(paper_url(event), data=data)


# --- the printed sheet --------------------------------------------------------


def test_row_codes_are_the_shortest_unique_beginnings_of_the_badge_codes():
    codes = row_codes(["ABCDEFGH", "ABCDEFXY", "ABCDEQQQ", "ZZZZZZZZ"])
    assert codes == {
        "ABCDEFGH": "ABCDEFG",
        "ABCDEFXY": "ABCDEFX",
        "ABCDEQQQ": "ABCDEQ",
        "ZZZZZZZZ": "ZZZZZZ",
    }


def test_the_sheet_prints_each_rows_code_and_ten_blank_rows(seminar, client, signed_in_coordinator):
    event, people = seminar
    response = client.get(f"/manage/events/{event.slug}/attendance.pdf?site=ahal")
    assert response.status_code == 200
    (page,) = PdfReader(io.BytesIO(response.get_data())).pages
    text = page.extract_text()
    assert "Code" in text
    for key in ("ayna", "merdan", "batyr"):
        assert people[key].badge_code[:6] in text
    assert people["jeren"].badge_code[:6] not in text
    # Three people, then ten numbered blank rows for walk-ins.
    numbers = [int(n) for n in re.findall(r"^\s*(\d{1,3})\s*$", text, re.MULTILINE)]
    assert max(numbers) == 13


def test_the_sign_in_sheet_download_links_to_recording_a_paper_sheet(
    seminar, client, signed_in_organizer
):
    event, _people = seminar
    html = client.get(f"/manage/events/{event.slug}/dashboard").get_data(as_text=True)
    assert f"/manage/events/{event.slug}/paper?site=ahal" in html


# --- recording it -------------------------------------------------------------


def test_a_coordinator_records_a_signed_sheet_with_a_walk_in(
    seminar, client, signed_in_coordinator
):
    event, people = seminar
    page = client.get(paper_url(event)).get_data(as_text=True)
    # One site: the coordinator goes straight to its sheet, in the printed order, with codes.
    names = re.findall(r'<label for="signed-\d+">([^<]+)</label>', page)
    assert names == ["Aýna Orazowa", "Batyr Gurbanow", "Мердан Атаев"]
    assert people["ayna"].badge_code[:6] in page
    assert "Jeren" not in page

    done = record(
        client,
        event,
        day=DAY_TWO,
        signed=[people["ayna"].id, people["merdan"].id],
        extra=walk_in(
            0,
            name="Maral Hojaýewa",
            organization="Ahal velayat hakimlik",
            email="maral@example.org",
        ),
    )
    assert done.status_code == 302
    message = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Paper sheet recorded: 3 admitted." in message
    assert "Walk-ins registered: Maral Hojaýewa." in message

    rows = paper_checkins(event)
    maral = db.session.scalar(sa.select(Registration).where(Registration.name == "Maral Hojaýewa"))
    ahal = db.session.scalar(sa.select(Site).where(Site.slug == "ahal"))
    assert [r.registration_id for r in rows] == [people["ayna"].id, people["merdan"].id, maral.id]
    assert all(r.day == DAY_TWO for r in rows)
    assert all(r.site_id == ahal.id for r in rows)
    assert all(r.result == CheckInResult.ADMITTED and r.annulled_at is None for r in rows)
    assert all(r.staff_user_id == signed_in_coordinator.id for r in rows)
    assert len({r.client_id for r in rows}) == 3
    assert all(str(uuid.UUID(r.client_id)) == r.client_id for r in rows)
    assert maral.site_id == ahal.id and maral.organization == "Ahal velayat hakimlik"
    assert maral.status == RegistrationStatus.CONFIRMED
    # The page now lists them, each with an Undo button, and ticks no box for them that day.
    assert message.count('data-checkin="') == 3
    assert message.count(">Undo</button>") == 3
    assert message.count("Admitted that day") == 3


def test_someone_admitted_that_day_is_reported_and_not_admitted_twice(
    seminar, client, signed_in_coordinator
):
    event, people = seminar
    add_checkin(event, people["ayna"], "ahal", at=START + timedelta(minutes=5))
    done = record(client, event, day=DAY_ONE, signed=[people["ayna"].id, people["batyr"].id])
    message = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Paper sheet recorded: 1 admitted." in message
    assert "Already admitted that day: Aýna Orazowa." in message
    assert [r.registration_id for r in paper_checkins(event)] == [people["batyr"].id]

    # The next day is another day: she is admitted then.
    record(client, event, day=DAY_TWO, signed=[people["ayna"].id])
    assert [(r.registration_id, r.day) for r in paper_checkins(event)] == [
        (people["batyr"].id, DAY_ONE),
        (people["ayna"].id, DAY_TWO),
    ]


def test_the_unique_index_settles_a_race_without_breaking_the_transaction(seminar):
    event, people = seminar
    ahal = db.session.scalar(sa.select(Site).where(Site.slug == "ahal"))
    add_checkin(event, people["ayna"], "ahal", at=START)

    def values(registration):
        return {
            "client_id": str(uuid.uuid4()),
            "event_id": event.id,
            "registration_id": registration.id,
            "site_id": ahal.id,
            "session_id": None,
            "day": DAY_ONE,
            "method": CheckInMethod.PAPER,
            "result": CheckInResult.ADMITTED,
            "forced": False,
            "code": "",
            "scanned_at": START,
            "received_at": START,
            "device": "paper",
        }

    inserted = _insert_paper_checkins([values(people["ayna"]), values(people["batyr"])])
    assert inserted == {people["batyr"].id}
    # The transaction is still usable.
    assert db.session.scalar(sa.select(sa.func.count(CheckIn.id))) == 2
    db.session.commit()


def test_a_waitlisted_row_is_reported_not_admitted(seminar, client, signed_in_organizer):
    event, people = seminar
    # Waitlisted people are not on the printed sheet; a tampered form cannot admit them.
    done = record(client, event, signed=[people["waiting"].id])
    assert done.status_code == 200
    assert "not on this site" in done.get_data(as_text=True)
    assert paper_checkins(event) == []


def test_a_paper_check_in_is_undone_like_any_other(seminar, client, signed_in_coordinator):
    event, people = seminar
    record(client, event, signed=[people["ayna"].id])
    (row,) = paper_checkins(event)
    page = client.get(paper_url(event, site="ahal", day=DAY_ONE.isoformat()))
    html = page.get_data(as_text=True)
    token = re.search(r'name="undo-csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    done = client.post(
        f"/manage/events/{event.slug}/paper/undo",
        data={
            "undo-csrf_token": token,
            "client_id": row.client_id,
            "site": "ahal",
            "day": DAY_ONE.isoformat(),
        },
    )
    assert done.status_code == 302
    html = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Check-in undone." in html
    assert "Undone" in html and ">Undo</button>" not in html
    (row,) = paper_checkins(event)
    assert row.annulled_at is not None and row.annulled_by_id == signed_in_coordinator.id
    # Undone, the row can be ticked again.
    assert f'name="signed" value="{people["ayna"].id}"' in html


def test_an_organiser_records_for_any_site(seminar, client, signed_in_organizer):
    event, people = seminar
    page = client.get(paper_url(event)).get_data(as_text=True)
    assert 'name="signed"' not in page  # several sites: choose one first
    done = record(client, event, site="ashgabat", signed=[people["jeren"].id])
    assert done.status_code == 302
    assert [r.registration_id for r in paper_checkins(event)] == [people["jeren"].id]


def test_a_coordinator_cannot_open_another_sites_sheet(seminar, client, signed_in_coordinator):
    event, _people = seminar
    assert client.get(paper_url(event, site="ashgabat")).status_code == 403
    assert client.get(paper_url(event, site="nowhere")).status_code == 404


def _other_event_registration(app):
    other = make_event("other", {"ahal": 10}, starts_at=START)
    return make_registration(other, name="Someone Else", email="else@example.org", site="ahal")


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("another_site", "not on this site"),
        ("another_event", "not on this site"),
        ("not_a_number", "not on this site"),
        ("day_outside", "Choose one of the event"),
        ("day_garbage", "Choose one of the event"),
        ("day_to_come", "This day has not come yet"),
        ("site_not_theirs", "You may not record sign-in sheets for this site"),
        ("unknown_site", "This site does not take part"),
        ("walk_in_without_email", "Give the walk-in"),
        ("walk_in_bad_email", "Invalid email address"),
        ("walk_in_already_registered", "Walk-in 1: This email is already registered"),
    ],
)
def test_bad_input_writes_nothing_and_says_why(
    seminar, client, signed_in_coordinator, app, case, message
):
    event, people = seminar
    good = [people["ayna"].id, people["merdan"].id]
    data = {"site": "ahal", "day": DAY_ONE.isoformat(), "signed": [str(i) for i in good]}
    if case == "another_site":
        data["signed"].append(str(people["jeren"].id))
    elif case == "another_event":
        data["signed"].append(str(_other_event_registration(app).id))
    elif case == "not_a_number":
        data["signed"].append("1 OR 1=1")
    elif case == "day_outside":
        data["day"] = "2025-03-20"
    elif case == "day_garbage":
        data["day"] = "yesterday"
    elif case == "day_to_come":
        upcoming = make_event("upcoming", {"ahal": 10})
        make_registration(upcoming, name="Aýna Orazowa", site="ahal")
        event = upcoming
        data["day"] = upcoming.local_day(upcoming.starts_at).isoformat()
        data["signed"] = []
        data |= walk_in(0, name="Early Bird", email="early@example.org")
    elif case == "site_not_theirs":
        data["site"] = "ashgabat"
        data["signed"] = [str(people["jeren"].id)]
    elif case == "unknown_site":
        data["site"] = "mars"
    elif case == "walk_in_without_email":
        data |= walk_in(0, name="Maral Hojaýewa", organization="Hakimlik")
    elif case == "walk_in_bad_email":
        data |= walk_in(0, name="Maral Hojaýewa", email="not an email")
    elif case == "walk_in_already_registered":
        data |= walk_in(0, name="Jeren again", email=people["jeren"].email)
    before = everything(event)
    page = client.get(paper_url(seminar[0], site="ahal", day=DAY_ONE.isoformat()))
    response = client.post(
        paper_url(event),
        data={"csrf_token": csrf_token_from(page.get_data(as_text=True)), **data},
    )
    assert response.status_code == 200
    assert message in response.get_data(as_text=True).replace("&#39;", "'")
    assert everything(event) == before


def test_a_form_without_its_csrf_token_is_refused(seminar, client, signed_in_coordinator):
    event, people = seminar
    response = client.post(
        paper_url(event),
        data={"site": "ahal", "day": DAY_ONE.isoformat(), "signed": [str(people["ayna"].id)]},
    )
    assert response.status_code in (200, 400)
    assert paper_checkins(event) == []


def test_a_coordinator_of_two_sites_chooses_one(seminar, client, auth):
    event, _people = seminar
    user = make_staff("two@example.org", Role.COORDINATOR, sites=("ahal", "ashgabat"))
    auth.login(user.email)
    page = client.get(paper_url(event)).get_data(as_text=True)
    assert 'name="signed"' not in page
    assert 'value="ahal"' in page and 'value="ashgabat"' in page
