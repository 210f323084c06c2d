"""The summary report: registered versus attended by site, mode, organisation and gender."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from html import unescape

import openpyxl

from app.attendance.reports import attendance_report
from app.attendance.services import record_online_join, site_attendance
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
from tests.conftest import (
    add_checkin,
    bearer,
    make_event,
    make_registration,
    make_staff,
    token_for,
)


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


def moves(table):
    """Each line: registered, attended here, attended elsewhere, came from elsewhere, rate."""
    return {
        line.label: (
            line.registered,
            line.attended,
            line.attended_elsewhere,
            line.came_from_elsewhere,
            line.rate_text,
        )
        for line in table
    }


def test_report_counts_registered_and_attended_along_each_dimension(app):
    event = build_event()
    report = attendance_report(event)

    assert (report.total.registered, report.total.attended) == (7, 4)
    assert report.total.rate_text == "57%"
    # By site: attendance counts where it happened (Batyr, of Ashgabat, came to Ahal),
    # and each site's rate is its own people who attended anywhere.
    assert moves(report.by_site) == {
        "Ashgabat information centre": (2, 1, 1, 0, "100%"),
        "Ahal information centre": (2, 2, 0, 1, "50%"),
        "Online": (3, 1, 0, 0, "33%"),
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
        r"Ahal information centre</th><td class=\"num\">2</td><td class=\"num\">2</td>"
        r"<td class=\"num\">0</td><td class=\"num\">1</td><td class=\"num\">50%</td>",
        html,
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
    # Rates are rounded down everywhere, so that 100% means everyone.
    assert ["Female", "3", "2", "66%"] in rows
    assert [
        "By site",
        "Registered",
        "Attended here",
        "Attended at another site",
        "Came from another site",
        "Attendance rate",
    ] in rows
    assert ["Ahal information centre", "2", "2", "0", "1", "50%"] in rows
    assert ["Unknown code", "Ahal information centre", "2"] in rows


def test_report_of_an_empty_event_has_no_rate(app):
    event = make_event("empty")
    report = attendance_report(event)
    assert report.total.registered == 0
    assert report.total.rate is None and report.total.rate_text == "–"
    assert report.refused == []


# --- the people who made the numbers disagree -----------------------------------


def test_a_forced_admission_counts_once_and_keeps_the_rate_at_most_100_percent(app):
    """Seven of Lebap admitted at Lebap, and one of Ashgabat let in there on purpose."""
    event = make_event("seminar", {"ashgabat": 50, "lebap": 10})
    for n in range(7):
        add_checkin(
            event,
            make_registration(
                event, name=f"Lebap {n}", email=f"lebap{n}@example.org", site="lebap"
            ),
            "lebap",
        )
    visitor = make_registration(event, name="From Ashgabat", site="ashgabat")
    add_checkin(event, visitor, "lebap", forced=True)
    make_registration(event, name="Ashgabat Absent", site="ashgabat")

    report = attendance_report(event)
    assert moves(report.by_site) == {
        "Ashgabat information centre": (2, 0, 1, 0, "50%"),
        "Lebap information centre": (7, 8, 0, 1, "100%"),
        "Online": (0, 0, 0, 0, "–"),
    }
    summary = site_attendance(event)
    lebap = summary.site("lebap")
    assert (lebap.registered, lebap.checked_in, lebap.from_other_sites) == (7, 8, 1)
    assert (lebap.arrived, lebap.rate_text) == (7, "100%")
    assert summary.totals.attended == report.total.attended == 8


def test_an_in_person_registrant_who_joined_online_counts_online_once(app):
    event = make_event("seminar", {"ashgabat": 50, "ahal": 10})
    online = make_registration(event, name="Online Person", site=None)
    record_online_join(online)
    joined = make_registration(event, name="Stayed Home", site="ahal")
    record_online_join(joined)
    # Admitted at the door and also opened the link: she counts at the site.
    both = make_registration(event, name="Both Ways", site="ahal")
    add_checkin(event, both, "ahal")
    record_online_join(both)
    db.session.commit()

    report = attendance_report(event)
    assert moves(report.by_site) == {
        "Ashgabat information centre": (0, 0, 0, 0, "–"),
        "Ahal information centre": (2, 1, 1, 0, "100%"),
        "Online": (1, 2, 0, 1, "100%"),
    }
    # By mode, too, she counts where she attended and is registered in person.
    assert moves(report.by_mode) == {
        "In person": (2, 1, 1, 0, "100%"),
        "Online": (1, 2, 0, 1, "100%"),
    }
    assert report.total.attended == 3
    for table in report.tables():
        assert table.total.attended == 3

    online_figures = site_attendance(event).online
    assert (online_figures.registered, online_figures.attended) == (1, 2)
    assert (online_figures.from_other_sites, online_figures.joined) == (1, 3)


def test_over_several_days_a_person_counts_once_where_they_first_attended(app):
    start = datetime(2025, 3, 14, 5, 0, tzinfo=UTC)
    event = make_event(
        "seminar",
        {"ashgabat": 50, "ahal": 10},
        starts_at=start,
        duration=timedelta(days=2, hours=8),
    )
    person = make_registration(event, name="Three Days", site="ahal")
    add_checkin(event, person, "ahal", at=start)
    add_checkin(event, person, "ashgabat", at=start + timedelta(days=1), forced=True)
    add_checkin(event, person, method=CheckInMethod.ONLINE_JOIN, at=start + timedelta(days=2))
    days = [start.date() + timedelta(days=n) for n in range(3)]

    assert moves(attendance_report(event).by_site)["Ahal information centre"] == (
        1,
        1,
        0,
        0,
        "100%",
    )
    second = attendance_report(event, days[1])
    assert moves(second.by_site)["Ashgabat information centre"] == (0, 1, 0, 1, "–")
    assert moves(second.by_site)["Ahal information centre"] == (1, 0, 1, 0, "100%")
    third = site_attendance(event, day=days[2])
    assert (third.online.attended, third.online.from_other_sites) == (1, 1)
    assert third.totals.attended == 1


# --- one set of numbers, whichever way they are read ------------------------------

TABLE = re.compile(r"<h2[^>]*>([^<]+)</h2>.*?<table class=\"report-table\">(.*?)</table>", re.S)
ROW = re.compile(r"<tr><th scope=\"row\">([^<]*)</th>(.*?)</tr>", re.S)
CELL = re.compile(r"<td class=\"num\">([^<]*)</td>")


def html_tables(html: str) -> dict[str, list[list[str]]]:
    """The report page's tables, by heading: each row its label and figures, total last."""
    return {
        unescape(title): [
            [unescape(label), *CELL.findall(cells)] for label, cells in ROW.findall(body)
        ]
        for title, body in TABLE.findall(html)
    }


