"""baseline: the tables of ivr, cti, acd and recordings before this history (adopted databases are stamped here)

Revision ID: 0001_baseline
Revises: 
Create Date: 2026-12-06 22:04:51.535069
"""
from alembic import op
import sqlalchemy as sa


revision = '0001_baseline'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a database made before this history (create_all, or the recordings' own history) has some of
    # these tables already: only the missing ones are created
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if 'agent_state_log' not in existing:
        op.create_table('agent_state_log',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('agent_id', sa.String(length=32), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('previous_state', sa.String(length=20), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.String(length=40), nullable=True),
        sa.Column('request', sa.String(length=30), nullable=False),
        sa.Column('linkedid', sa.String(length=64), nullable=True),
        sa.Column('queue', sa.String(length=64), nullable=True),
        sa.Column('by', sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint('id')
        )
        with op.batch_alter_table('agent_state_log', schema=None) as batch_op:
            batch_op.create_index('ix_agent_state_log_agent_at', ['agent_id', 'at', 'id'], unique=False)

    if 'cti_announcements' not in existing:
        op.create_table('cti_announcements',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('by', sa.String(length=32), nullable=False),
        sa.Column('audience', sa.String(length=200), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('priority', sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint('id')
        )
    if 'cti_call_records' not in existing:
        op.create_table('cti_call_records',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('linkedid', sa.String(length=64), nullable=False),
        sa.Column('agent_id', sa.String(length=32), nullable=True),
        sa.Column('caller_number', sa.String(length=32), nullable=False),
        sa.Column('direction', sa.String(length=10), nullable=False),
        sa.Column('queue', sa.String(length=64), nullable=True),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('disposition', sa.String(length=40), nullable=True),
        sa.Column('notes', sa.Text(), nullable=False),
        sa.Column('call_data', sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('linkedid', 'agent_id', name='uq_cti_call_records_leg')
        )
        with op.batch_alter_table('cti_call_records', schema=None) as batch_op:
            batch_op.create_index('ix_cti_call_records_number', ['caller_number', 'started_at'], unique=False)

    if 'customers' not in existing:
        op.create_table('customers',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('number', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('vip_level', sa.Integer(), nullable=False),
        sa.Column('key_account', sa.Boolean(), nullable=False),
        sa.Column('blocked', sa.Boolean(), nullable=False),
        sa.Column('notes', sa.Text(), nullable=False),
        sa.Column('language', sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('number')
        )
    if 'ivr_callbacks' not in existing:
        op.create_table('ivr_callbacks',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('uniqueid', sa.String(length=64), nullable=False),
        sa.Column('linkedid', sa.String(length=64), nullable=False),
        sa.Column('caller', sa.String(length=64), nullable=False),
        sa.Column('number', sa.String(length=64), nullable=False),
        sa.Column('preferred_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('queue', sa.String(length=100), nullable=False),
        sa.Column('language', sa.String(length=16), nullable=False),
        sa.Column('flow', sa.String(length=100), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id')
        )
        with op.batch_alter_table('ivr_callbacks', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_ivr_callbacks_created_at'), ['created_at'], unique=False)
            batch_op.create_index(batch_op.f('ix_ivr_callbacks_linkedid'), ['linkedid'], unique=False)
            batch_op.create_index(batch_op.f('ix_ivr_callbacks_uniqueid'), ['uniqueid'], unique=False)

    if 'ivr_caller_preferences' not in existing:
        op.create_table('ivr_caller_preferences',
        sa.Column('number', sa.String(length=64), nullable=False),
        sa.Column('language', sa.String(length=16), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('number')
        )
    if 'ivr_customer_accounts' not in existing:
        op.create_table('ivr_customer_accounts',
        sa.Column('number', sa.String(length=32), nullable=False),
        sa.Column('balance', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('points', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('number')
        )
    if 'ivr_node_stats' not in existing:
        op.create_table('ivr_node_stats',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('flow', sa.String(length=100), nullable=False),
        sa.Column('node', sa.String(length=100), nullable=False),
        sa.Column('counter', sa.String(length=60), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('day', 'flow', 'node', 'counter', name='uq_ivr_node_stats')
        )
        with op.batch_alter_table('ivr_node_stats', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_ivr_node_stats_day'), ['day'], unique=False)

    if 'ivr_orders' not in existing:
        op.create_table('ivr_orders',
        sa.Column('number', sa.String(length=40), nullable=False),
        sa.Column('customer_number', sa.String(length=32), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('created', sa.Date(), nullable=False),
        sa.Column('expected_delivery', sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint('number')
        )
        with op.batch_alter_table('ivr_orders', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_ivr_orders_customer_number'), ['customer_number'], unique=False)

    if 'ivr_surveys' not in existing:
        op.create_table('ivr_surveys',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('uniqueid', sa.String(length=64), nullable=False),
        sa.Column('linkedid', sa.String(length=64), nullable=False),
        sa.Column('caller', sa.String(length=64), nullable=False),
        sa.Column('agent_id', sa.String(length=32), nullable=False),
        sa.Column('queue', sa.String(length=100), nullable=False),
        sa.Column('flow', sa.String(length=100), nullable=False),
        sa.Column('rating', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id')
        )
        with op.batch_alter_table('ivr_surveys', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_ivr_surveys_agent_id'), ['agent_id'], unique=False)
            batch_op.create_index(batch_op.f('ix_ivr_surveys_created_at'), ['created_at'], unique=False)
            batch_op.create_index(batch_op.f('ix_ivr_surveys_linkedid'), ['linkedid'], unique=False)
            batch_op.create_index(batch_op.f('ix_ivr_surveys_uniqueid'), ['uniqueid'], unique=False)

    if 'ivr_voicemails' not in existing:
        op.create_table('ivr_voicemails',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('uniqueid', sa.String(length=64), nullable=False),
        sa.Column('linkedid', sa.String(length=64), nullable=False),
        sa.Column('caller', sa.String(length=64), nullable=False),
        sa.Column('caller_name', sa.String(length=200), nullable=False),
        sa.Column('flow', sa.String(length=100), nullable=False),
        sa.Column('node', sa.String(length=100), nullable=False),
        sa.Column('queue', sa.String(length=100), nullable=False),
        sa.Column('language', sa.String(length=16), nullable=False),
        sa.Column('path', sa.String(length=500), nullable=False),
        sa.Column('format', sa.String(length=16), nullable=False),
        sa.Column('duration_s', sa.Float(), nullable=False),
        sa.Column('ended_by', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id')
        )
        with op.batch_alter_table('ivr_voicemails', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_ivr_voicemails_caller'), ['caller'], unique=False)
            batch_op.create_index(batch_op.f('ix_ivr_voicemails_created_at'), ['created_at'], unique=False)
            batch_op.create_index(batch_op.f('ix_ivr_voicemails_linkedid'), ['linkedid'], unique=False)
            batch_op.create_index(batch_op.f('ix_ivr_voicemails_uniqueid'), ['uniqueid'], unique=False)

    if 'queue_log' not in existing:
        op.create_table('queue_log',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('time', sa.Float(), nullable=False),
        sa.Column('callid', sa.String(length=64), nullable=False),
        sa.Column('queuename', sa.String(length=64), nullable=False),
        sa.Column('agent', sa.String(length=64), nullable=False),
        sa.Column('event', sa.String(length=32), nullable=False),
        sa.Column('data1', sa.String(length=128), nullable=False),
        sa.Column('data2', sa.String(length=128), nullable=False),
        sa.Column('data3', sa.String(length=128), nullable=False),
        sa.Column('data4', sa.String(length=128), nullable=False),
        sa.Column('data5', sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint('id')
        )
        with op.batch_alter_table('queue_log', schema=None) as batch_op:
            batch_op.create_index('ix_queue_log_agent_time', ['agent', 'time'], unique=False)
            batch_op.create_index('ix_queue_log_callid', ['callid'], unique=False)
            batch_op.create_index('ix_queue_log_queue_time', ['queuename', 'time'], unique=False)

    if 'recording_audit_log' not in existing:
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

    if 'recordings' not in existing:
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

    if 'cti_announcement_deliveries' not in existing:
        op.create_table('cti_announcement_deliveries',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('announcement_id', sa.Integer(), nullable=False),
        sa.Column('agent_id', sa.String(length=32), nullable=False),
        sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['announcement_id'], ['cti_announcements.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('announcement_id', 'agent_id', name='uq_cti_announcement_delivery')
        )
    if 'recording_evaluations' not in existing:
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
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('recording_evaluations', schema=None) as batch_op:
        batch_op.drop_index('ix_recording_evaluations_recording')

    op.drop_table('recording_evaluations')
    op.drop_table('cti_announcement_deliveries')
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
    with op.batch_alter_table('queue_log', schema=None) as batch_op:
        batch_op.drop_index('ix_queue_log_queue_time')
        batch_op.drop_index('ix_queue_log_callid')
        batch_op.drop_index('ix_queue_log_agent_time')

    op.drop_table('queue_log')
    with op.batch_alter_table('ivr_voicemails', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ivr_voicemails_uniqueid'))
        batch_op.drop_index(batch_op.f('ix_ivr_voicemails_linkedid'))
        batch_op.drop_index(batch_op.f('ix_ivr_voicemails_created_at'))
        batch_op.drop_index(batch_op.f('ix_ivr_voicemails_caller'))

    op.drop_table('ivr_voicemails')
    with op.batch_alter_table('ivr_surveys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ivr_surveys_uniqueid'))
        batch_op.drop_index(batch_op.f('ix_ivr_surveys_linkedid'))
        batch_op.drop_index(batch_op.f('ix_ivr_surveys_created_at'))
        batch_op.drop_index(batch_op.f('ix_ivr_surveys_agent_id'))

    op.drop_table('ivr_surveys')
    with op.batch_alter_table('ivr_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ivr_orders_customer_number'))

    op.drop_table('ivr_orders')
    with op.batch_alter_table('ivr_node_stats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ivr_node_stats_day'))

    op.drop_table('ivr_node_stats')
    op.drop_table('ivr_customer_accounts')
    op.drop_table('ivr_caller_preferences')
    with op.batch_alter_table('ivr_callbacks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ivr_callbacks_uniqueid'))
        batch_op.drop_index(batch_op.f('ix_ivr_callbacks_linkedid'))
        batch_op.drop_index(batch_op.f('ix_ivr_callbacks_created_at'))

    op.drop_table('ivr_callbacks')
    op.drop_table('customers')
    with op.batch_alter_table('cti_call_records', schema=None) as batch_op:
        batch_op.drop_index('ix_cti_call_records_number')

    op.drop_table('cti_call_records')
    op.drop_table('cti_announcements')
    with op.batch_alter_table('agent_state_log', schema=None) as batch_op:
        batch_op.drop_index('ix_agent_state_log_agent_at')

    op.drop_table('agent_state_log')
    # ### end Alembic commands ###
