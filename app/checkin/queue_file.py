"""Check-ins carried on a file from a device that had no connection.

A check-in page that stays offline can save the scans waiting on the device
to a small JSON file; on a computer that is online, a coordinator of the same
site uploads it. Each scan is the body the device would have sent to the JSON
API, with the ``client_id`` it was given at the door, and goes through the
same ``admit_checkin``: a second upload of the file, or the device syncing
the same scans later, records nothing new.

A file is read whole before anything is written: a file for another event or
site, or a scan that is not well formed, refuses the whole upload.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _

from app.api.routes import CLIENT_ID
from app.checkin.services import CheckinOutcome, admit_checkin, counted_session
from app.guards import has_control_character, strings_in
from app.models import CheckInMethod, Event, Site, StaffUser
from app.refusals import Reason, Refusal
from app.timezones import parse_iso_time

#: The version written by static/js/checkin/queue-file.js; another is refused.
QUEUE_FILE_VERSION = 1
#: A day's scans at one door take a few hundred KB at most.
MAX_QUEUE_FILE_BYTES = 1024 * 1024
MAX_QUEUE_FILE_SCANS = 5000
#: As the API has it: the longest code a request may carry, and the longest device name.
CODE_MAX_LENGTH = 2000
DEVICE_MAX_LENGTH = 200
#: What a scan recorded from a file is said to come from when the file does not say.
DEFAULT_DEVICE = "queue file"
#: The form field the upload's messages are shown at.
FIELD = "queue_file"

_METHODS = {
    CheckInMethod.QR.value: CheckInMethod.QR,
    CheckInMethod.SEARCH.value: CheckInMethod.SEARCH,
}


@dataclass(frozen=True)
class QueuedScan:
    """One check-in as the device made it offline."""

    code: str
    client_id: str
    scanned_at: datetime
    force: bool = False
    method: CheckInMethod = CheckInMethod.QR
    #: The agenda item it admits to; None for the day's admission at the door.
    session_id: int | None = None
    device: str = DEFAULT_DEVICE


@dataclass(frozen=True)
class RecordedScan:
    """A scan from the file and what recording it did."""

    scan: QueuedScan
    outcome: CheckinOutcome


def _refuse(message: str) -> Refusal:
    return Refusal(Reason.INVALID, message, FIELD)


def _scan_error(number: int, message: str) -> Refusal:
    return _refuse(_("Scan %(number)d in the file: %(message)s", number=number, message=message))


def _parse_time(value: object) -> datetime | None:
    """An ISO 8601 time with its offset, as the API accepts it; None for anything else."""
    moment = parse_iso_time(value)
    return moment if moment is not None and moment.tzinfo is not None else None


def _read_scan(number: int, raw: object, site: Site) -> QueuedScan:
    """One scan of the file, checked field by field as the API checks a check-in's body."""
    if not isinstance(raw, dict):
        raise _scan_error(number, _("it is not a check-in."))
    code = raw.get("code")
    if not isinstance(code, str) or not code.strip() or len(code) > CODE_MAX_LENGTH:
        raise _scan_error(number, _("its code is missing or is not a badge code."))
    if raw.get("site") != site.slug:
        raise _scan_error(
            number, _("it was made at another site; it can only be uploaded on that site's page.")
        )
    client_id = raw.get("client_id")
    if not isinstance(client_id, str) or not CLIENT_ID.fullmatch(client_id):
        raise _scan_error(number, _("its client_id is not one a device makes."))
    scanned_at = _parse_time(raw.get("scanned_at"))
    if scanned_at is None:
        raise _scan_error(number, _("its time is not an ISO 8601 time with a time zone."))
    force = raw.get("force", False)
    if not isinstance(force, bool):
        raise _scan_error(number, _("its force must be true or false."))
    method_name = raw.get("method", CheckInMethod.QR.value)
    method = _METHODS.get(method_name) if isinstance(method_name, str) else None
    if method is None:
        raise _scan_error(number, _("its method must be qr or search."))
    session_id = raw.get("session")
    if session_id is not None and (
        not isinstance(session_id, int) or isinstance(session_id, bool) or session_id < 1
    ):
        raise _scan_error(number, _("its session must be the id of an agenda item."))
    device = raw.get("device") or DEFAULT_DEVICE
    if not isinstance(device, str):
        raise _scan_error(number, _("its device must be a name."))
    return QueuedScan(
        code=code,
        client_id=client_id,
        scanned_at=scanned_at,
        force=force,
        method=method,
        session_id=session_id,
        device=device.strip()[:DEVICE_MAX_LENGTH] or DEFAULT_DEVICE,
    )


def read_queue_file(data: bytes, event: Event, site: Site) -> list[QueuedScan]:
    """The scans of a queue file saved at ``site`` for ``event``, or a Refusal saying why not.

    Nothing is written; a file for another event or site is refused whole.
    """
    if len(data) > MAX_QUEUE_FILE_BYTES:
        raise _refuse(
            _(
                "The file is larger than %(kb)d KB: it is not a queue file.",
                kb=MAX_QUEUE_FILE_BYTES // 1024,
            )
        )
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        document = None
    if not isinstance(document, dict):
        raise _refuse(
            _("This file is not a queue file. Choose the file “Save the queue to a file” made.")
        )
    if any(has_control_character(text) for text in strings_in(document)):
        raise _refuse(_("The file contains control characters; it was changed after it was saved."))
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version != QUEUE_FILE_VERSION:
        raise _refuse(
            _(
                "This queue file was saved by another version of HybridDesk "
                "(version %(version)d is read here).",
                version=QUEUE_FILE_VERSION,
            )
        )
    if document.get("event") != event.slug:
        raise _refuse(_("This file holds scans for another event. Upload it on that event's page."))
    if document.get("site") != site.slug:
        raise _refuse(
            _("This file holds scans made at another site. Upload it on that site's page.")
        )
    scans = document.get("scans")
    if not isinstance(scans, list):
        raise _refuse(_("This file is not a queue file: it has no list of scans."))
    if not scans:
        raise _refuse(_("This file holds no scans: nothing was waiting on the device."))
    if len(scans) > MAX_QUEUE_FILE_SCANS:
        raise _refuse(
            _(
                "This file holds more than %(count)d scans: it is not a queue file.",
                count=MAX_QUEUE_FILE_SCANS,
            )
        )
    return [_read_scan(number, raw, site) for number, raw in enumerate(scans, start=1)]


def record_queued_scans(
    event: Event,
    site: Site,
    scans: list[QueuedScan],
    user: StaffUser,
    *,
    now: datetime | None = None,
) -> list[RecordedScan]:
    """Record each scan as the device would have: the same rules, the same client_ids.

    A scan recorded before (by an earlier upload or by the device itself) is
    answered with its first outcome and writes nothing. Works inside the
    caller's transaction; a Refusal for any scan means the caller rolls back.
    """
    recorded = []
    for number, scan in enumerate(scans, start=1):
        try:
            session = counted_session(event, scan.session_id) if scan.session_id else None
            outcome = admit_checkin(
                event,
                site,
                scan.code,
                scan.client_id,
                user,
                scanned_at=scan.scanned_at,
                force=scan.force,
                method=scan.method,
                device=scan.device,
                session=session,
                now=now,
            )
        except Refusal as refusal:
            if refusal.reason == Reason.FORBIDDEN:
                raise
            raise _scan_error(number, refusal.message) from None
        recorded.append(RecordedScan(scan, outcome))
    return recorded
