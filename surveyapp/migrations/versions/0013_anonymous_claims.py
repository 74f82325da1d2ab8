"""anonymous claims: an answered invitation of an anonymous campaign leaves a keyed-hash claim, and
drafts are keyed by a keyed hash, never by the invitation (README, "Anonymity")

Drafts saved before this revision are re-keyed when the app runs the migration (it knows the
secret); run by hand without the app, they are dropped (their people start the form again).
Invitations already marked used keep that mark.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 03:30:00
"""

import hashlib
import hmac

import sqlalchemy as sa
from alembic import context, op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _draft_key(secret: str, campaign_id: int, invitation_id: int) -> str:
    key = hmac.new(secret.encode(), f"surveyapp anonymity v1, campaign {campaign_id}".encode(), hashlib.sha256).digest()
    return hmac.new(key, f"draft:{invitation_id}".encode(), hashlib.sha256).hexdigest()


def upgrade() -> None:
    op.create_table(
        "invitation_claim",
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["respondent_group.id"], name=op.f("fk_invitation_claim_group_id_respondent_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("hash", name=op.f("pk_invitation_claim")),
    )  # fmt: skip
    with op.batch_alter_table("invitation_claim", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invitation_claim_group_id"), ["group_id"], unique=False)

    bind = op.get_bind()
    old = bind.execute(
        sa.text(
            "SELECT d.invitation_id, g.campaign_id, d.submission_token, d.data, d.saved_at FROM invitation_draft d "
            "JOIN invitation i ON i.id = d.invitation_id JOIN respondent_group g ON g.id = i.group_id"
        )
    ).fetchall()
    op.drop_table("invitation_draft")
    op.create_table(
        "invitation_draft",
        sa.Column("draft_key", sa.String(length=64), nullable=False),
        sa.Column("submission_token", sa.String(length=200), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("draft_key", name=op.f("pk_invitation_draft")),
    )
    secret = context.config.attributes.get("secret_key")
    if secret and old:
        bind.execute(
            sa.text(
                "INSERT INTO invitation_draft (draft_key, submission_token, data, saved_at) VALUES (:k, :t, :d, :s)"
            ),
            [{"k": _draft_key(secret, campaign_id, invitation_id), "t": token, "d": data, "s": saved_at}
             for invitation_id, campaign_id, token, data, saved_at in old],
        )  # fmt: skip


def downgrade() -> None:
    op.drop_table("invitation_draft")
    op.create_table(
        "invitation_draft",
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("submission_token", sa.String(length=200), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["invitation_id"], ["invitation.id"], name=op.f("fk_invitation_draft_invitation_id_invitation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("invitation_id", name=op.f("pk_invitation_draft")),
    )  # fmt: skip
    with op.batch_alter_table("invitation_claim", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitation_claim_group_id"))
    op.drop_table("invitation_claim")
