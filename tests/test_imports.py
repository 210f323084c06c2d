"""Importing Zoom and Teams attendance reports: parsing, matching, preview and confirmation."""

from __future__ import annotations

import codecs
import io
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from werkzeug.test import EnvironBuilder

from app.attendance.completion import completion_of
from app.attendance.imports import (
    ReportFormatError,
    ReportSource,
    apply_import,
    build_import_plan,
    merge_spans,
    parse_moments,
    parse_report,
    people_in,
)
from app.extensions import db
from app.models import CheckIn, CheckInMethod, CheckInResult
from tests.conftest import csrf_token_from, get_csrf, make_event, make_registration

FIXTURES = Path(__file__).parent / "fixtures"
ASHGABAT = ZoneInfo("Asia/Ashgabat")
START = datetime(2025, 3, 14, 5, 0, tzinfo=UTC)  # 10:00 in Ashgabat, four hours long


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def seminar(app):
    event = make_event("seminar", {"ashgabat": 50, "ahal": 10}, starts_at=START)
    people = {
        key: make_registration(event, name=name, email=email, site=site)
        for key, name, email, site in (
            ("ayna", "Aýna Orazowa", "ayna.orazowa@example.org", None),
            ("merdan", "Мердан Атаев", "merdan@mfa.gov.tm", None),
            ("jeren", "Jeren Ataýewa", "jeren@example.org", None),
            ("gulshat", "Gülşat Hojamuradowa", "gulshat.hojamuradowa@example.org", None),
            ("og1", "Ogulgerek Nurmuradowa", "og1@example.org", None),
            ("og2", "Ogulgerek Nurmuradowa", "og2@example.org", None),
            # Registered in person, followed online instead.
            ("batyr", "Batyr Gurbanow", "batyr.gurbanow@example.org", "ahal"),
            ("irina", "Ирина Петрова", "irina.petrova@example.org", None),
            ("absent", "Absent Person", "absent@example.org", None),
        )
    }
    return event, people


def report_rows(event) -> list[CheckIn]:
    return db.session.scalars(
        sa.select(CheckIn)
        .where(CheckIn.event_id == event.id, CheckIn.method == CheckInMethod.ONLINE_REPORT)
        .order_by(CheckIn.registration_id)
    ).all()


def snapshot(event) -> list[tuple]:
    db.session.expire_all()
    return [
        (r.registration_id, r.result, r.online_minutes, r.scanned_at, r.last_seen_at, r.client_id)
        for r in report_rows(event)
    ]


# --- parsing ----------------------------------------------------------------


def test_zoom_report_with_meeting_block_is_read_segment_by_segment(app):
    report = parse_report(fixture("zoom_participants.csv"), ASHGABAT, near=START)
    assert report.source == ReportSource.ZOOM
    assert report.title.startswith("The Constitution of Turkmenistan")
    assert len(report.segments) == 13
    merdan = [s for s in report.segments if s.original_name == "Мердан Атаев"]
    assert [s.name for s in merdan] == ["Merdan A.", "Merdan A."]
    assert merdan[0].joined_at == datetime(2025, 3, 14, 4, 55, tzinfo=UTC)
    people = {p.name: p for p in people_in(report)}
    # Two devices and a duplicated row: 09:58-14:01 once, not 244 + 90 + 244 minutes.
    assert people["Aýna Orazowa"].minutes == 243
    assert people["Batyr G."].minutes == 240  # 10:00-12:30 and 12:20-14:00 overlap
    assert people["Merdan A."].minutes == 228  # 75 + 153, with a gap between


def test_zoom_report_without_the_meeting_block(app):
    text = fixture("zoom_participants.csv").decode("utf-8")
    table = text.split("\n\n", 1)[1]
    report = parse_report(table.encode("utf-8"), ASHGABAT, near=START)
    assert report.source == ReportSource.ZOOM and report.title == ""
    assert len(report.segments) == 13


