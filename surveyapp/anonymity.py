"""Anonymity of invited respondents by construction (README, "Anonymity").

In an anonymous campaign nothing written when a person answers can be joined to their
invitation by someone who holds the database (a dump, system columns such as ``xmin``/``ctid``,
timestamps) and the logs, but not the application's ``SECRET_KEY``:

- the invitation row is never touched at submission (no ``used`` flag, no time): its row version
  and its place on disk say nothing about when, or whether, its person answered;
- the submission inserts a *claim*, ``HMAC(campaign key, "claim:" + invitation id)``, whose unique
  key stops a second answer; without the key a claim cannot be told from any other invitation's;
- a saved draft is keyed by ``HMAC(campaign key, "draft:" + invitation id)`` and deleted in the
  transaction that stores the response, and the response gets a fresh submission id, unrelated to
  the draft's token;
- the campaign key is derived from ``SECRET_KEY`` and the campaign id, so one campaign's claims
  say nothing about another's.

Whether a person answered is found by computing the claims of a group's invitations in the app.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Invitation, InvitationClaim, RespondentGroup


def campaign_key(campaign_id: int) -> bytes:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"surveyapp anonymity v1, campaign {campaign_id}".encode(), hashlib.sha256).digest()


def claim_hash(campaign_id: int, invitation_id: int) -> str:
    return hmac.new(campaign_key(campaign_id), f"claim:{invitation_id}".encode(), hashlib.sha256).hexdigest()


def draft_key(campaign_id: int, invitation_id: int) -> str:
    return hmac.new(campaign_key(campaign_id), f"draft:{invitation_id}".encode(), hashlib.sha256).hexdigest()


def answered_ids(s: Session, group: RespondentGroup, invitations: list[Invitation]) -> set[int]:
    """The invitations of ``group`` whose person has answered: two queries whatever their number."""
    done = {i.id for i in invitations if i.used}  # non-anonymous campaigns, and answers from before claims
    if group.campaign.anonymous:
        claims = set(s.scalars(select(InvitationClaim.hash).where(InvitationClaim.group_id == group.id)))
        if claims:
            done |= {i.id for i in invitations if claim_hash(group.campaign_id, i.id) in claims}
    return done


def has_answered(s: Session, invitation: Invitation) -> bool:
    return invitation.id in answered_ids(s, invitation.group, [invitation])
