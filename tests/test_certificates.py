"""Certificates of attendance: who gets one, what it says, and the public check of its code."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from PIL import Image, ImageDraw
from pypdf import PdfReader
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app import create_app
from app.certificates.services import certificate_by_code, issue_certificates
from app.extensions import db
from app.models import (
    Certificate,
    CheckInMethod,
    CompletionRule,
    MessageKind,
    OutboxMessage,
    Role,
    utcnow,
)
from app.refusals import Refusal
from tests.conftest import (
    Config,
    add_checkin,
    get_csrf,
    make_event,
    make_registration,
    make_staff,
    outbox_rows,
    post_form,
)
from tests.test_badges import decode, pdf_pages_as_images, pdf_text

TURKMEN = "Ňurgeldi Şükürow"
CYRILLIC = "Гульнара Аманова"
#: A past morning in Ashgabat (UTC+5): the seminar runs 10:00-14:00 local time.
STARTS = datetime(2025, 6, 12, 5, 0, tzinfo=UTC)
PAGE = "/manage/events/seminar/certificates"


@pytest.fixture
def seminar(app):
    """A seminar held last June, signed by its director."""
    return make_event(
        "seminar",
        {"ashgabat": 50, "balkan": 20},
        starts_at=STARTS,
        certificate_signer="Merdan Orazow, Director",
    )


def scanned(event, name, site="balkan", minutes_after_start=52, **fields):
    """A participant scanned at the door ``minutes_after_start`` minutes after 09:00 local."""
    person = make_registration(event, name=name, site=site, **fields)
    add_checkin(event, person, site, at=STARTS - timedelta(hours=1, minutes=-minutes_after_start))
    return person


def certificates() -> list[Certificate]:
    return list(db.session.scalars(sa.select(Certificate).order_by(Certificate.id)))


def certificate_emails() -> list[OutboxMessage]:
    return outbox_rows(MessageKind.CERTIFICATE)


def issue(client):
    return post_form(client, f"{PAGE}/issue", {}, page=PAGE)


def revoke(client, person, reason="Attended another person's place"):
    url = f"{PAGE}/{person.id}/revoke"
    return post_form(client, url, {"reason": reason})


def certificate_pdf(client, person) -> bytes:
    response = client.get(f"/r/{person.manage_token}/certificate.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    return response.data


def png(width=300, height=100) -> bytes:
    image = Image.new("RGBA", (width, height), (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(10, 80), (120, 20), (290, 70)], fill=(20, 20, 90, 255), width=4)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def upload_signature(client, data: bytes, filename="signature.png", signer="Merdan Orazow"):
    token = get_csrf(client, PAGE)
    # Encoded in memory: the test client's own encoder leaves a temporary file open for
    # bodies over 500 kB.
    upload = FileStorage(io.BytesIO(data), filename)
    boundary, body = encode_multipart({"signer": signer, "signature": upload, "csrf_token": token})
    return client.post(
        f"{PAGE}/settings", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


# --- who gets one ---------------------------------------------------------------------


def test_only_those_who_met_the_rule_get_a_certificate_and_one_email(
    client, seminar, signed_in_organizer
):
    at_balkan = scanned(seminar, "Aýna Orazowa")
    online = make_registration(seminar, name="Merdan Annaýew", site=None)
    add_checkin(seminar, online, None, method=CheckInMethod.ONLINE_JOIN, at=STARTS)
    make_registration(seminar, name="Jeren Gurbanowa", site="ashgabat")  # never came
    undone = make_registration(seminar, name="Batyr Atayew", site="ashgabat")
    add_checkin(seminar, undone, "ashgabat", at=STARTS, annulled=True)

    page = client.get(PAGE).get_data(as_text=True)
    assert 'id="count-met">2<' in page
    assert 'id="count-to-issue">2<' in page
    assert 'id="count-not-met">2<' in page

    response = issue(client)
    assert response.status_code == 302
    assert {c.registration_id for c in certificates()} == {at_balkan.id, online.id}
    emails = certificate_emails()
    assert sorted(e.recipient for e in emails) == sorted([at_balkan.email, online.email])
    raw = next(e.raw_message for e in emails if e.recipient == at_balkan.email)
    assert f"/r/{at_balkan.manage_token}/certificate.pdf" in raw

    # Pressing "Issue" again issues nothing and writes to nobody.
    response = issue(client)
    assert "Nothing new to issue" in client.get(response.location).get_data(as_text=True)
    assert len(certificates()) == 2
    assert len(certificate_emails()) == 2
    page = client.get(PAGE).get_data(as_text=True)
    assert 'id="count-issued">2<' in page
    assert 'id="count-to-issue">0<' in page


def test_someone_who_did_not_attend_has_no_certificate_to_download(
    client, seminar, signed_in_organizer
):
    came = scanned(seminar, "Aýna Orazowa")
    absent = make_registration(seminar, name="Jeren Gurbanowa", site="balkan")
    issue(client)

    assert client.get(f"/r/{absent.manage_token}/certificate.pdf").status_code == 404
    assert "Download your certificate" not in client.get(f"/r/{absent.manage_token}").text
    assert "Download your certificate" in client.get(f"/r/{came.manage_token}").text


def test_all_days_rule_leaves_out_those_who_missed_a_day(app, signed_in_organizer):
    event = make_event(
        "seminar",
        {"balkan": 20},
        starts_at=STARTS,
        duration=timedelta(days=1, hours=4),
        completion_rule=CompletionRule.ALL_DAYS,
    )
    both = scanned(event, "Aýna Orazowa")
    add_checkin(event, both, "balkan", at=STARTS + timedelta(days=1))
    one = scanned(event, "Merdan Annaýew")

    issued = issue_certificates(event, signed_in_organizer)

    assert [c.registration_id for c in issued] == [both.id]
    assert one.id not in {c.registration_id for c in certificates()}


def test_issuing_is_refused_before_the_event_starts(client, signed_in_organizer):
    event = make_event("seminar", starts_in=timedelta(days=3))
    person = make_registration(event)
    add_checkin(event, person, "ahal")  # a rehearsal, say

    response = issue(client)

    assert response.status_code == 409
    assert "Certificates can be issued once the event has started." in response.text
    assert certificates() == []
    with pytest.raises(Refusal):
        issue_certificates(event, signed_in_organizer)


def test_a_coordinator_may_not_open_or_use_the_certificates_page(client, auth, seminar):
    scanned(seminar, "Aýna Orazowa")
    make_staff("balkan@example.org", Role.COORDINATOR, sites=("balkan",))
    auth.login("balkan@example.org")

    assert client.get(PAGE).status_code == 403
    token = get_csrf(client, "/manage/")
    assert client.post(f"{PAGE}/issue", data={"csrf_token": token}).status_code == 403
    assert client.get("/manage/events/seminar/certificates.pdf").status_code == 403
    assert certificates() == []


# --- what it says -----------------------------------------------------------------------


def test_the_pdf_names_the_person_the_event_the_place_and_how_we_know(
    client, seminar, signed_in_organizer
):
    person = scanned(seminar, "Aýna Orazowa")
    issue(client)
    [certificate] = certificates()

    text = pdf_text(certificate_pdf(client, person))

    assert "Certificate of attendance" in text
    assert "Aýna Orazowa" in text
    assert "The Constitution of Turkmenistan: human rights" in text
    assert "June 12, 2025" in text
    assert "at Balkan information centre" in text
    assert "scanned at Balkan information centre at 9:52" in text
    assert "Organised by UNDP Turkmenistan" in text
    assert "Merdan Orazow, Director" in text
    assert certificate.code in text


def test_minutes_online_from_the_meeting_report_are_the_evidence(
    client, seminar, signed_in_organizer
):
    person = make_registration(seminar, name="Merdan Annaýew", site=None)
    add_checkin(
        seminar, person, None, method=CheckInMethod.ONLINE_REPORT, at=STARTS, online_minutes=176
    )
    issue(client)

    text = pdf_text(certificate_pdf(client, person))

    assert "176 minutes online by the meeting report" in text
    assert "online" in text


def test_the_qr_on_the_certificate_opens_its_verification_page(
    client, seminar, signed_in_organizer
):
    person = scanned(seminar, "Aýna Orazowa")
    issue(client)
    [certificate] = certificates()

    [page] = pdf_pages_as_images(certificate_pdf(client, person), scale=3)

    url = f"http://localhost/verify/{certificate.code}"
    assert decode(page) == [url]
    verified = client.get(url.removeprefix("http://localhost"))
    assert verified.status_code == 200
    assert "Aýna Orazowa" in verified.text


def test_turkmen_and_cyrillic_names_print_in_each_persons_language(
    client, seminar, signed_in_organizer
):
    turkmen = scanned(seminar, TURKMEN, language="tk")
    russian = scanned(seminar, CYRILLIC, site="ashgabat", language="ru")
    issue(client)

    assert TURKMEN in pdf_text(certificate_pdf(client, turkmen))
    russian_text = pdf_text(certificate_pdf(client, russian))
    assert CYRILLIC in russian_text
    assert "12 июня 2025" in russian_text  # the dates in the reader's language

    sheet = client.get("/manage/events/seminar/certificates.pdf")
    assert sheet.status_code == 200
    assert "no-store" in sheet.headers["Cache-Control"]
    reader = PdfReader(io.BytesIO(sheet.data))
    assert len(reader.pages) == 2
    # Sorted by name: "Гульнара" folds to "gul...", before "Ňurgeldi" ("nur...").
    assert CYRILLIC in reader.pages[0].extract_text()
    assert TURKMEN in reader.pages[1].extract_text()


def test_the_sheet_prints_only_valid_certificates(client, seminar, signed_in_organizer):
    kept = scanned(seminar, "Aýna Orazowa")
    revoked = scanned(seminar, "Merdan Annaýew")
    issue(client)
    revoke(client, revoked)

    sheet = client.get("/manage/events/seminar/certificates.pdf")

    reader = PdfReader(io.BytesIO(sheet.data))
    assert len(reader.pages) == 1
    assert kept.name in reader.pages[0].extract_text()


# --- the public check -----------------------------------------------------------------


def test_the_verification_page_says_valid_then_revoked(client, seminar, signed_in_organizer):
    person = scanned(seminar, "Aýna Orazowa", organization="Ministry of Justice")
    issue(client)
    [certificate] = certificates()

    response = client.get(f"/verify/{certificate.code}")
    assert response.status_code == 200
    assert "Valid" in response.text
    assert "Aýna Orazowa" in response.text
    assert seminar.title in response.text
    assert "June 12, 2025" in response.text
    # Only the name: neither the address, nor where they work, nor where they sat.
    for private in (person.email, "Ministry of Justice", "Balkan"):
        assert private not in response.text
    assert response.headers["Cache-Control"] == "no-store"

    assert revoke(client, person).status_code == 302

    response = client.get(f"/verify/{certificate.code}")
    assert response.status_code == 200
    assert "Revoked" in response.text
    assert "Valid" not in response.text
    assert utcnow().strftime("%Y") in response.text
    # Nor can the participant download it any more.
    assert client.get(f"/r/{person.manage_token}/certificate.pdf").status_code == 404
    assert "Download your certificate" not in client.get(f"/r/{person.manage_token}").text


def test_a_revocation_needs_a_reason(client, seminar, signed_in_organizer):
    person = scanned(seminar, "Aýna Orazowa")
    issue(client)

    response = revoke(client, person, reason="   ")

    assert response.status_code == 200
    assert "Say why the certificate is revoked." in response.text
    assert certificates()[0].is_valid


@pytest.mark.parametrize(
    "code",
    [
        "A" * 32,
        "not-a-code",
        "ň" * 300,
        "x" * 5000,
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "..%2F..%2Fetc",
        "' OR '1'='1",
    ],
)
def test_an_unknown_code_is_not_valid(client, seminar, code):
    response = client.get(f"/verify/{code}")

    assert response.status_code == 404
    assert "Not valid" in response.text
    assert response.headers["Cache-Control"] == "no-store"


def test_an_altered_code_is_not_valid(client, seminar, signed_in_organizer):
    scanned(seminar, "Aýna Orazowa")
    issue(client)
    [certificate] = certificates()
    code = certificate.code
    altered = code[:-1] + ("A" if code[-1] != "A" else "B")

    for forged in (altered, code.upper() if code != code.upper() else code.lower(), code + "x"):
        response = client.get(f"/verify/{forged}")
        assert response.status_code == 404
        assert "Not valid" in response.text
        assert "Aýna Orazowa" not in response.text
    assert certificate_by_code(altered) is None


def test_a_nul_byte_in_the_code_is_refused_not_a_server_error(client, seminar):
    assert client.get("/verify/abc%00def").status_code == 400


# --- revoking those who no longer meet the rule ---------------------------------------------


def test_a_check_in_undone_later_can_revoke_the_certificate(client, seminar, signed_in_organizer):
    person = make_registration(seminar, name="Aýna Orazowa", site="balkan")
    checkin = add_checkin(seminar, person, "balkan", at=STARTS)
    kept = scanned(seminar, "Merdan Annaýew")
    issue(client)
    checkin.annulled_at = utcnow()
    db.session.commit()

    page = client.get(PAGE).get_data(as_text=True)
    assert 'id="count-stale">1<' in page
    assert "No longer meets the rule" in page

    response = post_form(client, f"{PAGE}/revoke-stale", {}, page=PAGE)

    assert response.status_code == 302
    by_person = {c.registration_id: c for c in certificates()}
    assert not by_person[person.id].is_valid
    assert "completion rule" in by_person[person.id].revoked_reason
    assert by_person[kept.id].is_valid
    # And issuing again gives the revoked one nothing new.
    issue(client)
    assert len(certificates()) == 2
    assert len(certificate_emails()) == 2


# --- the signature --------------------------------------------------------------------------


def test_an_uploaded_signature_is_printed_and_can_be_removed(client, seminar, signed_in_organizer):
    person = scanned(seminar, "Aýna Orazowa")
    issue(client)

    response = upload_signature(client, png(), signer="Merdan Orazow, Director")
    assert response.status_code == 302
    db.session.refresh(seminar)
    assert seminar.certificate_signature_type == "image/png"
    reader = PdfReader(io.BytesIO(certificate_pdf(client, person)))
    assert len(reader.pages[0].images) == 1
    assert client.get(f"{PAGE}/signature").mimetype == "image/png"

    assert post_form(client, f"{PAGE}/signature/remove", {}, page=PAGE).status_code == 302
    db.session.refresh(seminar)
    assert seminar.certificate_signature is None
    reader = PdfReader(io.BytesIO(certificate_pdf(client, person)))
    assert len(reader.pages[0].images) == 0


def test_a_jpeg_signature_is_accepted(client, seminar, signed_in_organizer):
    buffer = io.BytesIO()
    Image.new("RGB", (400, 120), "white").save(buffer, "JPEG")

    assert upload_signature(client, buffer.getvalue(), "scan.jpg").status_code == 302
    db.session.refresh(seminar)
    assert seminar.certificate_signature_type == "image/jpeg"


def noise_png(side: int) -> bytes:
    """A PNG that does not compress: random pixels."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (lambda: noise_png(700), "big.png", "larger than 1 MB"),
        (lambda: b"", "empty.png", "The file is empty"),
        (lambda: b"%PDF-1.4 not an image at all", "signature.png", "not a PNG or JPEG image"),
        (lambda: b"GIF89a" + b"\x00" * 64, "signature.gif", "not a PNG or JPEG image"),
        (lambda: png()[:60], "cut.png", "not a PNG or JPEG image"),
        (lambda: png(8000, 20), "wide.png", "8000 × 20 pixels"),
    ],
)
def test_a_bad_signature_upload_is_refused_at_the_field(
    client, seminar, signed_in_organizer, data, filename, message
):
    response = upload_signature(client, data(), filename, signer="Someone else")

    assert response.status_code == 422
    assert 'id="signature-error"' in response.text
    assert message in response.text
    db.session.refresh(seminar)
    assert seminar.certificate_signature is None
    assert seminar.certificate_signer == "Merdan Orazow, Director"


def test_an_upload_over_the_request_limit_gets_the_same_message(
    app, client, seminar, signed_in_organizer
):
    app.config["MAX_CONTENT_LENGTH"] = 100_000

    response = upload_signature(client, noise_png(300))

    assert response.status_code == 413
    assert 'id="signature-error"' in response.text
    assert "larger than 1 MB" in response.text


def test_the_verification_page_is_rate_limited_per_address(app):
    class LimitedConfig(Config):
        RATELIMIT_ENABLED = True
        RATELIMIT_STORAGE_URI = "memory://"
        VERIFY_RATE_LIMIT = "3 per minute"

    limited = create_app(LimitedConfig)
    try:
        client = limited.test_client()
        answers = [client.get(f"/verify/{'A' * 32}").status_code for _ in range(4)]
    finally:
        with limited.app_context():
            db.engine.dispose()

    assert answers == [404, 404, 404, 429]
