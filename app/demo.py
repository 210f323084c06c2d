"""The demo seminar: its sites, agenda, staff and a few participants.

``flask seed-demo`` loads it so that a fresh checkout has something to show.
Loading it again refreshes the event and keeps what was added by hand.
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.models import (
    AgendaItem,
    Event,
    EventFormat,
    EventSite,
    EventStatus,
    Gender,
    Mode,
    OrgKind,
    Registration,
    RegistrationStatus,
    Reminder,
    Role,
    Site,
    utcnow,
)
from app.staff.services import (
    StaffInput,
    create_staff_user,
    reset_staff_password,
    staff_user_by_email,
)

DEMO_EVENT_SLUG = "human-rights-seminar"
DEMO_TIMEZONE = "Asia/Ashgabat"

#: (slug, name, region, address, capacity); the first is the main venue.
DEMO_SITES = [
    (
        "ashgabat",
        "Institute of State, Law and Democracy",
        "Ashgabat",
        "Gurbansoltan Eje avenue 86, Ashgabat",
        80,
    ),
    ("ahal", "Ahal information centre for human rights", "Ahal velayat", "Anau, Ahal", 25),
    (
        "balkan",
        "Balkan information centre for human rights",
        "Balkan velayat",
        "Balkanabat, Balkan",
        25,
    ),
    (
        "dashoguz",
        "Dashoguz information centre for human rights",
        "Dashoguz velayat",
        "Dashoguz, Dashoguz",
        25,
    ),
    (
        "lebap",
        "Lebap information centre for human rights",
        "Lebap velayat",
        "Turkmenabat, Lebap",
        25,
    ),
    ("mary", "Mary information centre for human rights", "Mary velayat", "Mary, Mary", 25),
]

DEMO_DESCRIPTION = (
    "Heads and representatives of state institutions, public organisations, the information "
    "centres for human rights in the velayats, the media, and UNDP staff and experts discuss "
    "the constitutional guarantees of human rights and the mechanisms for their implementation "
    "in Turkmenistan. Organised by the UNDP Representative Office in Turkmenistan and the "
    "Institute of State, Law and Democracy of Turkmenistan, within the project \u201cAssistance "
    "in the realization of the National Action Plan of Turkmenistan in the field of human "
    "rights for 2021-2025\u201d."
)

#: (minutes from the start, length in minutes, title, speakers)
DEMO_AGENDA = [
    (
        0,
        20,
        "Opening: the Constitution as the guarantee of human rights and freedoms",
        "Institute of State, Law and Democracy\nUNDP Resident Representative",
    ),
    (
        20,
        40,
        "Constitutional guarantees of human rights and their implementation mechanisms",
        "Institute of State, Law and Democracy",
    ),
    (
        60,
        30,
        "National human rights institutions: the Ombudsman's Office and the "
        "Interdepartmental Commission",
        "Ombudsman's Office",
    ),
    (90, 15, "Break", ""),
    (
        105,
        30,
        "The National Action Plans on human rights, gender equality and children's rights",
        "UNDP project team",
    ),
    (135, 30, "Digitalisation in reforming public administration", "UNDP experts"),
    (
        165,
        30,
        "Human rights education and the role of public associations",
        "Public organisations; regional information centres",
    ),
    (195, 15, "Questions from the regional centres and online participants; closing", ""),
]


def demo_start(today: date | None = None) -> datetime:
    """Two weeks from today at 10:00 in Ashgabat, as a UTC moment."""
    today = today or datetime.now(ZoneInfo(DEMO_TIMEZONE)).date()
    local = datetime.combine(today + timedelta(days=14), time(10, 0), ZoneInfo(DEMO_TIMEZONE))
    return local.astimezone(UTC)


def _demo_password(env_name: str) -> tuple[str, bool]:
    """A staff password from the environment, else a fresh random one."""
    value = os.environ.get(env_name)
    return (value, True) if value else (secrets.token_urlsafe(9), False)


def _demo_logins_file() -> Path:
    """DEMO_LOGINS_FILE, else demo-logins.txt in the instance folder."""
    configured = current_app.config.get("DEMO_LOGINS_FILE")
    if configured:
        return Path(configured)
    return Path(current_app.instance_path) / "demo-logins.txt"


def _saved_demo_passwords() -> dict[str, str]:
    """Demo passwords generated earlier, so a second seed can print them again."""
    path = _demo_logins_file()
    if not path.exists():
        return {}
    lines = (line.split() for line in path.read_text(encoding="utf-8").splitlines())
    return {parts[0]: parts[2] for parts in lines if len(parts) == 3}


def _save_demo_passwords(logins: list[tuple[str, str, str]]) -> None:
    path = _demo_logins_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{e} {r} {p}\n" for e, r, p in logins), encoding="utf-8")
    path.chmod(0o600)


def seed_demo() -> list[tuple[str, str, str]]:
    """Create or refresh the demo seminar; returns (email, role, password) lines to print."""
    sites = {}
    for slug, name, region, address, _capacity in DEMO_SITES:
        site = db.session.scalar(sa.select(Site).where(Site.slug == slug))
        if site is None:
            site = Site(slug=slug)
            db.session.add(site)
        site.name, site.region, site.address = name, region, address
        site.is_main_venue = slug == "ashgabat"
        sites[slug] = site

    start = demo_start()
    event = db.session.scalar(sa.select(Event).where(Event.slug == DEMO_EVENT_SLUG))
    if event is None:
        event = Event(slug=DEMO_EVENT_SLUG)
        db.session.add(event)
        db.session.add_all(Reminder.defaults_for(event))
    event.title = "The Constitution of Turkmenistan: the guarantee of human rights and freedoms"
    event.description = DEMO_DESCRIPTION
    event.timezone = DEMO_TIMEZONE
    event.format = EventFormat.HYBRID
    event.status = EventStatus.PUBLISHED
    event.meeting_url = "https://meet.example.org/human-rights-seminar"
    event.organizer_name = "UNDP Turkmenistan"
    event.organizer_email = "organizer@example.org"
    if event.starts_at != start:
        event.starts_at = start
        event.ends_at = start + timedelta(hours=3, minutes=30)
        event.registration_opens_at = start - timedelta(days=30)
        event.registration_closes_at = start - timedelta(hours=2)
        event.agenda_items.clear()
        for offset, length, title, speakers in DEMO_AGENDA:
            event.agenda_items.append(
                AgendaItem(
                    title=title,
                    speakers=speakers,
                    starts_at=start + timedelta(minutes=offset),
                    ends_at=start + timedelta(minutes=offset + length),
                )
            )
    existing = {es.site.slug: es for es in event.event_sites}
    for position, (slug, *_rest, capacity) in enumerate(DEMO_SITES):
        if slug not in existing:
            event.event_sites.append(
                EventSite(site=sites[slug], capacity=capacity, position=position)
            )

    logins = []
    saved = _saved_demo_passwords()
    db.session.flush()  # the sites need their ids before coordinators can be given them
    staff = [("admin@example.org", Role.ADMIN, ()), ("organizer@example.org", Role.ORGANIZER, ())]
    # One coordinator per site, the main venue included, so that every door can be tried.
    staff += [(f"{slug}@example.org", Role.COORDINATOR, (slug,)) for slug, *_ in DEMO_SITES]
    for email, role, site_slugs in staff:
        env_name = "DEMO_PASSWORD_" + email.split("@")[0].upper()
        user = staff_user_by_email(email)
        password, from_env = _demo_password(env_name)
        if user is None:
            data = StaffInput(
                name=email.split("@")[0].title(),
                role=role,
                site_ids=[sites[s].id for s in site_slugs],
            )
            create_staff_user(email, password, data)
        else:
            if from_env:
                reset_staff_password(user, password)
            else:
                # Keep the password given out the first time.
                password = saved.get(email, "(unchanged)")
            # A demo account gets its demo role and sites back, whatever was changed since.
            user.role = role
            user.sites = [sites[s] for s in site_slugs]
        logins.append((email, role.value, password))
    _save_demo_passwords(logins)
    db.session.flush()
    _seed_demo_participants(event)
    db.session.commit()
    return logins


#: (name, email, organisation, position, kind, gender, language, site or None for online)
DEMO_PARTICIPANTS = [
    (
        "Ňurgeldi Şükürow",
        "nurgeldi.sukurow",
        "Ahal information centre for human rights",
        "Head of centre",
        OrgKind.INFO_CENTRE,
        Gender.MALE,
        "tk",
        "ahal",
    ),
    (
        "Aýna Orazowa",
        "ayna.orazowa",
        "Ahal velayat administration",
        "Specialist",
        OrgKind.STATE,
        Gender.FEMALE,
        "tk",
        "ahal",
    ),
    (
        "Гульнара Аманова",
        "gulnara.amanova",
        "Institute of State, Law and Democracy",
        "Senior researcher",
        OrgKind.STATE,
        Gender.FEMALE,
        "ru",
        "ashgabat",
    ),
    (
        "Maral Nuryýewa",
        "maral.nuryyewa",
        "Ombudsman's Office",
        "Adviser",
        OrgKind.STATE,
        Gender.FEMALE,
        "tk",
        "ashgabat",
    ),
    (
        "Dmitriy Sokolov",
        "dmitriy.sokolov",
        "UNDP Turkmenistan",
        "Project manager",
        OrgKind.INTERNATIONAL,
        Gender.MALE,
        "en",
        "ashgabat",
    ),
    (
        "Merdan Annaýew",
        "merdan.annayew",
        "Balkan information centre for human rights",
        "Coordinator",
        OrgKind.INFO_CENTRE,
        Gender.MALE,
        "tk",
        "balkan",
    ),
    (
        "Bahar Gurbanowa",
        "bahar.gurbanowa",
        "Women's Union of Turkmenistan, Dashoguz",
        "Chair",
        OrgKind.PUBLIC,
        Gender.FEMALE,
        "tk",
        "dashoguz",
    ),
    (
        "Сердар Хыдыров",
        "serdar.hydyrov",
        "Neutral Turkmenistan newspaper",
        "Journalist",
        OrgKind.MEDIA,
        Gender.MALE,
        "ru",
        "lebap",
    ),
    (
        "Jeren Ataýewa",
        "jeren.atayewa",
        "Youth Organisation of Turkmenistan, Mary",
        "Member",
        OrgKind.PUBLIC,
        Gender.FEMALE,
        "tk",
        "mary",
    ),
    (
        "Anna Keller",
        "anna.keller",
        "Independent expert",
        "Human rights lawyer",
        OrgKind.EXPERT,
        Gender.FEMALE,
        "en",
        None,
    ),
    (
        "Oraz Berdiýew",
        "oraz.berdiyew",
        "Turkmen State Institute of Economics",
        "Lecturer",
        OrgKind.OTHER,
        Gender.MALE,
        "tk",
        None,
    ),
]


def _seed_demo_participants(event: Event) -> None:
    """A few confirmed participants, so lists, badges and check-in have someone to show."""
    taken = set(
        db.session.scalars(sa.select(Registration.email).where(Registration.event_id == event.id))
    )
    site_ids = {es.site.slug: es.site_id for es in event.event_sites}
    for name, local_part, organization, position, kind, gender, language, site in DEMO_PARTICIPANTS:
        email = f"{local_part}@example.org"
        if email in taken:
            continue
        db.session.add(
            Registration(
                event=event,
                name=name,
                email=email,
                organization=organization,
                position=position,
                org_kind=kind,
                gender=gender,
                language=language,
                mode=Mode.IN_PERSON if site else Mode.ONLINE,
                site_id=site_ids[site] if site else None,
                status=RegistrationStatus.CONFIRMED,
                consent_at=utcnow(),
            )
        )
