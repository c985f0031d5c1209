"""Transfers: a chapter asks and the member confirms; staff move many at once; both chapters see the history."""
import pytest
import sqlalchemy as sa

from chapter.chapters import services
from chapter.chapters.models import ChapterTransfer, TransferRequest, TransferRequestStatus
from chapter.core.audit import AuditEntry
from chapter.core.errors import DomainError, NotAllowed
from chapter.extensions import db
from tests import factories


@pytest.fixture
def world(app):
    old = factories.chapter(40, name="Schuylkill Valley")
    new = factories.chapter(168, name="Central Penn")
    ada = factories.member(home=old, first_name="Ada", last_name="Lovelace", email="ada@example.org", with_user=True)
    vp = factories.officer(new, "vp_membership", holder=factories.user("vp@example.org", name="Val VP"))
    db.session.commit()
    return {"old": old, "new": new, "ada": ada, "vp": vp}


def test_an_officer_asks_and_the_member_confirms_on_the_dashboard(world, client):
    client.login("vp@example.org")
    response = client.submit("/chapters/168/transfers", {"member_number": world["ada"].member_number, "last_name": "lovelace"})
    assert response.status_code == 302
    page = client.get("/chapters/168/transfers").get_data(as_text=True)
    assert "Ada Lovelace (" in page and "Waiting for the member" in page
    db.session.refresh(world["ada"])
    assert world["ada"].home_chapter_id == world["old"].id  # nothing moves before the member says so
    client.logout()

    client.login("ada@example.org")
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Central Penn #168 asks you to make it your home chapter (Val VP)." in dashboard
    request_id = db.session.scalar(sa.select(TransferRequest.id))
    answer = client.submit(f"/transfer-requests/{request_id}/confirm", {}, form_url="/dashboard")
    assert answer.status_code == 302
    assert "Your home chapter is now Central Penn #168." in client.get("/dashboard").get_data(as_text=True)
    db.session.refresh(world["ada"])
    assert world["ada"].home_chapter_id == world["new"].id
    move = db.session.scalar(sa.select(ChapterTransfer).where(ChapterTransfer.from_chapter_id == world["old"].id))
    assert move.to_chapter_id == world["new"].id and move.actor_id == world["ada"].user_id
    assert move.reason == "Requested by Val VP; confirmed by the member"
    assert db.session.get(TransferRequest, request_id).transfer_id == move.id


def test_both_chapters_see_the_move_in_their_history_and_audit_log(world, client):
    from chapter.members.services import change_home_chapter

    change_home_chapter(world["ada"], world["new"], actor=world["ada"].user, reason="Moved to Harrisburg")
    staff = factories.staff()
    db.session.commit()
    client.login(staff.email)
    for number in (40, 168):
        page = client.get(f"/chapters/{number}/transfers").get_data(as_text=True)
        assert "Ada Lovelace" in page and "Schuylkill Valley #40" in page and "Central Penn #168" in page
        assert "Moved to Harrisburg" in page
        log = client.get(f"/chapters/{number}/audit").get_data(as_text=True)
        assert "Ada Lovelace moved to Central Penn #168 (Moved to Harrisburg)" in log


def test_the_member_can_decline(world, client):
    request = services.request_transfer(world["new"], member_number=world["ada"].member_number, last_name="Lovelace",
                                        actor=world["vp"])
    db.session.commit()
    client.login("ada@example.org")
    client.submit(f"/transfer-requests/{request.id}/decline", {}, form_url="/dashboard")
    db.session.refresh(request)
    assert request.status is TransferRequestStatus.DECLINED
    assert world["ada"].home_chapter_id == world["old"].id
    assert "asks you" not in client.get("/dashboard").get_data(as_text=True)


def test_only_the_member_can_answer(world, client):
    request = services.request_transfer(world["new"], member_number=world["ada"].member_number, last_name="Lovelace",
                                        actor=world["vp"])
    db.session.commit()
    client.login("vp@example.org")
    assert client.submit(f"/transfer-requests/{request.id}/confirm", {}, form_url="/chapters").status_code == 403
    with pytest.raises(NotAllowed):
        services.confirm_transfer_request(request, actor=world["vp"])


def test_a_request_needs_the_right_number_and_last_name(world):
    with pytest.raises(DomainError, match="No member has this number and last name"):
        services.request_transfer(world["new"], member_number=world["ada"].member_number, last_name="Byron", actor=world["vp"])
    with pytest.raises(DomainError, match="already a member of Schuylkill Valley"):
        services.request_transfer(world["old"], member_number=world["ada"].member_number, last_name="Lovelace", actor=world["vp"])
    services.request_transfer(world["new"], member_number=world["ada"].member_number, last_name="Lovelace", actor=world["vp"])
    with pytest.raises(DomainError, match="already waiting"):
        services.request_transfer(world["new"], member_number=world["ada"].member_number, last_name="Lovelace", actor=world["vp"])


