"""burst-count indexes cover the whole condition: (hash, campaign, submitted_at)

The burst counts ask "this hash, this campaign, since then, at most N". With (hash, submitted_at)
the campaign was a filter, and without fresh statistics PostgreSQL planned a BitmapAnd with the
(campaign, paper number) index that read every response of the campaign, not N of them (measured:
12,000 index entries read per submission after 20,000 responses; bench/README.md).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 05:10:00
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_index("ix_response_device_recent")
        batch_op.drop_index("ix_response_address_recent")
        batch_op.create_index("ix_response_device_recent", ["device_hash", "campaign_id", "submitted_at"], unique=False)
        batch_op.create_index(
            "ix_response_address_recent", ["address_hash", "campaign_id", "submitted_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_index("ix_response_address_recent")
        batch_op.drop_index("ix_response_device_recent")
        batch_op.create_index("ix_response_device_recent", ["device_hash", "submitted_at"], unique=False)
        batch_op.create_index("ix_response_address_recent", ["address_hash", "submitted_at"], unique=False)
