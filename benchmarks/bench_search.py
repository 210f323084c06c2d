"""How long a name search takes at 10,000 and at 100,000 registrations in one event.

Both places that search people by the words typed are measured: the check-in search
(``search_registrations``, also the API's /search; everyone, and a coordinator's own
site) and the staff list of registrations with a search term (``registrations_page``:
its count and first page). The people have Turkmen names in Latin or Cyrillic script,
organisations and emails; the queries are what staff type: a first name, a surname, a
name and surname, a Cyrillic surname, an email, a word with a short one. Each figure is
the median of several runs, in milliseconds.

Runs on a throw-away SQLite file, or on PostgreSQL when BENCH_DATABASE_URL (else
TEST_DATABASE_URL) names a server: there in a throw-away database of its own (the role
needs CREATEDB), dropped afterwards. BENCH_SEARCH_OTHERS=900000 first adds that many
people in other events of 10,000 each (1,000,000 in all): slow to load, so not by default.

    python -m benchmarks search
"""

from __future__ import annotations

import os
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from app import create_app
from app.checkin.roster import search_registrations
from app.extensions import db
from app.models import Event, Gender, Mode, OrgKind, Registration, RegistrationStatus
from app.registrations.listing import RegistrationFilters, registrations_page
from app.text import fold_for_search
from benchmarks import seeding
from config import _database_url

SIZES = (10_000, 100_000)
RUNS = 7
BATCH = 5_000

FIRST_NAMES = (
    "Aýna Merdan Jeren Gülşat Batyr Ogulgerek Serdar Maral Döwlet Aýgül Bahar Şatlyk Gözel "
    "Myrat Ogulbibi Rowşen Selbi Kerim Enejan Nury Aýsoltan Dowran Leýli Resul Mähri Atajan "
    "Güljemal Berdi Bägül Ilmyrat Sona Toýly Ejegyz Arslan Nabat Hemra Tylla Begenç Zöhre Ýazgeldi"
).split()
FIRST_NAMES_CYRILLIC = (
    "Айна Мердан Джерен Гульшат Батыр Сердар Марал Довлет Айгуль Бахар Шатлык Гозель Мурат "
    "Ровшен Сельби Керим Нуры Довран Лейли Ресул Махри Аджан Берды Сона Арслан Набат Хемра"
).split()
#: Surname roots: a man's ends in -ow (-ов), a woman's in -owa (-ова).
SURNAME_ROOTS = (
    "Oraz Ataý Hojamurad Gurban Nurmurad Annaýew Meret Şükür Berdimyrat Amanmyrat Çary Durdy "
    "Esen Garaja Hally Ilýas Jumaýew Kakaly Mämmet Nazar Orazgeldi Pirgul Rejep Saparmyrat "
    "Täçmyrat Welmyrat Ýagmyr Allaberdi Babaýew Gaýyp Hudaýberdi Ischan Kurbanmyrat Öwez Sahat"
).split()
SURNAME_ROOTS_CYRILLIC = (
    "Ораз Атаев Ходжамурад Гурбан Нурмурад Аннаев Мерет Шукур Бердымурад Аманмурад Чары "
    "Дурды Есен Гараджа Халлы Ильяс Джумаев Какалы Мамед Назар Реджеп Сапармурад Ягмур"
).split()
ORGANISATIONS = (
    "Ministry of Justice",
    "Ministry of Foreign Affairs",
    "Ministry of Education",
    "Mejlis of Turkmenistan",
    "Institute of State, Law and Democracy",
    "Ombudsperson's Office",
    "Supreme Court",
    "Prosecutor General's Office",
    "Women's Union of Turkmenistan",
    "Youth Organisation named after Magtymguly",
    "National Red Crescent Society",
    "Information centre for human rights, Ahal",
    "Information centre for human rights, Balkan",
    "Information centre for human rights, Dashoguz",
    "Information centre for human rights, Lebap",
    "Information centre for human rights, Mary",
    "Türkmenistan gazeti",
    "Neýtral Türkmenistan",
    "Altyn Asyr TV",
    "UNDP Turkmenistan",
    "OSCE Centre in Ashgabat",
    "UNICEF",
    "Magtymguly Turkmen State University",
    "Trade Union Centre",
    "Union of Industrialists and Entrepreneurs",
    "Министерство адаптации и юстиции",
    "Государственный комитет по статистике",
    "Хякимлик города Ашхабад",
)
DOMAINS = ("mail.tm", "online.tm", "gmail.com", "undp.org", "science.gov.tm", "mail.ru")

#: (label, what is typed): how staff look people up, from selective to broad.
QUERIES = (
    ("first name", "serdar"),
    ("surname", "hojamuradowa"),
    ("name and surname", "aýna orazowa"),
    ("Cyrillic surname", "Шукурова"),
    ("email", "merdan.gurbanow"),
    ("word and short word", "nazarowa 7"),
    ("organisation word", "ombudsperson"),
)


def _person(rng: random.Random, number: int) -> dict:
    woman = rng.random() < 0.5
    if rng.random() < 0.25:
        first, root = rng.choice(FIRST_NAMES_CYRILLIC), rng.choice(SURNAME_ROOTS_CYRILLIC)
        surname = root + ("ова" if woman else "ов")
    else:
        first, root = rng.choice(FIRST_NAMES), rng.choice(SURNAME_ROOTS)
        surname = root + ("owa" if woman else "ow")
    name = f"{first} {surname}"
    local = fold_for_search(f"{first}.{surname}").replace(" ", "")
    # Numbered, so that no two are the same.
    email = f"{local}{rng.randrange(100)}.{number}@{rng.choice(DOMAINS)}"
    organization = rng.choice(ORGANISATIONS)
    return {
        "name": name,
        "email": email,
        "organization": organization,
        "gender": Gender.FEMALE if woman else Gender.MALE,
        "search_text": fold_for_search(f"{name} {organization} {email}")[:800],
    }


