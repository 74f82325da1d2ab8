"""questionnaire drafts: questionnaires written in the web builder before they are published

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 03:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "questionnaire_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("based_on_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["based_on_id"], ["questionnaire_version.id"],
            name=op.f("fk_questionnaire_draft_based_on_id_questionnaire_version"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["staff_user.id"], name=op.f("fk_questionnaire_draft_updated_by_id_staff_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire_draft")),
        sa.UniqueConstraint("code", name=op.f("uq_questionnaire_draft_code")),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("questionnaire_draft")
