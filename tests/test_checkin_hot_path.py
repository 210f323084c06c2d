"""The scanners' check-in at its cheapest: few statements, none wasted on the wire, no
ping before each use of a pooled connection, and what happens when one was dropped."""

from __future__ import annotations

import tempfile
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from psycopg import pq
from sqlalchemy.dialects import postgresql

from app import create_app
from app.checkin import services
from app.extensions import db
from app.models import AgendaItem, CheckIn, Registration, RegistrationStatus
from config import ProductionConfig
from tests.conftest import (
    Config,
    bearer,
    make_event,
    make_registration,
    new_id,
    post_checkin,
    requires_postgres,
    token_for,
)


@pytest.fixture
def event(app):
    return make_event("seminar", {"ashgabat": 50, "ahal": 1})


@pytest.fixture
def ahal_token(coordinator):
    return token_for(coordinator)


@pytest.fixture
def served(app):
    """An app as production builds its engine (no pre-ping), with one pooled connection,
    so that every request of a test runs on the same one."""

    class OnePooledConnection(Config):
        SQLALCHEMY_ENGINE_OPTIONS = {
            **ProductionConfig.SQLALCHEMY_ENGINE_OPTIONS,
            "pool_size": 1,
            "max_overflow": 0,
        }

    served = create_app(OnePooledConnection)
    with served.app_context():
        engine = db.engine
    served.engine = engine
    return served


def checkin(client, token: str, code: str, **fields):
    return post_checkin(client, token, code, **fields)


# --- statements ---------------------------------------------------------------------


def _session(event, *, counted: bool = True) -> AgendaItem:
    item = AgendaItem(
        event=event,
        title="Panel on the ombudsman",
        starts_at=event.starts_at + timedelta(hours=1),
        ends_at=event.starts_at + timedelta(hours=2),
        counts_attendance=counted,
    )
    db.session.add(item)
    db.session.commit()
    return item


@pytest.mark.parametrize(
    ("case", "status", "reason"),
    [
        ("admitted", 201, None),
        ("elsewhere", 409, "wrong_site"),
        ("waitlisted", 409, "not_admitted"),
        ("unknown", 404, "unknown_code"),
        ("session", 201, None),
    ],
)
def test_each_answer_to_a_first_scan_costs_at_most_two_statements(
    client, event, ahal_token, count_queries, case, status, reason
):
    """The read (token, event, site, agenda item, badge and admissions) and the insert."""
    person = make_registration(
        event,
        site="ashgabat" if case == "elsewhere" else "ahal",
        status=RegistrationStatus.WAITLISTED
        if case == "waitlisted"
        else RegistrationStatus.CONFIRMED,
    )
    code = "NO-SUCH-BADGE" if case == "unknown" else person.badge_code
    fields = {"session": _session(event).id} if case == "session" else {}
    db.session.remove()
    with count_queries() as counter:
        response = checkin(client, ahal_token, code, **fields)
    assert response.status_code == status, response.get_json()
    assert response.get_json().get("reason") == reason
    assert counter.count <= 2, "\n".join(counter.statements)


def test_a_duplicate_costs_one_more_statement_for_the_earlier_admission(
    client, event, ahal_token, count_queries
):
    code = make_registration(event, site="ahal").badge_code
    first = checkin(client, ahal_token, code, device="Door one")
    db.session.remove()
    with count_queries() as counter:
        again = checkin(client, ahal_token, code)
    assert again.status_code == 409
    assert again.get_json()["previous"]["client_id"] == first.get_json()["checkin"]["client_id"]
    assert again.get_json()["previous"]["device"] == "Door one"
    assert counter.count <= 3, "\n".join(counter.statements)


def test_a_replay_is_answered_as_the_first_time(client, event, ahal_token):
    code = make_registration(event, name="Merdan Atayew", site="ahal").badge_code
    client_id = new_id()
    first = checkin(client, ahal_token, code, client_id=client_id)
    db.session.remove()
    again = checkin(client, ahal_token, code, client_id=client_id)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == {**first.get_json(), "replayed": True}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CheckIn)) == 1


def test_a_malformed_body_with_an_unknown_token_is_still_answered_401(client, event):
    response = client.post(
        "/api/v1/events/seminar/checkins",
        json={"code": 7, "site": ["ahal"], "session": "x"},
        headers=bearer("not-a-token"),
    )
    assert response.status_code == 401
    assert response.get_json()["reason"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="hybriddesk"'


def test_a_failed_token_leaves_no_transaction_behind(client, event, coordinator):
    """The refused request's read ran without a transaction: the next one has its own."""
    person = make_registration(event, site="ahal")
    assert checkin(client, "not-a-token", person.badge_code).status_code == 401
    assert not db.session().in_transaction()
    assert checkin(client, token_for(coordinator), person.badge_code).status_code == 201


# --- the pooled connection after a check-in -------------------------------------------


def test_the_next_request_on_the_connection_is_a_transaction_again(served, event, ahal_token):
    """A check-in runs without BEGIN and COMMIT; the connection must not stay that way.

    A walk-in at a full site writes the registration, then is refused and rolled back:
    on a connection left committing each statement, the registration would remain.
    """
    client = served.test_client()
    taken = make_registration(event, name="Last Seat", site="ahal")
    assert checkin(client, ahal_token, taken.badge_code).status_code == 201

    response = client.post(
        "/api/v1/events/seminar/registrations",
        json={
            "name": "Walk In",
            "email": "walk.in@example.org",
            "site": "ahal",
            "check_in": True,
            "client_id": new_id(),
            "consent": True,
        },
        headers=bearer(ahal_token),
    )
    assert response.status_code == 409, response.get_json()
    assert response.get_json()["reason"] == "site_full"
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(Registration.email == "walk.in@example.org")
        )
        == 0
    )


