"""response language: the language a respondent answered a multi-language questionnaire in

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 03:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=16), server_default="vi", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_column("language")
