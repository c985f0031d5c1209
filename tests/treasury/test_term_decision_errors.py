"""The staff decision on the term after a refund made in Stripe's dashboard, refused: the treasury page
comes back (400) with the message by that refund's field, the error summary at the top and what was
chosen; nothing is decided (issue 16: the treasury forms that redirected with a flash)."""
import re

from chapter.core.models import today
from chapter.extensions import db
from chapter.payments import refunds
from chapter.payments.models import Refund
from tests.treasury.test_form_errors import _summary, _value


def test_shortening_a_term_to_a_day_outside_it_is_refused_by_that_refunds_date_field(paid, client):
    second = paid["second"]
    made = refunds.record_stripe_refund(second, stripe_refund_id="re_dashboard_1", amount_cents=second.amount_cents,
                                        created=None)  # found by the sync: a refund made in Stripe's dashboard
    db.session.commit()
    assert made.term_decision_needed
    client.login(paid["staff"].email)
    too_late = today().replace(year=today().year + 5).isoformat()

    answer = client.submit(f"/payments/refunds/{made.id}/term-decision",
                           {"term_action": "shorten", "new_term_end": too_late}, form_url="/treasury/")

    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    summary = _summary(page)
    assert f'href="#new_term_end_{made.id}"' in summary and "New last day: Choose an end between" in summary
    assert re.search(rf'id="new_term_end_{made.id}-error">Choose an end between', page)
    assert _value(page, f"new_term_end_{made.id}") == too_late
    assert re.search(rf'<select[^>]*id="term_action_{made.id}"[^>]*>.*?<option selected value="shorten">', page, re.S)
    db.session.expire_all()
    assert db.session.get(Refund, made.id).term_decision_needed  # nothing decided
