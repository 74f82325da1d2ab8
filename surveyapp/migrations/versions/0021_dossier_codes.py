"""dossier codes: one answer per dossier, kept as keyed hashes whose key can be destroyed (issue 22, part 3)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 08:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dossier_key", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("dossier_key_destroyed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("respondent_group", schema=None) as batch_op:
        batch_op.add_column(sa.Column("asks_dossier", sa.Boolean(), server_default="0", nullable=False))
    op.create_table(
        "dossier_claim",
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["respondent_group.id"],
                                name=op.f("fk_dossier_claim_group_id_respondent_group"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("hash", name=op.f("pk_dossier_claim")),
    )  # fmt: skip
    with op.batch_alter_table("dossier_claim", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dossier_claim_group_id"), ["group_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dossier_claim", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dossier_claim_group_id"))
    op.drop_table("dossier_claim")
    with op.batch_alter_table("respondent_group", schema=None) as batch_op:
        batch_op.drop_column("asks_dossier")
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("dossier_key_destroyed_at")
        batch_op.drop_column("dossier_key")
