"""Sites, and the sites taking part in an event with their capacities."""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import EventSite, OutboxMessage, Registration, RegistrationStatus, Site
from tests.conftest import make_event, make_registration, make_site, post_form


def capacity_of(event, slug: str) -> int:
    return db.session.scalar(
        sa.select(EventSite.capacity)
        .join(Site)
        .where(EventSite.event_id == event.id, Site.slug == slug)
    )


def set_capacity(client, capacity: str, site: str = "ahal"):
    """Change a site's capacity in the seminar from the event's sites page."""
    return post_form(
        client,
        f"/manage/events/seminar/sites/{site}/capacity",
        {"capacity": capacity},
        page="/manage/events/seminar/sites",
    )


def status_of(registration) -> RegistrationStatus:
    return db.session.scalar(
        sa.select(Registration.status).where(Registration.id == registration.id)
    )


# --- global sites ----------------------------------------------------------


def test_create_and_edit_a_site(client, signed_in_organizer):
    response = post_form(
        client,
        "/manage/sites/new",
        {
            "slug": "mary",
            "name": "Mary information centre",
            "region": "Mary velayat",
            "address": "Mary",
            "is_main_venue": "",
        },
    )
    assert response.status_code == 302
    site = db.session.scalar(sa.select(Site).where(Site.slug == "mary"))
    assert (site.name, site.region, site.is_main_venue) == (
        "Mary information centre",
        "Mary velayat",
        False,
    )
    assert "Mary information centre" in client.get("/manage/sites").get_data(as_text=True)

    url = f"/manage/sites/{site.id}/edit"
    response = post_form(
        client,
        url,
        {
            "name": "Mary centre for human rights",
            "region": "Mary",
            "address": "1 Magtymguly",
            "is_main_venue": "y",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    site = db.session.get(Site, site.id)
    assert (site.name, site.address, site.is_main_venue, site.slug) == (
        "Mary centre for human rights",
        "1 Magtymguly",
        True,
        "mary",
    )


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"slug": "ahal", "name": "Another Ahal"}, "slug", "already in use"),
        ({"slug": "Ahal Centre", "name": "Ahal"}, "slug", "lower-case letters"),
        ({"slug": "new-site", "name": ""}, "name", "This field is required."),
        ({"slug": "new-site", "name": "N" * 201}, "name", "longer than 200"),
    ],
)
def test_bad_site_input_is_a_field_error(client, signed_in_organizer, data, field, message):
    make_site("ahal")
    db.session.commit()
    response = post_form(client, "/manage/sites/new", data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html
    assert message in html
    assert db.session.scalar(sa.select(sa.func.count(Site.id))) == 1


def test_unknown_site_is_404(client, signed_in_organizer):
    assert client.get("/manage/sites/9999/edit").status_code == 404


# --- the sites of an event -------------------------------------------------


def test_add_a_site_to_an_event(client, signed_in_organizer):
    event = make_event("seminar", {"ashgabat": 50})
    mary = make_site("mary")
    db.session.commit()
    response = post_form(
        client, "/manage/events/seminar/sites", {"site": str(mary.id), "capacity": "12"}
    )
    assert response.status_code == 302
    assert capacity_of(event, "mary") == 12
    html = client.get("/manage/events/seminar/sites").get_data(as_text=True)
    assert "Mary information centre" in html
    # Every site now takes part, so none is offered any more.
    assert "Every site already takes part." in html


@pytest.mark.parametrize(
    ("capacity", "message"),
    [("-1", "from 0 to 100000"), ("", "Enter the number of seats."), ("lots", "Not a valid")],
)
def test_add_site_with_bad_capacity_writes_nothing(client, signed_in_organizer, capacity, message):
    event = make_event("seminar", {"ashgabat": 50})
    mary = make_site("mary")
    db.session.commit()
    response = post_form(
        client, "/manage/events/seminar/sites", {"site": str(mary.id), "capacity": capacity}
    )
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert capacity_of(event, "mary") is None


def test_a_site_cannot_be_added_twice(client, signed_in_organizer):
    event = make_event("seminar", {"ashgabat": 50, "ahal": 10})
    ahal = make_site("ahal")
    response = post_form(
        client, "/manage/events/seminar/sites", {"site": str(ahal.id), "capacity": "3"}
    )
    assert response.status_code == 200
    assert capacity_of(event, "ahal") == 10


def test_capacity_increase_promotes_the_waitlist_in_order(client, signed_in_organizer):
    event = make_event("seminar", {"ahal": 1})
    make_registration(event, name="Aýna Orazowa")
    first = make_registration(event, name="Merdan Ataýew", status=RegistrationStatus.WAITLISTED)
    second = make_registration(event, name="Jeren Gurbanowa", status=RegistrationStatus.WAITLISTED)
    third = make_registration(event, name="Serdar Nurow", status=RegistrationStatus.WAITLISTED)

    response = set_capacity(client, "3")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Moved up from the waiting list: Merdan Ataýew, Jeren Gurbanowa." in page

    assert capacity_of(event, "ahal") == 3
    assert status_of(first) == RegistrationStatus.CONFIRMED
    assert status_of(second) == RegistrationStatus.CONFIRMED
    assert status_of(third) == RegistrationStatus.WAITLISTED
    promoted = db.session.scalars(
        sa.select(OutboxMessage.recipient).where(OutboxMessage.kind == "promoted")
    ).all()
    assert sorted(promoted) == sorted([first.email, second.email])


def test_capacity_cannot_go_below_the_confirmed(client, signed_in_organizer):
    event = make_event("seminar", {"ahal": 5})
    for name in ("Aýna Orazowa", "Merdan Ataýew", "Jeren Gurbanowa"):
        make_registration(event, name=name)
    response = set_capacity(client, "2")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "already has 3 confirmed people" in page
    assert capacity_of(event, "ahal") == 5

    # Down to exactly the confirmed number is allowed.
    set_capacity(client, "3")
    assert capacity_of(event, "ahal") == 3


@pytest.mark.parametrize(
    ("capacity", "message"),
    [
        ("-5", "Enter a number from 0 to 100000."),
        ("1000001", "Enter a number from 0 to 100000."),
        ("abc", "Not a valid integer value."),
        ("", "Enter the number of seats."),
    ],
)
def test_bad_capacity_change_is_refused(client, signed_in_organizer, capacity, message):
    event = make_event("seminar", {"ahal": 5})
    response = set_capacity(client, capacity)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'<p class="flash flash-error" role="status">Ahal information centre: {message}' in page
    assert capacity_of(event, "ahal") == 5


def test_capacity_of_a_site_not_in_the_event_is_404(client, signed_in_organizer):
    make_event("seminar", {"ahal": 5})
    make_site("mary")
    response = set_capacity(client, "3", site="mary")
    assert response.status_code == 404


def test_remove_a_site_without_registrations(client, signed_in_organizer):
    event = make_event("seminar", {"ashgabat": 50, "ahal": 10})
    response = post_form(
        client, "/manage/events/seminar/sites/ahal/remove", {}, page="/manage/events/seminar/sites"
    )
    assert response.status_code == 302
    assert capacity_of(event, "ahal") is None
    # The site itself outlives the event's use of it.
    assert make_site("ahal").id is not None
    assert db.session.scalar(sa.select(sa.func.count(Site.id))) == 2


def test_a_site_with_active_registrations_cannot_be_removed(client, signed_in_organizer):
    event = make_event("seminar", {"ashgabat": 50, "ahal": 10})
    make_registration(event, name="Merdan Ataýew", status=RegistrationStatus.WAITLISTED)
    response = post_form(
        client, "/manage/events/seminar/sites/ahal/remove", {}, page="/manage/events/seminar/sites"
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 person is registered at Ahal information centre" in page
    assert capacity_of(event, "ahal") == 10


def test_a_site_with_only_cancelled_registrations_stays_with_a_clear_message(
    client, signed_in_organizer
):
    event = make_event("seminar", {"ashgabat": 50, "ahal": 10})
    make_registration(event, status=RegistrationStatus.CANCELLED)
    response = post_form(
        client, "/manage/events/seminar/sites/ahal/remove", {}, page="/manage/events/seminar/sites"
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Set its capacity to 0" in page
    assert capacity_of(event, "ahal") == 10


def test_remove_with_a_bad_csrf_token_is_400(client, signed_in_organizer):
    event = make_event("seminar", {"ashgabat": 50, "ahal": 10})
    response = client.post(
        "/manage/events/seminar/sites/ahal/remove", data={"csrf_token": "forged"}
    )
    assert response.status_code == 400
    assert capacity_of(event, "ahal") == 10
