"""rules versions: every saved version of a campaign's scoring rules

Campaigns that already have rules get them as version 1.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 03:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rules_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("number >= 1", name=op.f("ck_rules_version_number_positive")),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_rules_version_campaign_id_campaign"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["staff_user.id"], name=op.f("fk_rules_version_created_by_id_staff_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rules_version")),
        sa.UniqueConstraint("campaign_id", "number", name=op.f("uq_rules_version_campaign_id_number")),
    )
    with op.batch_alter_table("rules_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rules_version_campaign_id"), ["campaign_id"], unique=False)
    op.execute(
        "INSERT INTO rules_version (campaign_id, number, source, created_at) "
        "SELECT id, 1, scoring_rules, created_at FROM campaign WHERE scoring_rules IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("rules_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rules_version_campaign_id"))
    op.drop_table("rules_version")
