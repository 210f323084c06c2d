"""The report's charts and its printable PDF: drawn from the same figures as its tables."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html import unescape

import pytest
from flask_babel import refresh
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4

from app.attendance.services import record_online_join
from app.extensions import db
from app.models import Role
from tests.conftest import add_checkin, make_event, make_registration, make_site, make_staff

SVG = "{http://www.w3.org/2000/svg}"
ODD_SITE = 'Mary <&> "centre"'
#: A by-site row as pdftotext lays it out: label, registered, attended here, attended at
#: another site, came from another site, rate.
PDF_ROW = re.compile(r"^\s*(\S.*?)\s{2,}(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+%|–)\s*$")
HTML_ROW = re.compile(
    r'<th scope="row">([^<]*)</th><td class="num">(\d+)</td><td class="num">(\d+)'
)

needs_pdftotext = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed"
)


def build_event():
    """Registrations and check-ins at their own sites, and online joins."""
    make_site("dashoguz", name="Daşoguz welaýat merkezi")
    event = make_event("seminar", {"ahal": 10, "ashgabat": 10, "dashoguz": 10})
    ahal = [make_registration(event, name=f"Ahal {n}", site="ahal") for n in "abc"]
    ashgabat = [make_registration(event, name=f"Ashgabat {n}", site="ashgabat") for n in "ab"]
    make_registration(event, name="Daşoguz a", site="dashoguz")
    online = [make_registration(event, name=f"Online {n}", site=None) for n in "abc"]
    for person in ahal[:2]:
        add_checkin(event, person, "ahal")
    add_checkin(event, ashgabat[0], "ashgabat")
    for person in online[:2]:
        record_online_join(person)
    db.session.commit()
    return event


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def pdf_by_site(text: str) -> dict[str, tuple[int, int]]:
    """The by-site table of the PDF: from its heading to the next one."""
    section = text.split("By site", 1)[1].split("By mode", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = PDF_ROW.match(line)
        if match:
            rows[match.group(1).strip()] = (int(match.group(2)), int(match.group(3)))
    return rows


def html_by_site(html: str) -> dict[str, tuple[int, int]]:
    section = re.split(r"<h2[^>]*>By site</h2>", html, maxsplit=1)[1]
    section = re.split(r"<h2[^>]*>By mode</h2>", section, maxsplit=1)[0]
    rows = {unescape(name): (int(a), int(b)) for name, a, b in HTML_ROW.findall(section)}
    return rows


def api_by_site(data: dict) -> dict[str, tuple[int, int]]:
    rows = {site["name"]: (site["registered"], site["checked_in"]) for site in data["sites"]}
    online = data["online"]
    rows["Online"] = (online["registered"], online["attended"])
    totals = data["totals"]
    rows["Total"] = (totals["registered"], totals["attended"])
    return rows


def svg_charts(html: str) -> list[ET.Element]:
    # Our own page's markup, parsed to prove it is well-formed XML.
    return [
        ET.fromstring(svg)  # noqa: S314
        for svg in re.findall(r"<svg.*?</svg>", html, re.DOTALL)
    ]


@needs_pdftotext
def test_pdf_by_site_table_matches_the_page_and_the_api(app, client, signed_in_organizer, tmp_path):
    event = build_event()
    base = f"/manage/events/{event.slug}"

    response = client.get(f"{base}/report.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "seminar-report.pdf" in response.headers["Content-Disposition"]
    text = pdf_text(response.get_data(), tmp_path)

    expected = {
        "Ahal information centre": (3, 2),
        "Ashgabat information centre": (2, 1),
        "Daşoguz welaýat merkezi": (1, 0),
        "Online": (3, 2),
        "Total": (9, 5),
    }
    assert pdf_by_site(text) == expected
    assert html_by_site(client.get(f"{base}/report").get_data(as_text=True)) == expected
    assert api_by_site(client.get(f"/api/v1/events/{event.slug}/attendance").get_json()) == expected

    # The facts, the other tables and the method note are there too.
    assert "1 Main street, Ahal" in text
    assert "UNDP Turkmenistan" in text
    assert "Asia/Ashgabat" in text
    for heading in ("By mode", "By kind of organisation", "By gender", "Refused check-ins"):
        assert heading in text
    assert "How attendance was established" in text
    assert "Generated on" in text
    assert "Page 1 of" in text


def test_pdf_is_a4(app, client, signed_in_organizer):
    event = build_event()
    reader = PdfReader(io.BytesIO(client.get(f"/manage/events/{event.slug}/report.pdf").data))
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert (round(width), round(height)) == (round(A4[0]), round(A4[1]))


@needs_pdftotext
def test_pdf_is_in_the_staff_members_language(app, client, signed_in_organizer, tmp_path):
    event = build_event()
    # The test client shares the fixture's app context, where Flask-Babel caches the
    # locale of the first request: forget it, as a new request would.
    refresh()
    response = client.get(f"/manage/events/{event.slug}/report.pdf?lang=ru")
    text = pdf_text(response.get_data(), tmp_path)
    assert "Отчёт о посещаемости" in text
    assert "По площадкам" in text
    assert "Attendance report" not in text
    # Turkmen letters print as themselves, not as boxes.
    assert "Daşoguz welaýat merkezi" in text


def test_report_pdf_is_for_organisers_only(app, client, auth, coordinator):
    event = build_event()
    url = f"/manage/events/{event.slug}/report.pdf"
    response = client.get(url)
    assert response.status_code == 302
    assert "/manage/login" in response.headers["Location"]

    auth.login(coordinator.email)
    assert client.get(url).status_code == 403
    auth.logout()

    make_staff("admin@example.org", Role.ADMIN)
    auth.login("admin@example.org")
    assert client.get(url).status_code == 200


def test_report_page_links_to_the_pdf(app, client, signed_in_organizer):
    event = build_event()
    html = client.get(f"/manage/events/{event.slug}/report").get_data(as_text=True)
    assert f'href="/manage/events/{event.slug}/report.pdf"' in html


def test_report_charts_are_accessible_svg_with_one_bar_pair_per_line(
    app, client, signed_in_organizer
):
    event = build_event()
    html = client.get(f"/manage/events/{event.slug}/report").get_data(as_text=True)
    charts = svg_charts(html)
    bar_charts = [chart for chart in charts if chart.get("class") == "bar-chart"]
    arrivals = [chart for chart in charts if chart.get("class") == "arrivals-chart"]
    assert len(bar_charts) == 4  # by site, mode, kind of organisation, gender
    assert len(arrivals) == 3  # one per site
    for chart in charts:
        assert chart.get("role") == "img"
        assert chart.get("aria-label")
        assert chart.find(f"{SVG}title").text == chart.get("aria-label")

    by_site = bar_charts[0]
    assert by_site.get("aria-label") == "By site: registered and attended"
    labels = [text.text for text in by_site.iter(f"{SVG}text") if text.get("class") == "label"]
    assert labels == [
        "Ahal information centre",
        "Ashgabat information centre",
        "Daşoguz welaýat merkezi",
        "Online",
    ]

    def bars(kind: str) -> list[float]:
        return [
            float(rect.get("width"))
            for rect in by_site.iter(f"{SVG}rect")
            if rect.get("class") == f"bar {kind}"
        ]

    registered, attended = bars("registered"), bars("attended")
    assert len(registered) == len(attended) == 4
    # Ahal and online registered 3, the most: the longest bars; nobody came to Daşoguz.
    assert registered[0] == registered[3] == max(registered) > registered[1] > registered[2]
    assert attended[2] == 0 and attended[0] == attended[3] > attended[1]


def test_chart_labels_are_escaped(app, client, signed_in_organizer):
    make_site("mary", name=ODD_SITE)
    event = make_event("odd", {"mary": 5})
    make_registration(event, name="Someone", site="mary")
    html = client.get(f"/manage/events/{event.slug}/report").get_data(as_text=True)
    assert ODD_SITE not in html
    charts = svg_charts(html)  # would raise on a raw "<" or "&"
    by_site = next(chart for chart in charts if chart.get("class") == "bar-chart")
    labels = [text.text for text in by_site.iter(f"{SVG}text") if text.get("class") == "label"]
    assert ODD_SITE in labels
    arrivals = next(chart for chart in charts if chart.get("class") == "arrivals-chart")
    assert arrivals.find(f"{SVG}title").text == f"Arrivals over time at {ODD_SITE}"


@needs_pdftotext
def test_pdf_prints_odd_site_names(app, client, signed_in_organizer, tmp_path):
    make_site("mary", name=ODD_SITE)
    event = make_event("odd", {"mary": 5})
    make_registration(event, name="Someone", site="mary")
    response = client.get(f"/manage/events/{event.slug}/report.pdf")
    assert response.status_code == 200
    assert pdf_by_site(pdf_text(response.get_data(), tmp_path))[ODD_SITE] == (1, 0)


@needs_pdftotext
def test_pdf_of_an_event_nobody_attended_yet(app, client, signed_in_organizer, tmp_path):
    event = make_event("quiet", {"ahal": 5})
    response = client.get(f"/manage/events/{event.slug}/report.pdf")
    assert response.status_code == 200
    text = pdf_text(response.get_data(), tmp_path)
    assert pdf_by_site(text) == {
        "Ahal information centre": (0, 0),
        "Online": (0, 0),
        "Total": (0, 0),
    }
    assert "No check-in was refused." in text
    assert "No arrivals yet" in text
