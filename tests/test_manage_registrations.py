"""The registrations of an event: filters, search, pages, editing and cancelling."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import (
    Gender,
    Mode,
    OrgKind,
    OutboxMessage,
    Registration,
    RegistrationStatus,
)
from tests.conftest import get_csrf, make_event, make_registration, make_site, post_form


def add_many(event, count: int, site: str | None = "ahal", first: int = 0) -> None:
    """Registrations written in one go, a second apart, for list and paging tests."""
    site_id = make_site(site).id if site else None
    start = datetime(2030, 1, 1, tzinfo=UTC)
    for number in range(first, first + count):
        db.session.add(
            Registration(
                event=event,
                name=f"Person {number:03d}",
                email=f"person{number:03d}@example.org",
                organization="Ministry of Justice",
                mode=Mode.IN_PERSON if site_id else Mode.ONLINE,
                site_id=site_id,
                status=RegistrationStatus.CONFIRMED,
                created_at=start + timedelta(seconds=number),
            )
        )
    db.session.commit()


def listed_names(html: str) -> list[str]:
    """The names in the registrations table, in order."""
    body = html.split('<table class="registrations">', 1)[1].split("</table>", 1)[0]
    return re.findall(r"/registrations/\d+\">([^<]+)</a>", body)


def status_of(registration) -> RegistrationStatus:
    return db.session.scalar(
        sa.select(Registration.status).where(Registration.id == registration.id)
    )


@pytest.fixture
def people(signed_in_organizer):
    event = make_event("seminar", {"ashgabat": 50, "ahal": 10})
    return {
        "event": event,
        "ayna": make_registration(
            event, name="Aýna Şükürowa", organization="Information centre of Ahal"
        ),
        "merdan": make_registration(
            event, name="Merdan Ataýew", site="ashgabat", organization="Ministry of Justice"
        ),
        "jeren": make_registration(
            event, name="Jeren Gurbanowa", site=None, organization="Türkmenistan Habarlary"
        ),
        "serdar": make_registration(
            event, name="Serdar Nurow", status=RegistrationStatus.WAITLISTED
        ),
        "ogulnabat": make_registration(
            event, name="Ogulnabat Hojaýewa", status=RegistrationStatus.CANCELLED
        ),
    }


URL = "/manage/events/seminar/registrations"


def test_list_shows_everyone_with_counts(client, people):
    html = client.get(URL).get_data(as_text=True)
    assert len(listed_names(html)) == 5
    assert "Confirmed: 3" in html
    assert "Waitlisted: 1" in html
    assert "Cancelled: 1" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("site=ahal", {"Aýna Şükürowa", "Serdar Nurow", "Ogulnabat Hojaýewa"}),
        ("site=ashgabat", {"Merdan Ataýew"}),
        ("mode=online", {"Jeren Gurbanowa"}),
        ("mode=in_person&status=confirmed", {"Aýna Şükürowa", "Merdan Ataýew"}),
        ("status=waitlisted", {"Serdar Nurow"}),
        ("status=cancelled", {"Ogulnabat Hojaýewa"}),
        # Search ignores case and Turkmen letters: ş, ü and ý fold to plain letters.
        ("q=sukurowa", {"Aýna Şükürowa"}),
        ("q=%C5%9E%C3%BCk%C3%BCrowa", {"Aýna Şükürowa"}),
        ("q=ATAYEW", {"Merdan Ataýew"}),
        ("q=turkmenistan+habar", {"Jeren Gurbanowa"}),
        ("q=ministry", {"Merdan Ataýew"}),
        ("q=jeren.gurbanowa", set()),
        ("q=jerengurbanowa%40example", {"Jeren Gurbanowa"}),
        ("q=%25", set()),
        ("q=_", set()),
        ("q=ahal&status=confirmed", {"Aýna Şükürowa"}),
    ],
)
def test_filters_and_search(client, people, query, expected):
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 200
    assert set(listed_names(response.get_data(as_text=True))) == expected


@pytest.mark.parametrize("query", ["site=mary", "mode=teleport", "status=lost", "page=abc"])
def test_bad_filters_answer_a_clear_page(client, people, query):
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    if not query.startswith("page"):
        assert "Not a valid choice" in html
    assert len(listed_names(html)) == 5


def test_pages_of_fifty(client, signed_in_organizer):
    event = make_event("seminar", {"ahal": 100})
    add_many(event, 60)
    first = client.get(URL).get_data(as_text=True)
    assert listed_names(first) == [f"Person {n:03d}" for n in range(50)]
    assert "Page 1 of 2" in first
    assert "60 registrations" in first
    second = client.get(f"{URL}?page=2").get_data(as_text=True)
    assert listed_names(second) == [f"Person {n:03d}" for n in range(50, 60)]
    # A page past the end is empty rather than an error.
    assert listed_names(client.get(f"{URL}?page=9").get_data(as_text=True)) == []


def test_page_links_keep_the_filters(client, signed_in_organizer):
    event = make_event("seminar", {"ahal": 100})
    add_many(event, 60)
    html = client.get(f"{URL}?q=person&status=confirmed").get_data(as_text=True)
    link = re.search(r'href="([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")
    assert "q=person" in link and "status=confirmed" in link and "page=2" in link
    assert len(listed_names(client.get(link).get_data(as_text=True))) == 10


def test_query_count_does_not_grow_with_registrations(client, signed_in_organizer, count_queries):
    event = make_event("seminar", {"ahal": 100})

    def queries_for(url: str) -> int:
        # Each request starts from an empty identity map, as it would in production.
        db.session.expire_all()
        with count_queries() as counter:
            html = client.get(url).get_data(as_text=True)
        assert len(listed_names(html)) == min(total, 50)
        return counter.count

    add_many(event, 10)
    total = 10
    few = queries_for(URL), queries_for(f"{URL}?q=person&site=ahal&status=confirmed")
    add_many(event, 50, site=None, first=10)
    total = 60
    many = queries_for(URL), queries_for(f"{URL}?q=person&mode=online")
    assert many == few
    assert few[0] <= 8


def test_html_in_names_is_escaped(client, signed_in_organizer):
    event = make_event("seminar", {"ahal": 10})
    make_registration(
        event,
        name='<script>alert("x")</script>',
        email="script@example.org",
        organization="<b>Bold & Co</b>",
    )
    html = client.get(URL).get_data(as_text=True)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "&lt;b&gt;Bold &amp; Co&lt;/b&gt;" in html


# --- editing ---------------------------------------------------------------


def edit_data(registration, **overrides) -> dict:
    data = {
        "participation": registration.site.slug if registration.site else "online",
        "name": registration.name,
        "email": registration.email,
        "phone": "",
        "organization": registration.organization,
        "position": registration.position,
        "org_kind": registration.org_kind.value,
        "gender": "",
        "language": registration.language,
    }
    data.update(overrides)
    return data


def edit_url(registration) -> str:
    return f"{URL}/{registration.id}"


def test_edit_details(client, people):
    ayna = people["ayna"]
    response = post_form(
        client,
        edit_url(ayna),
        edit_data(
            ayna,
            name="Aýna Şükürowa-Orazowa",
            email="Ayna.New@Example.org",
            phone="+993 12 34-56-78",
            org_kind="media",
            gender="female",
            language="tk",
        ),
    )
    assert response.status_code == 302
    db.session.expire_all()
    ayna = db.session.get(Registration, ayna.id)
    assert ayna.name == "Aýna Şükürowa-Orazowa"
    assert ayna.email == "ayna.new@example.org"
    assert ayna.org_kind == OrgKind.MEDIA
    assert ayna.gender == Gender.FEMALE
    assert ayna.language == "tk"
    assert "orazowa" in ayna.search_text
    # Details alone do not write to the person.
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0


def test_edit_form_is_prefilled(client, people):
    html = client.get(edit_url(people["merdan"])).get_data(as_text=True)
    assert 'value="Merdan Ataýew"' in html
    assert '<option selected value="ashgabat">' in html
    assert '<option selected value="state">' in html


def test_email_taken_by_another_registration_is_a_field_error(client, people):
    ayna, merdan = people["ayna"], people["merdan"]
    response = post_form(
        client, edit_url(ayna), edit_data(ayna, email=merdan.email.upper(), name="Changed")
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="email-error"' in html
    assert "already registered with this email" in html
    db.session.expire_all()
    assert db.session.get(Registration, ayna.id).name == "Aýna Şükürowa"


def test_email_of_a_cancelled_registration_may_be_reused(client, people):
    ayna, cancelled = people["ayna"], people["ogulnabat"]
    response = post_form(client, edit_url(ayna), edit_data(ayna, email=cancelled.email))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Registration, ayna.id).email == cancelled.email


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"name": "N" * 201}, "name", "longer than 200"),
        ({"email": "not-an-email"}, "email", "Invalid email address."),
        ({"phone": "call me"}, "phone", "Use digits, spaces"),
        ({"participation": "mary"}, "participation", "Not a valid choice"),
        ({"org_kind": "alien"}, "org_kind", "Not a valid choice"),
        ({"language": "xx"}, "language", "Not a valid choice"),
    ],
)
def test_bad_edit_is_a_field_error(client, people, overrides, field, message):
    ayna = people["ayna"]
    make_site("mary")
    db.session.commit()
    response = post_form(client, edit_url(ayna), edit_data(ayna, **overrides))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html
    assert message in html
    db.session.expire_all()
    assert db.session.get(Registration, ayna.id).name == "Aýna Şükürowa"


def test_move_to_another_site_goes_through_the_capacity_rules(client, signed_in_organizer):
    event = make_event("seminar", {"ashgabat": 1, "ahal": 1})
    make_registration(event, name="Merdan Ataýew", site="ashgabat")
    ayna = make_registration(event, name="Aýna Şükürowa", site="ahal")
    serdar = make_registration(event, name="Serdar Nurow", status=RegistrationStatus.WAITLISTED)

    # Ashgabat is full: the move is refused and nothing changes, not even the name.
    response = post_form(
        client, edit_url(ayna), edit_data(ayna, participation="ashgabat", name="Renamed")
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="participation-error"' in html
    assert "no seats left" in html
    db.session.expire_all()
    ayna = db.session.get(Registration, ayna.id)
    assert (ayna.name, ayna.site.slug) == ("Aýna Şükürowa", "ahal")
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0

    # Online has room: she moves, is told, and her seat goes to the waitlist.
    response = post_form(client, edit_url(ayna), edit_data(ayna, participation="online"))
    assert response.status_code == 302
    db.session.expire_all()
    ayna = db.session.get(Registration, ayna.id)
    assert (ayna.mode, ayna.site_id) == (Mode.ONLINE, None)
    assert status_of(serdar) == RegistrationStatus.CONFIRMED
    kinds = dict(db.session.execute(sa.select(OutboxMessage.recipient, OutboxMessage.kind)).all())
    assert kinds == {ayna.email: "updated", serdar.email: "promoted"}


def test_a_cancelled_registration_cannot_move(client, people):
    cancelled = people["ogulnabat"]
    response = post_form(client, edit_url(cancelled), edit_data(cancelled, participation="online"))
    assert response.status_code == 200
    assert "cannot change site or mode" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Registration, cancelled.id).mode == Mode.IN_PERSON


def test_registration_of_another_event_is_404(client, people):
    other = make_event("training", {"ahal": 5})
    stranger = make_registration(other, name="Stranger", email="stranger@example.org")
    assert client.get(edit_url(stranger)).status_code == 404
    assert client.get(f"{URL}/999999").status_code == 404


# --- cancelling ------------------------------------------------------------


def test_cancel_promotes_the_first_waitlisted(client, signed_in_organizer):
    event = make_event("seminar", {"ahal": 1})
    seated = make_registration(event, name="Aýna Şükürowa")
    first = make_registration(event, name="Serdar Nurow", status=RegistrationStatus.WAITLISTED)
    second = make_registration(event, name="Maral Orazowa", status=RegistrationStatus.WAITLISTED)

    response = post_form(client, f"{edit_url(seated)}/cancel", {}, page=edit_url(seated))
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Moved up from the waiting list: Serdar Nurow." in page

    assert status_of(seated) == RegistrationStatus.CANCELLED
    assert status_of(first) == RegistrationStatus.CONFIRMED
    assert status_of(second) == RegistrationStatus.WAITLISTED
    messages = db.session.execute(
        sa.select(OutboxMessage.kind, OutboxMessage.recipient).order_by(OutboxMessage.id)
    ).all()
    assert [tuple(m) for m in messages] == [
        ("cancelled", seated.email),
        ("promoted", first.email),
    ]


def test_cancelling_twice_changes_nothing_more(client, signed_in_organizer):
    event = make_event("seminar", {"ahal": 1})
    seated = make_registration(event, name="Aýna Şükürowa")
    url = f"{edit_url(seated)}/cancel"
    token = get_csrf(client, edit_url(seated))
    assert client.post(url, data={"csrf_token": token}).status_code == 302
    response = client.post(url, data={"csrf_token": token}, follow_redirects=True)
    assert "already cancelled" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 1


def test_cancel_with_a_bad_csrf_token_is_400(client, people):
    ayna = people["ayna"]
    response = client.post(f"{edit_url(ayna)}/cancel", data={"csrf_token": "forged"})
    assert response.status_code == 400
    assert status_of(ayna) == RegistrationStatus.CONFIRMED


def test_edit_with_a_bad_csrf_token_is_400(client, people):
    ayna = people["ayna"]
    response = client.post(
        edit_url(ayna), data={**edit_data(ayna, name="Forged"), "csrf_token": "forged"}
    )
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Registration, ayna.id).name == "Aýna Şükürowa"
