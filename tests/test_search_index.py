"""The name search through its trigram index: the same people as a plain scan, found fast.

On PostgreSQL through pg_trgm's GIN index, on SQLite through the FTS5 table kept by
triggers. Each result is checked against the scan the search replaced (``LIKE`` over
every row of the event), on whichever database the suite runs.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app import create_app
from app.checkin.roster import search_registrations
from app.extensions import db
from app.models import Event, Mode, Registration, RegistrationStatus
from app.registrations.listing import RegistrationFilters, registrations_query
from app.text import fold_for_search
from tests.conftest import (
    Config,
    keep_search_extensions_in_public,
    make_event,
    make_registration,
    on_postgres,
)

#: (name, organisation, email): Latin Turkmen, Cyrillic, Chinese, literal % and _ ...
PEOPLE = (
    ("Aýgül Şükürowa", "Ministry of Justice", "aygul.sukurowa@example.org"),
    ("Aýgül Şükürowa", "Mejlis of Turkmenistan", "a.sukurowa@mail.tm"),
    ("Шукурова Айгуль", "Министерство юстиции", "shukurova@mail.ru"),
    ("Nurgeldi Berdiýew", "Mejlis of Turkmenistan", "n_berdiyew@mail.tm"),
    ("Jeren Gurbanowa", "100% Youth Union", "jeren10@gov.tm"),
    ("Merdan Ataýew", "Türkmenistan habar", "m.atayew@undp.org"),
    ("李明", "UNDP Turkmenistan", "li.ming@undp.org"),
    ("Ed Ho", "OSCE", "ed.ho@osce.org"),
    ("Ogulbike O'Neil", "Ombudsperson's Office", "oneil@example.org"),
    # Folded, the name alone fills the 800 characters kept: the rest is not searchable.
    ("Щ" * 199, "Zzorganisation", "long@example.org"),
)

#: (typed, names the staff list shows): what is typed, and whom it finds.
QUERIES = (
    ("sukurowa", {"Aýgül Şükürowa"}),
    ("ŞÜKÜR", {"Aýgül Şükürowa"}),
    ("Шукурова", {"Шукурова Айгуль"}),
    ("aigul'", {"Шукурова Айгуль"}),
    ("aygul sukur", {"Aýgül Şükürowa"}),
    ("aygul justice", {"Aýgül Şükürowa"}),
    ("mejlis", {"Aýgül Şükürowa", "Nurgeldi Berdiýew"}),
    ("merdan undp", {"Merdan Ataýew"}),
    ("m.atayew@undp", {"Merdan Ataýew"}),
    ("ata", {"Merdan Ataýew"}),
    ("n_berdiyew", {"Nurgeldi Berdiýew"}),
    ("n%berdiyew", set()),
    ("n berdiyew", {"Nurgeldi Berdiýew"}),
    ("_", {"Nurgeldi Berdiýew"}),
    ("%", {"Jeren Gurbanowa"}),
    ("100%", {"Jeren Gurbanowa"}),
    ("0% youth", {"Jeren Gurbanowa"}),
    ("gurbanowa 10", {"Jeren Gurbanowa"}),
    ("李明", {"李明"}),
    ("ming li", {"李明"}),
    ("ed ho", {"Ed Ho"}),
    ("ho", {"Ed Ho"}),
    ("o'neil", {"Ogulbike O'Neil"}),
    ('jer"en', set()),
    ("jeren*", set()),
    ("NEAR(jeren", set()),
    ("shchshchshch", {"Щ" * 199}),
    ("zzorganisation", set()),
    ("nobody", set()),
)


def _add_people(event) -> None:
    for n, (name, organization, email) in enumerate(PEOPLE):
        make_registration(
            event,
            name=name,
            organization=organization,
            email=email,
            site="ahal" if n % 3 else "ashgabat",
            status=RegistrationStatus.WAITLISTED if n == 1 else RegistrationStatus.CONFIRMED,
        )


def _scanned(event, words: list[str]) -> sa.Select:
    """The search as it was before the index: ``LIKE`` over every row of the event."""
    return sa.select(Registration).where(
        Registration.event_id == event.id,
        *(Registration.search_text.contains(word, autoescape=True) for word in words),
    )


@pytest.fixture
def event(app):
    event = make_event("seminar", {"ashgabat": 50, "ahal": 50})
    _add_people(event)
    return event


@pytest.mark.parametrize(("typed", "expected"), QUERIES)
def test_the_list_finds_the_same_people_as_a_scan(event, typed, expected):
    words = fold_for_search(typed).split()
    order = (Registration.created_at, Registration.id)
    listed = db.session.scalars(registrations_query(event, RegistrationFilters(text=typed)))
    scanned = db.session.scalars(_scanned(event, words).order_by(*order))
    listed, scanned = [r.id for r in listed], [r.id for r in scanned]
    assert listed == scanned
    names = {db.session.get(Registration, id_).name for id_ in listed}
    assert names == expected


@pytest.mark.parametrize(("typed", "expected"), QUERIES)
def test_the_checkin_search_finds_the_same_people_as_a_scan(event, typed, expected):
    words = fold_for_search(typed).split()
    found = [entry.registration.id for entry in search_registrations(event, None, typed)]
    if sum(len(word) for word in words) < 2:
        assert found == []  # too little typed to search at the door
        return
    confirmed_first = sa.case((Registration.status == RegistrationStatus.CONFIRMED, 0), else_=1)
    scanned = db.session.scalars(
        _scanned(event, words).order_by(confirmed_first, Registration.name, Registration.id)
    )
    assert found == [r.id for r in scanned]
    assert {db.session.get(Registration, id_).name for id_ in found} == expected


def test_the_checkin_search_puts_confirmed_people_first_then_by_name(event):
    found = [
        (entry.registration.email, entry.registration.status)
        for entry in search_registrations(event, None, "sukurowa")
    ]
    assert found == [
        ("aygul.sukurowa@example.org", RegistrationStatus.CONFIRMED),
        ("a.sukurowa@mail.tm", RegistrationStatus.WAITLISTED),
    ]


def test_the_search_stays_within_the_event_and_the_sites_given(event):
    other = make_event("other-seminar", {"ahal": 10})
    make_registration(other, name="Aýgül Şükürowa", email="other@example.org")
    ahal = next(es.site_id for es in event.event_sites if es.site.slug == "ahal")

    everyone = search_registrations(event, None, "sukurowa")
    at_ahal = search_registrations(event, {ahal}, "sukurowa")
    listed = db.session.scalars(registrations_query(event, RegistrationFilters(text="sukurowa")))

    assert {e.registration.event_id for e in everyone} == {event.id}
    assert [e.registration.email for e in at_ahal] == ["a.sukurowa@mail.tm"]
    assert {r.email for r in listed} == {"aygul.sukurowa@example.org", "a.sukurowa@mail.tm"}


# --- the index is what answers -------------------------------------------------------------


def _add_crowd(event, count: int) -> None:
    """``count`` people with varied names in one multi-row insert, and fresh statistics."""
    site_id = event.event_sites[0].site_id
    first = ("Serdar", "Maral", "Batyr", "Jeren", "Döwlet", "Gözel", "Myrat", "Selbi")
    last = ("Orazow", "Annaýewa", "Gurbanow", "Meredowa", "Çaryýew", "Nazarowa", "Esenow")
    rows = []
    for n in range(count):
        name = f"{first[n % len(first)]} {last[n // len(first) % len(last)]}{n}"
        email = f"person{n}@example.org"
        rows.append(
            {
                "event_id": event.id,
                "name": name,
                "email": email,
                "organization": "Ministry of Justice",
                "mode": Mode.IN_PERSON,
                "site_id": site_id,
                "status": RegistrationStatus.CONFIRMED,
                "manage_token": secrets.token_urlsafe(32),
                "badge_code": secrets.token_hex(20),
                "search_text": fold_for_search(f"{name} Ministry of Justice {email}"),
            }
        )
    db.session.execute(sa.insert(Registration), rows)
    db.session.commit()
    if on_postgres():
        # As autovacuum would: VACUUM also counts the GIN index's entries for the planner.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM ANALYZE registrations"))


def _plan_of_last_search(run) -> str:
    """The plan the database chose for the search ``run`` makes (its last, not a count)."""
    captured = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", keep)
    try:
        run()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", keep)
    statement, parameters = next(
        (s, p) for s, p in reversed(captured) if "search_text" in s and "count(" not in s.lower()
    )
    with db.engine.connect() as connection:
        explain = "EXPLAIN " if on_postgres() else "EXPLAIN QUERY PLAN "
        rows = connection.exec_driver_sql(explain + statement, parameters).all()
    return "\n".join(str(row[-1]) for row in rows)


@pytest.fixture
def crowd(app):
    event = make_event("seminar", {"ashgabat": 5000, "ahal": 50})
    _add_crowd(event, 2000)
    make_registration(event, name="Aýgül Şükürowa", site="ashgabat")
    return event


@pytest.mark.parametrize("typed", ["sukurowa", "aygul sukurowa", "sukurowa 7"])
def test_the_checkin_search_reads_the_index_for_a_word_of_three_letters_or_more(crowd, typed):
    plan = _plan_of_last_search(lambda: search_registrations(crowd, None, typed))
    if on_postgres():
        assert "Bitmap Index Scan on ix_registrations_event_search_trgm" in plan
    else:
        assert "SCAN registrations_search VIRTUAL TABLE" in plan
        # Driven by the matches, looked up by id, rather than by walking the event's rows.
        assert "SEARCH registrations USING INTEGER PRIMARY KEY" in plan
    assert [e.registration.name for e in search_registrations(crowd, None, typed)] == (
        ["Aýgül Şükürowa"] if typed != "sukurowa 7" else []
    )


def test_the_registrations_list_reads_the_index(crowd):
    def listed():
        return db.paginate(
            registrations_query(crowd, RegistrationFilters(text="Şükürowa")), page=1, per_page=50
        ).items

    plan = _plan_of_last_search(listed)
    if on_postgres():
        assert "ix_registrations_event_search_trgm" in plan
    else:
        assert "SCAN registrations_search VIRTUAL TABLE" in plan
    assert [r.name for r in listed()] == ["Aýgül Şükürowa"]


def test_words_too_short_for_the_index_are_still_searched(crowd):
    plan = _plan_of_last_search(lambda: search_registrations(crowd, None, "ay sk"))
    assert "registrations_search" not in plan
    if on_postgres():
        assert "ix_registrations_event_search_trgm" not in plan
    found = search_registrations(crowd, None, "ay su")
    assert [e.registration.name for e in found] == ["Aýgül Şükürowa"]


# --- the index follows every change ------------------------------------------------------


def _names(event, typed: str) -> list[str]:
    return [e.registration.name for e in search_registrations(event, None, typed)]


def _indexed(event, word: str) -> list[str]:
    """Whom the index itself holds the word for, in the event (not confirmed on the row).

    PostgreSQL keeps its own index; on SQLite it is the triggers' work.
    """
    if on_postgres():
        query = sa.select(Registration.name).where(
            Registration.event_id == event.id,
            Registration.search_text.contains(word, autoescape=True),
        )
        return sorted(db.session.scalars(query))
    ids = db.session.scalars(
        sa.text("SELECT rowid FROM registrations_search WHERE registrations_search MATCH :query"),
        {"query": f'event_key : "e{event.id}e" AND search_text : ("{word}")'},
    )
    return sorted(db.session.get(Registration, id_).name for id_ in ids)


def test_a_changed_name_is_found_by_the_new_name_and_no_longer_by_the_old(event):
    person = db.session.scalar(sa.select(Registration).where(Registration.name == "Ed Ho"))
    person.name = "Eduard Hojamuradow"
    db.session.commit()

    assert _names(event, "hojamuradow") == ["Eduard Hojamuradow"]
    assert _names(event, "eduard") == ["Eduard Hojamuradow"]
    assert _names(event, "ed ho") == ["Eduard Hojamuradow"]
    assert _indexed(event, "eduard hojamuradow") == ["Eduard Hojamuradow"]
    assert _indexed(event, "ed ho osce") == []
    person.email = "eduard@undp.org"
    db.session.commit()
    assert _names(event, "eduard@undp") == ["Eduard Hojamuradow"]
    assert _names(event, "ed.ho@osce") == []
    assert _indexed(event, "ed.ho@osce") == []


def test_a_change_that_leaves_the_search_text_alone_keeps_the_person_found(event):
    person = db.session.scalar(sa.select(Registration).where(Registration.name == "Ed Ho"))
    person.status = RegistrationStatus.CANCELLED
    person.phone = "+993 65 123456"
    db.session.commit()
    assert _names(event, "osce") == ["Ed Ho"]
    assert _indexed(event, "osce") == ["Ed Ho"]


def test_a_bulk_update_of_the_search_text_is_indexed_too(event):
    db.session.execute(
        sa.update(Registration)
        .where(Registration.name == "Merdan Ataýew")
        .values(search_text="merdan atayew turkmen habar kerwen")
    )
    db.session.commit()
    assert _names(event, "kerwen") == ["Merdan Ataýew"]
    assert _names(event, "undp merdan") == []
    assert _indexed(event, "m.atayew@undp") == []


def test_deleted_people_are_no_longer_found(event):
    db.session.execute(sa.delete(Registration).where(Registration.email.like("%sukurowa%")))
    db.session.commit()
    assert _names(event, "sukurowa") == []
    assert _names(event, "aigul") == ["Шукурова Айгуль"]
    assert _indexed(event, "sukurowa") == []


def test_people_added_after_a_search_are_found(event):
    assert _names(event, "tacmyradowa") == []
    make_registration(event, name="Bägül Täçmyradowa", email="bagul@example.org")
    assert _names(event, "tacmyradowa") == ["Bägül Täçmyradowa"]
    assert _indexed(event, "tacmyradowa") == ["Bägül Täçmyradowa"]


def test_the_index_keeps_each_event_apart(event):
    other = make_event("other-seminar", {"ahal": 10})
    make_registration(other, name="Aýgül Şükürowa", email="other@example.org")
    assert _indexed(other, "sukurowa") == ["Aýgül Şükürowa"]
    assert len(_indexed(event, "sukurowa")) == 2


# --- the migration ----------------------------------------------------------------------------

SCHEMA = "search_migration_check"
BEFORE = "9b1f4e2a7c3d"


@pytest.fixture
def migrated_app(tmp_path):
    """An app on an empty database of its own (a schema of its own on PostgreSQL)."""
    admin = None
    if on_postgres():
        url = Config.SQLALCHEMY_DATABASE_URI + f"?options=-csearch_path%3D{SCHEMA}"
        admin = sa.create_engine(Config.SQLALCHEMY_DATABASE_URI)
        with admin.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            connection.execute(sa.text(f"CREATE SCHEMA {SCHEMA}"))
        keep_search_extensions_in_public(admin)
    else:
        url = f"sqlite:///{tmp_path / 'search-migration.sqlite'}"

    class MigrationConfig(Config):
        SQLALCHEMY_DATABASE_URI = url
        SQLALCHEMY_ENGINE_OPTIONS: dict = {}

    app = create_app(MigrationConfig)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    if admin is not None:
        with admin.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        admin.dispose()


def _search_objects() -> set[str]:
    with db.engine.connect() as connection:
        if on_postgres():
            return set(
                connection.scalars(
                    sa.text(
                        "SELECT indexname FROM pg_indexes WHERE schemaname = :schema "
                        "AND indexname = 'ix_registrations_event_search_trgm'"
                    ),
                    {"schema": SCHEMA},
                )
            )
        return set(
            connection.scalars(
                sa.text("SELECT name FROM sqlite_master WHERE name LIKE 'registrations_search%'")
            )
        )


def test_the_migration_indexes_people_already_registered_and_downgrade_removes_it(
    migrated_app,
):
    upgrade(revision=BEFORE)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=14)
    with db.engine.begin() as connection:
        event_id = connection.execute(
            sa.text(
                "INSERT INTO events (slug, title, description, starts_at, ends_at, timezone, "
                "format, meeting_url, status, organizer_name, organizer_email, ical_sequence, "
                "completion_rule, completion_percent, certificate_signer, "
                "certificate_signature_type, created_at) VALUES ('seminar', 'Seminar', '', "
                ":start, :end, 'Asia/Ashgabat', 'online', '', 'published', '', '', 0, "
                "'any_day', 80, '', '', :start) RETURNING id"
            ),
            {"start": start, "end": start + timedelta(hours=4)},
        ).scalar_one()
        connection.execute(
            sa.text(
                "INSERT INTO registrations (event_id, name, email, phone, organization, "
                "position, org_kind, language, mode, status, manage_token, badge_code, "
                "search_text, ical_sequence, created_at, updated_at) VALUES (:event, "
                "'Aýgül Şükürowa', 'aygul@example.org', '', '', '', 'other', 'tk', 'online', "
                "'confirmed', 'token-1', 'code-1', 'aygul sukurowa aygul@example.org', 0, "
                ":start, :start)"
            ),
            {"event": event_id, "start": start},
        )
    assert _search_objects() == set()

    upgrade()
    assert _search_objects()
    event = db.session.get(Event, event_id)
    assert _names(event, "sukurowa") == ["Aýgül Şükürowa"]
    make_registration(event, name="Bägül Täçmyradowa", site=None, email="bagul@example.org")
    assert _names(event, "tacmyradowa") == ["Bägül Täçmyradowa"]
    assert _indexed(event, "sukurowa") == ["Aýgül Şükürowa"]
    db.session.remove()

    downgrade(revision=BEFORE)
    assert _search_objects() == set()
    db.engine.dispose()
