"""Uploading a queue file saved offline: each scan recorded once, bad files refused whole."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from werkzeug.test import EnvironBuilder

from app.checkin.queue_file import (
    MAX_QUEUE_FILE_BYTES,
    QUEUE_FILE_VERSION,
    read_queue_file,
    record_queued_scans,
)
from app.extensions import db
from app.models import CheckIn, CheckInResult, Role
from app.refusals import Refusal
from tests.conftest import (
    Auth,
    bearer,
    checkin_rows,
    get_csrf,
    make_event,
    make_registration,
    make_staff,
    new_id,
    token_for,
)

URL = "/manage/events/seminar/checkin/ahal/upload"


@pytest.fixture
def door(app):
    """The seminar, under way, with three people; the Ahal coordinator (not signed in)."""
    event = make_event("seminar", {"ashgabat": 50, "ahal": 10}, starts_in=-timedelta(hours=1))
    people = {
        "aýna": make_registration(event, name="Aýna Orazowa", site="ahal"),
        "merdan": make_registration(event, name="Merdan Annaýew", site="ahal"),
        "berdi": make_registration(event, name="Berdi Balkanly", site="ashgabat"),
    }
    coordinator = make_staff("ahal@example.org", Role.COORDINATOR, sites=("ahal",))
    return event, people, coordinator


def scan(code: str, **fields) -> dict:
    """One check-in as the page queues it offline."""
    minutes_ago = fields.pop("minutes_ago", 5)
    moment = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return {
        "code": code,
        "site": "ahal",
        "client_id": new_id(),
        "scanned_at": moment.isoformat().replace("+00:00", "Z"),
        "force": False,
        "method": "qr",
        "device": "web-1a2b3c4d",
        **fields,
    }


def queue_file(scans: list[dict], **fields) -> bytes:
    document = {"version": QUEUE_FILE_VERSION, "event": "seminar", "site": "ahal", "scans": scans}
    return json.dumps({**document, **fields}).encode()


def upload(client, data: bytes, name: str = "hybriddesk-queue-seminar-ahal-2025-05-20.json"):
    builder = EnvironBuilder(
        path=URL,
        method="POST",
        data={"csrf_token": get_csrf(client, URL), "queue_file": (io.BytesIO(data), name)},
    )
    environ = builder.get_environ()
    try:
        return client.open(environ)
    finally:
        # The test client spools a large body to a temporary file; close it here.
        environ["wsgi.input"].close()
        builder.close()


def signed_in(client, email: str = "ahal@example.org"):
    assert Auth(client).login(email).status_code == 302
    return client


def results() -> list[tuple[str, str, str | None]]:
    return [
        (row.client_id, row.result.value, row.reason.value if row.reason else None)
        for row in checkin_rows()
    ]


# --- the service ----------------------------------------------------------------


def test_recording_a_file_twice_records_each_scan_once(door):
    event, people, coordinator = door
    site = people["aýna"].site
    data = queue_file([scan(people["aýna"].badge_code), scan(people["merdan"].badge_code.lower())])

    first = record_queued_scans(event, site, read_queue_file(data, event, site), coordinator)
    db.session.commit()
    again = record_queued_scans(event, site, read_queue_file(data, event, site), coordinator)
    db.session.commit()

    assert [item.outcome.admitted for item in first] == [True, True]
    assert [item.outcome.replayed for item in first] == [False, False]
    assert [item.outcome.replayed for item in again] == [True, True]
    rows = checkin_rows()
    assert len(rows) == 2
    assert {row.registration.name for row in rows} == {"Aýna Orazowa", "Merdan Annaýew"}
    # The device's own name and the scan's time are kept, as when the device sends them.
    assert {row.device for row in rows} == {"web-1a2b3c4d"}
    assert all(row.scanned_at < row.received_at for row in rows)


def test_a_file_for_another_event_or_site_is_refused(door):
    event, people, _coordinator = door
    site = people["aýna"].site
    for data in (
        queue_file([scan(people["aýna"].badge_code)], event="another-seminar"),
        queue_file([scan(people["aýna"].badge_code)], site="ashgabat"),
    ):
        with pytest.raises(Refusal) as refused:
            read_queue_file(data, event, site)
        assert "another" in refused.value.message


# --- the page -------------------------------------------------------------------


def test_upload_admits_each_scan_and_a_second_upload_changes_nothing(door, client):
    event, people, _coordinator = door
    signed_in(client)
    data = queue_file(
        [
            scan(people["aýna"].badge_code, minutes_ago=9),
            scan(people["merdan"].badge_code, minutes_ago=8),
            scan("NOSUCHCODE", minutes_ago=7),
            scan(people["berdi"].badge_code, minutes_ago=6),
            scan(people["aýna"].badge_code, minutes_ago=5),
        ]
    )

    response = upload(client, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "5 scans in the file: 2 admitted, 3 refused, 0 already recorded." in html
    for shown in ("Aýna Orazowa", "Merdan Annaýew", "NOSUCHCODE", "Berdi Balkanly"):
        assert shown in html
    for result in ("Admitted", "Unknown code", "Registered for another site", "Already checked in"):
        assert f"<td>{result}</td>" in html
    first = results()
    assert [(result, reason) for _id, result, reason in first] == [
        ("admitted", None),
        ("admitted", None),
        ("refused", "unknown_code"),
        ("refused", "wrong_site"),
        ("refused", "already_checked_in"),
    ]

    again = upload(client, data).get_data(as_text=True)
    assert "5 scans in the file: 0 admitted, 0 refused, 5 already recorded." in again
    assert "Already recorded (admitted): nothing changed" in again
    assert "Already recorded (unknown code): nothing changed" in again
    db.session.expire_all()
    assert results() == first


def test_a_scan_the_device_sent_itself_is_already_recorded(door, client):
    event, people, coordinator = door
    queued = scan(people["aýna"].badge_code)
    sent = client.post(
        "/api/v1/events/seminar/checkins", json=queued, headers=bearer(token_for(coordinator))
    )
    assert sent.status_code == 201
    signed_in(client)

    html = upload(client, queue_file([queued])).get_data(as_text=True)

    assert "Already recorded (admitted): nothing changed" in html
    assert len(checkin_rows()) == 1


def test_the_check_in_page_links_to_the_upload(door, client):
    signed_in(client)
    html = client.get("/manage/events/seminar/checkin/ahal").get_data(as_text=True)
    assert f'href="{URL}"' in html
    assert "Save the queue to a file" in html


def _bad_files(code: str) -> dict[str, tuple[bytes, str]]:
    """Files no check-in page saves, each with the message it must get."""
    good = scan(code)
    return {
        "not JSON": (b"code,site\nABC,ahal\n", "is not a queue file"),
        "not UTF-8": (b"\xff\xfe{}", "is not a queue file"),
        "a JSON list": (json.dumps([good]).encode(), "is not a queue file"),
        "a raw NUL byte": (queue_file([good]).replace(b'"ahal"', b'"ah\x00al"', 1), "not a queue"),
        "an escaped NUL": (queue_file([{**good, "code": code + "\x00"}]), "control characters"),
        "too large": (
            queue_file([good], padding="x" * MAX_QUEUE_FILE_BYTES),
            "The file is larger than 1024 KB",
        ),
        "another version": (queue_file([good], version=2), "another version of HybridDesk"),
        "no version": (
            json.dumps({"event": "seminar", "site": "ahal", "scans": [good]}).encode(),
            "another version of HybridDesk",
        ),
        "another event": (queue_file([good], event="other"), "scans for another event"),
        "another site": (queue_file([good], site="ashgabat"), "made at another site"),
        "no scans": (queue_file([]), "holds no scans"),
        "scans not a list": (queue_file({"0": good}), "has no list of scans"),
        "a scan not an object": (queue_file([good, "ABC"]), "Scan 2 in the file: it is not"),
        "a tampered site": (
            queue_file([good, scan(code, site="ashgabat")]),
            "Scan 2 in the file: it was made at another site",
        ),
        "a code not a string": (queue_file([scan(12345)]), "its code is missing"),
        "an empty code": (queue_file([scan("  ")]), "its code is missing"),
        "a code too long": (queue_file([scan("A" * 2001)]), "its code is missing"),
        "a time without zone": (
            queue_file([scan(code, scanned_at="2025-05-20T10:03:00")]),
            "its time is not an ISO 8601 time",
        ),
        "a time that is not one": (
            queue_file([scan(code, scanned_at="yesterday")]),
            "its time is not an ISO 8601 time",
        ),
        "a time far in the future": (
            queue_file([good, scan(code, minutes_ago=-60 * 24)]),
            "Scan 2 in the file: The scan time is in the future",
        ),
        "a bad client_id": (queue_file([scan(code, client_id="x")]), "its client_id"),
        "force not a boolean": (queue_file([scan(code, force="yes")]), "its force"),
        "another method": (queue_file([scan(code, method="paper")]), "its method"),
        "a method not a word": (queue_file([scan(code, method=["qr"])]), "its method"),
        "a version not a number": (queue_file([good], version=True), "another version"),
        "a session not an id": (queue_file([scan(code, session="1; DROP")]), "its session"),
        "a session not of the event": (
            queue_file([good, scan(code, session=2**31 - 1)]),
            "Scan 2 in the file: This event has no such session",
        ),
    }


BAD_FILES = list(_bad_files("CODE"))


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_file_gets_a_clear_message_and_writes_nothing(door, client, case):
    _event, people, _coordinator = door
    data, message = _bad_files(people["aýna"].badge_code)[case]
    signed_in(client)

    response = upload(client, data)

    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:500]
    assert 'id="queue_file-error"' in html
    assert message in html
    assert "What the file recorded" not in html
    assert checkin_rows() == []


def test_an_upload_without_a_file_asks_for_one(door, client):
    signed_in(client)
    token = get_csrf(client, URL)
    html = client.post(URL, data={"csrf_token": token}).get_data(as_text=True)
    assert "Choose the queue file saved on the check-in page." in html


def test_another_sites_coordinator_may_not_upload(door, client):
    _event, people, _coordinator = door
    make_staff("balkan@example.org", Role.COORDINATOR, sites=("ashgabat",))
    signed_in(client, "balkan@example.org")
    assert client.get(URL).status_code == 403
    token = get_csrf(client, "/manage/events/seminar/checkin/ashgabat")
    response = client.post(
        URL,
        data={
            "csrf_token": token,
            "queue_file": (io.BytesIO(queue_file([scan(people["aýna"].badge_code)])), "q.json"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    assert checkin_rows() == []


def test_an_unknown_site_is_not_found(door, client):
    signed_in(client)
    assert client.get("/manage/events/seminar/checkin/nowhere/upload").status_code == 404


def test_an_organiser_may_upload_for_any_site(door, client):
    _event, people, _coordinator = door
    make_staff("organizer@example.org", Role.ORGANIZER)
    signed_in(client, "organizer@example.org")
    html = upload(client, queue_file([scan(people["aýna"].badge_code)])).get_data(as_text=True)
    assert "1 scan in the file: 1 admitted" in html
    [row] = checkin_rows()
    assert row.result == CheckInResult.ADMITTED
    assert row.staff_user.email == "organizer@example.org"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CheckIn)) == 1
