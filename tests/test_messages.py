"""Organisers' messages: composing to a filtered group, the worker's expansion, resending."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.mail.delivery import send_pending
from app.mail.messages import personal_url
from app.messages import sending as sending_module
from app.messages.audience import Attendance, Audience, audience_query
from app.messages.campaigns import message_language, text_to_html
from app.messages.sending import expand_campaigns
from app.messages.summaries import campaign_summaries
from app.models import (
    Campaign,
    CheckInMethod,
    CheckInResult,
    Event,
    MessageKind,
    Mode,
    OutboxMessage,
    Registration,
    RegistrationStatus,
    utcnow,
)
from tests.conftest import (
    add_checkin,
    at_once,
    csrf_token_from,
    get_csrf,
    make_event,
    make_registration,
    make_site,
    outbox_rows,
    parsed_email,
    requires_postgres,
)

KEY = re.compile(r'name="idempotency_key" type="hidden" value="([^"]+)"')
TEXTS = {
    "subject_en": "Thank you for coming",
    "body_en": "Dear colleague,\n\nThank you for taking part.",
    "subject_ru": "Спасибо за участие",
    "body_ru": "Уважаемый коллега,\n\nСпасибо за участие.",
    "subject_tk": "Gatnaşanyňyz üçin sag boluň",
    "body_tk": "Hormatly kärdeşim,\n\nGatnaşanyňyz üçin sag boluň.",
}
_FRESH = object()


def compose_url(slug: str = "seminar") -> str:
    return f"/manage/events/{slug}/messages/new"


def submit(client, data: dict, *, action: str = "send", key=_FRESH, slug: str = "seminar"):
    """Open the compose form as a browser would, then submit it with ``data``."""
    page = client.get(compose_url(slug))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    form = {
        "csrf_token": csrf_token_from(html),
        "idempotency_key": KEY.search(html).group(1) if key is _FRESH else key,
        "statuses": ["confirmed"],
        action: action.title(),
        **data,
    }
    return client.post(compose_url(slug), data=form)


def campaigns() -> list[Campaign]:
    return list(db.session.scalars(sa.select(Campaign).order_by(Campaign.id)))


def campaign_rows() -> list[OutboxMessage]:
    return outbox_rows(MessageKind.CAMPAIGN)


def plain_text(message) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def html_text(message) -> str:
    return message.get_body(("html",)).get_content().replace("\r\n", "\n")


@pytest.fixture
def people(app, signed_in_organizer):
    """A hybrid seminar with people at two sites and online, in three languages."""
    event = make_event("seminar", {"ashgabat": 50, "ahal": 10})
    return {
        "en_ahal": make_registration(event, name="Anna Ahal", language="en", site="ahal"),
        "ru_ahal": make_registration(event, name="Boris Ahal", language="ru", site="ahal"),
        "tk_ahal": make_registration(event, name="Maral Ahal", language="tk", site="ahal"),
        "en_ashgabat": make_registration(
            event, name="Dana Ashgabat", language="en", site="ashgabat"
        ),
        "tk_online": make_registration(event, name="Serdar Online", language="tk", site=None),
        "cancelled": make_registration(
            event,
            name="Cancelled Ahal",
            language="ru",
            site="ahal",
            status=RegistrationStatus.CANCELLED,
        ),
        "waitlisted": make_registration(
            event,
            name="Waiting Ahal",
            language="en",
            site="ahal",
            status=RegistrationStatus.WAITLISTED,
        ),
    }


# --- composing -------------------------------------------------------------------


def test_the_compose_page_has_a_key_and_a_messages_tab(client, people):
    html = client.get(compose_url()).get_data(as_text=True)
    assert KEY.search(html)
    assert 'href="/manage/events/seminar/messages" aria-current="page"' in html
    # Each form gets its own key.
    again = client.get(compose_url()).get_data(as_text=True)
    assert KEY.search(html).group(1) != KEY.search(again).group(1)


def test_preview_counts_the_group_and_shows_each_language_used(client, people):
    response = submit(
        client,
        {**TEXTS, "subject_tk": "", "body_tk": "", "sites": ["ahal"]},
        action="preview",
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # Confirmed at Ahal: Anna (en), Boris (ru), Maral (tk, who gets English: no Turkmen text).
    assert "It will reach 3 people" in html
    assert '<article class="message-preview" lang="en">' in html
    assert '<article class="message-preview" lang="ru">' in html
    assert '<article class="message-preview" lang="tk">' not in html
    assert 'English <small class="muted">(2 people)' in html
    assert 'Русский <small class="muted">(1 person)' in html
    assert "Спасибо за участие" in html
    # A preview writes nothing, and the same form (key and all) can then be sent.
    assert campaigns() == []
    assert KEY.search(html)


def test_preview_follows_every_filter(client, people):
    cases = [
        ({}, 5),  # confirmed, everywhere
        ({"statuses": ["confirmed", "waitlisted", "cancelled"]}, 7),
        ({"mode": "online"}, 1),
        ({"mode": "in_person", "sites": ["ashgabat"]}, 1),
        ({"language": "tk"}, 2),
        ({"statuses": ["cancelled"]}, 1),
    ]
    for filters, expected in cases:
        html = submit(client, {**TEXTS, **filters}, action="preview").get_data(as_text=True)
        label = "person" if expected == 1 else "people"
        assert f"It will reach {expected} {label}" in html, filters


def test_sending_stores_one_campaign_and_the_worker_writes_one_row_per_person(client, people):
    response = submit(client, {**TEXTS, "sites": ["ahal"]})
    assert response.status_code == 302
    [campaign] = campaigns()
    assert response.headers["Location"].endswith(
        f"/manage/events/seminar/messages#campaign-{campaign.id}"
    )
    assert campaign.recipient_count == 3
    assert campaign.audience["sites"] == ["ahal"]
    # The request wrote no email: that is the worker's job.
    assert campaign_rows() == []

    assert expand_campaigns() == 3
    rows = campaign_rows()
    by_person = {row.registration_id: row for row in rows}
    expected = {
        people["en_ahal"].id: ("Thank you for coming", "Thank you for taking part."),
        people["ru_ahal"].id: ("Спасибо за участие", "Спасибо за участие."),
        people["tk_ahal"].id: ("Gatnaşanyňyz üçin sag boluň", "Gatnaşanyňyz üçin sag boluň."),
    }
    assert set(by_person) == set(expected)
    for registration_id, (subject, sentence) in expected.items():
        row = by_person[registration_id]
        registration = db.session.get(Registration, registration_id)
        message = parsed_email(row)
        assert message["Subject"] == subject
        assert message["To"] == registration.email
        assert row.campaign_id == campaign.id
        body = plain_text(message)
        assert sentence in body
        assert personal_url(registration) in body
        assert personal_url(registration) in html_text(message)
    # Nobody outside the filter heard anything.
    outsiders = {people[k].id for k in ("en_ashgabat", "tk_online", "cancelled", "waitlisted")}
    assert not outsiders & set(by_person)

    assert expand_campaigns() == 0
    assert len(campaign_rows()) == 3


def test_each_person_gets_their_language_else_english_else_the_first_written(client, people):
    only_ru_tk = {**TEXTS, "subject_en": "", "body_en": ""}
    submit(client, {**only_ru_tk, "sites": ["ahal"]})
    expand_campaigns()
    subjects = {row.registration_id: parsed_email(row)["Subject"] for row in campaign_rows()}
    assert subjects[people["en_ahal"].id] == "Спасибо за участие"  # the first written
    assert subjects[people["tk_ahal"].id] == "Gatnaşanyňyz üçin sag boluň"

    assert message_language("tk", ["en", "ru"]) == "en"
    assert message_language("tk", ["ru"]) == "ru"
    assert message_language("en", ["tk", "ru"]) == "ru"
    assert message_language("ru", ["ru", "en"]) == "ru"


def test_the_body_is_escaped_into_paragraphs(client, people):
    body = "<script>alert(1)</script>\nline two\n\n  \nSecond & last"
    submit(client, {"subject_en": "Note", "body_en": body, "language": "en"})
    expand_campaigns()
    html = html_text(parsed_email(campaign_rows()[0]))
    assert "<script>" not in html
    assert "<p>&lt;script&gt;alert(1)&lt;/script&gt;<br>\nline two</p>" in html
    assert "<p>Second &amp; last</p>" in html
    assert text_to_html("a\n\n\nb") == "<p>a</p>\n<p>b</p>"


def test_online_people_get_their_join_link(client, people):
    submit(client, {**TEXTS, "mode": "online"})
    expand_campaigns()
    [row] = campaign_rows()
    person = people["tk_online"]
    body = plain_text(parsed_email(row))
    assert personal_url(person, "attendance.join") in body
    # In-person people get no join link.
    submit(client, {**TEXTS, "sites": ["ashgabat"]})
    expand_campaigns()
    in_person = [r for r in campaign_rows() if r.registration_id == people["en_ashgabat"].id]
    assert "/join" not in plain_text(parsed_email(in_person[0]))


def test_a_double_submit_stores_one_campaign(client, people):
    page = client.get(compose_url()).get_data(as_text=True)
    key = KEY.search(page).group(1)
    first = submit(client, TEXTS, key=key)
    second = submit(client, TEXTS, key=key)
    assert first.status_code == second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    assert len(campaigns()) == 1
    followed = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "it was not sent again" in followed
    expand_campaigns()
    assert len(campaign_rows()) == 5


def test_a_scheduled_campaign_waits_and_meets_the_filter_as_it_is_then(client, people):
    event = db.session.scalar(sa.select(Event).where(Event.slug == "seminar"))
    moment = (utcnow() + timedelta(days=1)).replace(second=0, microsecond=0)
    local = moment.astimezone(event.zone).strftime("%Y-%m-%dT%H:%M")
    response = submit(client, {**TEXTS, "sites": ["ahal"], "send_at": local})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The message to 3 people goes out at" in page
    [campaign] = campaigns()
    assert campaign.send_at == moment
    assert expand_campaigns() == 0

    # Before it goes out, one person cancels and a new one registers.
    people["ru_ahal"].status = RegistrationStatus.CANCELLED
    db.session.commit()
    late = make_registration(event, name="Late Comer", site="ahal")
    assert expand_campaigns(now=moment + timedelta(minutes=1)) == 3
    ids = {row.registration_id for row in campaign_rows()}
    assert late.id in ids and people["ru_ahal"].id not in ids


def test_the_compose_request_does_not_grow_with_the_group(
    app, client, signed_in_organizer, count_queries
):
    event = make_event("seminar")
    add_people(event, 1000)
    page = client.get(compose_url()).get_data(as_text=True)
    data = {
        **TEXTS,
        "csrf_token": csrf_token_from(page),
        "idempotency_key": KEY.search(page).group(1),
        "statuses": ["confirmed"],
        "send": "Send",
    }
    with count_queries() as counter:
        response = client.post(compose_url(), data=data)
    assert response.status_code == 302
    assert counter.count < 30
    assert len(campaigns()) == 1
    assert campaigns()[0].recipient_count == 1000
    assert campaign_rows() == []

    assert expand_campaigns() == 1000
    rows = campaign_rows()
    assert len(rows) == 1000
    tokens = dict(db.session.execute(sa.select(Registration.id, Registration.manage_token)).all())
    for row in rows:
        assert f"/r/{tokens[row.registration_id]}" in plain_text(parsed_email(row))
    assert len({row.registration_id for row in rows}) == 1000

    assert send_pending(limit=2000) == (1000, 0)
    assert len(list(Path(app.config["MAIL_FILE_DIR"]).glob("*-campaign.eml"))) == 1000
    [summary] = campaign_summaries(event)
    assert (summary.counts.sent, summary.counts.queued, summary.state) == (1000, 0, "sent")


def add_people(event: Event, count: int, site: str | None = "ahal") -> None:
    """Confirmed registrations written in one go."""
    site_id = make_site(site).id if site else None
    db.session.add_all(
        Registration(
            event=event,
            name=f"Person {number:04d}",
            email=f"person{number:04d}@example.org",
            mode=Mode.IN_PERSON if site_id else Mode.ONLINE,
            site_id=site_id,
            status=RegistrationStatus.CONFIRMED,
            language=("en", "ru", "tk")[number % 3],
        )
        for number in range(count)
    )
    db.session.commit()


# --- bad input -------------------------------------------------------------------

BAD_INPUT = {
    "nothing written": (
        {"subject_en": "", "body_en": ""},
        "subject_en",
        "Write a subject and a message in at least one language.",
    ),
    "blank in every language": (
        {"subject_en": "   ", "body_en": " \r\n ", "subject_ru": " ", "body_tk": "\n"},
        "subject_en",
        "Write a subject and a message in at least one language.",
    ),
    "a subject without a body": (
        {"subject_en": "Hello", "body_en": ""},
        "body_en",
        "Write the message in English too",
    ),
    "a body without a subject": (
        {"subject_en": "", "body_en": "", "subject_ru": "", "body_ru": "Текст"},
        "subject_ru",
        "Write a subject in Русский too",
    ),
    "HTML in the subject": (
        {"subject_en": "<b>Important</b>", "body_en": "Text"},
        "subject_en",
        "The subject is plain text",
    ),
    "an entity in the subject": (
        {"subject_en": "Q&amp;A", "body_en": "Text"},
        "subject_en",
        "The subject is plain text",
    ),
    "a newline in the subject": (
        {"subject_en": "Hello\nBcc: everyone@example.org", "body_en": "Text"},
        "subject_en",
        "The subject must fit on one line.",
    ),
    "nobody matches": (
        {**TEXTS, "language": "ru", "mode": "online"},
        "audience",
        "Nobody matches these filters",
    ),
    "a site for online people": (
        {**TEXTS, "sites": ["ahal"], "mode": "online"},
        "sites",
        "People who take part online have no site",
    ),
    "no status": (
        {**TEXTS, "statuses": []},
        "statuses",
        "Choose at least one status.",
    ),
    "a site not in the event": (
        {**TEXTS, "sites": ["nowhere"]},
        "sites",
        "is not a valid choice",
    ),
    "a time in the past": (
        {**TEXTS, "send_at": "2020-01-01T10:00"},
        "send_at",
        "This time has passed.",
    ),
    "a time that is not one": (
        {**TEXTS, "send_at": "tomorrow"},
        "send_at",
        "Enter a date and time.",
    ),
    "a subject too long": (
        {**TEXTS, "subject_en": "x" * 201},
        "subject_en",
        "Keep the subject to 200 characters.",
    ),
}


@pytest.mark.parametrize("action", ["send", "preview"])
@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_refused_at_its_field(client, people, case, action):
    data, field, message = BAD_INPUT[case]
    response = submit(client, {"subject_ru": "", "body_ru": "", **data}, action=action)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'id="{field}-error">' in html, html
    error = html.split(f'id="{field}-error">', 1)[1].split("</p>", 1)[0]
    assert message in error
    assert campaigns() == []
    assert "It will reach" not in html


def test_a_missing_or_forged_key_is_refused_and_replaced(client, people):
    for key in ("", "x", "a" * 65, "not a key!" * 3):
        response = submit(client, TEXTS, key=key)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "This form is out of date" in html
        assert KEY.search(html) and KEY.search(html).group(1) != key
    assert campaigns() == []


def test_a_nul_in_the_body_is_refused(client, people):
    response = submit(client, {**TEXTS, "body_en": "Hello\x00 world", "language": "en"})
    assert response.status_code == 400
    assert campaigns() == []


# --- attendance ------------------------------------------------------------------


def test_attendance_filters_select_the_right_people(app):
    event = make_event("seminar", {"ahal": 20})
    checked_in = make_registration(event, name="Checked In")
    annulled = make_registration(event, name="Annulled Scan")
    absent = make_registration(event, name="Never Came")
    joined = make_registration(event, name="Joined Online", site=None)
    reported = make_registration(event, name="Reported Online", site=None)
    too_short = make_registration(event, name="Too Short", site=None)
    add_checkin(event, checked_in, "ahal")
    add_checkin(event, annulled, "ahal", annulled=True)
    add_checkin(event, absent, "ahal", result=CheckInResult.REFUSED)
    add_checkin(event, joined, method=CheckInMethod.ONLINE_JOIN)
    add_checkin(event, reported, method=CheckInMethod.ONLINE_REPORT)
    add_checkin(event, too_short, method=CheckInMethod.ONLINE_REPORT, result=CheckInResult.REFUSED)

    def names(attendance: Attendance) -> set[str]:
        query = audience_query(event.id, Audience(attendance=attendance))
        return {r.name for r in db.session.scalars(query)}

    assert names(Attendance.CHECKED_IN) == {"Checked In"}
    assert names(Attendance.JOINED_ONLINE) == {"Joined Online", "Reported Online"}
    assert names(Attendance.ATTENDED) == {"Checked In", "Joined Online", "Reported Online"}
    assert names(Attendance.ABSENT) == {"Annulled Scan", "Never Came", "Too Short"}


def test_a_thank_you_goes_to_those_who_attended(client, signed_in_organizer):
    event = make_event("seminar", {"ahal": 20})
    came = make_registration(event, name="Came Along")
    make_registration(event, name="Stayed Home")
    add_checkin(event, came, "ahal")
    html = submit(client, {**TEXTS, "attendance": "attended"}, action="preview").get_data(
        as_text=True
    )
    assert "It will reach 1 person" in html
    submit(client, {**TEXTS, "attendance": "absent", "subject_en": "Sorry we missed you"})
    submit(client, {**TEXTS, "attendance": "attended"})
    expand_campaigns()
    subjects = {(row.registration.name, parsed_email(row)["Subject"]) for row in campaign_rows()}
    assert subjects == {
        ("Stayed Home", "Sorry we missed you"),
        ("Came Along", "Thank you for coming"),
    }


# --- the worker ------------------------------------------------------------------


def test_expansion_survives_a_crash_in_the_middle(app, people, monkeypatch):
    event = db.session.scalar(sa.select(Event).where(Event.slug == "seminar"))
    add_people(event, 7, site="ashgabat")
    campaign = Campaign(
        event_id=event.id,
        idempotency_key="k" * 32,
        texts={"en": {"subject": "Hello", "body": "Text"}},
        audience=Audience().to_json(),
        recipient_count=12,
        send_at=utcnow(),
    )
    db.session.add(campaign)
    db.session.commit()

    real_enqueue = sending_module.enqueue
    calls = {"count": 0}

    def enqueue_then_crash(*args, **kwargs):
        calls["count"] += 1
        if calls["count"] == 7:  # the second batch of five, half written
            raise RuntimeError("the worker's host went away")
        return real_enqueue(*args, **kwargs)

    monkeypatch.setattr(sending_module, "enqueue", enqueue_then_crash)
    assert expand_campaigns(batch=5) == 5
    db.session.expire_all()
    assert len(campaign_rows()) == 5
    assert db.session.get(Campaign, campaign.id).finished_at is None

    monkeypatch.setattr(sending_module, "enqueue", real_enqueue)
    assert expand_campaigns(batch=5) == 7
    rows = campaign_rows()
    assert len(rows) == 12
    assert len({row.registration_id for row in rows}) == 12
    assert db.session.get(Campaign, campaign.id).finished_at is not None
    assert expand_campaigns(batch=5) == 0


@requires_postgres
@pytest.mark.parametrize("row_lock", [True, False], ids=["skip-locked", "cursor-only"])
def test_two_workers_at_once_write_each_message_once(app, monkeypatch, row_lock):
    """Workers that keep calling, as the mail worker does, share the batches between them.

    Without the row lock (``cursor-only``) both render the same batch and the
    conditional UPDATE of the cursor lets only one of them write it.
    """
    if not row_lock:
        monkeypatch.setattr(sending_module, "_locks_rows", lambda: False)
    event = make_event("seminar", {"ahal": 500})
    add_people(event, 300)
    db.session.add(
        Campaign(
            event_id=event.id,
            idempotency_key="c" * 32,
            texts={"en": {"subject": "Hello", "body": "Text"}},
            audience=Audience().to_json(),
            recipient_count=300,
            send_at=utcnow(),
        )
    )
    db.session.commit()
    db.session.remove()

    def finished() -> bool:
        return db.session.scalar(sa.select(Campaign.finished_at)) is not None

    def work() -> int:
        total = 0
        deadline = time.monotonic() + 60
        while not finished() and time.monotonic() < deadline:
            count = expand_campaigns(batch=25)
            total += count
            if not count:
                time.sleep(0.005)
        return total

    written = at_once(app, work)
    assert sum(written) == 300
    rows = campaign_rows()
    assert len(rows) == 300
    assert len({row.registration_id for row in rows}) == 300
    assert expand_campaigns() == 0


# --- what the organiser sees -----------------------------------------------------


def test_the_list_shows_each_campaign_with_live_counts(app, client, people):
    submit(client, {**TEXTS, "sites": ["ahal"]})
    html = client.get("/manage/events/seminar/messages").get_data(as_text=True)
    assert "Thank you for coming" in html
    assert "Confirmed · Ahal information centre" in html
    assert 'src="/static/js/campaigns.js"' in html
    status = client.get("/manage/events/seminar/messages/status.json").get_json()
    [entry] = status["campaigns"]
    assert (entry["state"], entry["recipients"], entry["queued"]) == ("preparing", 3, 0)

    expand_campaigns()
    first, *_others = campaign_rows()
    first.attempts = app.config["OUTBOX_MAX_ATTEMPTS"]
    db.session.commit()
    [entry] = client.get("/manage/events/seminar/messages/status.json").get_json()["campaigns"]
    assert (entry["state"], entry["queued"], entry["sent"], entry["failed"]) == (
        "sending",
        2,
        0,
        1,
    )
    send_pending()
    [entry] = client.get("/manage/events/seminar/messages/status.json").get_json()["campaigns"]
    assert (entry["state"], entry["queued"], entry["sent"], entry["failed"]) == ("sent", 0, 2, 1)


def test_a_persons_page_lists_their_messages(client, people):
    person = people["ru_ahal"]
    submit(client, {**TEXTS, "sites": ["ahal"]})
    expand_campaigns()
    html = client.get(f"/manage/events/seminar/registrations/{person.id}").get_data(as_text=True)
    section = html.split('id="message-history"', 1)[1]
    assert "Спасибо за участие" in section
    assert "Organisers&#39; message" in section
    assert "Waiting to be sent" in section


def test_campaign_pages_are_for_organisers_only(client, auth, people, coordinator):
    auth.logout()
    auth.login(coordinator.email)
    for url in (compose_url(), "/manage/events/seminar/messages"):
        assert client.get(url).status_code == 403


# --- resending a confirmation ----------------------------------------------------


def resend_url(registration: Registration) -> str:
    return f"/manage/events/seminar/registrations/{registration.id}/resend"


def outbox_kinds(registration: Registration) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(OutboxMessage.kind)
            .where(OutboxMessage.registration_id == registration.id)
            .order_by(OutboxMessage.id)
        )
    )


def test_resending_a_confirmation_queues_one_with_its_invite(client, people):
    person = people["en_ahal"]
    listing = "/manage/events/seminar/registrations?site=ahal"
    html = client.get(listing).get_data(as_text=True)
    assert f'action="{resend_url(person)}"' in html
    assert f'action="{resend_url(people["cancelled"])}"' not in html
    token = get_csrf(client, listing)
    response = client.post(
        resend_url(person),
        data={"csrf_token": token, "next": "/manage/events/seminar/registrations?site=ahal"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/manage/events/seminar/registrations?site=ahal")
    assert outbox_kinds(person) == ["confirmation"]
    row = db.session.scalar(
        sa.select(OutboxMessage).where(OutboxMessage.registration_id == person.id)
    )
    types = {part.get_content_type() for part in parsed_email(row).walk()}
    assert {"text/calendar", "image/png"} <= types
    assert "Anna Ahal&#39;s confirmation is sent again." in client.get(listing).get_data(
        as_text=True
    )


def test_resending_to_a_waitlisted_person_sends_the_waitlist_notice(client, people):
    person = people["waitlisted"]
    token = get_csrf(client, "/manage/events/seminar/registrations")
    client.post(resend_url(person), data={"csrf_token": token})
    assert outbox_kinds(person) == ["waitlisted"]


def test_resending_to_a_cancelled_person_is_refused(client, people):
    person = people["cancelled"]
    token = get_csrf(client, "/manage/events/seminar/registrations")
    response = client.post(
        resend_url(person), data={"csrf_token": token, "next": "https://evil.example.org/"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/manage/events/seminar/registrations")
    assert outbox_kinds(person) == []
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "is cancelled, so there is no confirmation to send" in page


def test_resending_needs_the_csrf_token(client, people):
    response = client.post(resend_url(people["en_ahal"]), data={})
    assert response.status_code == 400
    assert outbox_kinds(people["en_ahal"]) == []
