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
- a followed link (surveyapp/messaging: "opened") leaves ``HMAC(campaign key, "open:" + id)``,
  written when the form is first shown, never at submission;
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

from .models import Invitation, InvitationClaim, InvitationDraft, InvitationOpen, RespondentGroup


def campaign_key(campaign_id: int) -> bytes:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"surveyapp anonymity v1, campaign {campaign_id}".encode(), hashlib.sha256).digest()


def claim_hash(campaign_id: int, invitation_id: int) -> str:
    return hmac.new(campaign_key(campaign_id), f"claim:{invitation_id}".encode(), hashlib.sha256).hexdigest()


def draft_key(campaign_id: int, invitation_id: int) -> str:
    return hmac.new(campaign_key(campaign_id), f"draft:{invitation_id}".encode(), hashlib.sha256).hexdigest()


def open_hash(campaign_id: int, invitation_id: int) -> str:
    return hmac.new(campaign_key(campaign_id), f"open:{invitation_id}".encode(), hashlib.sha256).hexdigest()


def opened_ids(s: Session, group: RespondentGroup, invitations: list[Invitation]) -> set[int]:
    """The invitations whose link was followed at least once."""
    marks = set(s.scalars(select(InvitationOpen.hash).where(InvitationOpen.group_id == group.id)))
    return {i.id for i in invitations if open_hash(group.campaign_id, i.id) in marks} if marks else set()


def started_ids(s: Session, group: RespondentGroup, invitations: list[Invitation]) -> set[int]:
    """The invitations whose person saved a draft and has not sent it yet."""
    keys = {draft_key(group.campaign_id, i.id): i.id for i in invitations}
    found = set()
    for chunk in range(0, len(keys), 500):
        part = list(keys)[chunk : chunk + 500]
        found |= set(s.scalars(select(InvitationDraft.draft_key).where(InvitationDraft.draft_key.in_(part))))
    return {keys[k] for k in found}


def mark_opened(s: Session, invitation: Invitation) -> bool:
    """Record that the link was followed; False when it already was (nothing written)."""
    mark = open_hash(invitation.group.campaign_id, invitation.id)
    if s.get(InvitationOpen, mark) is not None:
        return False
    s.add(InvitationOpen(hash=mark, group_id=invitation.group_id))
    s.flush()
    return True


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