@pytest.mark.parametrize("name", ["teams_attendance.csv", "teams_attendance_ru.csv"])
def test_teams_report_in_utf16_is_read_from_its_activities_section(app, name):
    data = fixture(name)
    assert data.startswith(codecs.BOM_UTF16_LE)
    report = parse_report(data, ASHGABAT, near=START)
    assert report.source == ReportSource.TEAMS
    people = {p.name: p for p in people_in(report)}
    assert people["Aýna Orazowa"].minutes == 243
    assert people["Мердан Атаев"].minutes == 228
    assert len(people["Мердан Атаев"].spans) == 2
    assert people["Gülşat Hojamuradowa"].spans[0] == (
        datetime(2025, 3, 14, 5, 5, tzinfo=UTC),
        datetime(2025, 3, 14, 5, 40, tzinfo=UTC),
    )


def test_teams_report_with_only_the_participants_section(app):
    text = fixture("teams_attendance.csv").decode("utf-16")
    without_activities = text.split("3. In-Meeting Activities")[0]
    data = codecs.BOM_UTF16_LE + without_activities.encode("utf-16-le")
    report = parse_report(data, ASHGABAT, near=START)
    people = {p.name: p for p in people_in(report)}
    # Only first join and last leave are known: one span each.
    assert people["Мердан Атаев"].minutes == 243


def test_dates_in_day_month_order_are_recognised_from_the_event_date(app):
    values = ["03/04/2025 10:00:00", "03/04/2025 13:00:00"]
    near_april = datetime(2025, 4, 3, 5, tzinfo=UTC)
    near_march = datetime(2025, 3, 4, 5, tzinfo=UTC)
    assert parse_moments(values, UTC, near_april)[0].month == 4
    assert parse_moments(values, UTC, near_march)[0].month == 3
    # A day above 12 settles it whatever the event date.
    assert parse_moments(["25/03/2025 10:00"], UTC, near_march)[0].day == 25
    with pytest.raises(ValueError):
        parse_moments(["yesterday"], UTC)


def test_merge_spans_does_not_count_overlaps_twice():
    t = datetime(2025, 3, 14, 5, tzinfo=UTC)
    spans = [
        (t, t + timedelta(hours=1)),
        (t + timedelta(minutes=30), t + timedelta(hours=2)),
        (t + timedelta(hours=3), t + timedelta(hours=4)),
    ]
    assert merge_spans(spans) == [
        (t, t + timedelta(hours=2)),
        (t + timedelta(hours=3), t + timedelta(hours=4)),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\xef\xbb\xbf\r\n", "empty"),
        (codecs.BOM_UTF16_LE, "empty"),
        (b"name,email\nAyna,ayna@example.org\n", "no join and leave times"),
        (b"Name (Original Name),User Email,Join Time,Leave Time\n", "no participants"),
        (b"\xff\xd8\xff\xe0 not text \xc3\x28 \x00\x01", "encoding"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "encoding"),
    ],
)
def test_bad_files_are_refused_with_a_clear_message(app, data, message):
    with pytest.raises(ReportFormatError) as error:
        parse_report(data, ASHGABAT, near=START)
    assert message in str(error.value)


def test_cp1251_text_is_not_misread(app):
    data = "Name,Email,Join,Leave\nМердан,m@example.org,2025-03-14 10:00,2025-03-14 11:00\n"
    with pytest.raises(ReportFormatError, match="encoding"):
        parse_report(data.encode("cp1251"), ASHGABAT, near=START)


# --- matching and recording ---------------------------------------------------


def test_matching_by_email_then_unique_name_never_on_shared_names(seminar):
    event, people = seminar
    report = parse_report(fixture("zoom_participants.csv"), ASHGABAT, near=START)
    plan = build_import_plan(event, report.source, report.title, people_in(report), 120)

    attended = {line.registration.id: line for line in plan.attended}
    assert set(attended) == {people[k].id for k in ("ayna", "merdan", "jeren", "batyr", "irina")}
    assert attended[people["ayna"].id].match == "email"
    assert attended[people["irina"].id].match == "email"  # Irina.Petrova@Example.org
    assert attended[people["merdan"].id].match == "name"  # by the original name
    assert attended[people["jeren"].id].match == "name"  # "Jeren Atayewa" folds to the same
    assert [line.registration.id for line in plan.below_threshold] == [people["gulshat"].id]
    assert plan.below_threshold[0].minutes == 35

    unmatched = {u.person.name: u for u in plan.unmatched}
    assert set(unmatched) == {"UNDP Turkmenistan", "Ogulgerek Nurmuradowa", "iPhone"}
    assert unmatched["Ogulgerek Nurmuradowa"].match == "ambiguous"
    assert unmatched["Ogulgerek Nurmuradowa"].namesakes == 2


