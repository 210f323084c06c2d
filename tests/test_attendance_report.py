"""The summary report: registered versus attended by site, mode, organisation and gender."""

from __future__ import annotations

import csv
import io
import re

from app.attendance.reports import attendance_report
from app.attendance.services import record_online_join
from app.extensions import db
from app.models import (
    CheckInMethod,
    CheckInResult,
    Gender,
    OrgKind,
    RefusalReason,
    RegistrationStatus,
    Role,
)
from tests.conftest import add_checkin, make_event, make_registration, make_staff


def build_event():
    event = make_event("seminar", {"ashgabat": 50, "ahal": 10})
    ayna = make_registration(
        event, name="Aýna Orazowa", site="ahal", gender=Gender.FEMALE, org_kind=OrgKind.INFO_CENTRE
    )
    make_registration(
        event, name="Merdan Atayev", site="ahal", gender=Gender.MALE, org_kind=OrgKind.STATE
    )
    jeren = make_registration(
        event, name="Jeren Atayewa", site="ashgabat", gender=Gender.FEMALE, org_kind=OrgKind.MEDIA
    )
    forced = make_registration(
        event, name="Batyr Gurbanow", site="ashgabat", gender=Gender.MALE, org_kind=OrgKind.STATE
    )
    online = make_registration(event, name="Irina Petrowa", site=None, org_kind=OrgKind.EXPERT)
    make_registration(
        event, name="Online Absent", site=None, gender=Gender.FEMALE, org_kind=OrgKind.PUBLIC
    )
    below = make_registration(
        event, name="Below Threshold", site=None, gender=Gender.MALE, org_kind=OrgKind.PUBLIC
    )
    make_registration(
        event, name="Waiting Person", site="ahal", status=RegistrationStatus.WAITLISTED
    )
    make_registration(event, name="Gone Person", site="ahal", status=RegistrationStatus.CANCELLED)

    add_checkin(event, ayna, "ahal")
    add_checkin(event, jeren, "ashgabat")
    add_checkin(event, forced, "ahal", forced=True)  # registered in Ashgabat, came to Ahal
    record_online_join(online)
    add_checkin(
        event,
        below,
        method=CheckInMethod.ONLINE_REPORT,
        result=CheckInResult.REFUSED,
        online_minutes=20,
    )
    for code in ("XYZ", "XYZ2"):
        add_checkin(
            event,
            None,
            "ahal",
            result=CheckInResult.REFUSED,
            reason=RefusalReason.UNKNOWN_CODE,
            code=code,
        )
    add_checkin(
        event,
        ayna,
        "ashgabat",
        result=CheckInResult.REFUSED,
        reason=RefusalReason.ALREADY_CHECKED_IN,
    )
    db.session.commit()
    return event


def lines(table):
    return {line.label: (line.registered, line.attended) for line in table}


def test_report_counts_registered_and_attended_along_each_dimension(app):
    event = build_event()
    report = attendance_report(event)

    assert (report.total.registered, report.total.attended) == (7, 4)
    assert report.total.rate_text == "57%"
    # By site: attendance counts where it happened (Batyr came to Ahal).
    assert lines(report.by_site) == {
        "Ashgabat information centre": (2, 1),
        "Ahal information centre": (2, 2),
        "Online": (3, 1),
    }
    assert lines(report.by_mode) == {"In person": (4, 3), "Online": (3, 1)}
    assert lines(report.by_org_kind) == {
        "State institution": (2, 1),
        "Information centre": (1, 1),
        "Media": (1, 1),
        "Expert": (1, 1),
        "Public organisation": (2, 0),
    }
    assert lines(report.by_gender) == {
        "Female": (3, 2),
        "Male": (3, 1),
        "Not stated": (1, 1),
    }
    refused = {(line.reason, line.where): line.count for line in report.refused}
    assert refused == {
        ("Unknown code", "Ahal information centre"): 2,
        ("Already checked in", "Ashgabat information centre"): 1,
        ("Online time below the threshold", "Online"): 1,
    }


def test_report_page_and_csv_download(app, client, auth):
    event = build_event()
    make_staff("organizer@example.org", Role.ORGANIZER)
    auth.login("organizer@example.org")

    page = client.get(f"/manage/events/{event.slug}/report")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for heading in (
        "By site",
        "By mode",
        "By kind of organisation",
        "By gender",
        "Refused check-ins",
    ):
        assert heading in html
    assert re.search(
        r"Ahal information centre</th><td class=\"num\">2</td><td class=\"num\">2", html
    )
    assert "57%" in html
    printable = client.get(f"/manage/events/{event.slug}/report?print=1").get_data(as_text=True)
    assert 'class="report printable"' in printable

    download = client.get(f"/manage/events/{event.slug}/report.csv")
    assert download.status_code == 200
    body = download.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert ["By gender", "Registered", "Attended", "Attendance rate"] in rows
    assert ["Female", "3", "2", "67%"] in rows
    assert ["Unknown code", "Ahal information centre", "2"] in rows


def test_report_of_an_empty_event_has_no_rate(app):
    event = make_event("empty")
    report = attendance_report(event)
    assert report.total.registered == 0
    assert report.total.rate is None and report.total.rate_text == "–"
    assert report.refused == []
