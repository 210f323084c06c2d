"""Data protection: retention per event, erasure on request, and the audit log.

After anonymising, no personal detail of a person is left in any text column of
any table, in any export or in the outbox, while the report's numbers stay.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import timedelta

import openpyxl
import pypdf
import pytest
import sqlalchemy as sa

from app.attendance.reports import attendance_report
from app.attendance.services import record_online_join, site_attendance
from app.extensions import db
from app.mail.messages import notify_registration
from app.models import (
    AuditAction,
    AuditEntry,
    CheckIn,
    CheckInResult,
    Event,
    Gender,
    MessageKind,
    OrgKind,
    OutboxMessage,
    Registration,
    RegistrationStatus,
    Role,
    utcnow,
)
from app.privacy.services import ANONYMISED_NAME, anonymise_due_events, is_anonymised
from app.text import fold_for_search
from app.worker import SCHEDULED_JOBS
from tests.conftest import (
    PERSONAL_DOWNLOADS,
    add_checkin,
    csrf_token_from,
    get_csrf,
    make_event,
    make_registration,
    make_staff,
    post_form,
)

#: The people of the seminar, with details found nowhere else in the database.
PEOPLE = {
    "gulnara": dict(
        name="Gulnara Nurmuhammedowa",
        email="gulnara.nurmuhammedowa@example.org",
        phone="+993 65 112233",
        organization="Dashoguz Women's Union of Craftswomen",
        position="Deputy chairwoman of the board",
        site="ahal",
        gender=Gender.FEMALE,
        org_kind=OrgKind.PUBLIC,
    ),
    "serdar": dict(
        name="Serdar Öwezmyradow",
        email="serdar.owezmyradow@example.org",
        phone="+993 12 445566",
        organization="Magtymguly Youth Organisation of Lebap",
        position="Head of the legal department",
        site=None,
        gender=Gender.MALE,
        org_kind=OrgKind.STATE,
    ),
    "jeren": dict(
        name="Jeren Baýramdurdyýewa",
        email="jeren.bayramdurdyyewa@example.org",
        phone="+993 61 778899",
        organization="Balkan Regional Information Centre",
        position="Information officer",
        site="ashgabat",
        gender=None,
        org_kind=OrgKind.INFO_CENTRE,
        status=RegistrationStatus.WAITLISTED,
    ),
    "maral": dict(
        name="Maral Gurbangeldiýewa",
        email="maral.gurbangeldiyewa@example.org",
        phone="+993 63 990011",
        organization="Ashgabat Bar Association",
        position="Advocate",
        site="ahal",
        gender=Gender.FEMALE,
        org_kind=OrgKind.EXPERT,
    ),
}


def personal_values(person: dict) -> list[str]:
    """What must not survive of a person: their details, also as folded for search."""
    values = [person[key] for key in ("name", "email", "phone", "organization", "position")]
    return values + [fold_for_search(value) for value in values]


def text_columns() -> list[sa.Column]:
    """Every column of every table that can hold text, from the models' metadata."""
    return [
        column
        for table in db.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, sa.String | sa.JSON)
    ]


def leftovers(person: dict) -> list[str]:
    """Each ``table.column`` where one of the person's details is still stored."""
    found = []
    needles = [value.lower() for value in personal_values(person)]
    for column in text_columns():
        for (value,) in db.session.execute(sa.select(sa.cast(column, sa.Text))):
            text = (value or "").lower()
            found += [f"{column.table.name}.{column.name}: {n}" for n in needles if n in text]
    return found