# --- PostgreSQL: the wire, a dropped connection, the plans ---------------------------


def _wire(served, request) -> list[str]:
    """The messages the client sent to PostgreSQL while ``request()`` ran."""
    with served.app_context():
        pooled = db.engine.raw_connection()
        pgconn = pooled.driver_connection.pgconn
        pooled.close()  # back to the pool, where the next request takes it
    with tempfile.TemporaryFile() as trace:
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            request()
        finally:
            pgconn.untrace()
        trace.seek(0)
        lines = trace.read().decode().splitlines()
    return [line.split("\t")[2:] for line in lines if line.startswith("F\t")]


@requires_postgres
def test_a_scanners_checkin_sends_two_statements_and_no_begin_or_commit(served, event, ahal_token):
    client = served.test_client()
    warm_up = make_registration(event, name="Warm Up", site="ahal", email="w@example.org")
    checkin(client, ahal_token, warm_up.badge_code)  # connects and reads the server's settings
    code = make_registration(event, site="ahal").badge_code

    responses = []
    sent = _wire(served, lambda: responses.append(checkin(client, ahal_token, code)))

    assert responses[0].status_code == 201
    assert not [m for m in sent if m[0] == "Query"], sent  # no BEGIN, COMMIT or ROLLBACK
    assert [m[0] for m in sent].count("Sync") == 2, sent  # two round trips: read, insert


def _terminate_backend_of(served) -> int:
    """Have the server drop the pooled connection of ``served``, as a restart would."""
    with served.app_context():
        pid = db.session.scalar(sa.select(sa.func.pg_backend_pid()))
        db.session.rollback()
    db.session.execute(sa.select(sa.func.pg_terminate_backend(pid)))
    db.session.commit()
    deadline = time.monotonic() + 10
    alive = sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
    while db.session.scalar(alive, {"pid": pid}):
        assert time.monotonic() < deadline, "the backend outlived pg_terminate_backend"
        time.sleep(0.05)
        db.session.rollback()
    db.session.rollback()
    return pid


@requires_postgres
def test_a_checkin_succeeds_after_the_server_dropped_the_pooled_connection(
    served, event, ahal_token
):
    assert "pool_pre_ping" not in ProductionConfig.SQLALCHEMY_ENGINE_OPTIONS
    assert ProductionConfig.SQLALCHEMY_ENGINE_OPTIONS["pool_recycle"] > 0
    client = served.test_client()
    before = make_registration(event, name="Before", site="ahal", email="b@example.org")
    after = make_registration(event, name="After Restart", site="ashgabat", email="a@example.org")
    assert checkin(client, ahal_token, before.badge_code).status_code == 201
    disconnects = []
    sa.event.listen(
        served.engine, "handle_error", lambda context: disconnects.append(context.is_disconnect)
    )

    _terminate_backend_of(served)
    response = checkin(client, ahal_token, after.badge_code, force=True)

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["registration"]["name"] == "After Restart"
    assert disconnects == [True]  # the first try met the dropped connection; the second ran
    admitted = db.session.scalars(sa.select(CheckIn.registration_id)).all()
    assert sorted(admitted) == sorted([before.id, after.id])


@requires_postgres
def test_a_page_on_a_dropped_connection_answers_503_once_then_recovers(served, event):
    client = served.test_client()
    assert client.get("/events/seminar").status_code == 200
    _terminate_backend_of(served)
    first = client.get("/events/seminar")
    assert first.status_code == 503
    assert first.headers["Retry-After"]
    assert client.get("/events/seminar").status_code == 200


def _generic_plan(statement: sa.Select, values: dict) -> str:
    """PostgreSQL's plan for ``statement`` as a prepared statement reused many times."""
    compiled = statement.compile(dialect=postgresql.psycopg.dialect(paramstyle="numeric_dollar"))
    names = compiled.positiontup
    db.session.execute(sa.text("SET LOCAL plan_cache_mode = force_generic_plan"))
    db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
    connection = db.session.connection().connection.driver_connection
    connection.execute(f"PREPARE admission_plan AS {compiled}")
    try:
        arguments = ", ".join(f"'{values[name]}'" for name in names)
        rows = connection.execute(f"EXPLAIN EXECUTE admission_plan({arguments})").fetchall()
    finally:
        connection.execute("DEALLOCATE admission_plan")
    db.session.rollback()
    return "\n".join(row[0] for row in rows)


@requires_postgres
@pytest.mark.parametrize(
    ("statement", "index"),
    [
        (services._BADGE, "uq_checkins_one_site_admission"),
        (services._SESSION_BADGE, "uq_checkins_one_session_admission"),
    ],
)
def test_the_admission_lookup_uses_the_partial_unique_index_in_a_generic_plan(
    event, statement, index
):
    """psycopg prepares a statement run five times; PostgreSQL then plans it once for any
    values. Only a condition written as the index's own (result = 'admitted', not a bound
    value) lets that plan use the index instead of reading every check-in."""
    plan = _generic_plan(statement, {"code": "ABC", "session_id": 1})
    assert index in plan, plan
