"""The check-in pages: who may open them, and what the site's list shows."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from app.checkin.services import admit_checkin
from app.extensions import db
from app.models import RegistrationStatus, Role
from tests.conftest import make_event, make_registration, make_staff


@pytest.fixture
def event(app):
    event = make_event("seminar", {"ashgabat": 50, "ahal": 10, "balkan": 10})
    make_staff("organizer@example.org", Role.ORGANIZER)
    make_staff("ahal@example.org", Role.COORDINATOR, sites=("ahal",))
    make_staff("two@example.org", Role.COORDINATOR, sites=("ahal", "balkan"))
    return event


def test_anonymous_visitors_are_sent_to_sign_in(client, event):
    response = client.get("/manage/events/seminar/checkin/ahal")
    assert response.status_code == 302
    assert "/manage/login" in response.headers["Location"]


def test_organisers_choose_among_every_site(client, auth, event):
    auth.login("organizer@example.org")
    page = client.get("/manage/events/seminar/checkin").get_data(as_text=True)
    for slug in ("ashgabat", "ahal", "balkan"):
        assert f"/manage/events/seminar/checkin/{slug}" in page


def test_a_coordinator_with_one_site_goes_straight_to_it(client, auth, event):
    auth.login("ahal@example.org")
    response = client.get("/manage/events/seminar/checkin")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/manage/events/seminar/checkin/ahal")


def test_a_coordinator_with_two_sites_sees_only_those(client, auth, event):
    auth.login("two@example.org")
    page = client.get("/manage/events/seminar/checkin").get_data(as_text=True)
    assert "/checkin/ahal" in page and "/checkin/balkan" in page
    assert "/checkin/ashgabat" not in page


def test_a_coordinator_gets_403_at_another_site_and_sees_nobody_there(client, auth, event):
    make_registration(event, name="Ashgabat Secret", site="ashgabat")
    auth.login("ahal@example.org")
    response = client.get("/manage/events/seminar/checkin/ashgabat")
    assert response.status_code == 403
    assert "Ashgabat Secret" not in response.get_data(as_text=True)


def test_unknown_events_and_sites_answer_404(client, auth, event):
    make_event("other", {"mary": 5})
    auth.login("organizer@example.org")
    assert client.get("/manage/events/nope/checkin").status_code == 404
    assert client.get("/manage/events/nope/checkin/ahal").status_code == 404
    assert client.get("/manage/events/seminar/checkin/mary").status_code == 404


def shown_counts(page: str) -> dict[str, int]:
    """The counts above the site's list, by the id of each figure."""
    return {name: int(value) for name, value in re.findall(r'id="count-([\w-]+)">(\d+)<', page)}


def person_row(page: str, code: str) -> str:
    """The list item of the person with this badge code."""
    row = re.search(rf'<li class="person[^"]*"\s+data-code="{code}">(.*?)</li>', page, re.S)
    return row.group(1)


def test_the_site_page_lists_expected_and_arrived_people_with_counts(client, auth, event):
    organizer = make_staff("admin@example.org", Role.ADMIN)
    arrived = make_registration(event, name="Aýna Arrived", site="ahal")
    make_registration(event, name="Berdi Pending", site="ahal")
    make_registration(
        event, name="Cemile Waiting", site="ahal", status=RegistrationStatus.WAITLISTED
    )
    make_registration(event, name="Elsewhere Person", site="balkan")
    admit_checkin(event, arrived.site, arrived.badge_code, str(uuid.uuid4()), organizer)
    db.session.commit()

    auth.login("ahal@example.org")
    page = client.get("/manage/events/seminar/checkin/ahal").get_data(as_text=True)

    assert "Aýna Arrived" in page and "Berdi Pending" in page and "Cemile Waiting" in page
    assert "Elsewhere Person" not in page
    assert shown_counts(page) == {"arrived": 1, "expected": 2, "pending": 1, "from-other-sites": 0}

    pending = client.get("/manage/events/seminar/checkin/ahal?pending=1").get_data(as_text=True)
    assert "Berdi Pending" in pending
    assert "Aýna Arrived" not in pending and "Cemile Waiting" not in pending


