"""The web layer's lookups: the campaign or group a staff URL names, or the "not found" page."""

from __future__ import annotations

from flask import abort
from sqlalchemy.orm import Session

from .campaigns.services import campaign_by_key
from .models import Campaign, RespondentGroup


def campaign_or_404(s: Session, key: str) -> Campaign:
    """The campaign of a staff URL, or the "not found" page."""
    campaign = campaign_by_key(s, key)
    if campaign is None:
        abort(404)
    return campaign


def group_or_404(s: Session, key: str, group_code: str) -> tuple[Campaign, RespondentGroup]:
    campaign = campaign_or_404(s, key)
    group = next((g for g in campaign.groups if g.code == group_code), None)
    if group is None:
        abort(404)
    return campaign, group
