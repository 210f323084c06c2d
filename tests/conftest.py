"""Fixtures: the app on SQLite (or PostgreSQL via TEST_DATABASE_URL), clients, factories."""

from __future__ import annotations

import os
import re
import secrets
import tempfile
import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from email import message_from_string, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa

from app import create_app
from app.extensions import db
from app.models import (
    AgendaItem,
    ApiToken,
    CheckIn,
    CheckInMethod,
    CheckInResult,
    Event,
    EventFormat,
    EventSite,
    EventStatus,
    Mode,
    OrgKind,
    OutboxMessage,
    Registration,
    RegistrationStatus,
    Role,
    Site,
    StaffUser,
    hash_api_token,
    utcnow,
)
from config import TestingConfig, _database_url

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")
_SQLITE_DIR = tempfile.mkdtemp(prefix="hybriddesk-test-")
PASSWORD = "correct horse battery staple"

#: The lists of people staff can download: registrations and attendance, in every format.
PERSONAL_DOWNLOADS = (
    "attendance.csv",
    "attendance.xlsx",
    "attendance.pdf",
    "registrations.csv",
    "registrations.xlsx",
)


def on_postgres() -> bool:
    return bool(POSTGRES_URL)


requires_postgres = pytest.mark.skipif(
    not on_postgres(), reason="needs PostgreSQL: set TEST_DATABASE_URL to run it"
)


class Config(TestingConfig):
    SQLALCHEMY_DATABASE_URI = (
        _database_url(POSTGRES_URL) if POSTGRES_URL else f"sqlite:///{_SQLITE_DIR}/test.sqlite"
    )
    # Room for the concurrency tests' threads, each holding a connection; pre-ping drops
    # the connections a PostgreSQL restart (the production-stack test) has closed.
    SQLALCHEMY_ENGINE_OPTIONS = (
        {"pool_size": 32, "max_overflow": 8, "pool_pre_ping": True} if POSTGRES_URL else {}
    )


def keep_search_extensions_in_public(engine: sa.Engine) -> None:
    """Install pg_trgm and btree_gin in the public schema, out of the migration tests' reach.

    A migration run in a schema of its own would install them there, and dropping that
    schema afterwards would drop the suite's search index with them. Ones left there by an
    earlier run are moved (dropped with what uses them, then installed again).
    """
    with engine.begin() as connection:
        for name in ("pg_trgm", "btree_gin"):
            connection.execute(sa.text(f"CREATE EXTENSION IF NOT EXISTS {name} SCHEMA public"))
            schema = connection.scalar(
                sa.text(
                    "SELECT extnamespace::regnamespace::text FROM pg_extension "
                    "WHERE extname = :name"
                ),
                {"name": name},
            )
            if schema != "public":
                connection.execute(sa.text(f"DROP EXTENSION {name} CASCADE"))
                connection.execute(sa.text(f"CREATE EXTENSION {name} SCHEMA public"))


@pytest.fixture(scope="session")
def _schema():
    """Create the schema once per run; each test then empties the tables."""
    app = create_app(Config)
    with app.app_context():
        db.drop_all()
        if on_postgres():
            keep_search_extensions_in_public(db.engine)
        db.create_all()
    yield
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


def _empty_tables() -> None:
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture(autouse=True)
def _close_every_pool():
    """Close the pooled connections of every app a test built, as soon as the test ends.

    Left to the garbage collector, psycopg warns about each one in whichever later test
    the collection happens to run, and the warning fails that test.
    """
    yield
    for engines in list(db._app_engines.values()):
        for engine in engines.values():
            engine.dispose()


@pytest.fixture
def app(_schema, tmp_path: Path):
    class AppConfig(Config):
        MAIL_FILE_DIR = str(tmp_path / "outbox")
        DEMO_LOGINS_FILE = str(tmp_path / "demo-logins.txt")

    app = create_app(AppConfig)
    with app.app_context():
        yield app
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


