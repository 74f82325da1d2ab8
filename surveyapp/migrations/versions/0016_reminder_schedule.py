"""reminder schedule: per invited group, days after a person's invitation and days before the
campaign ends; the step a scheduled reminder send belongs to (issue 18, part 3)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 10:35:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("respondent_group", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminder_after_days", sa.String(length=40), server_default="", nullable=False))
        batch_op.add_column(sa.Column("reminder_before_end_days", sa.Integer(), nullable=True))
    with op.batch_alter_table("message_send", schema=None) as batch_op:
        batch_op.add_column(sa.Column("step", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("message_send", schema=None) as batch_op:
        batch_op.drop_column("step")
    with op.batch_alter_table("respondent_group", schema=None) as batch_op:
        batch_op.drop_column("reminder_before_end_days")
        batch_op.drop_column("reminder_after_days")
