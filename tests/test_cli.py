"""The command-line contract: seed-demo, users create/token, outbox send."""

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.demo import DEMO_PARTICIPANTS, DEMO_SITES
from app.extensions import db
from app.mail.outbox import OutboxMessage
from app.models import (
    ApiToken,
    Event,
    EventStatus,
    Registration,
    Role,
    Site,
    StaffUser,
    hash_api_token,
)
from tests.conftest import make_event, make_registration

SITES = {"ashgabat", "ahal", "balkan", "dashoguz", "lebap", "mary"}


@pytest.fixture
def demo_logins_file(app):
    return Path(app.config["DEMO_LOGINS_FILE"])


def test_seed_demo_loads_the_seminar_two_weeks_ahead(runner, app):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    event = db.session.scalar(sa.select(Event).where(Event.slug == "human-rights-seminar"))
    assert event.status == EventStatus.PUBLISHED
    assert "Constitution of Turkmenistan" in event.title
    local = event.starts_at.astimezone(ZoneInfo("Asia/Ashgabat"))
    today = datetime.now(ZoneInfo("Asia/Ashgabat")).date()
    assert (local.date() - today).days == 14 and (local.hour, local.minute) == (10, 0)
    assert event.starts_at.utcoffset() == timedelta(0) and event.starts_at.hour == 5
    assert event.registration_state() == "open"
    assert {es.site.slug for es in event.event_sites} == SITES
    assert all(es.capacity > 0 for es in event.event_sites)
    assert len(event.agenda_items) >= 5
    main = db.session.scalar(sa.select(Site).where(Site.slug == "ashgabat"))
    assert main.is_main_venue

    staff = {u.email: u for u in db.session.scalars(sa.select(StaffUser))}
    assert staff["admin@example.org"].role == Role.ADMIN
    assert staff["organizer@example.org"].role == Role.ORGANIZER
    for slug in SITES:
        coordinator = staff[f"{slug}@example.org"]
        assert coordinator.role == Role.COORDINATOR
        assert [s.slug for s in coordinator.sites] == [slug]
    # The printed password logs in.
    line = next(line for line in result.output.splitlines() if "organizer@example.org" in line)
    assert staff["organizer@example.org"].check_password(line.split()[-1])


def test_seed_demo_is_idempotent(runner, app, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD_ADMIN", "from-the-environment")
    first = runner.invoke(args=["seed-demo"])
    event = db.session.scalar(sa.select(Event).where(Event.slug == "human-rights-seminar"))
    make_registration(event, name="Walk In", email="walk.in@example.org", site="ahal")
    second = runner.invoke(args=["seed-demo"])
    assert first.exit_code == second.exit_code == 0
    assert db.session.scalar(sa.select(sa.func.count(Event.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(Site.id))) == 6
    assert db.session.scalar(sa.select(sa.func.count(StaffUser.id))) == 2 + len(SITES)
    # The sample participants are not added twice; the one added by hand stays.
    assert (
        db.session.scalar(sa.select(sa.func.count(Registration.id))) == len(DEMO_PARTICIPANTS) + 1
    )
    admin = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == "admin@example.org"))
    assert admin.check_password("from-the-environment")

    # The second run prints the same organiser password as the first.
    def organiser_line(output):
        return next(line for line in output.splitlines() if "organizer@example.org" in line)

    assert organiser_line(first.output) == organiser_line(second.output)


def test_every_demo_site_has_a_coordinator_who_may_check_in_there(runner, app, client, auth):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    printed = {
        email: password
        for email, _role, password in (
            line.split() for line in result.output.splitlines() if "@example.org" in line
        )
    }
    coordinators = [
        (user.email, {site.slug for site in user.sites})
        for user in db.session.scalars(
            sa.select(StaffUser).where(StaffUser.role == Role.COORDINATOR)
        )
    ]
    for slug, *_ in DEMO_SITES:
        email = next((email for email, sites in coordinators if slug in sites), None)
        assert email, f"no demo coordinator serves {slug}"
        auth.login(email, printed[email])
        door = client.get(f"/manage/events/human-rights-seminar/checkin/{slug}")
        assert door.status_code == 200, (email, door.status_code)
        auth.logout()


def test_seed_demo_keeps_its_logins_where_configured(runner, app, demo_logins_file):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    kept = demo_logins_file.read_text(encoding="utf-8").splitlines()
    assert [line.split() for line in kept] == [
        line.split() for line in result.output.splitlines() if "@example.org" in line
    ]


