"""Downloads: attendance and registration lists (CSV, XLSX) and the sign-in sheet (PDF)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
from pypdf import PdfReader

from app.attendance.exports import neutralise
from app.attendance.services import record_online_join
from app.attendance.signin_sheet import ROWS_PER_PAGE
from app.extensions import db
from app.models import CheckInMethod, Gender, OrgKind, RegistrationStatus
from tests.conftest import PERSONAL_DOWNLOADS, add_checkin, make_event, make_registration

START = datetime(2025, 3, 14, 5, 0, tzinfo=UTC)  # 10:00 in Ashgabat


@pytest.fixture
def seminar(app):
    """A hybrid seminar that took place, with arrivals at two sites and online."""
    event = make_event("seminar", {"ashgabat": 50, "ahal": 10}, starts_at=START)
    people = {
        "ayna": make_registration(
            event,
            name="Aýna Orazowa",
            site="ahal",
            gender=Gender.FEMALE,
            organization="Ahal information centre",
            position="Head",
            org_kind=OrgKind.INFO_CENTRE,
            phone="+993 65 123456",
        ),
        "merdan": make_registration(
            event,
            name="Мердан Атаев",
            site="ahal",
            gender=Gender.MALE,
            email="merdan.atayev@example.org",
            organization="Министерство иностранных дел",
            position="Советник",
        ),
        "evil": make_registration(
            event,
            name='=HYPERLINK("http://x")',
            site="ashgabat",
            organization="@SUM(1+1)",
            position="-2+3",
            email="evil@example.org",
        ),
        "jeren": make_registration(
            event,
            name="Jeren Ataýewa",
            site="ashgabat",
            gender=Gender.FEMALE,
            org_kind=OrgKind.MEDIA,
        ),
        "online": make_registration(
            event,
            name="Ирина Петрова",
            site=None,
            gender=Gender.FEMALE,
            email="irina.petrova@example.org",
            org_kind=OrgKind.INTERNATIONAL,
        ),
        "waiting": make_registration(
            event, name="Waitlisted Person", site="ahal", status=RegistrationStatus.WAITLISTED
        ),
        "gone": make_registration(
            event, name="Cancelled Person", site="ahal", status=RegistrationStatus.CANCELLED
        ),
    }
    add_checkin(event, people["ayna"], "ahal", at=START - timedelta(minutes=12))
    add_checkin(
        event,
        people["jeren"],
        "ashgabat",
        method=CheckInMethod.SEARCH,
        at=START + timedelta(minutes=3),
    )
    record_online_join(people["online"], now=START + timedelta(minutes=1))
    db.session.commit()
    return event, people


def read_csv(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf"), "Excel needs the UTF-8 BOM"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_attendance_csv_has_a_bom_one_row_per_person_and_round_trips_names(
    seminar, client, signed_in_organizer
):
    event, _people = seminar
    response = client.get(f"/manage/events/{event.slug}/attendance.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert 'filename="seminar-attendance.csv"' in response.headers["Content-Disposition"]
    rows = read_csv(response)
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Name", "Organisation", "Position"]
    assert "First check-in (Asia/Ashgabat)" in header
    by_name = {row[0]: dict(zip(header, row, strict=True)) for row in body}
    # Cancelled people who never came are not on the attendance list.
    assert "Cancelled Person" not in by_name
    assert len(body) == 6

    ayna = by_name["Aýna Orazowa"]
    assert ayna["Attended"] == "yes"
    assert ayna["Where"] == "Ahal information centre"
    assert ayna["First check-in (Asia/Ashgabat)"] == "2025-03-14 09:48"
    assert ayna["Method"] == "QR scan"
    assert ayna["Kind of organisation"] == "Information centre"
    assert "Gender" not in ayna  # kept for the report's statistics only
    assert ayna["Registered site"] == "Ahal information centre"
    assert ayna["Mode"] == "In person"

    merdan = by_name["Мердан Атаев"]
    assert merdan["Organisation"] == "Министерство иностранных дел"
    assert merdan["Attended"] == "no" and merdan["Where"] == ""

    irina = by_name["Ирина Петрова"]
    assert (irina["Attended"], irina["Where"]) == ("yes", "Online")
    assert irina["Method"] == "Online join link"
    assert irina["First check-in (Asia/Ashgabat)"] == "2025-03-14 10:01"


def test_csv_cells_that_could_run_as_formulas_are_neutralised(seminar, client, signed_in_organizer):
    event, _people = seminar
    rows = read_csv(client.get(f"/manage/events/{event.slug}/attendance.csv"))
    header = rows[0]
    evil = next(dict(zip(header, r, strict=True)) for r in rows[1:] if "HYPERLINK" in r[0])
    assert evil["Name"] == '\'=HYPERLINK("http://x")'
    assert evil["Organisation"] == "'@SUM(1+1)"
    assert evil["Position"] == "'-2+3"
    phone = next(dict(zip(header, r, strict=True)) for r in rows[1:] if r[0] == "Aýna Orazowa")
    assert phone["Phone"] == "'+993 65 123456"
    for value in ("=1", "+1", "-1", "@a", "\tx", "\rx"):
        assert neutralise(value) == "'" + value
    assert neutralise("Aýna") == "Aýna"
    assert neutralise("") == ""


def test_attendance_xlsx_has_typed_cells_a_frozen_filtered_header_and_a_summary(
    seminar, client, signed_in_organizer
):
    event, _people = seminar
    response = client.get(f"/manage/events/{event.slug}/attendance.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    assert book.sheetnames == ["Attendance", "Summary"]
    sheet = book["Attendance"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref.startswith("A1:")
    header = [cell.value for cell in sheet[1]]
    rows = {
        row[0]: dict(zip(header, row, strict=True))
        for row in sheet.iter_rows(min_row=2, values_only=True)
    }
    assert len(rows) == 6
    ayna = rows["Aýna Orazowa"]
    assert ayna["First check-in (Asia/Ashgabat)"] == datetime(2025, 3, 14, 9, 48)
    assert rows["Мердан Атаев"]["First check-in (Asia/Ashgabat)"] is None
    # A would-be formula stays text.
    assert rows['=HYPERLINK("http://x")']["Organisation"] == "@SUM(1+1)"
    assert sheet.cell(row=2, column=1).data_type == "s"

    summary = book["Summary"]
    values = list(summary.iter_rows(values_only=True))
    header = values[0]
    ahal_row = next(row for row in values if row[0] == "Ahal information centre")
    ahal = dict(zip(header, ahal_row, strict=True))
    assert (ahal["Capacity"], ahal["Confirmed"], ahal["Waitlisted"]) == (10, 2, 1)
    assert (ahal["Registered"], ahal["Attended here"], ahal["Not arrived"]) == (2, 1, 1)
    assert all(isinstance(ahal[title], int) for title in ("Registered", "Attended here"))
    attended = next(row for row in values if row[0] == "Attended in total")
    assert attended[1] == 3


def test_online_minutes_are_numbers_in_the_xlsx(seminar, client, signed_in_organizer):
    event, people = seminar
    add_checkin(
        event,
        people["merdan"],
        method=CheckInMethod.ONLINE_REPORT,
        online_minutes=187,
        at=START + timedelta(minutes=2),
    )
    book = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/manage/events/{event.slug}/attendance.xlsx").get_data())
    )
    sheet = book["Attendance"]
    header = [cell.value for cell in sheet[1]]
    merdan = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == "Мердан Атаев")
    row = dict(zip(header, merdan, strict=True))
    assert row["Online minutes"] == 187
    assert row["Attended"] == "yes" and row["Where"] == "Online"
    assert row["Method"] == "Online meeting report"


def pdf_pages_text(data: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(data))
    return [page.extract_text() for page in reader.pages]


def test_signin_sheet_for_one_site_lists_names_sorted_with_blank_rows(
    seminar, client, signed_in_organizer
):
    event, _people = seminar
    response = client.get(f"/manage/events/{event.slug}/attendance.pdf?site=ahal")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.get_data()))
    page = reader.pages[0]
    assert [round(float(v)) for v in page.mediabox[2:]] == [595, 842]
    assert len(reader.pages) == 1
    text = page.extract_text()
    assert "The Constitution of Turkmenistan" in text
    assert "Ahal information centre" in text
    assert "Page 1 of 1" in text
    # Confirmed people only, sorted by name, with the arrival time of those checked in.
    assert "Aýna Orazowa" in text and "Мердан Атаев" in text
    assert "Waitlisted Person" not in text and "Cancelled Person" not in text
    assert text.index("Aýna Orazowa") < text.index("Мердан Атаев")
    assert "09:48" in text
    # Two people, then ten numbered blank rows.
    numbers = [int(n) for n in re.findall(r"^\s*(\d{1,3})\s*$", text, re.MULTILINE)]
    assert max(numbers) == 12
    fonts = {str(font.get_object()["/BaseFont"]) for font in page["/Resources"]["/Font"].values()}
    assert any("DejaVuSans" in name for name in fonts)


def test_signin_sheet_without_site_has_one_section_per_site_on_new_pages(
    client, signed_in_organizer
):
    event = make_event("big", {"ashgabat": 500, "ahal": 10})
    for i in range(ROWS_PER_PAGE + 5):
        make_registration(
            event, name=f"Participant {i:03d}", site="ashgabat", email=f"p{i}@example.org"
        )
    make_registration(event, name="Aýna Orazowa", site="ahal")
    response = client.get(f"/manage/events/{event.slug}/attendance.pdf")
    pages = pdf_pages_text(response.get_data())
    # Ashgabat: ROWS_PER_PAGE + 5 people + 10 blank rows need two pages; Ahal needs one.
    assert len(pages) == 3
    assert "Ashgabat information centre" in pages[0] and "Page 1 of 2" in pages[0]
    assert "Page 2 of 2" in pages[1] and "Participant 000" not in pages[1]
    assert "Ahal information centre" in pages[2] and "Page 1 of 1" in pages[2]
    assert "Aýna Orazowa" in pages[2] and "Participant" not in pages[2]
    assert f"Participant {ROWS_PER_PAGE + 4:03d}" in pages[1]


def test_registrations_csv_and_xlsx_list_every_status(seminar, client, signed_in_organizer):
    event, _people = seminar
    rows = read_csv(client.get(f"/manage/events/{event.slug}/registrations.csv"))
    header = rows[0]
    statuses = {r[0]: dict(zip(header, r, strict=True))["Status"] for r in rows[1:]}
    assert statuses["Cancelled Person"] == "Cancelled"
    assert statuses["Waitlisted Person"] == "Waitlisted"
    assert statuses["Aýna Orazowa"] == "Confirmed"
    assert len(statuses) == 7
    assert not any("token" in title.lower() or "code" in title.lower() for title in header)

    book = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/manage/events/{event.slug}/registrations.xlsx").get_data())
    )
    sheet = book.active
    header = [c.value for c in sheet[1]]
    assert sheet.freeze_panes == "A2"
    values = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(values) == 7
    registered = header.index("Registered at (Asia/Ashgabat)")
    assert all(isinstance(row[registered], datetime) for row in values)


def test_site_filter_limits_every_download(seminar, client, signed_in_organizer):
    event, _people = seminar
    rows = read_csv(client.get(f"/manage/events/{event.slug}/attendance.csv?site=ashgabat"))
    assert {r[0] for r in rows[1:]} == {"Jeren Ataýewa", '\'=HYPERLINK("http://x")'}
    rows = read_csv(client.get(f"/manage/events/{event.slug}/registrations.csv?site=ahal"))
    assert {r[0] for r in rows[1:]} == {
        "Aýna Orazowa",
        "Мердан Атаев",
        "Waitlisted Person",
        "Cancelled Person",
    }
    assert client.get(f"/manage/events/{event.slug}/attendance.csv?site=mary").status_code == 404


def test_coordinator_downloads_only_their_own_site(seminar, client, auth, coordinator):
    event, _people = seminar
    auth.login(coordinator.email)
    base = f"/manage/events/{event.slug}"
    for name in PERSONAL_DOWNLOADS:
        assert client.get(f"{base}/{name}?site=ashgabat").status_code == 403, name
        assert client.get(f"{base}/{name}?site=ahal").status_code == 200, name
    # Without ?site= the list is restricted to their sites.
    rows = read_csv(client.get(f"{base}/attendance.csv"))
    assert {r[0] for r in rows[1:]} == {"Aýna Orazowa", "Мердан Атаев", "Waitlisted Person"}
    pages = pdf_pages_text(client.get(f"{base}/attendance.pdf").get_data())
    assert len(pages) == 1 and "Ashgabat" not in pages[0]
    # The report is for organisers.
    assert client.get(f"{base}/report").status_code == 403


def test_downloads_need_staff(seminar, client):
    event, _people = seminar
    response = client.get(f"/manage/events/{event.slug}/attendance.csv")
    assert response.status_code == 302
    assert "/manage/login" in response.headers["Location"]
