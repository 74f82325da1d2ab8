"""scored channels: a campaign may score only the counter groups' answers given after leaving the
counter (issue 20, part 3)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 15:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scored_channels", sa.String(length=16), server_default="all", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("scored_channels")
