"""Who may reach the organiser and admin pages."""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Event, EventSite, Registration, RegistrationStatus, Role
from tests.conftest import get_csrf, make_event, make_registration, make_staff

#: Every organiser page, GET or POST, with what a coordinator might try to send.
ORGANIZER_PAGES = [
    ("GET", "/manage/events/new", None),
    ("POST", "/manage/events/new", {"slug": "sneaky", "title": "Sneaky"}),
    ("GET", "/manage/events/seminar/edit", None),
    ("POST", "/manage/events/seminar/edit", {"status": "cancelled"}),
    ("GET", "/manage/sites", None),
    ("GET", "/manage/sites/new", None),
    ("POST", "/manage/sites/new", {"slug": "sneaky", "name": "Sneaky"}),
    ("GET", "/manage/sites/{site_id}/edit", None),
    ("POST", "/manage/sites/{site_id}/edit", {"name": "Renamed"}),
    ("GET", "/manage/events/seminar/sites", None),
    ("POST", "/manage/events/seminar/sites", {"site": "1", "capacity": "1"}),
    ("POST", "/manage/events/seminar/sites/ahal/capacity", {"capacity": "500"}),
    ("POST", "/manage/events/seminar/sites/ahal/remove", {}),
    ("GET", "/manage/events/seminar/agenda", None),
    ("POST", "/manage/events/seminar/agenda", {"title": "Sneaky"}),
    ("GET", "/manage/events/seminar/agenda/{item_id}/edit", None),
    ("POST", "/manage/events/seminar/agenda/{item_id}/edit", {"title": "Sneaky"}),
    ("POST", "/manage/events/seminar/agenda/{item_id}/delete", {}),
    ("GET", "/manage/events/seminar/registrations", None),
    ("GET", "/manage/events/seminar/registrations/{registration_id}", None),
    ("POST", "/manage/events/seminar/registrations/{registration_id}", {"name": "Sneaky"}),
    ("POST", "/manage/events/seminar/registrations/{registration_id}/cancel", {}),
]

ADMIN_PAGES = [
    ("GET", "/manage/staff", None),
    ("GET", "/manage/staff/new", None),
    ("POST", "/manage/staff/new", {"email": "x@example.org"}),
    ("GET", "/manage/staff/{user_id}", None),
    ("POST", "/manage/staff/{user_id}", {"staff-role": "admin"}),
    ("POST", "/manage/staff/{user_id}/password", {"password-password": "x" * 12}),
    ("POST", "/manage/staff/{user_id}/tokens/1/revoke", {}),
]


@pytest.fixture
def world():
    event = make_event("seminar", {"ahal": 5})
    registration = make_registration(event)
    coordinator = make_staff("ahal@example.org", Role.COORDINATOR, sites=("ahal",))
    return {
        "site_id": event.event_sites[0].site_id,
        "item_id": event.agenda_items[0].id,
        "registration_id": registration.id,
        "user_id": coordinator.id,
    }


def snapshot():
    """What a refused request must leave untouched."""
    db.session.expire_all()
    event = db.session.scalar(sa.select(Event))
    return (
        event.status,
        event.title,
        [(es.site_id, es.capacity) for es in db.session.scalars(sa.select(EventSite))],
        len(event.agenda_items),
        db.session.scalar(sa.select(sa.func.count(Event.id))),
        db.session.scalar(
            sa.select(sa.func.count(Registration.id)).where(
                Registration.status == RegistrationStatus.CANCELLED
            )
        ),
    )


#: The blueprints of the organiser and admin pages listed above.
STAFF_PAGE_BLUEPRINTS = {"events_manage", "sites", "registrations_manage", "staff"}


def test_the_lists_cover_every_manage_route(app):
    covered = {url.split("?")[0] for _, url, _ in ORGANIZER_PAGES + ADMIN_PAGES}
    rules = {
        rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in STAFF_PAGE_BLUEPRINTS
        and rule.endpoint != "events_manage.index"
    }
    normalised = {
        url.replace("seminar", "{slug}")
        .replace("ahal", "{site_slug}")
        .replace("/1/", "/{token_id}/")
        for url in covered
    }
    assert rules <= normalised, rules - normalised


def request_each(client, pages, world) -> dict[str, int]:
    """Send every request in ``pages``; returns the status code of each."""
    token = get_csrf(client, "/manage/") if client.get("/manage/").status_code == 200 else ""
    answers = {}
    for method, url, data in pages:
        url = url.format(**world)
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={**data, "csrf_token": token})
        answers[f"{method} {url}"] = response.status_code
        if response.status_code == 403:
            assert "You do not have access to this page." in response.get_data(as_text=True)
    return answers


def test_coordinators_get_403_on_organiser_and_admin_pages(client, auth, world):
    auth.login("ahal@example.org")
    before = snapshot()
    answers = request_each(client, ORGANIZER_PAGES + ADMIN_PAGES, world)
    assert {request for request, code in answers.items() if code != 403} == set()
    assert snapshot() == before


def test_organisers_get_403_on_admin_pages_only(client, auth, world):
    make_staff("organizer@example.org", Role.ORGANIZER)
    auth.login("organizer@example.org")
    answers = request_each(client, ADMIN_PAGES, world)
    assert {request for request, code in answers.items() if code != 403} == set()
    gets = [page for page in ORGANIZER_PAGES if page[0] == "GET"]
    answers = request_each(client, gets, world)
    assert {request for request, code in answers.items() if code != 200} == set()


def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    before = snapshot()
    for method, url, data in ORGANIZER_PAGES + ADMIN_PAGES:
        url = url.format(**world)
        response = client.get(url) if method == "GET" else client.post(url, data=data)
        if method == "GET":
            assert response.status_code == 302, url
            assert "/manage/login" in response.headers["Location"]
        else:
            # Without a session there is no CSRF token either; nothing is written.
            assert response.status_code in (302, 400), url
    assert snapshot() == before


def test_coordinators_reach_their_home(client, auth, world):
    auth.login("ahal@example.org")
    html = client.get("/manage/").get_data(as_text=True)
    assert "The Constitution of Turkmenistan" in html
    assert "/manage/sites" not in html
    assert "/manage/staff" not in html


def test_deactivated_staff_lose_access_at_once(client, auth, world):
    organizer = make_staff("organizer@example.org", Role.ORGANIZER)
    auth.login("organizer@example.org")
    assert client.get("/manage/events/seminar/edit").status_code == 200
    organizer.is_active_user = False
    db.session.commit()
    response = client.get("/manage/events/seminar/edit")
    assert response.status_code == 302
    assert "/manage/login" in response.headers["Location"]
