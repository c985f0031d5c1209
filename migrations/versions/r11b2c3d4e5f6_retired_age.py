"""The Retired type's minimum age as data on the membership type (62 to start with)

Revision ID: r11b2c3d4e5f6
Revises: m09a1b2c3d4e5
Create Date: 2026-12-01 12:40:00

A second migration of the i11 branch: the first (r11a1b2c3d4e5) was already merged and applied on main.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'r11b2c3d4e5f6'
down_revision = 'm09a1b2c3d4e5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('membership_types', schema=None) as batch_op:
        batch_op.add_column(sa.Column('eligibility_min_age', sa.Integer(), nullable=True))
    op.get_bind().execute(sa.text("UPDATE membership_types SET eligibility_min_age = 62 WHERE code = 'retired'"))


def downgrade():
    with op.batch_alter_table('membership_types', schema=None) as batch_op:
        batch_op.drop_column('eligibility_min_age')
