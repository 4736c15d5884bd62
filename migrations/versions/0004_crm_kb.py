"""crm and kb: service requests (工单) with links, history and follow-ups (回访); the customer's further
numbers, profile and audit; the knowledge base (articles, categories, search terms, searches, guided questions)

Revision ID: 0004_crm_kb
Revises: 0003_login_throttle
Create Date: 2026-12-06 22:55:46.516280
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_crm_kb'
down_revision = '0003_login_throttle'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a database made before this history (create_all) may have some of these tables already
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if 'kb_categories' not in existing:
        op.create_table('kb_categories',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('parent_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['parent_id'], ['kb_categories.id'], ),
        sa.PrimaryKeyConstraint('id')
        )

    if 'kb_searches' not in existing:
        op.create_table('kb_searches',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('by', sa.String(length=32), nullable=False),
        sa.Column('query', sa.String(length=200), nullable=False),
        sa.Column('hits', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id')
        )
        with op.batch_alter_table('kb_searches', schema=None) as batch_op:
            batch_op.create_index('ix_kb_searches_at', ['at'], unique=False)

    if 'crm_customer_audit' not in existing:
        op.create_table('crm_customer_audit',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('by', sa.String(length=32), nullable=False),
        sa.Column('field', sa.String(length=32), nullable=False),
        sa.Column('old', sa.Text(), nullable=False),
        sa.Column('new', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id')
        )
        with op.batch_alter_table('crm_customer_audit', schema=None) as batch_op:
            batch_op.create_index('ix_crm_customer_audit_customer', ['customer_id', 'id'], unique=False)

    if 'crm_customer_phones' not in existing:
        op.create_table('crm_customer_phones',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('number', name='uq_crm_customer_phones_number')
        )
        with op.batch_alter_table('crm_customer_phones', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_crm_customer_phones_customer_id'), ['customer_id'], unique=False)

    if 'crm_customer_profiles' not in existing:
        op.create_table('crm_customer_profiles',
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('birthday', sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('customer_id')
        )

    if 'kb_articles' not in existing:
        op.create_table('kb_articles',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=True),
        sa.Column('keywords', sa.JSON(), nullable=False),
        sa.Column('related', sa.JSON(), nullable=False),
        sa.Column('queues', sa.JSON(), nullable=False),
        sa.Column('ivr_nodes', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('author_id', sa.String(length=32), nullable=False),
        sa.Column('reviewer_id', sa.String(length=32), nullable=True),
        sa.Column('reads', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('published_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['category_id'], ['kb_categories.id'], ),
        sa.PrimaryKeyConstraint('id')
        )
        with op.batch_alter_table('kb_articles', schema=None) as batch_op:
            batch_op.create_index('ix_kb_articles_status', ['status', 'reads'], unique=False)

    if 'service_requests' not in existing:
        op.create_table('service_requests',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('type', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('priority', sa.String(length=10), nullable=False),
        sa.Column('summary', sa.String(length=200), nullable=False),
        sa.Column('details', sa.Text(), nullable=False),
        sa.Column('category', sa.String(length=100), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('customer_number', sa.String(length=32), nullable=False),
        sa.Column('owner_id', sa.String(length=32), nullable=False),
        sa.Column('created_by', sa.String(length=32), nullable=False),
        sa.Column('queue', sa.String(length=64), nullable=True),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('due_at', sa.DateTime(), nullable=False),
        sa.Column('answered_at', sa.DateTime(), nullable=True),
        sa.Column('closed_at', sa.DateTime(), nullable=True),
        sa.Column('escalated_at', sa.DateTime(), nullable=True),
        sa.Column('overdue_at', sa.DateTime(), nullable=True),
        sa.Column('satisfaction', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ),
        sa.PrimaryKeyConstraint('id')
        )
        with op.batch_alter_table('service_requests', schema=None) as batch_op:
            batch_op.create_index('ix_service_requests_created', ['created_at'], unique=False)
            batch_op.create_index('ix_service_requests_customer', ['customer_id', 'type', 'category', 'created_at'], unique=False)
            batch_op.create_index('ix_service_requests_owner', ['owner_id', 'status'], unique=False)
            batch_op.create_index('ix_service_requests_status_due', ['status', 'due_at'], unique=False)

    if 'kb_guide_nodes' not in existing:
        op.create_table('kb_guide_nodes',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('parent_id', sa.Integer(), nullable=True),
        sa.Column('label', sa.String(length=200), nullable=False),
        sa.Column('question', sa.String(length=500), nullable=False),
        sa.Column('article_id', sa.Integer(), nullable=True),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['article_id'], ['kb_articles.id'], ),
        sa.ForeignKeyConstraint(['parent_id'], ['kb_guide_nodes.id'], ),
        sa.PrimaryKeyConstraint('id')
        )
        with op.batch_alter_table('kb_guide_nodes', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_kb_guide_nodes_parent_id'), ['parent_id'], unique=False)

    if 'kb_terms' not in existing:
        op.create_table('kb_terms',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('article_id', sa.Integer(), nullable=False),
        sa.Column('term', sa.String(length=32), nullable=False),
        sa.Column('weight', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['article_id'], ['kb_articles.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id')
        )
        with op.batch_alter_table('kb_terms', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_kb_terms_article_id'), ['article_id'], unique=False)
            batch_op.create_index('ix_kb_terms_term', ['term', 'article_id'], unique=False)

    if 'service_request_events' not in existing:
        op.create_table('service_request_events',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('by', sa.String(length=32), nullable=False),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['request_id'], ['service_requests.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id')
        )
        with op.batch_alter_table('service_request_events', schema=None) as batch_op:
            batch_op.create_index('ix_service_request_events_request', ['request_id', 'id'], unique=False)

    if 'service_request_followups' not in existing:
        op.create_table('service_request_followups',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('number', sa.String(length=32), nullable=False),
        sa.Column('queue', sa.String(length=64), nullable=False),
        sa.Column('agent_id', sa.String(length=32), nullable=True),
        sa.Column('scheduled_at', sa.DateTime(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('result', sa.String(length=16), nullable=True),
        sa.Column('answered_by', sa.String(length=32), nullable=True),
        sa.Column('satisfaction', sa.Integer(), nullable=True),
        sa.Column('created_by', sa.String(length=32), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_attempt_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['request_id'], ['service_requests.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id')
        )
        with op.batch_alter_table('service_request_followups', schema=None) as batch_op:
            batch_op.create_index('ix_service_request_followups_due', ['status', 'scheduled_at'], unique=False)

    if 'service_request_links' not in existing:
        op.create_table('service_request_links',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('ref', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['request_id'], ['service_requests.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('request_id', 'kind', 'ref', name='uq_service_request_link')
        )
        with op.batch_alter_table('service_request_links', schema=None) as batch_op:
            batch_op.create_index('ix_service_request_links_ref', ['kind', 'ref'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('service_request_links', schema=None) as batch_op:
        batch_op.drop_index('ix_service_request_links_ref')

    op.drop_table('service_request_links')
    with op.batch_alter_table('service_request_followups', schema=None) as batch_op:
        batch_op.drop_index('ix_service_request_followups_due')

    op.drop_table('service_request_followups')
    with op.batch_alter_table('service_request_events', schema=None) as batch_op:
        batch_op.drop_index('ix_service_request_events_request')

    op.drop_table('service_request_events')
    with op.batch_alter_table('kb_terms', schema=None) as batch_op:
        batch_op.drop_index('ix_kb_terms_term')
        batch_op.drop_index(batch_op.f('ix_kb_terms_article_id'))

    op.drop_table('kb_terms')
    with op.batch_alter_table('kb_guide_nodes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_guide_nodes_parent_id'))

    op.drop_table('kb_guide_nodes')
    with op.batch_alter_table('service_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_service_requests_status_due')
        batch_op.drop_index('ix_service_requests_owner')
        batch_op.drop_index('ix_service_requests_customer')
        batch_op.drop_index('ix_service_requests_created')

    op.drop_table('service_requests')
    with op.batch_alter_table('kb_articles', schema=None) as batch_op:
        batch_op.drop_index('ix_kb_articles_status')

    op.drop_table('kb_articles')
    op.drop_table('crm_customer_profiles')
    with op.batch_alter_table('crm_customer_phones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crm_customer_phones_customer_id'))

    op.drop_table('crm_customer_phones')
    with op.batch_alter_table('crm_customer_audit', schema=None) as batch_op:
        batch_op.drop_index('ix_crm_customer_audit_customer')

    op.drop_table('crm_customer_audit')
    with op.batch_alter_table('kb_searches', schema=None) as batch_op:
        batch_op.drop_index('ix_kb_searches_at')

    op.drop_table('kb_searches')
    op.drop_table('kb_categories')