def csv_tables(body: bytes) -> dict[str, list[list[str]]]:
    """The report CSV's blocks, by title, without their heading rows."""
    tables, title = {}, None
    for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))):
        if not row:
            title = None
        elif title is None and len(row) > 1:
            title = row[0]
            tables[title] = []
        elif title is not None:
            tables[title].append(row)
    return tables


def xlsx_summary(body: bytes) -> list[list[str]]:
    """The workbook's summary lines as the report's by-site figures, as text."""
    sheet = openpyxl.load_workbook(io.BytesIO(body))["Summary"]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    lines = []
    for row in rows[1:]:
        if not row[0]:  # the lines end with the total, before a blank row
            break
        cells = dict(zip(header, row, strict=True))
        rate = cells["Attendance rate"]
        lines.append(
            [
                cells["Site"],
                *(
                    str(cells[title])
                    for title in (
                        "Registered",
                        "Attended here",
                        "Attended at another site",
                        "Came from another site",
                    )
                ),
                rate if isinstance(rate, str) else f"{round(rate * 100)}%",
            ]
        )
    return lines


def api_by_site(data: dict) -> list[list[str]]:
    def line(label, counts, here):
        rate = (
            f"{100 * counts['arrived'] // counts['registered']}%" if counts["registered"] else "–"
        )
        figures = (counts["registered"], counts[here])
        moved = (counts["attended_elsewhere"], counts["from_other_sites"])
        return [label, *map(str, figures + moved), rate]

    rows = [line(site["name"], site, "checked_in") for site in data["sites"]]
    rows.append(line("Online", data["online"], "attended"))
    rows.append(line("Total", data["totals"], "attended"))
    return rows