def download_text(client, slug: str, name: str) -> str:
    """A download's content as text: CSV as read by csv, XLSX by openpyxl, PDF by pypdf."""
    response = client.get(f"/manage/events/{slug}/{name}")
    assert response.status_code == 200, (name, response.status_code)
    data = response.get_data()
    if name.endswith(".csv"):
        return "\n".join(",".join(row) for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    if name.endswith(".xlsx"):
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        return "\n".join(
            str(cell)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
            for cell in row
            if cell is not None
        )
    pages = pypdf.PdfReader(io.BytesIO(data)).pages
    # A long name may wrap on a badge: one space between all words.
    return " ".join(" ".join(page.extract_text() for page in pages).split())


def report_numbers(event: Event) -> tuple[dict, dict]:
    """The report and the dashboard's figures, without the moment they were made."""
    report = dataclasses.asdict(attendance_report(event))
    dashboard = site_attendance(event).to_dict()
    report.pop("generated_at")
    dashboard.pop("generated_at")
    return report, dashboard


def registration(key: str) -> Registration:
    return db.session.scalar(sa.select(Registration).where(Registration.id == IDS[key]))


IDS: dict[str, int] = {}


@pytest.fixture
def ended_seminar(app):
    """A seminar that ended 40 days ago: people at two sites and online, checked in and
    emailed (one email sent, the others waiting), and one refused scan."""
    event = make_event(
        "seminar",
        {"ashgabat": 1, "ahal": 10},
        starts_at=utcnow().replace(microsecond=0) - timedelta(days=40),
    )
    for key, person in PEOPLE.items():
        fields = {k: v for k, v in person.items() if k != "site"}
        IDS[key] = make_registration(event, site=person["site"], **fields).id
    gulnara, serdar, maral = registration("gulnara"), registration("serdar"), registration("maral")
    during = event.starts_at + timedelta(minutes=20)
    add_checkin(event, gulnara, "ahal", code=gulnara.badge_code, at=during)
    add_checkin(event, maral, "ahal", code=maral.badge_code, at=during)
    add_checkin(
        event,
        None,
        "ahal",
        result=CheckInResult.REFUSED,
        code="NOT-A-BADGE",
        at=during,
    )
    record_online_join(serdar, now=during)
    for key in PEOPLE:
        notify_registration(registration(key), MessageKind.CONFIRMATION)
    db.session.flush()
    sent = db.session.scalar(
        sa.select(OutboxMessage).where(OutboxMessage.registration_id == IDS["gulnara"])
    )
    sent.sent_at = utcnow()
    db.session.commit()
    make_staff("organizer@example.org", Role.ORGANIZER)
    make_staff("admin@example.org", Role.ADMIN)
    make_staff("ahal@example.org", Role.COORDINATOR, sites=("ahal",))
    return event


def audit_entries() -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)))


# --- anonymising an event -----------------------------------------------------------


def test_anonymising_an_event_leaves_no_personal_detail_anywhere_and_the_same_numbers(
    ended_seminar, client, auth
):
    event = ended_seminar
    before = report_numbers(event)
    assert leftovers(PEOPLE["gulnara"]), "the scan must see the details while they are there"
    tokens = {key: registration(key).manage_token for key in PEOPLE}
    checkins = db.session.scalar(sa.select(sa.func.count(CheckIn.id)))
    sent = db.session.scalar(sa.select(sa.func.count(OutboxMessage.sent_at)))

    auth.login("organizer@example.org")
    page = client.get("/manage/events/seminar/anonymise")
    assert "4 registrations" in page.get_data(as_text=True)
    response = post_form(client, "/manage/events/seminar/anonymise", {"confirm": "y"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/manage/events/seminar/edit")
    assert "The personal data of 4 registrations is anonymised." in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)

    db.session.expire_all()
    for key, person in PEOPLE.items():
        assert leftovers(person) == [], key
        assert registration(key).name == ANONYMISED_NAME
        # The personal link no longer opens anything.
        assert client.get(f"/r/{tokens[key]}").status_code == 404
    for name in PERSONAL_DOWNLOADS:
        text = download_text(client, "seminar", name)
        for person in PEOPLE.values():
            assert not [v for v in personal_values(person) if v.lower() in text.lower()], name
    assert report_numbers(event) == before
    # Check-ins stay, as the evidence behind the numbers; sent emails stay counted, empty.
    assert db.session.scalar(sa.select(sa.func.count(CheckIn.id))) == checkins
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.sent_at))) == sent
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == sent
    people_checkins = sa.select(CheckIn).where(CheckIn.registration_id.is_not(None))
    assert {checkin.code for checkin in db.session.scalars(people_checkins)} == {""}
    entry = db.session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == AuditAction.ANONYMISE)
    )
    assert entry.staff_email == "organizer@example.org"
    assert entry.event_id == event.id


