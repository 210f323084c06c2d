"""Registering through the real form, with CSRF on, and the personal page."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app import create_app
from app.extensions import db, limiter
from app.mail.delivery import send_pending
from app.models import EventStatus, Mode, Registration, RegistrationStatus
from tests.conftest import (
    Config,
    csrf_token_from,
    get_csrf,
    make_event,
    make_registration,
    make_site,
    outbox_rows,
    parsed_email,
)


def form_data(client, slug="seminar", **overrides):
    data = {
        "csrf_token": get_csrf(client, f"/events/{slug}/register"),
        "participation": "ahal",
        "name": "Ňurgeldi Şükürow",
        "email": "Nurgeldi@Example.org",
        "phone": "+993 12 345678",
        "organization": "Ahal information centre for human rights",
        "position": "Head of centre",
        "org_kind": "info_centre",
        "gender": "male",
        "language": "tk",
        "consent": "y",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def registrations():
    return db.session.scalars(sa.select(Registration).order_by(Registration.id)).all()


def test_register_in_person_confirms_and_emails_the_personal_link(client, app):
    event = make_event()
    response = client.post(f"/events/{event.slug}/register", data=form_data(client))
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)

    [registration] = registrations()
    assert registration.status == RegistrationStatus.CONFIRMED
    assert registration.mode == Mode.IN_PERSON and registration.site.slug == "ahal"
    assert registration.email == "nurgeldi@example.org"
    assert registration.language == "tk"
    assert f"/r/{registration.manage_token}" in page
    [message] = outbox_rows("confirmation")
    parsed = parsed_email(message)
    assert parsed["To"] == "nurgeldi@example.org"
    body = parsed.get_body(preferencelist=("plain",)).get_content()
    assert f"http://localhost/r/{registration.manage_token}" in body
    # The request only queued it; the worker writes it to the outbox folder as an .eml.
    assert message.sent_at is None
    assert send_pending() == (1, 0)
    db.session.refresh(message)
    assert message.sent_at is not None
    assert len(list(Path(app.config["MAIL_FILE_DIR"]).glob("*.eml"))) == 1


def test_register_online(client, app):
    event = make_event()
    client.post(f"/events/{event.slug}/register", data=form_data(client, participation="online"))
    [registration] = registrations()
    assert registration.mode == Mode.ONLINE and registration.site_id is None
    assert registration.status == RegistrationStatus.CONFIRMED


def test_tokens_are_long_unique_and_independent(client, app):
    event = make_event()
    first = make_registration(event, name="A", email="a@example.org")
    second = make_registration(event, name="B", email="b@example.org")
    for registration in (first, second):
        assert len(registration.manage_token) >= 43  # 256 bits, URL-safe base64
        assert len(registration.badge_code) == 32  # 160 bits, base32
        assert registration.badge_code.isupper()
        assert registration.manage_token != registration.badge_code
    assert first.manage_token != second.manage_token
    assert first.badge_code != second.badge_code


def test_full_site_puts_people_on_the_waitlist(client, app):
    event = make_event(sites={"ashgabat": 5, "ahal": 1})
    make_registration(event, name="First", site="ahal")
    page = client.get(f"/events/{event.slug}/register").get_data(as_text=True)
    assert "full: waiting list" in page
    response = client.post(f"/events/{event.slug}/register", data=form_data(client))
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "waiting list" in thanks
    assert registrations()[-1].status == RegistrationStatus.WAITLISTED
    assert [m.kind for m in outbox_rows()] == ["waitlisted"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "This field is required."),
        ("name", "x" * 201, "Field cannot be longer than 200 characters."),
        ("email", "not-an-email", "Invalid email address."),
        ("email", "", "This field is required."),
        ("organization", "", "This field is required."),
        ("consent", None, "Please agree to the processing of your data."),
        ("participation", "nowhere", "Not a valid choice."),
        ("participation", None, "Choose how you will take part."),
        ("phone", "call me maybe", "Use digits, spaces and + ( ) - only."),
        ("org_kind", "secret-service", "Not a valid choice."),
        ("org_kind", "", "Choose the kind of organisation, or Other if none fits."),
    ],
)
def test_bad_fields_get_a_message_at_the_field_and_write_nothing(
    client, app, field, value, message
):
    event = make_event()
    response = client.post(
        f"/events/{event.slug}/register", data=form_data(client, **{field: value})
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'id="{field}-error">{message}' in page.replace("&#39;", "'")
    assert registrations() == []
    assert outbox_rows() == []


def test_a_site_not_taking_part_in_this_event_is_refused(client, app):
    make_site("mary")  # exists, but not in this event
    event = make_event(sites={"ashgabat": 10, "ahal": 10})
    response = client.post(
        f"/events/{event.slug}/register", data=form_data(client, participation="mary")
    )
    assert response.status_code == 200
    assert 'id="participation-error"' in response.get_data(as_text=True)
    assert registrations() == []


def test_online_choice_is_refused_for_an_in_person_event(client, app):
    event = make_event(format="in_person")
    page = client.get(f"/events/{event.slug}/register").get_data(as_text=True)
    assert 'value="online"' not in page
    response = client.post(
        f"/events/{event.slug}/register", data=form_data(client, participation="online")
    )
    assert 'id="participation-error"' in response.get_data(as_text=True)
    assert registrations() == []


def test_bad_csrf_token_is_refused_and_writes_nothing(client, app):
    event = make_event()
    response = client.post(
        f"/events/{event.slug}/register", data=form_data(client, csrf_token="forged")
    )
    assert response.status_code in (200, 400)
    assert registrations() == []
    assert response.status_code != 500


def test_same_email_again_creates_nothing_and_reveals_nothing(client, app):
    event = make_event()
    existing = make_registration(
        event, name="Gulnara Amanova", email="gulnara@example.org", phone="+99365000000"
    )
    response = client.post(
        f"/events/{event.slug}/register",
        data=form_data(client, email="GULNARA@example.org", name="Someone Else"),
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "already registered" in page
    for secret in ("Gulnara", existing.manage_token, "+99365000000", existing.organization):
        assert secret not in page
    assert len(registrations()) == 1
    [message] = outbox_rows("link_resend")
    assert message.recipient == "gulnara@example.org"
    assert existing.manage_token in message.raw_message


def test_double_submit_registers_once(client, app):
    event = make_event()
    data = form_data(client)
    first = client.post(f"/events/{event.slug}/register", data=data)
    second = client.post(f"/events/{event.slug}/register", data=data)
    assert first.status_code == second.status_code == 302
    assert len(registrations()) == 1


def test_html_in_names_is_escaped(client, app):
    event = make_event()
    response = client.post(
        f"/events/{event.slug}/register",
        data=form_data(client, name="<script>alert(1)</script>"),
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize(
    ("change", "shown"),
    [
        ({"registration_opens_at": timedelta(days=1)}, "Registration opens on"),
        ({"registration_closes_at": timedelta(days=-1)}, "Registration is closed."),
        ({"status": EventStatus.CANCELLED}, "This event has been cancelled."),
    ],
)
def test_registration_outside_its_window_gets_a_clear_page(client, app, change, shown):
    event = make_event()
    now = datetime.now(UTC)
    for field, value in change.items():
        setattr(event, field, now + value if isinstance(value, timedelta) else value)
    db.session.commit()
    page = client.get(f"/events/{event.slug}/register")
    assert page.status_code == 200
    assert shown in page.get_data(as_text=True)
    assert "<form" not in page.get_data(as_text=True).split("</header>")[1]
    token = get_csrf(client, "/manage/login")
    posted = client.post(f"/events/{event.slug}/register", data={"name": "X", "csrf_token": token})
    assert posted.status_code == 200 and shown in posted.get_data(as_text=True)
    assert registrations() == []


def test_draft_and_unknown_events_are_not_found(client, app):
    make_event(slug="draft", status=EventStatus.DRAFT)
    assert client.get("/events/draft").status_code == 404
    assert client.get("/events/draft/register").status_code == 404
    assert client.get("/events/nope/register").status_code == 404


def test_unknown_or_tampered_tokens_answer_404(client, app):
    event = make_event()
    registration = make_registration(event)
    assert client.get(f"/r/{registration.manage_token}").status_code == 200
    assert client.get(f"/r/{registration.manage_token[:-1]}x").status_code == 404
    assert client.get("/r/" + "a" * 300).status_code == 404
    assert client.post(f"/r/{registration.badge_code}/cancel").status_code in (400, 404)


def manage_csrf(client, registration):
    return get_csrf(client, f"/r/{registration.manage_token}")


def test_personal_page_switches_site_subject_to_capacity(client, app):
    event = make_event(sites={"ashgabat": 1, "ahal": 5})
    make_registration(event, name="Holder", email="holder@example.org", site="ashgabat")
    person = make_registration(event, name="Maral Nuryyeva", site="ahal")
    url = f"/r/{person.manage_token}"

    full = client.post(
        url,
        data={"change-csrf_token": manage_csrf(client, person), "change-participation": "ashgabat"},
    )
    assert "There are no seats left at this site." in full.get_data(as_text=True)
    db.session.refresh(person)
    assert person.site.slug == "ahal"

    moved = client.post(
        url,
        data={"change-csrf_token": manage_csrf(client, person), "change-participation": "online"},
    )
    assert moved.status_code == 302
    db.session.refresh(person)
    assert person.mode == Mode.ONLINE and person.site_id is None
    assert person.ical_sequence == 1
    assert [m.kind for m in outbox_rows()] == ["updated"]


def test_cancel_promotes_the_first_waitlisted_person(client, app):
    event = make_event(sites={"ashgabat": 10, "ahal": 1})
    holder = make_registration(event, name="Holder", email="holder@example.org")
    first = make_registration(
        event, name="First Waiting", email="first@example.org", status=RegistrationStatus.WAITLISTED
    )
    second = make_registration(
        event,
        name="Second Waiting",
        email="second@example.org",
        status=RegistrationStatus.WAITLISTED,
    )
    other_site = make_registration(
        event,
        name="Elsewhere",
        email="else@example.org",
        site="ashgabat",
        status=RegistrationStatus.WAITLISTED,
    )
    response = client.post(
        f"/r/{holder.manage_token}/cancel", data={"cancel-csrf_token": manage_csrf(client, holder)}
    )
    assert response.status_code == 302
    for registration in (holder, first, second, other_site):
        db.session.refresh(registration)
    assert holder.status == RegistrationStatus.CANCELLED and holder.cancelled_at
    assert first.status == RegistrationStatus.CONFIRMED
    assert second.status == RegistrationStatus.WAITLISTED
    assert other_site.status == RegistrationStatus.WAITLISTED
    assert [(m.kind, m.recipient) for m in outbox_rows()] == [
        ("cancelled", "holder@example.org"),
        ("promoted", "first@example.org"),
    ]


def test_cancel_without_csrf_changes_nothing(client, app):
    event = make_event()
    registration = make_registration(event)
    response = client.post(f"/r/{registration.manage_token}/cancel", data={})
    assert response.status_code == 400
    db.session.refresh(registration)
    assert registration.status == RegistrationStatus.CONFIRMED


def test_an_email_that_cannot_be_sent_never_fails_the_registration(client, app):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=9)  # nothing listens there
    event = make_event()
    response = client.post(f"/events/{event.slug}/register", data=form_data(client))
    assert response.status_code == 302
    [registration] = registrations()
    [message] = outbox_rows()
    # The request did not try to send; the worker's try fails and the message waits.
    assert message.sent_at is None and message.attempts == 0
    assert send_pending() == (0, 1)
    db.session.refresh(message)
    assert message.sent_at is None and message.attempts == 1
    assert "Error" in message.last_error or "refused" in message.last_error.lower()
    assert registration.status == RegistrationStatus.CONFIRMED


def _register_many(event, number, start=0):
    for index in range(start, start + number):
        make_registration(
            event,
            name=f"Person {index}",
            email=f"p{index}@example.org",
            site="ahal" if index % 2 else "ashgabat",
        )


def test_event_page_runs_a_constant_number_of_queries(client, app, count_queries):
    event = make_event(sites={"ashgabat": 500, "ahal": 500})
    slug = event.slug
    _register_many(event, 3)
    db.session.remove()
    with count_queries() as few:
        assert client.get(f"/events/{slug}").status_code == 200
    _register_many(db.session.scalar(sa.select(type(event)).where(type(event).slug == slug)), 40, 3)
    db.session.remove()
    with count_queries() as many:
        assert client.get(f"/events/{slug}").status_code == 200
    assert few.count == many.count


def test_registration_post_runs_a_constant_number_of_queries(client, app, count_queries):
    event = make_event(sites={"ashgabat": 500, "ahal": 500})
    slug = event.slug
    db.session.remove()
    data = form_data(client, slug=slug, email="one@example.org")
    with count_queries() as few:
        assert client.post(f"/events/{slug}/register", data=data).status_code == 302
    event = db.session.scalar(sa.select(type(event)).where(type(event).slug == slug))
    _register_many(event, 40)
    db.session.remove()
    data = form_data(client, slug=slug, email="two@example.org")
    with count_queries() as many:
        assert client.post(f"/events/{slug}/register", data=data).status_code == 302
    assert few.count == many.count


def test_personal_pages_do_not_leak_the_token_as_a_referrer(client, app):
    registration = make_registration(make_event())
    response = client.get(f"/r/{registration.manage_token}")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"


# --- rate limits ----------------------------------------------------------------


@pytest.fixture
def limited_client(app, tmp_path):
    """A client of the app with its registration limits on, and low."""

    class LimitedConfig(Config):
        RATELIMIT_ENABLED = True
        REGISTER_RATE_LIMIT = "3 per minute"
        REGISTER_ATTEMPT_RATE_LIMIT = "8 per minute"
        MAIL_FILE_DIR = str(tmp_path / "limited-outbox")

    limited = create_app(LimitedConfig)
    with limited.app_context():
        yield limited.test_client()
        db.session.remove()
        db.engine.dispose()


def test_mistyped_forms_do_not_use_up_the_registration_limit(limited_client):
    event = make_event()
    url = f"/events/{event.slug}/register"
    for mistake in ({"email": "not-an-email"}, {"name": ""}, {"consent": None}):
        response = limited_client.post(url, data=form_data(limited_client, **mistake))
        assert response.status_code == 200
    response = limited_client.post(url, data=form_data(limited_client))
    assert response.status_code == 302
    assert [r.email for r in registrations()] == ["nurgeldi@example.org"]


def test_the_limit_stops_a_flood_of_registrations_and_keeps_what_was_typed(limited_client):
    event = make_event()
    url = f"/events/{event.slug}/register"
    for number in range(3):
        data = form_data(limited_client, email=f"person{number}@example.org")
        assert limited_client.post(url, data=data).status_code == 302

    typed = {
        "name": "Aýna Orazowa",
        "email": "ayna@example.org",
        "organization": "Mary regional information centre",
    }
    response = limited_client.post(url, data=form_data(limited_client, **typed))
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "Too many registration forms were sent from your address" in page
    for value in typed.values():
        assert f'value="{value}"' in page
    assert '<input checked id="consent"' in page
    assert len(registrations()) == 3
    assert "ayna@example.org" not in {message.recipient for message in outbox_rows()}

    # Once the minute is over, the page as it was refused can simply be sent again.
    limiter.reset()
    again = {**form_data(limited_client, **typed), "csrf_token": csrf_token_from(page)}
    assert limited_client.post(url, data=again).status_code == 302
    assert "ayna@example.org" in {r.email for r in registrations()}


def test_a_flood_of_junk_forms_is_capped_too(limited_client):
    event = make_event()
    url = f"/events/{event.slug}/register"
    for _ in range(8):
        junk = form_data(limited_client, name="", email="x")
        assert limited_client.post(url, data=junk).status_code == 200
    response = limited_client.post(url, data=form_data(limited_client))
    assert response.status_code == 429
    assert 'value="Nurgeldi@Example.org"' in response.get_data(as_text=True)
    assert registrations() == []
    assert outbox_rows() == []