def add_people(event: Event, numbers: range, rng: random.Random) -> None:
    """People numbered ``numbers`` at the event's sites (a tenth online, a twentieth
    waitlisted), in multi-row inserts."""
    site_ids = [event_site.site_id for event_site in event.event_sites]
    kinds = list(OrgKind)
    for start in range(numbers.start, numbers.stop, BATCH):
        rows = []
        for i in range(start, min(numbers.stop, start + BATCH)):
            online = i % 10 == 0
            rows.append(
                {
                    "event_id": event.id,
                    "org_kind": kinds[i % len(kinds)],
                    "mode": Mode.ONLINE if online else Mode.IN_PERSON,
                    "site_id": None if online else site_ids[i % len(site_ids)],
                    "status": RegistrationStatus.CONFIRMED
                    if i % 20
                    else RegistrationStatus.WAITLISTED,
                    "manage_token": secrets.token_urlsafe(32),
                    "badge_code": secrets.token_hex(20),
                    **_person(rng, i),
                }
            )
        db.session.execute(sa.insert(Registration), rows)
        db.session.commit()


def _vacuum_analyze() -> None:
    """The statistics autovacuum keeps on a live database; VACUUM also counts GIN's entries."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM ANALYZE registrations"))


def _median_ms(run: Callable[[], object]) -> float:
    run()  # warm the caches and the prepared statement
    times = []
    for _ in range(RUNS):
        db.session.expire_all()
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def _measure(event: Event) -> dict[str, list[float]]:
    """For each query, the milliseconds of each way of searching."""
    site = {event.event_sites[1].site_id}
    ways: dict[str, Callable[[str], object]] = {
        "check-in, all sites": lambda q: search_registrations(event, None, q),
        "check-in, one site": lambda q: search_registrations(event, site, q),
        "registrations list": lambda q: (
            registrations_page(event, RegistrationFilters(text=q), 1).items
        ),
    }
    return {
        way: [_median_ms(lambda run=run, q=query: run(q)) for _label, query in QUERIES]
        for way, run in ways.items()
    }


def _found(event: Event) -> list[int]:
    return [
        registrations_page(event, RegistrationFilters(text=query), 1).total
        for _label, query in QUERIES
    ]


@contextmanager
def _database() -> Iterator[str]:
    """A throw-away database's URL: a PostgreSQL database of its own, or a SQLite file."""
    server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not server:
        with tempfile.TemporaryDirectory(prefix="hybriddesk-bench-") as folder:
            yield f"sqlite:///{folder}/search.sqlite"
        return
    name = f"hybriddesk_bench_{secrets.token_hex(4)}"
    admin = sa.create_engine(_database_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        url = sa.engine.make_url(_database_url(server)).set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _add_event(tag: str, capacity: int) -> Event:
    start = datetime.now(UTC).replace(microsecond=0)
    return seeding.add_event(tag, capacity, starts_at=start, ends_at=start + timedelta(hours=4))


def main() -> None:
    others = int(os.environ.get("BENCH_SEARCH_OTHERS", "0"))
    rng = random.Random(20261209)  # the same people every run
    with _database() as url:
        config = seeding.BenchConfig()
        config.SQLALCHEMY_DATABASE_URI = url
        app = create_app(config)
        with app.test_request_context():
            db.create_all()
            backend = db.engine.dialect.name
            began = time.perf_counter()
            for n in range(0, others, 10_000):
                add_people(_add_event(f"other{n}", 10_000), range(min(10_000, others - n)), rng)
            event = _add_event("search", max(SIZES))
            print(
                f"database: {backend}; {others:,} people in other events"
                + (f" (loaded in {time.perf_counter() - began:.0f} s)" if others else ""),
                flush=True,
            )
            results, loaded = {}, 0
            for size in SIZES:
                add_people(event, range(loaded, size), rng)
                loaded = size
                _vacuum_analyze()
                results[size] = _measure(event)
                print(
                    f"{size:,} in the event; found (registrations list): "
                    + ", ".join(
                        f"{q!r} {n}" for (_l, q), n in zip(QUERIES, _found(event), strict=True)
                    ),
                    flush=True,
                )
            _report(results)
            db.session.remove()
            db.engine.dispose()


def _report(results: dict[int, dict[str, list[float]]]) -> None:
    small, large = SIZES
    header = f"{'query':<22}{'way':<22}{small:>10,}{large:>10,}{'ratio':>8}"
    print(header + "   (ms, median of runs)")
    for way in results[small]:
        for n, (label, _query) in enumerate(QUERIES):
            a, b = results[small][way][n], results[large][way][n]
            print(f"{label:<22}{way:<22}{a:>10.1f}{b:>10.1f}{b / a:>8.2f}")
        a = statistics.median(results[small][way])
        b = statistics.median(results[large][way])
        print(f"{'median of the queries':<22}{way:<22}{a:>10.1f}{b:>10.1f}{b / a:>8.2f}")
        print(flush=True)


if __name__ == "__main__":
    main()