def test_people_let_in_from_another_site_are_counted_apart(client, auth, event):
    organizer = make_staff("admin@example.org", Role.ADMIN)
    sites = {es.site.slug: es.site for es in event.event_sites}

    def admit(person, at: str, force: bool = False) -> None:
        code = person.badge_code
        outcome = admit_checkin(event, sites[at], code, str(uuid.uuid4()), organizer, force=force)
        assert outcome.admitted

    admit(make_registration(event, name="Aýna Here", site="ahal"), "ahal")
    make_registration(event, name="Berdi Pending", site="ahal")
    admit(make_registration(event, name="Merdan Went Elsewhere", site="ahal"), "balkan", True)
    admit(make_registration(event, name="Gözel From Balkan", site="balkan"), "ahal", True)
    db.session.commit()

    auth.login("two@example.org")
    ahal_page = client.get("/manage/events/seminar/checkin/ahal").get_data(as_text=True)
    # Of the three expected at Ahal, two arrived (one of them at Balkan) and one is awaited;
    # Gözel, let in at Ahal though registered for Balkan, is counted apart.
    assert shown_counts(ahal_page) == {
        "arrived": 2,
        "expected": 3,
        "pending": 1,
        "from-other-sites": 1,
    }
    assert "Gözel From Balkan" in ahal_page
    balkan_page = client.get("/manage/events/seminar/checkin/balkan").get_data(as_text=True)
    assert shown_counts(balkan_page) == {
        "arrived": 1,
        "expected": 1,
        "pending": 0,
        "from-other-sites": 1,
    }


def test_only_people_not_yet_arrived_have_a_check_in_button(client, auth, event):
    organizer = make_staff("admin@example.org", Role.ADMIN)
    arrived = make_registration(event, name="Aýna Arrived", site="ahal")
    pending = make_registration(event, name="Berdi Pending", site="ahal")
    admit_checkin(event, arrived.site, arrived.badge_code, str(uuid.uuid4()), organizer)
    db.session.commit()

    auth.login("ahal@example.org")
    page = client.get("/manage/events/seminar/checkin/ahal").get_data(as_text=True)
    arrived_row = person_row(page, arrived.badge_code)
    pending_row = person_row(page, pending.badge_code)
    assert re.search(r"Arrived \d", arrived_row)
    assert "Check in" not in arrived_row
    assert "Not yet arrived" in pending_row
    assert re.search(r"<button[^>]*data-check-in[^>]*>\s*Check in\s*</button>", pending_row)


def test_the_page_carries_what_the_script_needs_and_no_cdn(client, auth, event):
    auth.login("ahal@example.org")
    page = client.get("/manage/events/seminar/checkin/ahal").get_data(as_text=True)
    assert 'data-checkins-url="/api/v1/events/seminar/checkins"' in page
    assert 'data-roster-url="/api/v1/events/seminar/roster?site=ahal"' in page
    assert re.search(r'data-csrf="[^"]{20,}"', page)
    assert "/static/vendor/qr-scanner/qr-scanner.umd.min.js" in page
    assert '<script type="module" src="/static/js/checkin.bundle.js">' in page
    assert not re.search(r'src="(https?:)?//', page)
    text = json.loads(
        re.search(
            r'<script type="application/json" id="checkin-text">(.*?)</script>', page, re.S
        ).group(1)
    )
    assert text["admitted"] == "Admitted"
    assert text["already_checked_in"] == "Already checked in"


def test_names_are_escaped_on_the_list(client, auth, event):
    make_registration(event, name="<script>alert(1)</script>", site="ahal")
    auth.login("ahal@example.org")
    page = client.get("/manage/events/seminar/checkin/ahal").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_vendored_scanner_and_its_licence_are_served(client):
    for path in ("qr-scanner.umd.min.js", "qr-scanner-worker.min.js", "LICENSE"):
        response = client.get(f"/static/vendor/qr-scanner/{path}")
        assert response.status_code == 200
        response.close()


def test_the_service_worker_is_served_with_the_scope_of_the_staff_pages(client, app):
    response = client.get("/manage/checkin-sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    assert b"hybriddesk-checkin-v1" in response.data