def test_same_report_twice_changes_nothing_and_a_later_one_never_removes(seminar):
    event, people = seminar
    report = parse_report(fixture("zoom_participants.csv"), ASHGABAT, near=START)

    def run(threshold):
        plan = build_import_plan(event, report.source, "", people_in(report), threshold)
        outcome = apply_import(event, plan, None)
        db.session.commit()
        return outcome

    first = run(120)
    assert (first.created, first.updated, first.unchanged) == (6, 0, 0)
    before = snapshot(event)
    again = run(120)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)
    assert snapshot(event) == before
    # A stricter threshold later does not take attendance away.
    stricter = run(240)
    assert stricter.updated == 0
    assert snapshot(event) == before
    # A looser one admits the person who was below the threshold before.
    looser = run(30)
    assert looser.updated == 1
    gulshat = next(r for r in report_rows(event) if r.registration_id == people["gulshat"].id)
    assert gulshat.result == CheckInResult.ADMITTED and gulshat.online_minutes == 35


# --- through the pages ----------------------------------------------------------


def upload(client, event, data: bytes, filename: str, threshold="50", unit="percent"):
    url = f"/manage/events/{event.slug}/attendance/import"
    token = get_csrf(client, url)
    return client.post(
        url,
        data={
            "csrf_token": token,
            "report": (io.BytesIO(data), filename),
            "threshold": threshold,
            "threshold_unit": unit,
            "timezone": "Asia/Ashgabat",
        },
        content_type="multipart/form-data",
    )


def confirm(client, event, preview_html: str, extra: dict | None = None):
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"', preview_html)
    assert payload, "the preview carries the parsed report"
    # Like a browser: hidden fields (such as earlier matches by hand) go along.
    hidden = dict(
        re.findall(r'<input type="hidden" name="(match-[0-9a-f]+)" value="(\d+)">', preview_html)
    )
    data = {
        "csrf_token": csrf_token_from(preview_html),
        "payload": payload.group(1),
        "confirm": "1",
        **hidden,
        **(extra or {}),
    }
    return client.post(f"/manage/events/{event.slug}/attendance/import/confirm", data=data)


def count_of(html: str, name: str) -> int:
    return int(re.search(rf'data-count="{name}">(\d+)<', html).group(1))


@pytest.mark.parametrize(
    ("name", "attended", "below", "unmatched"),
    [("zoom_participants.csv", 5, 1, 3), ("teams_attendance.csv", 5, 1, 2)],
)
def test_import_preview_then_confirm_then_again(
    seminar, client, signed_in_organizer, name, attended, below, unmatched
):
    event, people = seminar

    preview = upload(client, event, fixture(name), name)
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert (count_of(html, "attended"), count_of(html, "below"), count_of(html, "unmatched")) == (
        attended,
        below,
        unmatched,
    )
    assert "2 registrations share this name" in html
    assert "Nothing has been saved yet" in html
    assert report_rows(event) == []

    done = confirm(client, event, html)
    assert done.status_code == 302
    assert done.headers["Location"].endswith(f"/manage/events/{event.slug}/report")
    rows = report_rows(event)
    assert len(rows) == attended + below
    by_person = {r.registration_id: r for r in rows}
    assert by_person[people["ayna"].id].online_minutes == 243
    assert by_person[people["ayna"].id].result == CheckInResult.ADMITTED
    assert by_person[people["gulshat"].id].result == CheckInResult.REFUSED
    assert all(r.site_id is None and r.annulled_at is None for r in rows)
    message = client.get(done.headers["Location"]).get_data(as_text=True)
    assert f"{attended + below} new, 0 updated, 0 unchanged" in message

    # The same file again: the preview says so, and confirming changes nothing.
    before = snapshot(event)
    html = upload(client, event, fixture(name), name).get_data(as_text=True)
    assert html.count("already recorded") == attended + below
    done = confirm(client, event, html)
    assert snapshot(event) == before
    message = client.get(done.headers["Location"]).get_data(as_text=True)
    assert f"0 new, 0 updated, {attended + below} unchanged" in message


