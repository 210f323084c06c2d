"""The JSON API against its own description, under a fuzzer (schemathesis).

Every operation of ``/api/v1/openapi.json`` gets requests generated from its
schema, valid and invalid, and unsupported methods too. Every answer must be
described: its status, content type, body and headers (``Allow`` on a 405,
``WWW-Authenticate`` on a 401). No input may cause a server error, a request the
description calls invalid must be refused, a valid one processed, and one
without credentials refused with 401.

Hypothesis runs a fixed number of examples per operation, derandomized, so that
every run (and CI) tries the same requests.
"""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta

import pytest
import schemathesis
from email_validator import EmailNotValidError, validate_email
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from app import create_app
from app.extensions import db
from app.models import ApiToken, RegistrationStatus, Role, StaffUser, hash_api_token, utcnow
from tests.conftest import Config, bearer, make_event, make_registration, make_staff

#: The event the fuzzer works on: its slug is fixed so that requests reach real data.
EVENT = "seminar"
SITES = {"ashgabat": 50, "ahal": 2}
#: The people's badge codes, fixed so that the fuzzer can scan them.
CODES = {
    "Aýna Orazowa": "AYNAORAZOWA2345AYNAORAZOWA2345AY",
    "Merdan Ataýew": "MERDANATAYEW234MERDANATAYEW234ME",
    "Online Person": "ONLINEPERSON234ONLINEPERSON234ON",
    "Waiting Person": "WAITINGPERSON23WAITINGPERSON23WA",
}

#: The served description, read once from an app of its own; each test calls its own app.
schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json",
    create_app(Config),
    config=schemathesis.Config.from_dict(
        {
            "seed": 20250520,
            # Real slugs and codes most of the time, so that requests get past the lookups
            # to the rules: admissions, refusals, the waiting list, the site's limits.
            # An empty scan time means now: one inside the event's window.
            "dictionaries": {
                "sites": {"values": list(SITES)},
                "codes": {"values": list(CODES.values())},
                "now": {"values": [""]},
            },
            "parameters": {
                "path.slug": EVENT,
                "body.site": {"dictionary": "sites", "probability": 0.8},
                "query.site": {"dictionary": "sites", "probability": 0.8},
                "body.code": {"dictionary": "codes", "probability": 0.8},
                "body.scanned_at": {"dictionary": "now", "probability": 0.7},
            },
            # Any NUL in a request is refused at once with 400, as the description says:
            # the fuzzer spends its examples on the rest.
            "generation": {"allow-x00": False},
        }
    ),
)


#: The staff's tokens, fixed: schemathesis signs some requests as it collects the tests.
ADMIN_TOKEN = "fuzz-admin-" + "a" * 32
COORDINATOR_TOKEN = "fuzz-coordinator-" + "c" * 32


@schema.auth(refresh_interval=None)
class StaffTokens:
    """An admin's or Ahal's coordinator's token on every request but those left without
    one on purpose; which of the two follows from the request, so a failure replays alike."""

    def get(self, case, context) -> str:
        drawn = repr((case.path_parameters, case.query, case.body)).encode()
        return (ADMIN_TOKEN, COORDINATOR_TOKEN)[zlib.crc32(drawn) % 2]

    def set(self, case, data: str, context) -> None:
        # The fuzzer reads bodies as they come; compressed answers are tested on their own.
        case.headers = {**(case.headers or {}), **bearer(data), "Accept-Encoding": "identity"}


def add_token(user: StaffUser, token: str) -> None:
    """Give ``user`` a known API token, as ``token_for`` gives a new one."""
    db.session.add(ApiToken(user=user, token_hash=hash_api_token(token), label="fuzzer"))
    db.session.commit()


@pytest.fixture
def staff(app) -> None:
    """An event with sites and people, an admin and Ahal's coordinator with their tokens.

    Made once for each operation's test, so what one example writes the next one sees.
    """
    event = make_event(EVENT, SITES)
    for name, site, status in (
        ("Aýna Orazowa", "ahal", RegistrationStatus.CONFIRMED),
        ("Merdan Ataýew", "ashgabat", RegistrationStatus.CONFIRMED),
        ("Online Person", None, RegistrationStatus.CONFIRMED),
        ("Waiting Person", "ahal", RegistrationStatus.WAITLISTED),
    ):
        make_registration(event, name=name, site=site, status=status, badge_code=CODES[name])
    add_token(make_staff("admin@example.org", Role.ADMIN), ADMIN_TOKEN)
    add_token(make_staff("ahal@example.org", Role.COORDINATOR, sites=("ahal",)), COORDINATOR_TOKEN)


def _outside_the_scan_window(value: object) -> bool:
    """True for a scan time the check-in rules refuse: a day before the event (which starts
    later) or more, or over ten minutes ahead; or one Python cannot read, like a leap second."""
    try:
        moment = datetime.fromisoformat(str(value).upper())
    except ValueError:
        return True
    now = utcnow()
    return not now - timedelta(days=1) < moment < now + timedelta(minutes=10)


def _refused_by_the_email_check(value: object) -> bool:
    """True for an address of the described shape that the email check refuses, such as one
    at a reserved domain (.test, .local)."""
    try:
        validate_email(str(value).strip(), check_deliverability=False)
    except EmailNotValidError:
        return True
    return False


#: What a request the description calls valid may still be refused for (422), by rules
#: the description states in words only; each judged on the value sent.
REFUSED_BEYOND_THE_SCHEMA = {
    ("unknown_site", "site"): lambda value: str(value).strip() not in SITES,
    ("invalid", "scanned_at"): _outside_the_scan_window,
    ("invalid", "email"): _refused_by_the_email_check,
    # No agenda item of the fuzzer's event counts attendance: every session is refused.
    ("invalid", "session"): lambda value: True,
}


def valid_requests_are_processed(ctx, response, case) -> None:
    """Schemathesis' positive_data_acceptance, but for the refusals only the data decides."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if response.status_code != 422:
        positive_data_acceptance(ctx, response, case)
        return
    refusal = response.json()
    rule = REFUSED_BEYOND_THE_SCHEMA.get((refusal["reason"], refusal.get("field")))
    sent = case.body.get(refusal.get("field")) if isinstance(case.body, dict) else None
    assert rule is not None and rule(sent), f"a valid request was refused: {refusal}"


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    # The data is made once per operation on purpose (see the staff fixture).
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_every_answer_is_described_and_none_is_a_server_error(case, app, staff):
    case.call_and_validate(
        app=app,
        excluded_checks=[positive_data_acceptance],
        additional_checks=[valid_requests_are_processed],
    )
