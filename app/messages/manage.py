"""The organisers' messages: writing one to a group of participants, and what was sent."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from app.auth.access import organizer_required
from app.forms import options
from app.messages import campaigns as services
from app.messages.audience import describe_audience
from app.messages.campaigns import LANGUAGES, CampaignOutcome
from app.messages.forms import CampaignForm
from app.messages.personal import resend_confirmation
from app.messages.summaries import campaign_summaries
from app.models import MessageKind, utcnow
from app.refusals import Refusal
from app.templating import event_datetime
from app.web import (
    event_or_404,
    event_registration_or_404,
    require_button_post,
    save,
    save_and_go_back,
    show_refusal,
)

bp = Blueprint("messages", __name__, url_prefix="/manage")


def _campaign_url(outcome: CampaignOutcome) -> str:
    campaign = outcome.campaign
    return url_for(
        "messages.campaigns", slug=campaign.event.slug, _anchor=f"campaign-{campaign.id}"
    )


def _saved_note(outcome: CampaignOutcome) -> str:
    campaign = outcome.campaign
    if not outcome.created:
        return _("This message had been sent already; it was not sent again.")
    if campaign.send_at > utcnow():
        return ngettext(
            "The message to %(num)d person goes out at %(when)s.",
            "The message to %(num)d people goes out at %(when)s.",
            campaign.recipient_count,
            when=event_datetime(campaign.send_at, campaign.event),
        )
    return ngettext(
        "The message is on its way to %(num)d person.",
        "The message is on its way to %(num)d people.",
        campaign.recipient_count,
    )


@bp.route("/events/<slug>/messages")
@organizer_required
def campaigns(slug: str):
    """The messages sent to an event's participants, with live counts."""
    event = event_or_404(slug)
    return render_template(
        "messages/campaigns.html",
        event=event,
        summaries=campaign_summaries(event),
        languages=LANGUAGES,
        refresh_ms=current_app.config["DASHBOARD_REFRESH_MS"],
    )


@bp.route("/events/<slug>/messages/status.json")
@organizer_required
def campaign_status(slug: str):
    """Each campaign's state and counts, for the page to refresh itself."""
    event = event_or_404(slug)
    summaries = campaign_summaries(event)
    return jsonify(
        {
            "event": event.slug,
            "generated_at": utcnow().isoformat(),
            "campaigns": [summary.to_dict() for summary in summaries],
        }
    )


@bp.route("/events/<slug>/messages/new", methods=["GET", "POST"])
@organizer_required
def new_campaign(slug: str):
    """Write a message to a filtered group of participants: preview it, then send it."""
    event = event_or_404(slug)
    form = CampaignForm()
    form.sites.choices = options((es.site.slug, es.site.name) for es in event.event_sites)
    preview = None
    if form.validate_on_submit():
        if form.send.data:
            saved = save(
                lambda: services.create_campaign(
                    event, form.idempotency_key.data, form.to_input(), current_user
                ),
                form=form,
                success=_saved_note,
                redirect_to=_campaign_url,
            )
            if saved:
                return saved
        else:
            try:
                preview = services.preview_campaign(event, form.to_input())
            except Refusal as refusal:
                show_refusal(refusal, form)
    if form.idempotency_key.errors or not form.idempotency_key.data:
        form.idempotency_key.data = services.new_idempotency_key()
    return render_template(
        "messages/compose.html",
        event=event,
        form=form,
        preview=preview,
        languages=LANGUAGES,
        audience_text=describe_audience(event, form.to_input().audience) if preview else "",
    )


def _registrations_list(slug: str) -> str:
    """Where a button in the registrations list leads back to: that list, filters kept."""
    back = url_for("registrations_manage.registrations", slug=slug)
    asked = request.form.get("next", "")
    return asked if asked == back or asked.startswith(back + "?") else back


@bp.route("/events/<slug>/registrations/<int:registration_id>/resend", methods=["POST"])
@organizer_required
def resend(slug: str, registration_id: int):
    """Send a person their confirmation again, with invite and badge."""
    event = event_or_404(slug)
    registration = event_registration_or_404(event, registration_id)
    require_button_post()
    back = _registrations_list(slug)

    def sent(kind: MessageKind) -> str:
        if kind == MessageKind.WAITLISTED:
            return _("%(name)s's waiting-list notice is sent again.", name=registration.name)
        return _("%(name)s's confirmation is sent again.", name=registration.name)

    return save_and_go_back(lambda: resend_confirmation(registration), success=sent, back=back)
