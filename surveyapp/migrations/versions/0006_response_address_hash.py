"""response address hash, and (hash, time) indexes for the burst flags

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 03:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address_hash", sa.String(length=64), nullable=True))
        batch_op.drop_index("ix_response_device_hash")
        batch_op.create_index("ix_response_device_recent", ["device_hash", "submitted_at"], unique=False)
        batch_op.create_index("ix_response_address_recent", ["address_hash", "submitted_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_index("ix_response_address_recent")
        batch_op.drop_index("ix_response_device_recent")
        batch_op.create_index("ix_response_device_hash", ["device_hash"], unique=False)
        batch_op.drop_column("address_hash")
