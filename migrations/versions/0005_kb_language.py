"""kb: the language of an article's answer (suggestions put the caller's language first)

Revision ID: 0005_kb_language
Revises: 0004_crm_kb
Create Date: 2026-12-07 01:35:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_kb_language'
down_revision = '0004_crm_kb'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a database made by create_all from today's models has the column already
    columns = {c['name'] for c in sa.inspect(op.get_bind()).get_columns('kb_articles')}
    if 'language' not in columns:
        with op.batch_alter_table('kb_articles', schema=None) as batch_op:
            batch_op.add_column(sa.Column('language', sa.String(length=16), nullable=False,
                                          server_default='zh-CN'))


def downgrade() -> None:
    with op.batch_alter_table('kb_articles', schema=None) as batch_op:
        batch_op.drop_column('language')
