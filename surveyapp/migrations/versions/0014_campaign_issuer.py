"""campaign issuer and emblem: the authority named at the top of the citizen form, with an
optional small emblem image (issue 15, part 8)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 06:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(sa.Column("issuer", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("emblem", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("emblem_type", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("emblem_hash", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("emblem_hash")
        batch_op.drop_column("emblem_type")
        batch_op.drop_column("emblem")
        batch_op.drop_column("issuer")