def test_the_requesting_chapter_can_withdraw(world, client):
    request = services.request_transfer(world["new"], member_number=world["ada"].member_number, last_name="Lovelace",
                                        actor=world["vp"])
    db.session.commit()
    client.login("vp@example.org")
    client.submit(f"/chapters/168/transfer-requests/{request.id}/cancel", {}, form_url="/chapters/168/transfers")
    db.session.refresh(request)
    assert request.status is TransferRequestStatus.CANCELLED
    client.logout()
    client.login("ada@example.org")
    assert client.submit(f"/transfer-requests/{request.id}/confirm", {}, form_url="/dashboard").status_code == 302
    db.session.refresh(world["ada"])
    assert world["ada"].home_chapter_id == world["old"].id


def test_staff_move_many_members_at_once_all_or_none(world, client):
    others = [factories.member(home=world["old"]) for _ in range(3)]
    already = factories.member(home=world["new"])
    staff = factories.staff()
    db.session.commit()
    client.login(staff.email)
    numbers = "\n".join([m.member_number for m in others] + [already.member_number])
    refused = client.submit("/admin/transfers", {"member_numbers": numbers + ", 0000000", "to_chapter": "168",
                                                  "effective_on": "2026-07-01", "reason": "Chapters merged"})
    assert refused.status_code == 400 and "No member has the number 0000000. Nobody was moved." in refused.get_data(as_text=True)
    assert all(db.session.get(type(m), m.id).home_chapter_id == world["old"].id for m in others)

    asked = client.submit("/admin/transfers", {"member_numbers": numbers, "to_chapter": "168",
                                                "effective_on": "2026-07-01", "reason": "Chapters merged"})
    assert asked.status_code == 200 and "Move 3 members to Central Penn #168?" in asked.get_data(as_text=True)
    assert "1 of the numbers given already belong to Central Penn #168" in asked.get_data(as_text=True)
    assert all(db.session.get(type(m), m.id).home_chapter_id == world["old"].id for m in others)  # nothing yet
    moved = client.submit("/admin/transfers", {"member_numbers": numbers, "to_chapter": "168", "confirmed": "yes",
                                                "effective_on": "2026-07-01", "reason": "Chapters merged"})
    assert moved.status_code == 302
    assert "3 members moved to Central Penn #168; 1 already there." in client.get(moved.headers["Location"]).get_data(as_text=True)
    transfers = db.session.scalars(sa.select(ChapterTransfer).where(ChapterTransfer.reason == "Chapters merged")).all()
    assert len(transfers) == 3 and {t.effective_on.isoformat() for t in transfers} == {"2026-07-01"}
    assert {t.actor_id for t in transfers} == {staff.id}


def test_bulk_moves_are_for_staff_only(world):
    with pytest.raises(NotAllowed):
        services.transfer_members([world["ada"].member_number], world["new"], actor=world["vp"], reason="")


def test_parse_member_numbers():
    assert services.parse_member_numbers(" 1000001\n1000002, 1000003;1000001 ") == ["1000001", "1000002", "1000003"]


def test_a_transfer_request_is_in_the_audit_log(world):
    services.request_transfer(world["new"], member_number=world["ada"].member_number, last_name="Lovelace", actor=world["vp"])
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "transfer.requested"))
    assert entry.chapter_id == world["new"].id and entry.actor_id == world["vp"].id


def test_past_payments_keep_the_chapter_share_they_were_made_with(world):
    from chapter.payments.models import Order, OrderPurpose, OrderStatus, Payment, PaymentStatus

    order = Order(purpose=OrderPurpose.RENEWAL, status=OrderStatus.PAID, member_id=world["ada"].id,
                  chapter_id=world["old"].id, currency="USD", total_cents=21000, association_share_cents=17500,
                  chapter_share_cents=3500, description="Renewal")
    payment = Payment(order=order, status=PaymentStatus.SUCCEEDED, amount_cents=21000, currency="USD",
                      association_share_cents=17500, chapter_share_cents=3500, chapter_id=world["old"].id)
    db.session.add_all([order, payment])
    request = services.request_transfer(world["new"], member_number=world["ada"].member_number, last_name="Lovelace",
                                        actor=world["vp"])
    services.confirm_transfer_request(request, actor=world["ada"].user)
    db.session.commit()
    db.session.expire_all()
    kept = db.session.get(Payment, payment.id)
    assert (kept.chapter_id, kept.chapter_share_cents) == (world["old"].id, 3500)
    assert db.session.get(Order, order.id).chapter_id == world["old"].id
    assert world["ada"].home_chapter_id == world["new"].id
