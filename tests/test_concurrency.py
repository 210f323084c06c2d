"""The last seats, taken by many people at the same moment (PostgreSQL, real threads)."""

import threading

import sqlalchemy as sa

from app.extensions import db
from app.mail.outbox import OutboxMessage
from app.models import Event, Mode, Registration, RegistrationStatus
from app.registrations.services import RegistrationInput, register_participant
from tests.conftest import make_event, make_registration, requires_postgres

PEOPLE = 30


@requires_postgres
def test_thirty_people_for_the_last_three_seats(app):
    event = make_event(sites={"ashgabat": 50, "ahal": 5})
    for index in range(2):
        make_registration(event, name=f"Early {index}", email=f"early{index}@example.org")
    slug = event.slug
    db.session.remove()

    barrier = threading.Barrier(PEOPLE)
    errors: list[BaseException] = []

    def register(index: int) -> None:
        try:
            data = RegistrationInput(
                name=f"Person {index}",
                email=f"person{index}@example.org",
                mode=Mode.IN_PERSON,
                site_slug="ahal",
                consent=True,
            )
            barrier.wait(timeout=30)
            with app.app_context():
                event = db.session.scalar(sa.select(Event).where(Event.slug == slug))
                register_participant(event, data)
                db.session.commit()
                db.session.remove()
        except BaseException as error:  # noqa: BLE001  reported below
            errors.append(error)

    threads = [threading.Thread(target=register, args=(i,)) for i in range(PEOPLE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    counts = dict(
        db.session.execute(
            sa.select(Registration.status, sa.func.count())
            .where(Registration.email.like("person%"))
            .group_by(Registration.status)
        ).all()
    )
    assert counts == {RegistrationStatus.CONFIRMED: 3, RegistrationStatus.WAITLISTED: 27}
    kinds = dict(
        db.session.execute(
            sa.select(OutboxMessage.kind, sa.func.count()).group_by(OutboxMessage.kind)
        ).all()
    )
    assert kinds == {"confirmation": 3, "waitlisted": 27}
