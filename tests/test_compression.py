"""Pages, scripts and styles travel compressed to a browser that accepts it; files that are
compressed already, and streamed lists, travel as they are."""

from __future__ import annotations

import gzip
import io

import brotli
import pytest
from pypdf import PdfReader

from tests.conftest import make_event, make_registration

BROWSER = {"Accept-Encoding": "gzip, deflate, br"}


@pytest.fixture
def seminar(app):
    event = make_event("seminar", {"ashgabat": 50, "ahal": 10})
    make_registration(event, name="Aýna Orazowa", site="ahal")
    return event


def test_a_page_comes_gzipped_and_unpacks_to_the_same_html(client, seminar):
    plain = client.get("/events/seminar")
    packed = client.get("/events/seminar", headers={"Accept-Encoding": "gzip"})

    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert int(packed.headers["Content-Length"]) == len(packed.data) < len(plain.data) / 2
    assert gzip.decompress(packed.data) == plain.data
    # Compression changes nothing of what the page says about itself.
    for header in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"):
        assert packed.headers[header] == plain.headers[header]


def test_a_browser_that_takes_brotli_gets_brotli(client, seminar):
    plain = client.get("/events/seminar/register")
    packed = client.get("/events/seminar/register", headers=BROWSER)
    assert packed.headers["Content-Encoding"] == "br"
    assert brotli.decompress(packed.data) == plain.data


def test_a_stylesheet_and_a_script_come_compressed(client):
    for path in ("/static/css/app.css", "/static/js/checkin/main.js"):
        plain = client.get(path)
        packed = client.get(path, headers={"Accept-Encoding": "gzip"})
        assert packed.headers["Content-Encoding"] == "gzip", path
        assert gzip.decompress(packed.data) == plain.data, path


def test_a_pdf_download_is_not_compressed_twice(client, seminar, signed_in_organizer):
    response = client.get("/manage/events/seminar/attendance.pdf?site=ahal", headers=BROWSER)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "Content-Encoding" not in response.headers
    assert len(PdfReader(io.BytesIO(response.data)).pages) == 1


def test_a_streamed_list_is_sent_as_it_is_written(client, seminar, signed_in_organizer):
    response = client.get("/manage/events/seminar/attendance.csv", headers=BROWSER)
    assert response.status_code == 200
    assert response.is_streamed
    assert "Content-Encoding" not in response.headers
    assert "Aýna Orazowa" in response.get_data(as_text=True)
