"""QR badges: decoded by an independent reader, printed with the names unchanged."""

import io
import xml.etree.ElementTree as ET

import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4, A6
from reportlab.pdfbase.pdfmetrics import stringWidth

from app.badges.fitting import fit_text
from app.badges.layout import CONTENT_WIDTH, BadgeData, fit_name
from app.badges.pdf import render_badge, render_badge_sheet, sort_badges
from app.badges.qr import qr_matrix, qr_png, qr_svg
from app.extensions import db
from app.fonts import register_fonts
from app.models import EventStatus, RegistrationStatus, Role
from tests.conftest import make_event, make_registration, make_staff

TURKMEN = "Ňurgeldi Şükürow"
CYRILLIC = "Гульнара Аманова"


def decode(image: Image.Image) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(image)]


def pdf_pages_as_images(data: bytes, scale: float = 2) -> list[Image.Image]:
    document = pdfium.PdfDocument(data)
    return [page.render(scale=scale).to_pil() for page in document]


def pdf_text(data: bytes) -> str:
    """All text of a PDF, with line breaks and spacing folded to single spaces."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def assert_pdf_pages(response, pages: int, size: tuple[float, float]) -> None:
    """The response is a PDF of ``pages`` pages, the first of them ``size`` points."""
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == pages
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (round(size[0]), round(size[1]))


def badge(name="Aýna Orazowa", code="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", **fields):
    values = {
        "organization": "Institute of State, Law and Democracy",
        "position": "Researcher",
        "participation": "Ahal information centre",
        "event_title": "The Constitution of Turkmenistan",
        "event_when": "Friday, 12 June 2026 · 10:00–14:00",
    }
    values.update(fields)
    return BadgeData(name=name, code=code, **values)


# --- the QR ------------------------------------------------------------------


def test_badge_png_decodes_to_exactly_the_badge_code(client, app):
    event = make_event()
    registration = make_registration(event, name=TURKMEN)
    response = client.get(f"/r/{registration.manage_token}/badge.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert "no-store" in response.headers["Cache-Control"]
    [result] = zxingcpp.read_barcodes(Image.open(io.BytesIO(response.data)))
    assert result.text == registration.badge_code
    assert result.text != registration.manage_token
    assert result.format == zxingcpp.BarcodeFormat.QRCode
    assert result.ec_level in ("M", "Q", "H")


def test_qr_uses_alphanumeric_mode_and_stays_small(app):
    code = "RVRMQVEFRNS73G2KCYJXENDB5JOHQUB3"
    # 32 base32 characters fit version 2 (25 modules) only in alphanumeric mode;
    # byte mode would need version 3 (29 modules).
    assert len(qr_matrix(code)) == 25
    assert decode(Image.open(io.BytesIO(qr_png(code)))) == [code]


def test_qr_still_encodes_codes_outside_the_alphanumeric_set(app):
    assert decode(Image.open(io.BytesIO(qr_png("lower-case code")))) == ["lower-case code"]


def test_badge_svg_is_a_scalable_qr_on_white(client, app):
    event = make_event()
    registration = make_registration(event)
    response = client.get(f"/r/{registration.manage_token}/badge.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.data)  # noqa: S314  (our own output)
    assert root.tag.endswith("svg")
    assert root.get("viewBox")
    assert response.data == qr_svg(registration.badge_code)
    assert b'fill="white"' in response.data


# --- one badge -------------------------------------------------------------------


def test_badge_pdf_is_a6_scans_and_prints_names_unchanged(client, app):
    event = make_event()
    registration = make_registration(event, name=TURKMEN, organization=CYRILLIC + " и партнёры")
    response = client.get(f"/r/{registration.manage_token}/badge.pdf")
    assert_pdf_pages(response, 1, A6)
    text = pdf_text(response.data)
    assert TURKMEN in text
    assert CYRILLIC in text
    assert "Ahal information centre" in text
    assert event.title.split(":")[0] in text

    [image] = pdf_pages_as_images(response.data)
    assert decode(image) == [registration.badge_code]


def test_badge_pdf_embeds_the_unicode_font(app):
    data = render_badge(badge(name=CYRILLIC))
    reader = PdfReader(io.BytesIO(data))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    descriptors = [font.get_object()["/FontDescriptor"].get_object() for font in fonts.values()]
    assert descriptors and all("/FontFile2" in d for d in descriptors)
    assert all("DejaVuSans" in str(d["/FontName"]) for d in descriptors)


@pytest.mark.parametrize(
    "name, organization",
    [
        (
            "Gurbanguly Berdimuhamedowiçowyňyzlaryňkylaryňky Annaýewa-Orazmuhammedowa "
            "Hojamuhammedowna Begmyradowa Ýazmyradowa Şükürowa",
            "Государственное учреждение «Институт государства, права и демократии» " * 6,
        ),
        ("Ä" * 120, "Ž" * 300),
    ],
)
def test_long_names_and_organisations_stay_inside_the_badge(app, name, organization):
    data = render_badge(badge(name=name, organization=organization, position="Başlyk " * 20))
    document = pdfium.PdfDocument(data)
    page = document[0]
    width, height = page.get_size()
    textpage = page.get_textpage()
    assert textpage.count_chars() > 100
    margin = 5 * 72 / 25.4  # 5 mm
    for index in range(textpage.count_chars()):
        left, bottom, right, top = textpage.get_charbox(index)
        if right - left <= 0:  # spaces and line breaks have no box
            continue
        assert margin <= left and right <= width - margin, (index, left, right)
        assert margin <= bottom and top <= height - margin, (index, bottom, top)
    [image] = pdf_pages_as_images(data)
    assert decode(image) == ["ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"]


def test_fitting_wraps_then_shrinks_and_never_exceeds_the_width(app):
    regular, bold = register_fonts()
    size, lines = fit_name(TURKMEN, bold)
    assert lines == (TURKMEN,) and size >= 18
    size, lines = fit_name("Ahmet " * 12, bold)
    assert len(lines) > 1
    for text in ("Ahmet " * 12, "W" * 200, CYRILLIC * 10):
        size, lines = fit_text(text, regular, CONTENT_WIDTH, 40, 12, 7)
        assert lines
        assert all(stringWidth(line, regular, size) <= CONTENT_WIDTH for line in lines)
        assert len(lines) * size * 1.2 <= 40
    size, lines = fit_text("W" * 400, regular, CONTENT_WIDTH, 20, 12, 7)
    assert lines[-1].endswith("…")


# --- refusals ----------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["badge.png", "badge.svg", "badge.pdf"])
def test_unknown_token_gets_404(client, app, suffix):
    assert client.get(f"/r/no-such-token/{suffix}").status_code == 404


@pytest.mark.parametrize("suffix", ["badge.png", "badge.svg", "badge.pdf"])
def test_cancelled_registration_gets_no_badge(client, app, suffix):
    event = make_event()
    registration = make_registration(event, status=RegistrationStatus.CANCELLED)
    response = client.get(f"/r/{registration.manage_token}/{suffix}")
    assert response.status_code == 410
    assert response.mimetype == "text/html"
    assert "This registration has been cancelled, so it has no badge." in response.get_data(
        as_text=True
    )


def test_online_participant_gets_no_badge_but_a_clear_page(client, app):
    event = make_event()
    registration = make_registration(event, site=None)
    response = client.get(f"/r/{registration.manage_token}/badge.pdf")
    assert response.status_code == 410
    assert "You take part online" in response.get_data(as_text=True)


def test_waitlisted_and_cancelled_event_get_no_badge(client, app):
    event = make_event()
    waiting = make_registration(event, status=RegistrationStatus.WAITLISTED)
    assert client.get(f"/r/{waiting.manage_token}/badge.png").status_code == 409
    confirmed = make_registration(event, name="B", email="b@example.org")
    event.status = EventStatus.CANCELLED
    db.session.commit()
    assert client.get(f"/r/{confirmed.manage_token}/badge.pdf").status_code == 410


# --- the personal page ----------------------------------------------------------------


def test_personal_page_shows_the_qr_large_with_brightness_note(client, app):
    event = make_event()
    registration = make_registration(event)
    page = client.get(f"/r/{registration.manage_token}").get_data(as_text=True)
    assert f'src="/r/{registration.manage_token}/badge.svg"' in page
    assert 'width="280"' in page
    assert "brightness" in page
    assert f"/r/{registration.manage_token}/badge.pdf" in page
    assert "/static/css/invites.css" in page
    # And in the visitor's language.
    page = client.get(f"/r/{registration.manage_token}?lang=ru").get_data(as_text=True)
    assert f"/r/{registration.manage_token}/badge.svg" in page


def test_personal_page_of_online_participant_shows_join_link_not_qr(client, app):
    event = make_event()
    registration = make_registration(event, site=None)
    page = client.get(f"/r/{registration.manage_token}").get_data(as_text=True)
    assert "badge.svg" not in page
    assert f'href="/r/{registration.manage_token}/join"' in page


# --- sheets ---------------------------------------------------------------------------


NAMES = [
    "Ýazgül Ataýewa",
    TURKMEN,
    CYRILLIC,
    "Aýna Orazowa",
    "Merdan Gurbanow",
    "Bahar Hojaýewa",
    "Döwlet Annaýew",
    "Jeren Öwezowa",
    "Çary Nurmyradow",
]


def confirmed_nine(event):
    people = []
    for index, name in enumerate(NAMES):
        people.append(
            make_registration(
                event,
                name=name,
                email=f"person{index}@example.org",
                site="ahal" if index % 3 else "ashgabat",
            )
        )
    make_registration(
        event, name="Waiting Wepa", email="w@example.org", status=RegistrationStatus.WAITLISTED
    )
    make_registration(
        event, name="Cancelled Cemal", email="c@example.org", status=RegistrationStatus.CANCELLED
    )
    make_registration(event, name="Online Oraz", email="o@example.org", site=None)
    return people


def test_badge_sheet_has_four_per_a4_page_for_confirmed_people_only(client, signed_in_organizer):
    event = make_event()
    people = confirmed_nine(event)
    response = client.get(f"/manage/events/{event.slug}/badges.pdf")
    assert_pdf_pages(response, 3, A4)

    text = pdf_text(response.data)
    for name in NAMES:
        assert name in text
    for excluded in ("Waiting Wepa", "Cancelled Cemal", "Online Oraz"):
        assert excluded not in text
    # Sorted by name, Turkmen and Cyrillic letters filed under their Latin base letter.
    positions = [
        text.index(badge.name)
        for badge in sort_badges(
            [BadgeData(p.name, "", "", "", "", "", p.badge_code) for p in people]
        )
    ]
    assert positions == sorted(positions)
    assert text.index("Aýna Orazowa") < text.index("Bahar Hojaýewa") < text.index("Çary")

    first_page = pdf_pages_as_images(response.data)[0]
    codes = {p.badge_code for p in people}
    decoded = decode(first_page)
    assert len(decoded) == 4 and set(decoded) <= codes


def test_badge_sheet_filters_by_site(client, signed_in_organizer):
    event = make_event()
    people = confirmed_nine(event)
    response = client.get(f"/manage/events/{event.slug}/badges.pdf?site=ashgabat")
    assert response.status_code == 200
    text = pdf_text(response.data)
    at_ashgabat = [p.name for p in people if p.site.slug == "ashgabat"]
    assert len(at_ashgabat) == 3
    assert all(name in text for name in at_ashgabat)
    assert not any(p.name in text for p in people if p.site.slug == "ahal")
    assert len(PdfReader(io.BytesIO(response.data)).pages) == 1


def test_badge_sheet_refuses_a_site_of_another_event(client, signed_in_organizer):
    event = make_event("seminar", {"ashgabat": 10, "ahal": 10})
    make_event("other", {"mary": 10})
    confirmed_nine(event)
    response = client.get("/manage/events/seminar/badges.pdf?site=mary")
    assert response.status_code == 404
    assert "does not take part in this event" in response.get_data(as_text=True)
    assert client.get("/manage/events/seminar/badges.pdf?site=nowhere").status_code == 404
    assert client.get("/manage/events/nothing/badges.pdf").status_code == 404


def test_coordinator_prints_only_their_own_site(client, auth, app):
    event = make_event()
    people = confirmed_nine(event)
    make_staff("ahal@example.org", Role.COORDINATOR, sites=("ahal",))
    auth.login("ahal@example.org")
    assert client.get(f"/manage/events/{event.slug}/badges.pdf?site=ashgabat").status_code == 403
    response = client.get(f"/manage/events/{event.slug}/badges.pdf")
    assert response.status_code == 200
    text = pdf_text(response.data)
    assert all(p.name in text for p in people if p.site.slug == "ahal")
    assert not any(p.name in text for p in people if p.site.slug == "ashgabat")
    response = client.get(f"/manage/events/{event.slug}/badges.pdf?site=ahal")
    assert response.status_code == 200


def test_badge_sheet_needs_staff_login(client, app):
    event = make_event()
    confirmed_nine(event)
    response = client.get(f"/manage/events/{event.slug}/badges.pdf")
    assert response.status_code == 302
    assert "/manage/login" in response.headers["Location"]


def test_badge_sheet_with_nobody_to_print_says_so(client, signed_in_organizer):
    event = make_event()
    make_registration(event, status=RegistrationStatus.WAITLISTED)
    response = client.get(f"/manage/events/{event.slug}/badges.pdf")
    assert response.status_code == 404
    assert "no confirmed in-person participants" in response.get_data(as_text=True)


def test_badge_sheet_runs_a_constant_number_of_queries(client, signed_in_organizer, count_queries):
    event = make_event()
    make_registration(event, name="First", email="first@example.org")
    with count_queries() as few:
        assert client.get(f"/manage/events/{event.slug}/badges.pdf").status_code == 200
    confirmed_nine(event)
    with count_queries() as many:
        assert client.get(f"/manage/events/{event.slug}/badges.pdf").status_code == 200
    assert many.count == few.count


def test_sheet_of_nothing_is_still_a_valid_pdf(app):
    assert len(PdfReader(io.BytesIO(render_badge_sheet([]))).pages) == 1
