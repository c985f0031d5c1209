"""The payout page: totals and the verdict first, each line with the member and the order, a CSV, and the
treasurer's sign-off ("reconciled by … on …")."""
import csv
import io
from datetime import datetime, timezone

import sqlalchemy as sa

from chapter.core.models import today
from chapter.core.formatting import format_date
from chapter.extensions import db
from chapter.treasury import sync
from chapter.treasury.models import StripeBalanceTransaction


def _balanced_payout(paid):
    sync.sync_stripe()
    txns = db.session.scalars(sa.select(StripeBalanceTransaction)).all()
    sync.ingest_payouts([{"id": "po_page", "amount": sum(t.amount_cents - t.fee_cents for t in txns), "currency": "usd",
                          "status": "paid", "created": int(datetime.now(timezone.utc).timestamp()), "arrival_date": None}],
                        transactions_of=lambda payout_id: [t.id for t in txns])
    db.session.commit()


def test_the_payout_page_puts_the_verdict_first_names_members_exports_and_is_signed_off(paid, client):
    _balanced_payout(paid)
    client.login(paid["staff"].email)
    page = client.get("/treasury/payouts/po_page").get_data(as_text=True)
    assert page.index("Balanced") < page.index('id="payout-difference"') < page.index("<thead")
    first = paid["first"].order
    assert first.member.full_name in page and first.reference in page

    exported = client.get("/treasury/payouts/po_page?format=csv")
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert len(rows) == 3 and {r["Order"] for r in rows} == {paid["first"].order.reference, paid["second"].order.reference}
    assert all(r["Member"] for r in rows)

    signed = client.submit("/treasury/payouts/po_page/sign-off", form_url="/treasury/payouts/po_page")
    assert signed.status_code == 302
    page = client.get("/treasury/payouts/po_page").get_data(as_text=True)
    assert f"Reconciled by {paid['staff'].name} on {format_date(today())}." in page
    again = client.submit("/treasury/payouts/po_page/sign-off", form_url="/treasury/payouts/po_page")
    assert "already signed off" in client.get(again.headers["Location"]).get_data(as_text=True)
