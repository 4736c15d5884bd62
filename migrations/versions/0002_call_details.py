"""reports: ivr_calls (the IVR's call-end fact) and call_details (one record per call) with the reports' indexes

Revision ID: 0002_call_details
Revises: 0001_baseline
Create Date: 2026-12-06 22:04:51.535069
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_call_details'
down_revision = '0001_baseline'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a database made before this history (create_all, or the recordings' own history) has some of
    # these tables already: only the missing ones are created
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if 'call_details' not in existing:
        op.create_table('call_details',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('linkedid', sa.String(length=64), nullable=False),
        sa.Column('arrived_at', sa.Float(), nullable=False),
        sa.Column('ended_at', sa.Float(), nullable=True),
        sa.Column('caller', sa.String(length=64), nullable=False),
        sa.Column('dnid', sa.String(length=64), nullable=False),
        sa.Column('language', sa.String(length=16), nullable=False),
        sa.Column('ivr_path', sa.JSON(), nullable=False),
        sa.Column('ivr_last_node', sa.String(length=100), nullable=False),
        sa.Column('ivr_outcome', sa.String(length=16), nullable=False),
        sa.Column('queue', sa.String(length=64), nullable=False),
        sa.Column('team', sa.String(length=64), nullable=False),
        sa.Column('priority', sa.Integer(), nullable=True),
        sa.Column('offered', sa.Integer(), nullable=False),
        sa.Column('answered', sa.Integer(), nullable=False),
        sa.Column('abandoned', sa.Integer(), nullable=False),
        sa.Column('short_abandon', sa.Integer(), nullable=False),
        sa.Column('answered_within', sa.Integer(), nullable=False),
        sa.Column('sl_threshold_s', sa.Float(), nullable=False),
        sa.Column('wait_s', sa.Float(), nullable=False),
        sa.Column('ring_no_answers', sa.Integer(), nullable=False),
        sa.Column('agent_id', sa.String(length=32), nullable=False),
        sa.Column('answered_at', sa.Float(), nullable=True),
        sa.Column('handled', sa.Integer(), nullable=False),
        sa.Column('talk_s', sa.Float(), nullable=False),
        sa.Column('hold_s', sa.Float(), nullable=False),
        sa.Column('wrapup_s', sa.Float(), nullable=False),
        sa.Column('transfers', sa.Integer(), nullable=False),
        sa.Column('conference', sa.Boolean(), nullable=False),
        sa.Column('disposition', sa.String(length=40), nullable=False),
        sa.Column('survey_rating', sa.Integer(), nullable=True),
        sa.Column('recording_id', sa.Integer(), nullable=True),
        sa.Column('recorded_s', sa.Float(), nullable=False),
        sa.Column('ended_how', sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('linkedid')
        )
        with op.batch_alter_table('call_details', schema=None) as batch_op:
            batch_op.create_index('ix_call_details_agent_arrived', ['agent_id', 'arrived_at'], unique=False)
            batch_op.create_index('ix_call_details_arrived', ['arrived_at'], unique=False)
            batch_op.create_index('ix_call_details_caller_arrived', ['caller', 'arrived_at'], unique=False)
            batch_op.create_index('ix_call_details_queue_arrived', ['queue', 'arrived_at'], unique=False)

    if 'ivr_calls' not in existing:
        op.create_table('ivr_calls',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('uniqueid', sa.String(length=64), nullable=False),
        sa.Column('linkedid', sa.String(length=64), nullable=False),
        sa.Column('caller', sa.String(length=64), nullable=False),
        sa.Column('dnid', sa.String(length=64), nullable=False),
        sa.Column('flow', sa.String(length=100), nullable=False),
        sa.Column('language', sa.String(length=16), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('last_node', sa.String(length=100), nullable=False),
        sa.Column('path', sa.JSON(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id')
        )
        with op.batch_alter_table('ivr_calls', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_ivr_calls_ended_at'), ['ended_at'], unique=False)
            batch_op.create_index(batch_op.f('ix_ivr_calls_linkedid'), ['linkedid'], unique=False)
            batch_op.create_index(batch_op.f('ix_ivr_calls_uniqueid'), ['uniqueid'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ivr_calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ivr_calls_uniqueid'))
        batch_op.drop_index(batch_op.f('ix_ivr_calls_linkedid'))
        batch_op.drop_index(batch_op.f('ix_ivr_calls_ended_at'))

    op.drop_table('ivr_calls')
    with op.batch_alter_table('call_details', schema=None) as batch_op:
        batch_op.drop_index('ix_call_details_queue_arrived')
        batch_op.drop_index('ix_call_details_caller_arrived')
        batch_op.drop_index('ix_call_details_arrived')
        batch_op.drop_index('ix_call_details_agent_arrived')

    op.drop_table('call_details')