_CSRF = re.compile(
    r'name="[\w-]*csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


def csrf_token_from(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = _CSRF.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1) or match.group(2)


def get_csrf(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return csrf_token_from(response.get_data(as_text=True))


def post_form(client, url: str, data: dict, page: str | None = None):
    """Post a form the way a browser would: with the CSRF token of its page."""
    token = get_csrf(client, page or url)
    return client.post(url, data={**data, "csrf_token": token})


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, email: str, password: str = PASSWORD):
        token = get_csrf(self.client, "/manage/login")
        return self.client.post(
            "/manage/login", data={"email": email, "password": password, "csrf_token": token}
        )

    def logout(self):
        token = get_csrf(self.client, "/manage/")
        return self.client.post("/manage/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def organizer(app) -> StaffUser:
    """An organiser's account, not signed in."""
    return make_staff("organizer@example.org", Role.ORGANIZER)


@pytest.fixture
def coordinator(app) -> StaffUser:
    """The coordinator of the Ahal site, not signed in."""
    return make_staff("ahal@example.org", Role.COORDINATOR, sites=("ahal",))


@pytest.fixture
def signed_in_organizer(auth, organizer) -> StaffUser:
    """The organiser's account, signed in on ``client``."""
    auth.login(organizer.email)
    return organizer


# --- times in Ashgabat ------------------------------------------------------

ASHGABAT_OFFSET = timedelta(hours=5)
#: Three days of an event over several days, 10 to 12 March 2025.
DAY_1, DAY_2, DAY_3 = date(2025, 3, 10), date(2025, 3, 11), date(2025, 3, 12)


def in_ashgabat(day: date, hour: int, minute: int = 0) -> datetime:
    """A time of day in Ashgabat (UTC+5), as a UTC moment."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - ASHGABAT_OFFSET


# --- factories -------------------------------------------------------------


def make_site(slug: str = "ahal", name: str | None = None, **fields) -> Site:
    site = db.session.scalar(sa.select(Site).where(Site.slug == slug))
    if site is None:
        site = Site(
            slug=slug,
            name=name or f"{slug.title()} information centre",
            region=fields.pop("region", slug.title()),
            address=fields.pop("address", f"1 Main street, {slug.title()}"),
            **fields,
        )
        db.session.add(site)
        db.session.flush()
    return site


def zone_where_it_is_noon() -> str:
    """A fixed-offset zone in which it is now between 11:30 and 12:30."""
    now = datetime.now(UTC)
    offset = 12 - now.hour - (1 if now.minute >= 30 else 0)
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def make_event(
    slug: str = "seminar",
    sites: dict[str, int] | None = None,
    *,
    starts_in: timedelta = timedelta(days=14),
    starts_at: datetime | None = None,
    duration: timedelta = timedelta(hours=4),
    status: EventStatus = EventStatus.PUBLISHED,
    **fields,
) -> Event:
    """An event with sites given as {slug: capacity}; registration open by default.

    It starts ``starts_in`` from now, or at ``starts_at`` when that is given.
    """
    start = starts_at or (datetime.now(UTC).replace(microsecond=0) + starts_in)
    event = Event(
        slug=slug,
        title=fields.pop("title", "The Constitution of Turkmenistan: human rights"),
        description=fields.pop("description", "A hybrid seminar."),
        starts_at=start,
        ends_at=start + duration,
        timezone=fields.pop("timezone", "Asia/Ashgabat"),
        format=fields.pop("format", EventFormat.HYBRID),
        meeting_url=fields.pop("meeting_url", "https://meet.example.org/seminar"),
        status=status,
        organizer_name=fields.pop("organizer_name", "UNDP Turkmenistan"),
        organizer_email=fields.pop("organizer_email", "organizer@example.org"),
        **fields,
    )
    for position, (site_slug, capacity) in enumerate(
        (sites or {"ashgabat": 50, "ahal": 10}).items()
    ):
        event.event_sites.append(
            EventSite(site=make_site(site_slug), capacity=capacity, position=position)
        )
    event.agenda_items.append(
        AgendaItem(
            title="Opening",
            speakers="UNDP Resident Representative",
            starts_at=start,
            ends_at=start + timedelta(minutes=30),
        )
    )
    db.session.add(event)
    db.session.commit()
    return event


def make_registration(
    event: Event,
    *,
    name: str = "Aýna Orazowa",
    email: str | None = None,
    site: str | None = "ahal",
    status: RegistrationStatus = RegistrationStatus.CONFIRMED,
    **fields,
) -> Registration:
    """A registration written directly, bypassing capacity rules (for test set-up)."""
    site_obj = make_site(site) if site else None
    registration = Registration(
        event=event,
        name=name,
        email=(email or f"{re.sub(r'[^a-z]', '', name.lower()) or 'person'}@example.org").lower(),
        organization=fields.pop("organization", "Institute of State, Law and Democracy"),
        position=fields.pop("position", "Researcher"),
        org_kind=fields.pop("org_kind", OrgKind.STATE),
        language=fields.pop("language", "en"),
        mode=Mode.IN_PERSON if site_obj else Mode.ONLINE,
        site_id=site_obj.id if site_obj else None,
        status=status,
        consent_at=datetime.now(UTC),
        **fields,
    )
    db.session.add(registration)
    db.session.commit()
    return registration


def make_staff(
    email: str = "organizer@example.org",
    role: Role = Role.ORGANIZER,
    sites: tuple[str, ...] = (),
    password: str = PASSWORD,
) -> StaffUser:
    user = StaffUser(email=email, name=email.split("@")[0].title(), role=role)
    user.set_password(password)
    user.sites = [make_site(slug) for slug in sites]
    db.session.add(user)
    db.session.commit()
    return user


def token_for(user: StaffUser) -> str:
    """A new API token for ``user``, as the staff page issues one."""
    token = secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, token_hash=hash_api_token(token), label="test"))
    db.session.commit()
    return token


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def new_id() -> str:
    """A fresh client id, as a scanning device makes one."""
    return str(uuid.uuid4())


def post_checkin(client, token: str, code: str, site: str = "ahal", **fields):
    """A scan sent to the seminar's check-in API, with a fresh client id unless one is given."""
    body = {"code": code, "site": site, "client_id": fields.pop("client_id", new_id()), **fields}
    return client.post("/api/v1/events/seminar/checkins", json=body, headers=bearer(token))


def add_checkin(
    event: Event,
    registration: Registration | None,
    site: str | None = None,
    *,
    method: CheckInMethod = CheckInMethod.QR,
    result: CheckInResult = CheckInResult.ADMITTED,
    reason=None,
    at: datetime | None = None,
    annulled: bool = False,
    **fields,
) -> CheckIn:
    """A check-in row written directly, bypassing the check-in rules (for test set-up)."""
    site_obj = make_site(site) if site else None
    row = CheckIn(
        client_id=new_id(),
        event_id=event.id,
        registration_id=registration.id if registration else None,
        site_id=site_obj.id if site_obj else None,
        method=method,
        result=result,
        reason=reason,
        scanned_at=at or utcnow(),
        day=event.local_day(at or utcnow()),
        annulled_at=utcnow() if annulled else None,
        **fields,
    )
    db.session.add(row)
    db.session.commit()
    return row


def checkin_rows() -> list[CheckIn]:
    """Every check-in row, oldest first."""
    return list(db.session.scalars(sa.select(CheckIn).order_by(CheckIn.id)))


def outbox_rows(
    kind: str | None = None, registration: Registration | None = None
) -> list[OutboxMessage]:
    """The outbox's rows, oldest first: all, or those of one kind and for one registration."""
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    if registration is not None:
        query = query.where(OutboxMessage.registration_id == registration.id)
    return list(db.session.scalars(query))


def parsed_email(row: OutboxMessage) -> EmailMessage:
    """An outbox row's message, as a mail client reads it."""
    return message_from_string(row.raw_message, policy=policy.default)


class QueryCounter:
    """Counts the SQL statements run inside a ``with`` block."""

    def __init__(self, engine):
        self.engine = engine
        self.statements: list[str] = []

    def _count(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement)

    def __enter__(self):
        sa.event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        sa.event.remove(self.engine, "before_cursor_execute", self._count)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app):
    return lambda: QueryCounter(db.engine)


def at_once(app, work, workers: int = 2, timeout: float = 120) -> list:
    """Run ``work()`` in several threads released at the same instant, each in its own
    app context (so its own session and connection), as several workers would.

    Returns what each returned; fails the test with the first error any raised.
    """
    barrier = threading.Barrier(workers)
    results: list = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                try:
                    results.append(work())
                finally:
                    db.session.remove()
        except BaseException as error:  # noqa: BLE001  reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not errors, errors[0]
    assert len(results) == workers, "a worker did not finish in time"
    return results
