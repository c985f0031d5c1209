"""The payment attempt's states and moves are data in one place; the fulfilment registry keeps
payments free of any feature."""
import ast
from pathlib import Path

import pytest

from chapter.payments import fulfilment
from chapter.payments.models import (
    IN_FLIGHT, PAID_STATUSES, PAYMENT_TRANSITIONS, OrderPurpose, PaymentStatus, can_move,
)

ROOT = Path(__file__).resolve().parents[2]


def test_every_state_has_a_row_in_the_transition_table():
    assert set(PAYMENT_TRANSITIONS) == set(PaymentStatus)
    assert all(targets <= set(PaymentStatus) for targets in PAYMENT_TRANSITIONS.values())


def test_an_attempt_without_an_answer_leaves_unknown_only_on_what_stripe_says():
    assert PaymentStatus.UNKNOWN in IN_FLIGHT
    assert can_move(PaymentStatus.PENDING, PaymentStatus.UNKNOWN)
    assert PAYMENT_TRANSITIONS[PaymentStatus.UNKNOWN] == {
        PaymentStatus.REQUIRES_ACTION, PaymentStatus.PROCESSING, PaymentStatus.SUCCEEDED, PaymentStatus.FAILED,
        PaymentStatus.CANCELED}
    assert not can_move(PaymentStatus.UNKNOWN, PaymentStatus.PENDING)


@pytest.mark.parametrize("state", [s for s in PaymentStatus if s not in PAID_STATUSES])
def test_stripes_word_that_money_was_taken_is_never_ignored(state):
    assert can_move(state, PaymentStatus.SUCCEEDED)


def test_money_taken_can_only_be_given_back_and_a_full_refund_is_final():
    for state in PAID_STATUSES:
        assert not any(can_move(state, s) for s in (PaymentStatus.FAILED, PaymentStatus.CANCELED, PaymentStatus.PENDING,
                                                      PaymentStatus.UNKNOWN, PaymentStatus.PROCESSING))
    assert PAYMENT_TRANSITIONS[PaymentStatus.REFUNDED] == frozenset()
    assert can_move(PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.PARTIALLY_REFUNDED)  # a second part


def test_a_declined_or_cancelled_attempt_cannot_go_back_in_flight():
    for state in (PaymentStatus.FAILED, PaymentStatus.CANCELED):
        assert not any(can_move(state, s) for s in IN_FLIGHT)


def test_the_in_flight_index_of_the_database_lists_the_same_states():
    from chapter.payments.models import Payment

    index = next(i for i in Payment.__table__.indexes if i.name == "uq_payments_one_in_flight_per_order")
    where = str(index.dialect_options["postgresql"]["where"])
    assert sorted(s.value for s in IN_FLIGHT) == sorted(part.strip(" '()") for part in where.split("IN")[1].split(","))


def test_every_order_purpose_has_a_registered_fulfilment(app):
    assert fulfilment.registered_purposes() == {p.value for p in OrderPurpose}
    assert fulfilment.handlers_for(OrderPurpose.EXAM).is_membership is False
    assert fulfilment.handlers_for(OrderPurpose.RENEWAL).is_membership is True


def test_registering_a_second_handler_for_a_purpose_is_refused(app):
    with pytest.raises(ValueError):
        fulfilment.register(OrderPurpose.EXAM, fulfilment.PurposeHandlers(fulfil=lambda order, day: None))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_payments_imports_no_feature_that_registers_with_it():
    for path in (ROOT / "chapter" / "payments").glob("*.py"):
        imported = _imports(path)
        assert not any(name.startswith(("chapter.certifications", "chapter.members.corporate", "chapter.events"))
                       for name in imported), (path.name, sorted(imported))


def test_no_feature_imports_a_private_name_of_payments():
    for path in (ROOT / "chapter").rglob("*.py"):
        if "payments" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("chapter.payments"):
                assert not [a.name for a in node.names if a.name.startswith("_")], (path, node.module)
