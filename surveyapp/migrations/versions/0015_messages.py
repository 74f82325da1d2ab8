"""messages: invitations and reminders sent from the product by a worker, one row per person and
send; an opt-out mark on the invitation; keyed-hash marks of links followed (issue 18)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 10:17:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "invitation_open",
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["respondent_group.id"],
            name=op.f("fk_invitation_open_group_id_respondent_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("hash", name=op.f("pk_invitation_open")),
    )
    with op.batch_alter_table("invitation_open", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invitation_open_group_id"), ["group_id"], unique=False)

    op.create_table(
        "message_send",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("channel IN ('email', 'sms', 'zalo')", name=op.f("ck_message_send_channel")),
        sa.CheckConstraint("kind IN ('invitation', 'reminder')", name=op.f("ck_message_send_kind")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["staff_user.id"], name=op.f("fk_message_send_created_by_id_staff_user")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["respondent_group.id"],
            name=op.f("fk_message_send_group_id_respondent_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_send")),
    )
    with op.batch_alter_table("message_send", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_send_group_id"), ["group_id"], unique=False)

    op.create_table(
        "message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("send_id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provider_id", sa.String(length=200), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'sending', 'sent', 'failed', 'uncertain', 'bounced', 'skipped')",
            name=op.f("ck_message_status"),
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"], ["invitation.id"], name=op.f("fk_message_invitation_id_invitation"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["send_id"], ["message_send.id"], name=op.f("fk_message_send_id_message_send"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message")),
        sa.UniqueConstraint("send_id", "invitation_id", name=op.f("uq_message_send_id_invitation_id")),
    )
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_invitation_id"), ["invitation_id"], unique=False)
        batch_op.create_index("ix_message_send_status", ["send_id", "status"], unique=False)

    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("opted_out", sa.Boolean(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_column("opted_out")

    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_index("ix_message_send_status")
        batch_op.drop_index(batch_op.f("ix_message_invitation_id"))

    op.drop_table("message")
    with op.batch_alter_table("message_send", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_send_group_id"))

    op.drop_table("message_send")
    with op.batch_alter_table("invitation_open", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitation_open_group_id"))

    op.drop_table("invitation_open")
