from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import ApiToken


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token(s: Session, name: str) -> str:
    """Make a token; only its hash is stored, so it is shown once."""
    token = "sv_" + secrets.token_urlsafe(32)
    s.add(ApiToken(name=name, token_hash=token_hash(token)))
    s.flush()
    return token


def valid_token(s: Session, token: str) -> bool:
    return (
        s.scalar(select(ApiToken.id).where(ApiToken.token_hash == token_hash(token), ApiToken.active.is_(True)))
        is not None
    )
