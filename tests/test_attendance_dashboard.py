"""The live dashboard: per-site and online counts, charts, refresh data and access."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from app.attendance.services import arrivals_over_time, record_online_join, site_attendance
from app.extensions import db
from app.models import (
    CheckIn,
    CheckInMethod,
    CheckInResult,
    Mode,
    OrgKind,
    RefusalReason,
    Registration,
    RegistrationStatus,
    Role,
    utcnow,
)

# add_checkin is also imported from here by the browser tests.
from tests.conftest import add_checkin, make_event, make_registration, make_site, make_staff


def bulk_registrations(event, count: int, site_slugs=("ashgabat", "ahal")) -> None:
    """Many registrations and check-ins in a few statements, for query-count tests."""
    sites = {slug: make_site(slug).id for slug in site_slugs}
    start = db.session.scalar(sa.select(sa.func.count(Registration.id))) or 0
    rows = []
    for i in range(count):
        online = i % 5 == 0
        slug = site_slugs[i % len(site_slugs)]
        rows.append(
            {
                "event_id": event.id,
                "name": f"Person {start + i}",
                "email": f"person{start + i}@example.org",
                "organization": "Ministry",
                "org_kind": OrgKind.STATE,
                "mode": Mode.ONLINE if online else Mode.IN_PERSON,
                "site_id": None if online else sites[slug],
                "status": RegistrationStatus.WAITLISTED
                if i % 7 == 3 and not online
                else RegistrationStatus.CONFIRMED,
                "search_text": f"person {start + i}",
            }
        )
    db.session.execute(sa.insert(Registration), rows)
    db.session.commit()
    registrations = db.session.execute(
        sa.select(
            Registration.id, Registration.site_id, Registration.mode, Registration.status
        ).where(Registration.event_id == event.id)
    ).all()
    checkins = []
    now = utcnow()
    for n, (rid, site_id, mode, status) in enumerate(registrations):
        if status != RegistrationStatus.CONFIRMED or n % 2:
            continue
        checkins.append(
            {
                "client_id": str(uuid.uuid4()),
                "event_id": event.id,
                "registration_id": rid,
                "site_id": site_id,
                "method": CheckInMethod.ONLINE_JOIN if mode == Mode.ONLINE else CheckInMethod.QR,
                "result": CheckInResult.ADMITTED,
                "scanned_at": now - timedelta(minutes=n % 90),
                "day": event.local_day(now - timedelta(minutes=n % 90)),
                "received_at": now,
            }
        )
    db.session.execute(sa.insert(CheckIn), checkins)
    db.session.commit()


def test_site_attendance_counts_each_site_and_online(app):
    event = make_event(sites={"ashgabat": 50, "ahal": 10})
    arrived = make_registration(event, name="Aýna Orazowa", site="ahal")
    make_registration(event, name="Merdan Atayev", site="ahal")
    make_registration(
        event, name="Jeren Ataýewa", site="ahal", status=RegistrationStatus.WAITLISTED
    )
    forced = make_registration(event, name="Batyr Gurbanow", site="ashgabat")
    make_registration(
        event, name="Cancelled Person", site="ahal", status=RegistrationStatus.CANCELLED
    )
    online = make_registration(event, name="Ирина Петрова", site=None)
    make_registration(event, name="Online Two", site=None)
    reported = make_registration(event, name="Online Three", site=None)

    add_checkin(event, arrived, "ahal")
    # Registered for Ashgabat but let in at Ahal on purpose.
    add_checkin(event, forced, "ahal", forced=True)
    # An undone check-in does not count; a refused one neither.
    undone = make_registration(event, name="Undone Person", site="ashgabat")
    add_checkin(event, undone, "ashgabat", annulled=True)
    add_checkin(
        event, None, "ahal", result=CheckInResult.REFUSED, reason=RefusalReason.UNKNOWN_CODE
    )
    record_online_join(online)
    record_online_join(online)
    add_checkin(event, reported, method=CheckInMethod.ONLINE_REPORT, online_minutes=200)
    db.session.commit()

    summary = site_attendance(event)
    ahal, ashgabat = summary.site("ahal"), summary.site("ashgabat")
    assert (ahal.capacity, ahal.confirmed, ahal.waitlisted, ahal.checked_in, ahal.not_arrived) == (
        10,
        2,
        1,
        2,
        1,
    )
    assert (ashgabat.confirmed, ashgabat.checked_in, ashgabat.not_arrived) == (2, 0, 1)
    assert summary.online.registered == 3
    assert summary.online.joined == 1
    assert summary.online.attended_by_report == 1
    assert summary.totals.checked_in == 2
    assert summary.totals.attended == 4
    # Batyr counts at Ahal, where he attended, and as Ashgabat's own who went elsewhere.
    assert (ashgabat.registered, ashgabat.arrived, ashgabat.attended_elsewhere) == (2, 1, 1)
    assert (ahal.registered, ahal.arrived, ahal.rate_text) == (2, 1, "50%")

    data = summary.to_dict()
    assert [s["slug"] for s in data["sites"]] == ["ashgabat", "ahal"]
    assert data["sites"][1] == {
        "slug": "ahal",
        "name": ahal.name,
        "capacity": 10,
        "confirmed": 2,
        "waitlisted": 1,
        "checked_in": 2,
        "not_arrived": 1,
        "from_other_sites": 1,
        "registered": 2,
        "arrived": 1,
        "attended_elsewhere": 0,
    }
    assert data["online"] == {
        "registered": 3,
        "joined": 1,
        "attended_by_report": 1,
        "attended": 2,
        "arrived": 2,
        "attended_elsewhere": 0,
        "from_other_sites": 0,
        "not_arrived": 1,
    }


def test_people_admitted_from_another_site_are_counted_apart(app, client, auth):
    make_staff("organizer@example.org", Role.ORGANIZER)
    event = make_event(sites={"ashgabat": 50, "ahal": 10})
    arrived = make_registration(event, name="Aýna Orazowa", site="ahal")
    make_registration(event, name="Merdan Atayev", site="ahal")
    add_checkin(event, arrived, "ahal")
    # Let in at Ahal on purpose: one registered for Ashgabat, one to take part online.
    add_checkin(event, make_registration(event, name="From Ashgabat", site="ashgabat"), "ahal")
    add_checkin(event, make_registration(event, name="Registered Online", site=None), "ahal")

    ahal = site_attendance(event).site("ahal")
    assert ahal.from_other_sites == 2
    assert ahal.checked_in == 3  # everyone let in at Ahal, as before
    # Ahal's own people add up: one arrived and one awaited of the two registered.
    assert (ahal.arrived, ahal.not_arrived, ahal.registered) == (1, 1, 2)
    assert site_attendance(event).site("ashgabat").from_other_sites == 0

    auth.login("organizer@example.org")
    html = client.get(f"/manage/events/{event.slug}/dashboard").get_data(as_text=True)
    row = re.search(r'<tr data-site="ahal">(.*?)</tr>', html, re.S).group(1)
    shown = dict(re.findall(r'data-field="(\w+)">([^<]*)<', row))
    assert shown["registered"] == "2" and shown["checked_in"] == "3"
    assert shown["rate"] == "50%"
    assert shown["not_arrived"] == "1"
    assert shown["from_other_sites"] == "2"
    data = client.get(f"/manage/events/{event.slug}/dashboard.json").get_json()
    [ahal_data] = [s for s in data["summary"]["sites"] if s["slug"] == "ahal"]
    assert (ahal_data["from_other_sites"], ahal_data["checked_in"]) == (2, 3)


def test_summary_limited_to_some_sites_leaves_online_out(app):
    event = make_event(sites={"ashgabat": 50, "ahal": 10})
    person = make_registration(event, site="ahal")
    make_registration(event, name="Someone Else", site="ashgabat")
    online = make_registration(event, name="Online Person", site=None)
    add_checkin(event, person, "ahal")
    record_online_join(online)
    db.session.commit()

    summary = site_attendance(event, {make_site("ahal").id})
    assert [s.slug for s in summary.sites] == ["ahal"]
    assert summary.online is None
    assert summary.totals.attended == 1
    assert summary.to_dict()["online"] is None


def test_summary_uses_the_same_number_of_queries_for_100_and_1000_people(app, count_queries):
    small = make_event("small")
    bulk_registrations(small, 100)
    large = make_event("large")
    bulk_registrations(large, 1000)

    counts = {}
    for event in (small, large):
        db.session.expire_all()
        with count_queries() as q:
            summary = site_attendance(event)
            arrivals_over_time(event)
        counts[event.slug] = q.count
        assert summary.totals.confirmed > 0
    assert counts["small"] == counts["large"] <= 6
    assert site_attendance(large).totals.checked_in > site_attendance(small).totals.checked_in


def test_dashboard_json_uses_the_same_number_of_queries(app, client, auth, count_queries):
    make_staff("organizer@example.org", Role.ORGANIZER)
    small = make_event("small")
    bulk_registrations(small, 100)
    large = make_event("large")
    bulk_registrations(large, 1000)
    auth.login("organizer@example.org")

    counts = {}
    for slug in ("small", "large"):
        with count_queries() as q:
            response = client.get(f"/manage/events/{slug}/dashboard.json")
        assert response.status_code == 200
        counts[slug] = q.count
    assert counts["small"] == counts["large"]


def test_dashboard_page_shows_the_figures_and_a_chart_per_site(app, client, auth):
    make_staff("organizer@example.org", Role.ORGANIZER)
    event = make_event(sites={"ashgabat": 50, "ahal": 10}, starts_in=timedelta(minutes=-30))
    person = make_registration(event, name="Aýna Orazowa", site="ahal")
    add_checkin(event, person, "ahal")
    auth.login("organizer@example.org")

    response = client.get(f"/manage/events/{event.slug}/dashboard")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-site="ahal"' in html and 'data-site="ashgabat"' in html
    assert html.count('class="arrivals-chart"') == 2
    assert "js/dashboard.js" in html
    assert f'data-url="/manage/events/{event.slug}/dashboard.json"' in html
    assert "Registered online" in html


def test_dashboard_json_reflects_a_new_arrival_without_reload(app, client, auth):
    make_staff("organizer@example.org", Role.ORGANIZER)
    event = make_event(sites={"ashgabat": 50, "ahal": 10}, starts_in=timedelta(minutes=-30))
    person = make_registration(event, site="ahal")
    auth.login("organizer@example.org")

    before = client.get(f"/manage/events/{event.slug}/dashboard.json").get_json()
    add_checkin(event, person, "ahal", at=utcnow() - timedelta(minutes=5))
    after = client.get(f"/manage/events/{event.slug}/dashboard.json").get_json()

    def ahal(data):
        return next(s for s in data["summary"]["sites"] if s["slug"] == "ahal")

    assert (ahal(before)["checked_in"], ahal(before)["not_arrived"]) == (0, 1)
    assert (ahal(after)["checked_in"], ahal(after)["not_arrived"]) == (1, 0)
    assert "No arrivals yet" in before["charts"]["ahal"]
    assert '<path class="arrivals"' in after["charts"]["ahal"]
    assert after["summary"]["totals"]["attended"] == 1


def test_arrivals_are_grouped_in_time_buckets(app):
    event = make_event(sites={"ahal": 10})
    base = datetime(2025, 3, 14, 5, 0, tzinfo=UTC)
    for minutes, name in ((1, "A One"), (4, "B Two"), (12, "C Three")):
        person = make_registration(event, name=name, site="ahal")
        add_checkin(event, person, "ahal", at=base + timedelta(minutes=minutes))
    arrivals = arrivals_over_time(event, bucket_minutes=10)
    assert arrivals.per_site[make_site("ahal").id] == [
        (base, 2),
        (base + timedelta(minutes=10), 1),
    ]


def test_coordinator_sees_only_their_own_sites(app, client, auth):
    make_staff("ahal@example.org", Role.COORDINATOR, sites=("ahal",))
    event = make_event(sites={"ashgabat": 50, "ahal": 10})
    make_registration(event, site="ahal")
    auth.login("ahal@example.org")

    page = client.get(f"/manage/events/{event.slug}/dashboard")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-site="ahal"' in html
    assert 'data-site="ashgabat"' not in html
    assert 'data-site="_online"' not in html

    data = client.get(f"/manage/events/{event.slug}/dashboard.json").get_json()
    assert [s["slug"] for s in data["summary"]["sites"]] == ["ahal"]
    assert data["summary"]["online"] is None
    for page in ("dashboard", "dashboard.json"):
        assert client.get(f"/manage/events/{event.slug}/{page}?site=ashgabat").status_code == 403


def test_coordinator_of_a_site_not_in_the_event_is_refused(app, client, auth):
    make_staff("mary@example.org", Role.COORDINATOR, sites=("mary",))
    event = make_event(sites={"ashgabat": 50, "ahal": 10})
    auth.login("mary@example.org")
    assert client.get(f"/manage/events/{event.slug}/dashboard").status_code == 403


def test_dashboard_needs_a_login_and_a_real_event(app, client, auth):
    event = make_event()
    response = client.get(f"/manage/events/{event.slug}/dashboard")
    assert response.status_code == 302 and "/manage/login" in response.headers["Location"]
    make_staff("organizer@example.org", Role.ORGANIZER)
    auth.login("organizer@example.org")
    assert client.get("/manage/events/no-such-event/dashboard").status_code == 404
    assert client.get(f"/manage/events/{event.slug}/dashboard?site=nowhere").status_code == 404


def test_dashboard_counts_the_whole_event_or_the_day_chosen(app, client, auth):
    make_staff("organizer@example.org", Role.ORGANIZER)
    start = datetime(2025, 3, 14, 5, 0, tzinfo=UTC)
    event = make_event(
        sites={"ashgabat": 50, "ahal": 10}, starts_at=start, duration=timedelta(days=1, hours=8)
    )
    person = make_registration(event, name="Aýna Orazowa", site="ahal")
    add_checkin(event, person, "ahal", at=start)
    # On the second day she stayed home and joined online.
    add_checkin(event, person, method=CheckInMethod.ONLINE_JOIN, at=start + timedelta(days=1))
    auth.login("organizer@example.org")

    def cells(html: str, scope: str) -> dict[str, str]:
        row = re.search(rf'<tr data-site="{scope}">(.*?)</tr>', html, re.S).group(1)
        return dict(re.findall(r'data-field="(\w+)">([^<]*)<', row))

    whole = client.get(f"/manage/events/{event.slug}/dashboard").get_data(as_text=True)
    assert '<option value="2025-03-15">' in whole
    assert (cells(whole, "ahal")["checked_in"], cells(whole, "_online")["attended"]) == ("1", "0")
    assert cells(whole, "_totals")["attended"] == "1"

    second = client.get(f"/manage/events/{event.slug}/dashboard?day=2025-03-15")
    html = second.get_data(as_text=True)
    assert '<option value="2025-03-15" selected>' in html
    ahal, online = cells(html, "ahal"), cells(html, "_online")
    assert (ahal["checked_in"], ahal["attended_elsewhere"], ahal["rate"]) == ("0", "1", "100%")
    assert (online["attended"], online["from_other_sites"]) == ("1", "1")
    assert cells(html, "_totals")["attended"] == "1"
    assert "dashboard.json?day=2025-03-15" in html
    data = client.get(f"/manage/events/{event.slug}/dashboard.json?day=2025-03-15").get_json()
    assert data["summary"]["day"] == "2025-03-15"
    assert data["summary"]["online"]["attended"] == 1
