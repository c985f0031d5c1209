"""Chapter public page: a description, where the chapter meets, a contact e-mail; the chapter's time zone

Revision ID: u16a0c1d2e3f4
Revises: r11b2c3d4e5f6
Create Date: 2026-12-01 12:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'u16a0c1d2e3f4'
down_revision = 'r11b2c3d4e5f6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('chapters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('description', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('meeting_place', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('contact_email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('timezone', sa.String(length=50), nullable=True))


def downgrade():
    with op.batch_alter_table('chapters', schema=None) as batch_op:
        batch_op.drop_column('timezone')
        batch_op.drop_column('contact_email')
        batch_op.drop_column('meeting_place')
        batch_op.drop_column('description')