def test_anonymising_asks_for_confirmation_and_refuses_an_event_not_over(
    ended_seminar, client, auth
):
    auth.login("organizer@example.org")
    response = post_form(client, "/manage/events/seminar/anonymise", {})
    assert response.status_code == 200
    assert "Tick the box to confirm." in response.get_data(as_text=True)
    db.session.expire_all()
    assert registration("gulnara").name == PEOPLE["gulnara"]["name"]

    make_event("upcoming", {"ahal": 5})
    token = get_csrf(client, "/manage/events/seminar/anonymise")
    response = client.post(
        "/manage/events/upcoming/anonymise",
        data={"confirm": "y", "csrf_token": token},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "has not ended yet" in response.get_data(as_text=True)


def test_the_event_page_offers_anonymising_only_once_the_event_ended(ended_seminar, client, auth):
    make_event("upcoming", {"ahal": 5})
    auth.login("organizer@example.org")
    ended = client.get("/manage/events/seminar/edit").get_data(as_text=True)
    assert 'href="/manage/events/seminar/anonymise"' in ended
    upcoming = client.get("/manage/events/upcoming/edit").get_data(as_text=True)
    assert "/manage/events/upcoming/anonymise" not in upcoming
    assert "Kept until anonymised by hand." in upcoming


# --- retention ------------------------------------------------------------------------


def _event_ended(slug: str, days_ago: float, retention: int | None) -> Event:
    event = make_event(
        slug,
        {"ahal": 10},
        starts_at=utcnow().replace(microsecond=0) - timedelta(days=days_ago, hours=4),
        personal_data_retention_days=retention,
    )
    make_registration(event, name=f"Person of {slug}", email=f"{slug}@example.org")
    return event


@pytest.fixture
def retention_events(app) -> dict[str, Event]:
    return {
        "past-retention": _event_ended("past-retention", 31, 30),
        "within-retention": _event_ended("within-retention", 29, 30),
        "kept": _event_ended("kept", 400, None),
        "kept-zero": _event_ended("kept-zero", 400, 0),
        "upcoming": _event_ended("upcoming", -10, 1),
    }


def anonymised_slugs() -> set[str]:
    db.session.expire_all()
    return {r.event.slug for r in db.session.scalars(sa.select(Registration)) if is_anonymised(r)}


def test_the_worker_anonymises_only_events_that_ended_more_than_their_retention_ago(
    retention_events,
):
    assert anonymise_due_events in SCHEDULED_JOBS
    assert anonymise_due_events() == 1
    assert anonymised_slugs() == {"past-retention"}
    # Nothing is left to do: the worker may go back to sleep.
    assert anonymise_due_events() == 0
    entry = db.session.scalar(sa.select(AuditEntry))
    assert (entry.action, entry.staff_user_id, entry.event.slug) == (
        AuditAction.ANONYMISE,
        None,
        "past-retention",
    )
    assert "retention of 30 day(s)" in entry.detail


def test_the_worker_works_in_batches(app):
    event = _event_ended("big", 31, 30)
    for number in range(4):
        make_registration(event, name=f"Extra {number}", email=f"extra{number}@example.org")
    assert anonymise_due_events(limit=2) == 2
    assert anonymise_due_events(limit=2) == 2
    assert anonymise_due_events(limit=2) == 1
    assert anonymise_due_events(limit=2) == 0
    assert len(anonymised_slugs()) == 1


def test_the_command_anonymises_due_events_or_one_event_at_once(retention_events, runner):
    result = runner.invoke(args=["privacy", "anonymise"])
    assert result.exit_code == 0, result.output
    assert "anonymised 1 registration(s)" in result.output
    assert anonymised_slugs() == {"past-retention"}

    result = runner.invoke(args=["privacy", "anonymise", "--event", "within-retention"])
    assert result.exit_code == 0, result.output
    assert "not due until" in result.output
    assert anonymised_slugs() == {"past-retention"}

    result = runner.invoke(args=["privacy", "anonymise", "--event", "kept", "--now"])
    assert result.exit_code == 0, result.output
    assert anonymised_slugs() == {"past-retention", "kept"}

    result = runner.invoke(args=["privacy", "anonymise", "--event", "upcoming", "--now"])
    assert result.exit_code == 1
    assert "has not ended yet" in result.output
    result = runner.invoke(args=["privacy", "anonymise", "--event", "nope"])
    assert result.exit_code == 2
    assert "no event nope" in result.output

    result = runner.invoke(args=["privacy", "anonymise", "--now"], input="y\n")
    assert result.exit_code == 0, result.output
    assert anonymised_slugs() == {"past-retention", "kept", "within-retention", "kept-zero"}


def test_a_new_event_starts_with_the_configured_retention_and_the_field_is_checked(
    app, client, signed_in_organizer
):
    app.config["PERSONAL_DATA_RETENTION_DAYS"] = 90
    page = client.get("/manage/events/new").get_data(as_text=True)
    assert 'name="personal_data_retention_days"' in page
    assert 'value="90"' in page
    event = make_event("seminar", {"ahal": 5})
    url = "/manage/events/seminar/edit"
    form = {
        "title": event.title,
        "timezone": "Asia/Ashgabat",
        "starts_at": event.local(event.starts_at).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": event.local(event.ends_at).strftime("%Y-%m-%dT%H:%M"),
        "format": "hybrid",
        "status": "published",
    }
    for bad in ("-1", "abc", "100000"):
        response = post_form(client, url, {**form, "personal_data_retention_days": bad})
        assert response.status_code == 200
        assert 'id="personal_data_retention_days-error"' in response.get_data(as_text=True)
        db.session.expire_all()
        assert db.session.get(Event, event.id).personal_data_retention_days is None
    response = post_form(client, url, {**form, "personal_data_retention_days": "45"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Event, event.id).personal_data_retention_days == 45
    assert "Anonymised automatically on" in client.get(url).get_data(as_text=True)


# --- erasing one person ---------------------------------------------------------------


def test_erasing_one_person_removes_their_details_only_and_keeps_their_attendance(
    ended_seminar, client, auth
):
    event = ended_seminar
    before = report_numbers(event)
    gulnara = registration("gulnara")
    old_code, old_token = gulnara.badge_code, gulnara.manage_token
    auth.login("organizer@example.org")
    staff_page = f"/manage/events/seminar/registrations/{gulnara.id}"
    erase_url = f"{staff_page}/erase"
    assert f'href="{erase_url}"' in client.get(staff_page).get_data(as_text=True)

    response = post_form(client, erase_url, {})
    assert "Tick the box to confirm." in response.get_data(as_text=True)
    db.session.expire_all()
    assert not is_anonymised(registration("gulnara"))

    response = post_form(client, erase_url, {"confirm": "y"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(staff_page)
    page = client.get(staff_page).get_data(as_text=True)
    assert "personal data has been erased" in page
    assert 'name="email"' not in page

    db.session.expire_all()
    assert leftovers(PEOPLE["gulnara"]) == []
    for key in ("serdar", "jeren", "maral"):
        assert registration(key).name == PEOPLE[key]["name"]
        assert leftovers(PEOPLE[key])
    for name in PERSONAL_DOWNLOADS:
        text = download_text(client, "seminar", name).lower()
        assert not [v for v in personal_values(PEOPLE["gulnara"]) if v.lower() in text], name
    attendance = download_text(client, "seminar", "attendance.csv")
    assert PEOPLE["maral"]["name"] in attendance
    assert report_numbers(event) == before
    assert client.get(f"/r/{old_token}").status_code == 404
    assert registration("gulnara").badge_code != old_code
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == AuditAction.ERASE))
    assert (entry.staff_email, entry.registration_id) == ("organizer@example.org", gulnara.id)

    # Erased is erased: the page does not take new details for them.
    token = csrf_token_from(client.get(staff_page).get_data(as_text=True))
    client.post(
        staff_page,
        data={
            "csrf_token": token,
            "name": "Typed again",
            "email": "again@example.org",
            "participation": "ahal",
            "org_kind": "public",
            "language": "en",
        },
    )
    db.session.expire_all()
    assert registration("gulnara").name == ANONYMISED_NAME


def test_no_mail_is_written_to_an_erased_person(ended_seminar, client, auth):
    gulnara = registration("gulnara")
    auth.login("organizer@example.org")
    erase_url = f"/manage/events/seminar/registrations/{gulnara.id}/erase"
    assert post_form(client, erase_url, {"confirm": "y"}).status_code == 302
    db.session.expire_all()
    rows = sa.select(sa.func.count(OutboxMessage.id))
    before = db.session.scalar(rows)

    notify_registration(registration("gulnara"), MessageKind.CONFIRMATION)
    db.session.commit()
    assert db.session.scalar(rows) == before
    notify_registration(registration("serdar"), MessageKind.CONFIRMATION)
    db.session.commit()
    assert db.session.scalar(rows) == before + 1


# --- the audit log --------------------------------------------------------------------


def test_every_download_of_personal_data_is_logged_with_its_user_and_site(
    ended_seminar, client, auth
):
    auth.login("organizer@example.org")
    organiser_downloads = [
        "/manage/events/seminar/registrations.csv?site=ahal",
        "/manage/events/seminar/registrations.xlsx",
        "/manage/events/seminar/attendance.csv",
        "/manage/events/seminar/attendance.xlsx?site=ahal",
        "/manage/events/seminar/attendance.pdf",
        "/manage/events/seminar/badges.pdf?site=ahal",
        "/manage/events/seminar/report.pdf",
    ]
    for url in organiser_downloads:
        assert client.get(url).status_code == 200, url
    gulnara = registration("gulnara")
    client.get(f"/manage/events/seminar/registrations/{gulnara.id}")
    auth.logout()
    auth.login("ahal@example.org")
    assert client.get("/manage/events/seminar/attendance.csv?site=ahal").status_code == 200
    # A refused download is no download.
    assert client.get("/manage/events/seminar/attendance.csv?site=ashgabat").status_code == 403

    entries = audit_entries()
    assert [(e.action, e.staff_email, e.detail) for e in entries] == [
        *((AuditAction.EXPORT, "organizer@example.org", url) for url in organiser_downloads),
        (
            AuditAction.VIEW,
            "organizer@example.org",
            f"/manage/events/seminar/registrations/{gulnara.id}",
        ),
        (AuditAction.EXPORT, "ahal@example.org", "/manage/events/seminar/attendance.csv?site=ahal"),
    ]
    assert {e.event_id for e in entries} == {ended_seminar.id}
    assert entries[-2].registration_id == gulnara.id
    assert entries[-1].staff_user.email == "ahal@example.org"


def test_a_correction_is_logged_as_a_change(ended_seminar, client, auth):
    auth.login("organizer@example.org")
    maral = registration("maral")
    url = f"/manage/events/seminar/registrations/{maral.id}"
    response = post_form(
        client,
        url,
        {
            "participation": "ahal",
            "name": "Maral Gurbangeldiyewa",
            "email": maral.email,
            "org_kind": "expert",
            "language": "en",
        },
    )
    assert response.status_code == 302
    assert [(e.action, e.registration_id) for e in audit_entries()] == [
        (AuditAction.VIEW, maral.id),
        (AuditAction.CHANGE, maral.id),
    ]


@pytest.mark.parametrize("email", ["organizer@example.org", "ahal@example.org"])
def test_only_admins_read_the_audit_log(ended_seminar, client, auth, email):
    auth.login(email)
    assert client.get("/manage/audit").status_code == 403


def test_the_audit_log_lists_newest_first_filters_by_event_and_pages(ended_seminar, client, auth):
    other = make_event("other", {"ahal": 5})
    auth.login("admin@example.org")
    for _ in range(55):
        client.get("/manage/events/seminar/registrations.csv")
    client.get("/manage/events/other/attendance.csv")

    page = client.get("/manage/audit").get_data(as_text=True)
    assert "56 entries" in page
    assert page.index("/manage/events/other/attendance.csv") < page.index(
        "/manage/events/seminar/registrations.csv"
    )
    assert 'rel="next"' in page
    assert "Page 2 of 2" in client.get("/manage/audit?page=2").get_data(as_text=True)

    filtered = client.get("/manage/audit?event=other").get_data(as_text=True)
    assert "1 entry" in filtered
    assert "/manage/events/seminar/registrations.csv" not in filtered
    assert other.title in filtered
    # An unknown event is no filter and no error.
    assert client.get("/manage/audit?event=nope").status_code == 200


# --- what other participants see ------------------------------------------------------


def test_no_list_given_out_shows_gender(ended_seminar, client, auth):
    auth.login("organizer@example.org")
    for name in ("attendance.pdf", "badges.pdf"):
        text = download_text(client, "seminar", name)
        assert PEOPLE["gulnara"]["name"] in text
        assert "Female" not in text and "Gender" not in text, name
