"""Command-line tools: ``flask seed-demo``, ``users``, ``outbox send``, ``worker``, ``privacy``.

Staff accounts are changed through ``app.staff.services``, the functions the
admin pages use, so a command obeys the same rules as the pages; a refusal
ends the command with its message and writes nothing.
"""

from __future__ import annotations

import secrets

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from app.demo import DEMO_EVENT_SLUG, seed_demo
from app.extensions import db
from app.mail.delivery import send_pending
from app.models import Role, Site, StaffUser
from app.privacy.cli import privacy_cli
from app.refusals import Refusal
from app.staff.services import (
    StaffInput,
    create_staff_user,
    issue_api_token,
    reset_staff_password,
    revoke_api_token,
    staff_user_by_email,
    update_staff_user,
)
from app.worker import run_worker, stop_on_signals

users_cli = AppGroup("users", help="Manage staff accounts.")
outbox_cli = AppGroup("outbox", help="The email outbox.")


def _staff_user(email: str) -> StaffUser:
    user = staff_user_by_email(email)
    if user is None:
        raise click.ClickException(f"no staff user {email}")
    return user


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--site", "sites", multiple=True, help="Site slug a coordinator works at.")
@click.option("--password", help="Without it, a random password is printed.")
@click.option("--name", default="", help="Display name.")
def create_user(email: str, role: str, sites: tuple[str, ...], password: str | None, name: str):
    """Create a staff account (or update its role, sites and password)."""
    email = email.strip().lower()
    if "@" not in email:
        raise click.BadParameter("not an email address", param_hint="EMAIL")
    found = db.session.scalars(sa.select(Site).where(Site.slug.in_(sites))).all()
    missing = sorted(set(sites) - {s.slug for s in found})
    if missing:
        raise click.BadParameter(f"unknown site: {', '.join(missing)}", param_hint="--site")
    shown = password or secrets.token_urlsafe(12)
    site_ids = [s.id for s in found]
    user = staff_user_by_email(email)
    try:
        if user is None:
            data = StaffInput(
                name=name or email.split("@")[0].title(), role=Role(role), site_ids=site_ids
            )
            create_staff_user(email, shown, data)
        else:
            # Only what was asked changes: an account that was disabled stays disabled.
            data = StaffInput(
                name=name or user.name or email.split("@")[0].title(),
                role=Role(role),
                site_ids=site_ids,
                is_active=user.is_active_user,
            )
            update_staff_user(user, data)
            reset_staff_password(user, shown)
    except Refusal as refusal:
        db.session.rollback()
        raise click.ClickException(refusal.message) from None
    db.session.commit()
    click.echo(f"{email} ({role})" + ("" if password else f" password: {shown}"))


@users_cli.command("token")
@click.argument("email")
@click.option("--label", default="", help="What the token is for, e.g. a device name.")
def create_token(email: str, label: str):
    """Print a new API token for a staff user. It is stored hashed and shown once."""
    token = issue_api_token(_staff_user(email), label)
    db.session.commit()
    click.echo(token)


@users_cli.command("revoke-tokens")
@click.argument("email")
def revoke_tokens(email: str):
    """Revoke every API token of a staff user."""
    user = _staff_user(email)
    revoked = sum(revoke_api_token(token) for token in user.api_tokens)
    db.session.commit()
    click.echo(f"revoked {revoked} token(s)")


@outbox_cli.command("send")
@click.option("--limit", default=500, show_default=True)
def send_outbox(limit: int):
    """Send the emails that are due, once (for cron); failed ones are retried with back-off."""
    sent, failed = send_pending(limit=limit)
    click.echo(f"sent {sent}, failed {failed}")
    if failed:
        raise SystemExit(1)


@click.command("worker")
def worker_command():
    """Deliver the outbox and send scheduled messages until stopped. Safe on several hosts."""
    click.echo("Worker started; Ctrl-C stops it.")
    run_worker(stop_on_signals())


@click.command("seed-demo")
def seed_demo_command():
    """Load the demo seminar, its sites, agenda, staff and a few participants. Safe to run again."""
    logins = seed_demo()
    click.echo(f"Demo event: /events/{DEMO_EVENT_SLUG}")
    click.echo("Staff logins (set DEMO_PASSWORD_<NAME> to choose them):")
    for email, role, password in logins:
        click.echo(f"  {email:28} {role:12} {password}")


def register(app: Flask) -> None:
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(users_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(worker_command)
    app.cli.add_command(privacy_cli)