def test_zoom_then_teams_for_the_same_meeting_does_not_add_time(
    seminar, client, signed_in_organizer
):
    event, people = seminar
    confirm(
        client,
        event,
        upload(client, event, fixture("zoom_participants.csv"), "zoom.csv").get_data(as_text=True),
    )
    confirm(
        client,
        event,
        upload(client, event, fixture("teams_attendance.csv"), "teams.csv").get_data(as_text=True),
    )
    rows = {r.registration_id: r for r in report_rows(event)}
    assert rows[people["ayna"].id].online_minutes == 243
    assert rows[people["merdan"].id].online_minutes == 228
    assert len(rows) == 6


def test_an_unmatched_row_can_be_matched_by_hand(seminar, client, signed_in_organizer):
    event, people = seminar
    html = upload(client, event, fixture("zoom_participants.csv"), "zoom.csv").get_data(
        as_text=True
    )
    key = re.search(r'data-unmatched="([0-9a-f]+)">\s*<td>Ogulgerek Nurmuradowa', html).group(1)
    assert f'<option value="{people["og2"].id}">' in html

    # Update the preview first: the row moves to "attended" and nothing is saved.
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"', html).group(1)
    updated = client.post(
        f"/manage/events/{event.slug}/attendance/import/confirm",
        data={
            "csrf_token": csrf_token_from(html),
            "payload": payload,
            "preview": "1",
            f"match-{key}": str(people["og2"].id),
        },
    )
    updated_html = updated.get_data(as_text=True)
    assert count_of(updated_html, "attended") == 6
    assert count_of(updated_html, "unmatched") == 2
    assert "by hand" in updated_html
    assert report_rows(event) == []

    confirm(client, event, updated_html)
    rows = {r.registration_id: r for r in report_rows(event)}
    assert rows[people["og2"].id].online_minutes == 240
    assert rows[people["og2"].id].result == CheckInResult.ADMITTED
    assert people["og1"].id not in rows


def test_threshold_in_minutes(seminar, client, signed_in_organizer):
    event, people = seminar
    html = upload(
        client, event, fixture("zoom_participants.csv"), "zoom.csv", threshold="30", unit="minutes"
    ).get_data(as_text=True)
    assert "Counts as attended from 30 minutes" in html
    assert count_of(html, "attended") == 6 and count_of(html, "below") == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"just,some\ncsv,data\n", "no join and leave times"),
        (b"\xc3\x28\xa0\xa1 broken", "encoding"),
    ],
)
def test_bad_uploads_show_a_message_and_change_nothing(
    seminar, client, signed_in_organizer, data, message
):
    event, _people = seminar
    response = upload(client, event, data, "report.csv")
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert report_rows(event) == []


def test_too_large_a_file_is_refused(seminar, client, signed_in_organizer):
    event, _people = seminar
    big = b"Name,Email,Join,Leave\n" + b"x" * (5 * 1024 * 1024 + 10)
    url = f"/manage/events/{event.slug}/attendance/import"
    builder = EnvironBuilder(
        path=url,
        method="POST",
        data={
            "csrf_token": get_csrf(client, url),
            "report": (io.BytesIO(big), "huge.csv"),
            "threshold": "50",
            "threshold_unit": "percent",
            "timezone": "Asia/Ashgabat",
        },
    )
    environ = builder.get_environ()
    try:
        response = client.open(environ)
    finally:
        # The test client spools a body this big to a temporary file; close it here.
        environ["wsgi.input"].close()
        builder.close()
    assert response.status_code == 413
    assert "The file is too large. The limit is 5 MB." in response.get_data(as_text=True)
    assert report_rows(event) == []


