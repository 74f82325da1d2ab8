"""One answer per dossier without knowing who the citizen is (issue 22, part 3).

A group may ask the dossier code (mã hồ sơ) printed on the receipt of the procedure. What is
stored, and all that is stored:

- ``dossier_claim.hash`` = HMAC-SHA256(campaign's dossier key, "dossier:" + the code as typed,
  upper-cased, spaces removed), with the group it was answered in. Its uniqueness refuses a
  second answer for the same dossier. The claim holds no response id; like an invitation's claim
  (surveyapp/anonymity.py) it is written in the response's transaction.
- ``campaign.dossier_key``: 32 random bytes made at the first use, *not* derived from
  ``SECRET_KEY``. While it exists, the application (and whoever holds the database and its
  key) can test whether a given dossier code has been answered for: what the coverage of a unit's
  list of dossiers needs, computed in memory from the list, which is never stored. Dossier codes
  are short and follow a pattern, so anyone with the key could try them all; that is why the key
  is destroyed once the campaign closes (``destroy_key``): after that no one, the office
  included, can tell which dossier any claim (or any answer) belongs to.
- The code itself is written nowhere: not in a column, a log line, an export or the audit trail.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import Campaign, CampaignStatus, DossierClaim, RespondentGroup, utcnow

#: what a dossier code may look like once upper-cased and without spaces (the one-stop software
#: prints codes such as 000.00.24.H23-251203-0001)
CODE = re.compile(r"[A-Z0-9][A-Z0-9.\-/_]{3,39}")
FIELD = "dossier"


def normalise(text: str | None) -> str | None:
    """The code as it is hashed, or None when it cannot be a dossier code.

    >>> normalise(" 000.00.24.h23-251203-0001 "), normalise("12"), normalise("abc<script>")
    ('000.00.24.H23-251203-0001', None, None)
    """
    code = re.sub(r"\s+", "", text or "").upper()
    return code if CODE.fullmatch(code) else None


def key_of(s: Session, campaign: Campaign) -> bytes | None:
    """The campaign's dossier key, made now if it has none; None once destroyed. Two first
    submissions racing to make it both end with the one written first (a conditional UPDATE, the
    second waits on the row and then finds a key)."""
    if campaign.dossier_key_destroyed_at is not None:
        return None
    if campaign.dossier_key is None:
        table = Campaign.__table__
        s.execute(update(table).where(table.c.id == campaign.id, table.c.dossier_key.is_(None),
                                      table.c.dossier_key_destroyed_at.is_(None))
                  .values(dossier_key=secrets.token_bytes(32)))  # fmt: skip
        s.expire(campaign, ["dossier_key", "dossier_key_destroyed_at"])
        if campaign.dossier_key_destroyed_at is not None:
            return None
    return campaign.dossier_key


#: a receipt's QR code carries the dossier code after ``#hs=`` in the form's address: the part after
#: "#" never leaves the phone (form.js fills the field with it), so no server log can hold it
RECEIPT_KEY = "hs"


def enable(s: Session, group: RespondentGroup, on: bool = True) -> None:
    """The group's form asks the dossier code (the campaign's key is made now, before anyone answers)."""
    group.asks_dossier = on
    if on:
        key_of(s, group.campaign)


def code_hash(key: bytes, code: str) -> str:
    return hmac.new(key, f"dossier:{code}".encode(), hashlib.sha256).hexdigest()


def claim(s: Session, campaign: Campaign, group: RespondentGroup, code: str) -> bool:
    """Take the dossier's one answer in the current transaction; False when it has one already
    (racing submissions wait on the claim's unique key: one wins)."""
    key = key_of(s, campaign)
    if key is None:
        return False
    try:
        with s.begin_nested():
            s.execute(insert(DossierClaim.__table__).values(hash=code_hash(key, code), group_id=group.id))
    except IntegrityError:
        return False
    return True


def coverage(s: Session, campaign: Campaign, group: RespondentGroup, codes: list[str]) -> tuple[int, int, int]:
    """Of a unit's list of dossiers (read from its file, never stored): how many codes could be
    read, how many of them have an answer, and how many lines were not codes. (0, 0, n) once the
    key is destroyed: nothing can be matched any more."""
    wanted = {c for c in (normalise(x) for x in codes) if c}
    unreadable = sum(1 for x in codes if x.strip() and normalise(x) is None)
    key = campaign.dossier_key if campaign.dossier_key_destroyed_at is None else None
    if key is None:
        return len(wanted), 0, unreadable
    hashes = {code_hash(key, c) for c in wanted}
    found = 0
    listed = list(hashes)
    for start in range(0, len(listed), 500):
        part = listed[start : start + 500]
        found += s.scalar(
            select(func.count()).select_from(DossierClaim)
            .where(DossierClaim.group_id == group.id, DossierClaim.hash.in_(part))
        )  # fmt: skip
    return len(wanted), found, unreadable


def destroy_key(s: Session, campaign: Campaign) -> bool:
    """Forget the campaign's dossier key for good (closed campaigns only); False if it is open."""
    if campaign.status != CampaignStatus.CLOSED:
        return False
    campaign.dossier_key = None
    campaign.dossier_key_destroyed_at = campaign.dossier_key_destroyed_at or utcnow()
    s.flush()
    return True
