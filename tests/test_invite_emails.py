"""Invite emails as written to the outbox, parsed back with the email package."""

import io
import re
from datetime import timedelta
from email import message_from_string, policy
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

import pytest
import zxingcpp
from icalendar import Calendar
from PIL import Image

from app.events.services import apply_event_changes
from app.extensions import db
from app.mail.delivery import send_pending
from app.mail.notices import expand_notices
from app.models import EventStatus, Mode, RegistrationStatus
from app.registrations.services import (
    RegistrationInput,
    cancel_registration,
    change_participation,
    register_participant,
)
from tests.conftest import make_event, make_registration, outbox_rows, parsed_email


def outbox(kind=None, registration=None):
    """What the outbox holds once the worker has written the emails of waiting notices."""
    expand_notices()
    return outbox_rows(kind, registration)


def leaves(message) -> list[str]:
    return [part.get_content_type() for part in message.walk() if not part.is_multipart()]


def calendar_part(message):
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) <= 1
    return parts[0] if parts else None


def ics_of(message):
    """The calendar part's METHOD and VEVENT, after checking the MIME rules."""
    part = calendar_part(message)
    assert part is not None, leaves(message)
    assert part.get_content_charset() == "utf-8"
    assert part["Content-Transfer-Encoding"] == "base64"
    raw = part.get_content().encode("utf-8")
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    calendar = Calendar.from_ical(raw)
    # iMIP (RFC 6047): the MIME method must equal the file's METHOD.
    assert part.get_param("method") == calendar["METHOD"]
    [vevent] = calendar.walk("VEVENT")
    return str(calendar["METHOD"]), vevent


def register(event, mode=Mode.IN_PERSON, site="ahal", **fields):
    data = RegistrationInput(
        name=fields.pop("name", "Ňurgeldi Şükürow"),
        email=fields.pop("email", "nurgeldi@example.org"),
        mode=mode,
        site_slug=site if mode == Mode.IN_PERSON else None,
        organization="Ahal information centre for human rights",
        consent=True,
        **fields,
    )
    outcome = register_participant(event, data)
    db.session.commit()
    return outcome.registration


def test_confirmation_for_in_person_has_text_html_calendar_in_order_and_inline_badge(app):
    event = make_event()
    registration = register(event)
    [row] = outbox("confirmation")
    message = parsed_email(row)

    assert message.get_content_type() == "multipart/mixed"
    alternative, *files = message.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    texts = [p.get_content_type() for p in alternative.walk() if p.get_content_maintype() == "text"]
    assert texts == ["text/plain", "text/html", "text/calendar"]
    # Outlook wants the calendar as the last alternative.
    assert list(alternative.iter_parts())[-1].get_content_type() == "text/calendar"
    # The HTML travels with its image in multipart/related.
    related = list(alternative.iter_parts())[1]
    assert related.get_content_type() == "multipart/related"
    html, image = related.iter_parts()
    assert html.get_content_type() == "text/html" and html.get_content_charset() == "utf-8"
    assert image.get_content_type() == "image/png"
    content_id = image["Content-ID"].strip("<>")
    assert f'src="cid:{content_id}"' in html.get_content()
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(image.get_content())))
    assert [d.text for d in decoded] == [registration.badge_code]

    plain = message.get_body(preferencelist=("plain",))
    assert plain.get_content_charset() == "utf-8"
    text = plain.get_content()
    assert "Ňurgeldi Şükürow" in text
    assert f"http://localhost/r/{registration.manage_token}/badge.pdf" in text
    assert "/join" not in text

    # A copy of the invite as a file, for mail programs without invite support.
    assert [f.get_filename() for f in files] == ["invite.ics"]
    assert files[0].get_content_type() == "application/ics"

    method, vevent = ics_of(message)
    assert method == "REQUEST"
    assert vevent["SEQUENCE"] == 0
    assert vevent["DTSTART"].dt == event.starts_at
    assert vevent["ATTENDEE"].params["CN"] == "Ňurgeldi Şükürow"
    assert str(vevent["ATTENDEE"]) == "mailto:nurgeldi@example.org"
    assert vevent["LOCATION"].startswith("Ahal information centre")


def test_a_site_without_an_address_is_named_alone_in_the_confirmation(app):
    event = make_event()
    event.event_sites[1].site.address = ""
    db.session.commit()
    register(event)
    [row] = outbox("confirmation")
    message = parsed_email(row)
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Where: Ahal information centre\n" in text.replace("\r\n", "\n")
    assert "<td>Ahal information centre</td>" in html


def test_confirmation_for_online_has_join_link_and_no_badge(app):
    event = make_event()
    registration = register(event, mode=Mode.ONLINE)
    [row] = outbox("confirmation")
    message = parsed_email(row)
    assert "image/png" not in leaves(message)
    join = f"http://localhost/r/{registration.manage_token}/join"
    assert join in message.get_body(preferencelist=("plain",)).get_content()
    assert f'href="{join}"' in message.get_body(preferencelist=("html",)).get_content()
    method, vevent = ics_of(message)
    assert method == "REQUEST"
    assert vevent["LOCATION"] == join


def test_waitlisted_and_link_resend_carry_no_calendar(app):
    event = make_event(sites={"ahal": 1})
    register(event, name="First", email="first@example.org")
    waiting = register(event, name="Second", email="second@example.org")
    assert waiting.status == RegistrationStatus.WAITLISTED
    [row] = outbox("waitlisted")
    message = parsed_email(row)
    assert calendar_part(message) is None
    assert "image/png" not in leaves(message)
    register(event, name="Second", email="second@example.org")
    [resend] = outbox("link_resend")
    assert calendar_part(parsed_email(resend)) is None


