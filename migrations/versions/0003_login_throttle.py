"""security: login_throttle (failed logins and lockouts per account and per source, kept across restarts)

Revision ID: 0003_login_throttle
Revises: 0002_call_details
Create Date: 2026-12-06 22:54:31
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_login_throttle'
down_revision = '0002_call_details'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a database made before this history (create_all) may have the table already
    if 'login_throttle' in set(sa.inspect(op.get_bind()).get_table_names()):
        return
    op.create_table('login_throttle',
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_start', sa.Float(), nullable=False),
    sa.Column('locked_until', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )


def downgrade() -> None:
    op.drop_table('login_throttle')
