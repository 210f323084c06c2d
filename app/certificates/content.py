"""What a certificate says: the person, the event, where they attended and how we know.

Everything is written in the current language; callers wrap each person's
certificate in ``force_locale`` with the person's own language.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from babel.dates import format_date, format_time
from flask_babel import force_locale, get_locale, ngettext, pgettext
from flask_babel import gettext as _

from app.attendance.completion import Completion, Evidence
from app.certificates.pdf import CertificateData
from app.models import Certificate, CheckInMethod, Event, Registration
from app.text import fold_for_search
from app.urls import public_url

#: Days of evidence a certificate lists one by one; the page has room for no more.
MAX_DAYS_LISTED = 4


def verification_url(certificate: Certificate) -> str:
    """The absolute address of the certificate's public check, from PUBLIC_BASE_URL."""
    return public_url("certificates.verify", code=certificate.code)


def _long_date(day: date) -> str:
    return format_date(day, "long", locale=get_locale())


def event_dates(event: Event) -> str:
    """The event's dates in its own zone: one date, or the first and the last."""
    first, last = event.local_day(event.starts_at), event.local_day(event.ends_at)
    if first == last:
        return _long_date(first)
    return f"{_long_date(first)} – {_long_date(last)}"


def day_evidence(evidence: Iterable[Evidence]) -> list[Evidence]:
    """The strongest proof of each day, day by day: a day's admission at a site, else a
    session's at a site, else online (the counting rule's order of places)."""
    best: dict[date, Evidence] = {}
    for proof in evidence:
        rank = _rank(proof)
        current = best.get(proof.day)
        if current is None or rank < _rank(current):
            best[proof.day] = proof
    return [best[day] for day in sorted(best)]


def _rank(proof: Evidence) -> int:
    if proof.site_name is not None:
        return 0 if proof.session_title is None else 1
    return 2


def places(evidence: Iterable[Evidence]) -> str:
    """Where the person attended, e.g. "at Balkan centre", "online", or both in order."""
    names: list[str] = []
    for proof in evidence:
        place = (
            _("at %(site)s", site=proof.site_name) if proof.site_name is not None else _("online")
        )
        if place not in names:
            names.append(place)
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    return _("%(first)s and %(second)s", first=", ".join(names[:-1]), second=names[-1])


def registered_place(registration: Registration) -> str:
    """Where the person registered to attend, for a certificate whose attendance is gone."""
    if registration.site is not None:
        return _("at %(site)s", site=registration.site.name)
    return _("online")


def describe(proof: Evidence, event: Event) -> str:
    """How one day's attendance was established, in a few words."""
    when = ""
    if proof.at is not None:
        when = format_time(proof.at, "short", tzinfo=event.zone, locale=get_locale())
    site, session = proof.site_name, proof.session_title
    if site is not None:
        if session is not None:
            return _(
                "admitted to “%(session)s” at %(site)s at %(time)s",
                session=session,
                site=site,
                time=when,
            )
        if proof.method == CheckInMethod.PAPER:
            return _("signed the sign-in sheet at %(site)s", site=site)
        if proof.method == CheckInMethod.WALK_IN:
            return _("registered at the door of %(site)s at %(time)s", site=site, time=when)
        if proof.method == CheckInMethod.SEARCH:
            return _("checked in by name at %(site)s at %(time)s", site=site, time=when)
        return _("scanned at %(site)s at %(time)s", site=site, time=when)
    if proof.minutes is not None:
        if session is not None:
            return _(
                "%(minutes)d minutes of “%(session)s” online by the meeting report",
                minutes=proof.minutes,
                session=session,
            )
        return _("%(minutes)d minutes online by the meeting report", minutes=proof.minutes)
    if proof.method == CheckInMethod.ONLINE_REPORT:
        return _("online by the meeting report")
    return _("joined online with the personal link at %(time)s", time=when)


def evidence_lines(completion: Completion | None, event: Event) -> tuple[str, ...]:
    """One line per attended day, then the days and sessions counted when there are several."""
    if completion is None:
        return ()
    days = day_evidence(completion.evidence)
    lines = [
        f"{_long_date(proof.day)}: {describe(proof, event)}" for proof in days[:MAX_DAYS_LISTED]
    ]
    if len(days) > MAX_DAYS_LISTED:
        lines.append(
            ngettext("and %(num)d more day", "and %(num)d more days", len(days) - MAX_DAYS_LISTED)
        )
    if completion.days_total > 1:
        lines.append(
            _(
                "Days attended: %(count)d of %(total)d",
                count=completion.days_attended,
                total=completion.days_total,
            )
        )
    if completion.sessions_total:
        lines.append(
            _(
                "Sessions attended: %(count)d of %(total)d",
                count=completion.sessions_attended,
                total=completion.sessions_total,
            )
        )
    return tuple(lines)


def certificate_data(
    certificate: Certificate, registration: Registration, completion: Completion | None
) -> CertificateData:
    """One person's certificate, in the current language."""
    event = certificate.event
    days = day_evidence(completion.evidence) if completion else []
    return CertificateData(
        heading=_("Certificate of attendance"),
        certifies=_("This is to certify that"),
        name=registration.name,
        attended=pgettext("certificate: between the name and the event", "attended"),
        event_title=event.title,
        dates=event_dates(event),
        place=places(days) or registered_place(registration),
        organiser=(
            _("Organised by %(organiser)s", organiser=event.organizer_name)
            if event.organizer_name
            else ""
        ),
        evidence_heading=_("How attendance was established"),
        evidence=evidence_lines(completion, event),
        signer=event.certificate_signer,
        issued=_("Issued on %(date)s", date=_long_date(event.local_day(certificate.issued_at))),
        code_label=_("Verification code"),
        code=certificate.code,
        verify_hint=_("Check this certificate at"),
        verify_url=verification_url(certificate),
        signature=event.certificate_signature,
    )


def sheet_data(
    certificates: Iterable[Certificate], done: dict[int, Completion]
) -> list[CertificateData]:
    """Many people's certificates, each in its reader's language, sorted by name.

    The language is switched once per language, not once per person.
    """
    by_language: dict[str, list[Certificate]] = {}
    for certificate in certificates:
        language = certificate.registration.language or "en"
        by_language.setdefault(language, []).append(certificate)
    pages = []
    for language, group in by_language.items():
        with force_locale(language):
            pages += [
                certificate_data(c, c.registration, done.get(c.registration_id)) for c in group
            ]
    return sorted(pages, key=lambda page: (fold_for_search(page.name), page.name))
