"""The unit tree: a province's units under it, at any depth (shared by collection, invitations,
planning and setup)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Unit


def descendants(s: Session, unit_id: int) -> list[Unit]:
    """Every active unit below ``unit_id`` (any depth), in code order: one recursive query."""
    tree = select(Unit.id).where(Unit.parent_id == unit_id).cte("tree", recursive=True)
    tree = tree.union_all(select(Unit.id).where(Unit.parent_id == tree.c.id))
    return list(
        s.scalars(select(Unit).where(Unit.id.in_(select(tree.c.id)), Unit.retired_at.is_(None)).order_by(Unit.code))
    )