def test_promoted_person_gets_request_with_higher_sequence(app):
    event = make_event(sites={"ahal": 1})
    first = register(event, name="First", email="first@example.org")
    second = register(event, name="Second", email="second@example.org")
    cancel_registration(first)
    db.session.commit()
    [row] = outbox("promoted")
    assert row.registration_id == second.id
    method, vevent = ics_of(parsed_email(row))
    assert method == "REQUEST"
    assert vevent["SEQUENCE"] == 1
    assert "image/png" in leaves(parsed_email(row))


def test_change_and_cancel_keep_the_uid_and_raise_the_sequence(app):
    event = make_event()
    registration = register(event)
    _, confirmed = ics_of(parsed_email(outbox("confirmation")[0]))

    change_participation(registration, Mode.ONLINE, None)
    db.session.commit()
    [updated] = outbox("updated")
    method, moved = ics_of(parsed_email(updated))
    assert method == "REQUEST"
    assert moved["UID"] == confirmed["UID"]
    assert moved["SEQUENCE"] == confirmed["SEQUENCE"] + 1
    assert moved["LOCATION"].endswith("/join")
    assert "image/png" not in leaves(parsed_email(updated))

    cancel_registration(registration)
    db.session.commit()
    [cancelled] = outbox("cancelled")
    message = parsed_email(cancelled)
    method, withdrawn = ics_of(message)
    assert method == "CANCEL"
    assert 'method="CANCEL"' in cancelled.raw_message
    assert withdrawn["UID"] == confirmed["UID"]
    assert withdrawn["SEQUENCE"] == moved["SEQUENCE"] + 1
    assert withdrawn["STATUS"] == "CANCELLED"
    assert "image/png" not in leaves(message)


def test_time_change_sends_one_update_to_each_active_person_only(app):
    event = make_event()
    people = [
        register(event, name="A", email="a@example.org"),
        register(event, name="B", email="b@example.org", mode=Mode.ONLINE),
    ]
    gone = register(event, name="C", email="c@example.org")
    cancel_registration(gone)
    db.session.commit()
    new_start = event.starts_at + timedelta(days=1)
    changes = {"starts_at": new_start, "ends_at": new_start + timedelta(hours=3)}
    assert apply_event_changes(event, changes)
    db.session.commit()
    # The same values again change nothing and send nothing.
    assert not apply_event_changes(event, dict(changes))
    db.session.commit()

    updates = outbox("updated")
    assert sorted(row.registration_id for row in updates) == sorted(p.id for p in people)
    assert not outbox("updated", registration=gone)
    for row in updates:
        method, vevent = ics_of(parsed_email(row))
        _, original = ics_of(parsed_email(outbox("confirmation", registration=row.registration)[0]))
        assert method == "REQUEST"
        assert vevent["UID"] == original["UID"]
        assert vevent["SEQUENCE"] == original["SEQUENCE"] + 1
        assert vevent["DTSTART"].dt == new_start


def test_cancelled_event_sends_cancel_to_everyone_still_registered(app):
    event = make_event()
    person = register(event)
    waiting = make_registration(
        event, name="W", email="w@example.org", status=RegistrationStatus.WAITLISTED
    )
    apply_event_changes(event, {"status": EventStatus.CANCELLED})
    db.session.commit()
    rows = outbox("event_cancelled")
    assert sorted(r.registration_id for r in rows) == sorted([person.id, waiting.id])
    for row in rows:
        method, vevent = ics_of(parsed_email(row))
        assert method == "CANCEL"
        assert vevent["STATUS"] == "CANCELLED"
        assert vevent["SEQUENCE"] >= 1


def test_eml_file_written_by_the_outbox_parses_the_same(app, tmp_path):
    event = make_event()
    register(event)
    sent, failed = send_pending()
    assert (sent, failed) == (1, 0)
    [path] = list((tmp_path / "outbox").glob("*.eml"))
    message = message_from_string(path.read_text(encoding="utf-8"), policy=policy.default)
    method, _ = ics_of(message)
    assert method == "REQUEST"


# --- "add to calendar" links --------------------------------------------------

CALENDAR_HOSTS = ("google.com", "outlook.live.com", "outlook.office.com", "office.com", "live.com")


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.hrefs += [value for name, value in attrs if name == "href" and value]


def third_party_calendar_links(html: str, text: str = "") -> list[str]:
    """Every link in ``html`` (and bare URL in ``text``) that leads to Google or Microsoft."""
    parser = _Links()
    parser.feed(html)
    links = parser.hrefs + re.findall(r"https?://\S+", text)
    return [link for link in links if (urlsplit(link).hostname or "").endswith(CALENDAR_HOSTS)]


@pytest.mark.parametrize("mode", [Mode.IN_PERSON, Mode.ONLINE])
def test_google_and_outlook_never_receive_a_personal_link(app, client, mode):
    registration = register(make_event(), mode=mode)
    token = registration.manage_token
    page = client.get(f"/r/{token}").get_data(as_text=True)
    message = parsed_email(outbox("confirmation")[0])
    html = message.get_body(preferencelist=("html",)).get_content()
    text = message.get_body(preferencelist=("plain",)).get_content()

    on_the_page = third_party_calendar_links(page)
    # Google Calendar, Outlook.com and Outlook for work or school accounts.
    assert len(on_the_page) == 3
    for link in on_the_page + third_party_calendar_links(html, text):
        assert token not in unquote(link), link
        assert "/r/" not in unquote(link), link
        assert "http://localhost/events/seminar" in unquote(link)
    # The person's own calendar file keeps the personal links.
    _, vevent = ics_of(message)
    assert token in str(vevent["DESCRIPTION"])