def test_bad_threshold_is_refused(seminar, client, signed_in_organizer):
    event, _people = seminar
    response = upload(
        client, event, fixture("zoom_participants.csv"), "zoom.csv", threshold="150", unit="percent"
    )
    assert "cannot be more than 100" in response.get_data(as_text=True)
    response = upload(client, event, fixture("zoom_participants.csv"), "zoom.csv", threshold="many")
    assert "Give a threshold." in response.get_data(
        as_text=True
    ) or "Not a valid integer" in response.get_data(as_text=True)


def test_a_tampered_preview_is_refused(seminar, client, signed_in_organizer):
    event, _people = seminar
    html = upload(client, event, fixture("zoom_participants.csv"), "zoom.csv").get_data(
        as_text=True
    )
    field = 'name="payload" type="hidden" value="'
    tampered = html.replace(field, field + "x")
    response = confirm(client, event, tampered)
    assert response.status_code == 302
    assert "expired" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert report_rows(event) == []

    other = make_event("other")
    response = confirm(client, other, html)
    assert response.status_code == 400
    assert report_rows(event) == []


def test_only_organisers_import(seminar, client, auth, coordinator):
    event, _people = seminar
    auth.login(coordinator.email)
    assert client.get(f"/manage/events/{event.slug}/attendance/import").status_code == 403


def test_zoom_report_without_a_blank_line_after_the_meeting_block(app):
    text = fixture("zoom_participants.csv").decode("utf-8").replace("\n\n", "\n")
    report = parse_report(text.encode("utf-8"), ASHGABAT, near=START)
    assert report.title.startswith("The Constitution of Turkmenistan")
    assert len(report.segments) == 13


TWO_DAYS = """\
Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest,Recording Consent
Aýna Orazowa,ayna@example.org,03/14/2025 09:58:00 AM,03/14/2025 02:00:00 PM,242,Yes,Y
Aýna Orazowa,ayna@example.org,03/15/2025 10:05:00 AM,03/15/2025 10:35:00 AM,30,Yes,Y
"""

SECOND_DAY = """\
Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest,Recording Consent
Aýna Orazowa,ayna@example.org,03/15/2025 10:00:00 AM,03/15/2025 02:00:00 PM,240,Yes,Y
"""


def test_a_report_over_several_days_counts_each_day_on_its_own(app, client, signed_in_organizer):
    """Online attendance counts per day, as at the door: each day meets the threshold or not,
    and a later day's report adds that day instead of changing the first."""
    event = make_event("training", {"ashgabat": 50}, starts_at=START, duration=timedelta(days=2))
    ayna = make_registration(event, name="Aýna Orazowa", email="ayna@example.org", site=None)
    preview = upload(
        client, event, TWO_DAYS.encode(), "zoom.csv", threshold="60", unit="minutes"
    ).get_data(as_text=True)
    assert confirm(client, event, preview).status_code == 302
    by_day = {row.day: (row.result, row.online_minutes) for row in report_rows(event)}
    assert by_day == {
        date(2025, 3, 14): (CheckInResult.ADMITTED, 242),
        date(2025, 3, 15): (CheckInResult.REFUSED, 30),
    }

    preview = upload(
        client, event, SECOND_DAY.encode(), "zoom.csv", threshold="60", unit="minutes"
    ).get_data(as_text=True)
    assert confirm(client, event, preview).status_code == 302
    db.session.expire_all()
    by_day = {row.day: (row.result, row.online_minutes) for row in report_rows(event)}
    assert by_day == {
        date(2025, 3, 14): (CheckInResult.ADMITTED, 242),
        date(2025, 3, 15): (CheckInResult.ADMITTED, 240),
    }
    assert len(report_rows(event)) == 2
    assert completion_of(event, ayna).days_attended == 2