def test_page_csv_workbook_and_api_give_the_same_numbers(app, client, auth):
    event = build_event()
    # Registered for Ahal, joined online instead; and a waitlisted person let in at Ahal.
    stayed_home = make_registration(event, name="Stayed Home", site="ahal", org_kind=OrgKind.STATE)
    record_online_join(stayed_home)
    waiting = make_registration(
        event, name="Let In", site="ahal", status=RegistrationStatus.WAITLISTED
    )
    add_checkin(event, waiting, "ahal")
    db.session.commit()
    user = make_staff("organizer@example.org", Role.ORGANIZER)
    token = token_for(user)
    auth.login("organizer@example.org")
    base = f"/manage/events/{event.slug}"

    page = html_tables(client.get(f"{base}/report").get_data(as_text=True))
    download = csv_tables(client.get(f"{base}/report.csv").get_data())
    workbook = xlsx_summary(client.get(f"{base}/attendance.xlsx").get_data())
    api = api_by_site(
        client.get(f"/api/v1/events/{event.slug}/attendance", headers=bearer(token)).get_json()
    )

    by_site = page["By site"]
    assert by_site == download["By site"] == workbook == api
    assert by_site[-1] == ["Total", "9", "6", "2", "2", "66%"]
    for title in ("By mode", "By kind of organisation", "By gender"):
        assert page[title] == download[title]
        # Every table adds up to the same total attended, and no rate is above 100%.
        assert page[title][-1][2] == "6"
        assert sum(int(row[2]) for row in page[title][:-1]) == 6
    rates = [row[-1] for rows in page.values() for row in rows]
    assert len(rates) > 12 and all(rate == "–" or int(rate[:-1]) <= 100 for rate in rates)


def test_a_day_that_is_not_a_date_is_refused_with_a_message(app, client, auth):
    event = make_event("seminar", {"ahal": 10}, starts_at=datetime(2025, 3, 14, 5, tzinfo=UTC))
    person = make_registration(event, site="ahal")
    add_checkin(event, person, "ahal", at=datetime(2025, 3, 14, 6, tzinfo=UTC))
    token = token_for(make_staff("organizer@example.org", Role.ORGANIZER))
    url = f"/api/v1/events/{event.slug}/attendance"

    def attended(day: str) -> int:
        answer = client.get(f"{url}?day={day}", headers=bearer(token))
        assert answer.status_code == 200
        return answer.get_json()["totals"]["attended"]

    assert (attended("2025-03-14"), attended("2025-03-15"), attended("")) == (1, 0, 1)
    for bad in ("yesterday", "2025-3-14", "2025-02-30", "20250314"):
        answer = client.get(f"{url}?day={bad}", headers=bearer(token))
        assert answer.status_code == 422
        assert answer.get_json()["field"] == "day"
        assert "YYYY-MM-DD" in answer.get_json()["message"]

    auth.login("organizer@example.org")
    page = client.get(f"/manage/events/{event.slug}/dashboard?day=yesterday")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="day-error"' in html and "YYYY-MM-DD" in html
    # The figures shown are the whole event's, and the page keeps refreshing those.
    assert f'data-url="/manage/events/{event.slug}/dashboard.json"' in html
