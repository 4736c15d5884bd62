"""recordings: recordings, recording_evaluations, recording_audit_log (times are naive UTC)

Revision ID: 0001_recordings
Revises: 
Create Date: 2026-11-23 13:33:07.537972
"""
from alembic import op
import sqlalchemy as sa


revision = '0001_recordings'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('recording_audit_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('recording_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('recording_audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_recording_audit_log_at', ['at'], unique=False)
        batch_op.create_index('ix_recording_audit_log_recording', ['recording_id'], unique=False)

    op.create_table('recordings',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('linkedid', sa.String(length=64), nullable=False),
    sa.Column('segment', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=128), nullable=False),
    sa.Column('caller', sa.String(length=64), nullable=False),
    sa.Column('called', sa.String(length=64), nullable=False),
    sa.Column('agent_id', sa.String(length=32), nullable=False),
    sa.Column('agent_name', sa.String(length=128), nullable=False),
    sa.Column('queue', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=True),
    sa.Column('direction', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('duration_s', sa.Float(), nullable=True),
    sa.Column('path', sa.String(length=512), nullable=False),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('disposition', sa.String(length=32), nullable=True),
    sa.Column('satisfaction', sa.Integer(), nullable=True),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('storage_tier', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('stereo', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('linkedid', 'segment', name='uq_recordings_linkedid_segment')
    )
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.create_index('ix_recordings_agent_started', ['agent_id', 'started_at'], unique=False)
        batch_op.create_index('ix_recordings_caller_started', ['caller', 'started_at'], unique=False)
        batch_op.create_index('ix_recordings_customer', ['customer_id'], unique=False)
        batch_op.create_index('ix_recordings_queue_started', ['queue', 'started_at'], unique=False)
        batch_op.create_index('ix_recordings_started', ['started_at'], unique=False)

    op.create_table('recording_evaluations',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('recording_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.String(length=32), nullable=False),
    sa.Column('agent_id', sa.String(length=32), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.Column('comments', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['recording_id'], ['recordings.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('recording_evaluations', schema=None) as batch_op:
        batch_op.create_index('ix_recording_evaluations_recording', ['recording_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('recording_evaluations', schema=None) as batch_op:
        batch_op.drop_index('ix_recording_evaluations_recording')

    op.drop_table('recording_evaluations')
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.drop_index('ix_recordings_started')
        batch_op.drop_index('ix_recordings_queue_started')
        batch_op.drop_index('ix_recordings_customer')
        batch_op.drop_index('ix_recordings_caller_started')
        batch_op.drop_index('ix_recordings_agent_started')

    op.drop_table('recordings')
    with op.batch_alter_table('recording_audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_recording_audit_log_recording')
        batch_op.drop_index('ix_recording_audit_log_at')

    op.drop_table('recording_audit_log')