def test_users_create_and_token(runner, app):
    runner.invoke(args=["seed-demo"])
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Maral@Example.org",
            "--role",
            "coordinator",
            "--site",
            "mary",
            "--site",
            "lebap",
            "--password",
            "s3cret-pass",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == "maral@example.org"))
    assert user.role == Role.COORDINATOR
    assert sorted(s.slug for s in user.sites) == ["lebap", "mary"]
    assert user.check_password("s3cret-pass")

    token_result = runner.invoke(args=["users", "token", "maral@example.org"])
    assert token_result.exit_code == 0
    token = token_result.output.strip()
    assert len(token) >= 40
    [stored] = db.session.scalars(sa.select(ApiToken)).all()
    assert stored.token_hash == hash_api_token(token)
    assert token not in stored.token_hash


def test_users_create_refuses_bad_input(runner, app):
    runner.invoke(args=["seed-demo"])
    unknown = runner.invoke(
        args=["users", "create", "x@example.org", "--role", "coordinator", "--site", "atlantis"]
    )
    assert unknown.exit_code != 0 and "unknown site: atlantis" in unknown.output
    no_site = runner.invoke(args=["users", "create", "x@example.org", "--role", "coordinator"])
    assert no_site.exit_code != 0 and "needs at least one site" in no_site.output
    bad_role = runner.invoke(args=["users", "create", "x@example.org", "--role", "king"])
    assert bad_role.exit_code != 0
    assert db.session.scalar(sa.select(StaffUser).where(StaffUser.email == "x@example.org")) is None
    missing = runner.invoke(args=["users", "token", "nobody@example.org"])
    assert missing.exit_code != 0 and "no staff user" in missing.output


def _staff_snapshot():
    """Every staff account as plain values, read in a transaction of its own."""
    db.session.rollback()
    snapshot = {
        user.email: (
            user.name,
            user.role,
            user.is_active_user,
            user.password_hash,
            [site.slug for site in user.sites],
        )
        for user in db.session.scalars(sa.select(StaffUser))
    }
    db.session.rollback()
    return snapshot


def test_users_create_keeps_the_last_admin(runner, app):
    runner.invoke(args=["seed-demo"])
    before = _staff_snapshot()
    demote = ["users", "create", "admin@example.org", "--role", "organizer"]
    refused = runner.invoke(args=[*demote, "--password", "another-pass"])
    assert refused.exit_code == 1
    assert "last active admin" in refused.output and "Traceback" not in refused.output
    assert _staff_snapshot() == before

    # With a second admin, the first may step down.
    promoted = runner.invoke(args=["users", "create", "boss@example.org", "--role", "admin"])
    assert promoted.exit_code == 0, promoted.output
    assert runner.invoke(args=demote).exit_code == 0
    after = _staff_snapshot()
    assert after["admin@example.org"][1] == Role.ORGANIZER
    assert after["boss@example.org"][1] == Role.ADMIN


def test_users_create_refuses_a_coordinator_without_sites(runner, app):
    runner.invoke(args=["seed-demo"])
    before = _staff_snapshot()
    for email in ("organizer@example.org", "newcomer@example.org"):
        refused = runner.invoke(args=["users", "create", email, "--role", "coordinator"])
        assert refused.exit_code == 1, refused.output
        assert "A coordinator needs at least one site." in refused.output
    assert _staff_snapshot() == before


def test_outbox_send_retries_until_mail_works(runner, app):
    event = make_event()
    registration = make_registration(event)
    from app.mail.messages import notify_registration

    notify_registration(registration, "confirmation")
    db.session.commit()

    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=9)  # nothing listens there
    failed = runner.invoke(args=["outbox", "send"])
    assert failed.exit_code == 1 and "failed 1" in failed.output
    [message] = db.session.scalars(sa.select(OutboxMessage)).all()
    assert message.sent_at is None and message.attempts == 1 and message.last_error
    assert message.next_attempt_at > datetime.now(UTC)

    # Not due yet: nothing is tried.
    app.config.update(SMTP_HOST="")
    assert "sent 0, failed 0" in runner.invoke(args=["outbox", "send"]).output
    message.next_attempt_at = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    sent = runner.invoke(args=["outbox", "send"])
    assert sent.exit_code == 0 and "sent 1, failed 0" in sent.output
    db.session.refresh(message)
    assert message.sent_at is not None and message.attempts == 2 and message.last_error == ""
    [eml] = Path(app.config["MAIL_FILE_DIR"]).glob("*.eml")
    parsed = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert parsed["To"] == registration.email
