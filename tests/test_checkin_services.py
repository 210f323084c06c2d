"""The check-in rules, called directly: admission, refusals, idempotency, undo, walk-ins."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.checkin.roster import search_registrations, site_roster
from app.checkin.services import admit_checkin, undo_checkin
from app.checkin.walk_ins import register_walk_in
from app.extensions import db
from app.models import (
    CheckInMethod,
    CheckInResult,
    Mode,
    OutboxMessage,
    RefusalReason,
    Registration,
    RegistrationStatus,
    Site,
    utcnow,
)
from app.refusals import Reason, Refusal
from app.registrations.services import RegistrationInput
from tests.conftest import checkin_rows, make_event, make_registration, new_id


def site(slug: str) -> Site:
    return db.session.scalar(sa.select(Site).where(Site.slug == slug))


@pytest.fixture
def event(app):
    return make_event("seminar", {"ashgabat": 50, "ahal": 2})


def admit(event, code, user, site_slug="ahal", **kwargs):
    outcome = admit_checkin(
        event, site(site_slug), code, kwargs.pop("client_id", new_id()), user, **kwargs
    )
    db.session.commit()
    return outcome


def test_a_confirmed_person_is_admitted_at_their_site_with_everything_recorded(event, coordinator):
    person = make_registration(event, name="Aýna Orazowa", site="ahal")
    scanned = utcnow() - timedelta(minutes=3)
    client_id = new_id()

    outcome = admit(
        event,
        person.badge_code,
        coordinator,
        client_id=client_id,
        scanned_at=scanned,
        device="Door phone 1",
    )

    assert outcome.admitted and outcome.reason is None and not outcome.replayed
    assert outcome.registration.name == "Aýna Orazowa"
    [row] = checkin_rows()
    assert row.client_id == client_id
    assert row.result == CheckInResult.ADMITTED
    assert row.site.slug == "ahal"
    assert row.registration_id == person.id
    assert row.staff_user_id == coordinator.id
    assert row.device == "Door phone 1"
    assert row.method == CheckInMethod.QR
    assert row.scanned_at == scanned
    assert row.received_at > scanned
    assert row.forced is False


def test_codes_are_read_whatever_the_case_and_spacing(event, coordinator):
    person = make_registration(event, site="ahal")
    typed = " ".join(person.badge_code.lower()[i : i + 4] for i in range(0, 32, 4))
    assert admit(event, typed, coordinator).admitted


def test_the_second_scan_says_already_checked_in_with_when_where_and_by_whom(
    event, coordinator, organizer
):
    person = make_registration(event, site="ahal")
    first = admit(event, person.badge_code, coordinator, device="phone")

    second = admit(event, person.badge_code, organizer, site_slug="ashgabat", force=True)

    assert not second.admitted
    assert second.reason == RefusalReason.ALREADY_CHECKED_IN
    assert second.previous.client_id == first.checkin.client_id
    assert second.previous.site.slug == "ahal"
    assert second.previous.staff_user.email == "ahal@example.org"
    assert second.previous.scanned_at == first.checkin.scanned_at
    rows = checkin_rows()
    assert [r.result for r in rows] == [CheckInResult.ADMITTED, CheckInResult.REFUSED]
    assert rows[1].reason == RefusalReason.ALREADY_CHECKED_IN


def test_resending_a_client_id_returns_the_first_result_and_records_nothing(event, coordinator):
    person = make_registration(event, site="ahal")
    client_id = new_id()
    first = admit(event, person.badge_code, coordinator, client_id=client_id)

    again = admit(event, person.badge_code, coordinator, client_id=client_id)

    assert again.replayed and again.admitted
    assert again.checkin.id == first.checkin.id
    assert len(checkin_rows()) == 1


def test_a_resent_refusal_is_replayed_too(event, coordinator):
    client_id = new_id()
    admit(event, "NOSUCHCODE", coordinator, client_id=client_id)
    again = admit(event, "NOSUCHCODE", coordinator, client_id=client_id)
    assert again.replayed and again.reason == RefusalReason.UNKNOWN_CODE
    assert len(checkin_rows()) == 1


def test_someone_registered_elsewhere_is_refused_until_forced(event, organizer):
    person = make_registration(event, site="ahal")

    refused = admit(event, person.badge_code, organizer, site_slug="ashgabat")
    assert refused.reason == RefusalReason.WRONG_SITE
    assert refused.registration.site.slug == "ahal"

    forced = admit(event, person.badge_code, organizer, site_slug="ashgabat", force=True)
    assert forced.admitted
    assert forced.checkin.forced is True
    assert forced.checkin.site.slug == "ashgabat"


def test_an_online_registrant_at_a_site_is_wrong_site_and_can_be_forced(event, organizer):
    person = make_registration(event, site=None)
    assert admit(event, person.badge_code, organizer).reason == RefusalReason.WRONG_SITE
    assert admit(event, person.badge_code, organizer, force=True).admitted


@pytest.mark.parametrize("status", [RegistrationStatus.WAITLISTED, RegistrationStatus.CANCELLED])
def test_waitlisted_and_cancelled_people_are_not_admitted_even_when_forced(
    event, coordinator, status
):
    person = make_registration(event, site="ahal", status=status)
    outcome = admit(event, person.badge_code, coordinator, force=True)
    assert outcome.reason == RefusalReason.NOT_ADMITTED
    assert outcome.registration.status == status
    assert checkin_rows()[0].result == CheckInResult.REFUSED


def test_unknown_codes_and_codes_of_other_events_are_refused_and_kept(event, coordinator):
    other_event = make_event("other-event", {"ahal": 5})
    stranger = make_registration(other_event, site="ahal")

    unknown = admit(event, "WIFI:S:guest;T:WPA;P:secret;;", coordinator)
    foreign = admit(event, stranger.badge_code, coordinator)

    assert unknown.reason == RefusalReason.UNKNOWN_CODE and unknown.registration is None
    assert foreign.reason == RefusalReason.UNKNOWN_CODE and foreign.registration is None
    rows = checkin_rows()
    assert rows[0].code == "WIFI:S:guest;T:WPA;P:secret;;"
    assert all(r.registration_id is None for r in rows)


def test_a_coordinator_cannot_check_in_at_another_site(event, coordinator):
    person = make_registration(event, site="ashgabat")
    with pytest.raises(Refusal) as refused:
        admit_checkin(event, site("ashgabat"), person.badge_code, new_id(), coordinator)
    assert refused.value.reason == Reason.FORBIDDEN
    db.session.rollback()
    assert checkin_rows() == []


def test_a_late_upload_keeps_the_time_it_was_scanned(event, coordinator):
    # The event ran yesterday; a phone that was offline uploads now.
    event.starts_at = utcnow() - timedelta(days=1, hours=2)
    event.ends_at = utcnow() - timedelta(days=1)
    db.session.commit()
    person = make_registration(event, site="ahal")
    scanned = event.starts_at + timedelta(minutes=5)

    outcome = admit(event, person.badge_code, coordinator, scanned_at=scanned)

    assert outcome.admitted
    assert checkin_rows()[0].scanned_at == scanned


@pytest.mark.parametrize(
    ("offset", "allowed"),
    [
        (timedelta(minutes=9), True),
        (timedelta(minutes=11), False),
        (timedelta(days=-3), False),
    ],
)
def test_scan_times_from_broken_clocks_are_refused(event, coordinator, offset, allowed):
    event.starts_at = utcnow() + timedelta(hours=1)
    event.ends_at = utcnow() + timedelta(hours=5)
    db.session.commit()
    person = make_registration(event, site="ahal")
    if allowed:
        assert admit(event, person.badge_code, coordinator, scanned_at=utcnow() + offset).admitted
        return
    with pytest.raises(Refusal) as refused:
        admit(event, person.badge_code, coordinator, scanned_at=utcnow() + offset)
    assert refused.value.reason == Reason.INVALID
    db.session.rollback()
    assert checkin_rows() == []


def test_undo_annuls_without_deleting_and_the_person_can_be_admitted_again(event, coordinator):
    person = make_registration(event, site="ahal")
    first = admit(event, person.badge_code, coordinator)

    undone = undo_checkin(event, first.checkin.client_id, coordinator)
    db.session.commit()
    assert undone.annulled_at is not None and undone.annulled_by_id == coordinator.id
    again_undone = undo_checkin(event, first.checkin.client_id, coordinator)
    assert again_undone.annulled_at == undone.annulled_at

    assert admit(event, person.badge_code, coordinator).admitted
    rows = checkin_rows()
    assert len(rows) == 2
    assert rows[0].annulled_at is not None and rows[1].annulled_at is None


def test_undo_is_refused_for_refusals_foreign_sites_and_unknown_ids(event, coordinator, organizer):
    person = make_registration(event, site="ashgabat")
    admitted = admit(event, person.badge_code, organizer, site_slug="ashgabat")
    refused = admit(event, "NOPE", coordinator)

    for client_id, user, reason in [
        (refused.checkin.client_id, coordinator, Reason.NOTHING_TO_UNDO),
        (admitted.checkin.client_id, coordinator, Reason.FORBIDDEN),
        (new_id(), organizer, Reason.NOT_FOUND),
    ]:
        with pytest.raises(Refusal) as error:
            undo_checkin(event, client_id, user)
        assert error.value.reason == reason
    db.session.rollback()
    assert all(row.annulled_at is None for row in checkin_rows())


# --- walk-ins -------------------------------------------------------------------


def walk_in_data(name="Merdan Annaýew", email="merdan@example.org"):
    return RegistrationInput(
        name=name, email=email, mode=Mode.IN_PERSON, organization="Mary information centre"
    )


def test_a_walk_in_is_registered_confirmed_and_admitted_at_once(event, coordinator):
    outcome = register_walk_in(event, site("ahal"), walk_in_data(), coordinator, new_id())
    db.session.commit()

    registration = db.session.scalar(
        sa.select(Registration).where(Registration.email == "merdan@example.org")
    )
    assert registration.status == RegistrationStatus.CONFIRMED
    assert registration.site.slug == "ahal"
    assert registration.created_by_id == coordinator.id
    assert outcome.checkin.admitted
    assert outcome.checkin.checkin.method == CheckInMethod.WALK_IN
    kinds = db.session.scalars(sa.select(OutboxMessage.kind)).all()
    assert kinds == ["confirmation"]


def test_a_walk_in_at_a_full_site_is_refused_and_nothing_is_written(event, coordinator):
    make_registration(event, name="One", site="ahal")
    make_registration(event, name="Two", site="ahal")

    with pytest.raises(Refusal) as refused:
        register_walk_in(event, site("ahal"), walk_in_data(), coordinator, new_id())
    db.session.rollback()

    assert refused.value.reason == "site_full"
    assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 2
    assert checkin_rows() == []
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0


def test_a_walk_in_with_an_email_already_registered_is_refused(event, coordinator):
    make_registration(event, name="Merdan", email="merdan@example.org", site="ahal")
    with pytest.raises(Refusal) as refused:
        register_walk_in(event, site("ahal"), walk_in_data(), coordinator, new_id())
    assert refused.value.reason == "already_registered"


# --- search and roster -------------------------------------------------------------


def test_search_ignores_case_and_diacritics(event, organizer):
    make_registration(event, name="Aýgül Şükürowa", site="ahal")
    make_registration(event, name="Nurgeldi Berdiýew", site="ashgabat")
    make_registration(event, name="Someone Else", site="ahal", organization="Ministry of Justice")

    def names(query, site_ids=None):
        return [e.registration.name for e in search_registrations(event, site_ids, query)]

    assert names("sukurowa") == ["Aýgül Şükürowa"]
    assert names("ŞÜKÜR") == ["Aýgül Şükürowa"]
    assert names("ňurgeldi") == ["Nurgeldi Berdiýew"]
    assert names("aygul sukur") == ["Aýgül Şükürowa"]
    assert names("justice") == ["Someone Else"]
    assert names("%") == []
    assert names("a") == []


def test_search_is_limited_to_the_sites_given(event, coordinator):
    make_registration(event, name="Aýgül Şükürowa", site="ahal")
    make_registration(event, name="Aýgül Ashgabatly", site="ashgabat")
    make_registration(event, name="Aýgül Online", site=None)
    found = search_registrations(event, {site("ahal").id}, "aygul")
    assert [e.registration.name for e in found] == ["Aýgül Şükürowa"]
    assert len(search_registrations(event, None, "aygul")) == 3


def test_the_roster_counts_expected_and_arrived_people(event, organizer):
    arrived = make_registration(event, name="Arrived Here", site="ahal")
    make_registration(event, name="Not Yet", site="ahal")
    make_registration(event, name="Waiting", site="ahal", status=RegistrationStatus.WAITLISTED)
    visitor = make_registration(event, name="Visitor From Ashgabat", site="ashgabat")
    make_registration(event, name="Stays In Ashgabat", site="ashgabat")
    admit(event, arrived.badge_code, organizer)
    admit(event, visitor.badge_code, organizer, force=True)

    roster = site_roster(event, site("ahal"))

    assert [e.registration.name for e in roster.entries] == [
        "Arrived Here",
        "Not Yet",
        "Visitor From Ashgabat",
        "Waiting",
    ]
    assert roster.expected == 2
    assert roster.arrived == 2
    assert [e.registration.name for e in roster.not_arrived] == ["Not Yet"]
