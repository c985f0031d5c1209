"""Money that survives failure: unknown/canceled attempts, idempotency keys per attempt, Stripe's dates,
offline payments, upgrade links, dashboard refunds, disputes, failed payouts

Revision ID: m09a1b2c3d4e5
Revises: j13a1b2c3d4e5
Create Date: 2026-12-01 12:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'm09a1b2c3d4e5'
down_revision = 'j13a1b2c3d4e5'
branch_labels = None
depends_on = None

OLD_IN_FLIGHT = "status IN ('pending', 'requires_action', 'processing')"
NEW_IN_FLIGHT = "status IN ('pending', 'unknown', 'requires_action', 'processing')"


def _in_flight_index(where: str) -> None:
    op.drop_index('uq_payments_one_in_flight_per_order', table_name='payments')
    op.create_index('uq_payments_one_in_flight_per_order', 'payments', ['order_id'], unique=True,
                    sqlite_where=sa.text(where), postgresql_where=sa.text(where))


def upgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('upgraded_term_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('previous_membership_type_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_orders_upgraded_term_id_membership_terms'), 'membership_terms',
                                    ['upgraded_term_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_orders_previous_membership_type_id_membership_types'),
                                    'membership_types', ['previous_membership_type_id'], ['id'])

    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('charged_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('method', sa.String(length=30), nullable=False, server_default='card'))
        batch_op.add_column(sa.Column('offline_reference', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('recorded_by_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_payments_idempotency_key'), ['idempotency_key'])
        batch_op.create_foreign_key(batch_op.f('fk_payments_recorded_by_id_users'), 'users', ['recorded_by_id'], ['id'])
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.alter_column('method', server_default=None)
    _in_flight_index(NEW_IN_FLIGHT)

    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refunded_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('from_dashboard', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('term_decision_needed', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.alter_column('from_dashboard', server_default=None)
        batch_op.alter_column('term_decision_needed', server_default=None)

    op.create_table('disputes',
    sa.Column('id', sa.String(length=255), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('stripe_charge_id', sa.String(length=255), nullable=True),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('reason', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('evidence_due_by', sa.DateTime(), nullable=True),
    sa.Column('created', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('raw', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_disputes_payment_id_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disputes'))
    )
    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disputes_payment_id'), ['payment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disputes_stripe_charge_id'), ['stripe_charge_id'], unique=False)

    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('occurred_on', sa.Date(), nullable=True))

    with op.batch_alter_table('stripe_payouts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failure_code', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('failure_message', sa.String(length=300), nullable=True))


def downgrade():
    with op.batch_alter_table('stripe_payouts', schema=None) as batch_op:
        batch_op.drop_column('failure_message')
        batch_op.drop_column('failure_code')
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_column('occurred_on')
    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disputes_stripe_charge_id'))
        batch_op.drop_index(batch_op.f('ix_disputes_payment_id'))
    op.drop_table('disputes')
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_column('term_decision_needed')
        batch_op.drop_column('from_dashboard')
        batch_op.drop_column('refunded_at')
    _in_flight_index(OLD_IN_FLIGHT)
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_payments_recorded_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_payments_idempotency_key'), type_='unique')
        batch_op.drop_column('recorded_by_id')
        batch_op.drop_column('offline_reference')
        batch_op.drop_column('method')
        batch_op.drop_column('idempotency_key')
        batch_op.drop_column('charged_at')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_orders_previous_membership_type_id_membership_types'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_orders_upgraded_term_id_membership_terms'), type_='foreignkey')
        batch_op.drop_column('previous_membership_type_id')
        batch_op.drop_column('upgraded_term_id')
