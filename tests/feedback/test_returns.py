from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from club import services as club
from club.models import Coupon, EarningRule, PointsTransaction, Tier
from crm.models import Order
from crm.services import LineInput
from feedback import selectors
from feedback.models import ReturnEvent, ReturnLine, ReturnRequest
from feedback.services import returns
from tests.helpers import member_since
from feedback.services.returns import LineRequest

pytestmark = pytest.mark.django_db
State = ReturnRequest.State


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()


@pytest.fixture
def member(customer):
    Tier.objects.create(name="Bronze", rank=1, threshold=0)
    EarningRule.objects.create(name="1 point per unit", kind=EarningRule.Kind.PURCHASE, points_per_unit=Decimal("1"))
    return member_since(club.member_enroll(customer=customer))


@pytest.fixture
def order(customer, place_order):
    """2 x beans at 100 and 1 x mug at 100; total 300."""
    return place_order(customer, days_ago=2, total="300.00", lines=[
        LineInput(sku="BEANS", product_name="Beans", category="coffee", quantity=2, unit_price=Decimal("100")),
        LineInput(sku="MUG", product_name="Mug", category="kitchen", quantity=1, unit_price=Decimal("100")),
    ])


def lines_of(order):
    beans, mug = order.lines.order_by("sku")
    return beans, mug


def request_beans(order, quantity=1, **kwargs):
    beans, _mug = lines_of(order)
    return returns.return_request_create(order=order, lines=[LineRequest(beans.pk, quantity, "damaged")], **kwargs)


def walk(request, *states, by=None):
    for state in states:
        request = returns.return_transition(return_request=request, to_state=state, by=by)
    return request


class TestRequests:
    def test_a_return_can_be_requested_for_part_of_an_order(self, order, support_user):
        request = request_beans(order, 1, by=support_user)
        assert request.state == State.REQUESTED and request.customer == order.customer
        assert ReturnEvent.objects.get(return_request=request).to_state == State.REQUESTED
        beans, mug = lines_of(order)
        assert selectors.returnable_quantities(order) == {beans.pk: 1, mug.pk: 1}

    def test_it_refuses_more_than_was_bought_minus_what_is_already_returned(self, order):
        request_beans(order, 1)
        with pytest.raises(ValidationError) as error:
            request_beans(order, 2)
        assert "At most 1 of this item can be returned." in str(error.value)
        assert ReturnRequest.objects.count() == 1

    def test_a_rejected_return_frees_its_quantities(self, order):
        walk(request_beans(order, 2), State.REJECTED)
        assert request_beans(order, 2).lines.get().quantity == 2

    def test_it_refuses_a_cancelled_order(self, customer, place_order):
        order = place_order(customer, status=Order.Status.PLACED, lines=[LineInput(sku="X", quantity=1, unit_price=Decimal("100"))])
        Order.objects.filter(pk=order.pk).update(status=Order.Status.CANCELLED)
        with pytest.raises(ValidationError, match="cancelled order cannot be returned"):
            returns.return_request_create(order=order, lines=[LineRequest(order.lines.get().pk, 1, "other")])

    def test_it_refuses_after_the_return_window(self, order, settings):
        settings.FEEDBACK_RETURN_WINDOW_DAYS = 30
        with pytest.raises(ValidationError, match="return window of 30 days"):
            request_beans(order, now=order.placed_at + timedelta(days=31))

    @pytest.mark.parametrize("bad, message", [
        (lambda beans, other: [LineRequest(other.pk, 1, "damaged")], "not part of order"),
        (lambda beans, other: [LineRequest(beans.pk, 1, "bored")], "Choose a reason"),
        (lambda beans, other: [LineRequest(beans.pk, -1, "damaged")], "at least 1"),
        (lambda beans, other: [LineRequest(beans.pk, 1, "damaged"), LineRequest(beans.pk, 1, "damaged")], "listed twice"),
        (lambda beans, other: [], "at least one item"),
    ])
    def test_it_refuses_bad_lines_and_writes_nothing(self, order, customer, place_order, bad, message):
        other = place_order(customer, lines=[LineInput(sku="Z", quantity=1, unit_price=Decimal("5"))]).lines.get()
        beans, _mug = lines_of(order)
        with pytest.raises(ValidationError, match=message):
            returns.return_request_create(order=order, lines=bad(beans, other))
        assert not ReturnRequest.objects.exists() and not ReturnLine.objects.exists()


class TestStateMachine:
    def test_refunding_grows_the_refund_lowers_the_figures_and_takes_the_points_back(self, member, order, support_user):
        customer = order.customer
        member.refresh_from_db()
        assert member.points_balance == 300
        request = walk(request_beans(order, 1), State.APPROVED, State.RECEIVED, State.REFUNDED, by=support_user)
        order.refresh_from_db()
        customer.refresh_from_db()
        member.refresh_from_db()
        assert request.refund_amount == Decimal("100.00")
        assert order.refunded_amount == Decimal("100.00") and order.is_counted
        assert customer.total_spent == Decimal("200.00")
        assert member.points_balance == 200  # the returned bag of beans earned 100 points
        assert PointsTransaction.objects.filter(member=member, kind="reverse").get().points == -100
        assert list(request.events.values_list("to_state", "by__username")) == [
            ("requested", None), ("approved", "sam.support"), ("received", "sam.support"), ("refunded", "sam.support"),
        ]

    def test_returning_everything_stops_the_order_counting(self, member, order):
        beans, mug = lines_of(order)
        request = returns.return_request_create(order=order, lines=[LineRequest(beans.pk, 2, "damaged"),
                                                                     LineRequest(mug.pk, 1, "wrong_item")])
        walk(request, State.APPROVED, State.RECEIVED, State.REFUNDED)
        order.refresh_from_db()
        order.customer.refresh_from_db()
        member.refresh_from_db()
        assert order.status == Order.Status.REFUNDED and not order.is_counted
        assert order.customer.orders_count == 0 and member.points_balance == 0

    def test_the_refund_shares_the_orders_discount_out(self, customer, place_order):
        order = place_order(customer, total="270.00", discount="30.00", lines=[
            LineInput(sku="A", quantity=2, unit_price=Decimal("100")), LineInput(sku="B", quantity=1, unit_price=Decimal("100"))])
        a_line = order.lines.get(sku="A")
        request = returns.return_request_create(order=order, lines=[LineRequest(a_line.pk, 1, "changed_mind")])
        assert walk(request, State.APPROVED, State.RECEIVED, State.REFUNDED).refund_amount == Decimal("90.00")

    def test_store_credit_is_a_club_coupon_worth_the_return(self, order, settings):
        settings.FEEDBACK_STORE_CREDIT_AS = "coupon"
        request = walk(request_beans(order, 1, resolution="store_credit"), State.APPROVED, State.RECEIVED, State.CREDITED)
        coupon = Coupon.objects.get(code=request.credit_reference)
        assert coupon.kind == "store_credit" and coupon.value == Decimal("100.00")
        assert coupon.member.customer == order.customer  # the customer was enrolled to hold the credit

    def test_an_exchange_changes_no_money(self, order):
        request = walk(request_beans(order, 1, resolution="exchange"), State.APPROVED, State.RECEIVED, State.EXCHANGED, State.CLOSED)
        order.refresh_from_db()
        assert request.state == State.CLOSED and order.refunded_amount == 0

    @pytest.mark.parametrize("path, bad", [
        ((), State.RECEIVED), ((), State.REFUNDED), ((), State.CLOSED),
        ((State.APPROVED,), State.REFUNDED), ((State.APPROVED,), State.REJECTED),
        ((State.REJECTED,), State.APPROVED), ((State.APPROVED, State.RECEIVED, State.REFUNDED), State.REFUNDED),
        ((State.APPROVED, State.RECEIVED, State.REFUNDED, State.CLOSED), State.APPROVED),
    ])
    def test_invalid_transitions_are_refused_with_a_message(self, order, path, bad):
        request = walk(request_beans(order, 1), *path)
        with pytest.raises(ValidationError, match="cannot become"):
            returns.return_transition(return_request=request, to_state=bad)
        request.refresh_from_db()
        order.refresh_from_db()
        assert request.state == (path[-1] if path else State.REQUESTED)
        assert order.refunded_amount == (Decimal("100.00") if State.REFUNDED in path else 0)

    def test_a_failure_in_the_club_rolls_the_refund_back(self, member, order, monkeypatch):
        request = walk(request_beans(order, 1), State.APPROVED, State.RECEIVED)

        def broken(**kwargs):
            raise RuntimeError("ledger unavailable")

        # The club takes the points back on crm's order_changed, in the refund's transaction.
        monkeypatch.setattr("club.services.points_take_back_for_order_change", broken)
        with pytest.raises(RuntimeError):
            returns.return_transition(return_request=request, to_state=State.REFUNDED)
        order.refresh_from_db()
        request.refresh_from_db()
        assert order.refunded_amount == 0 and request.state == State.RECEIVED


class TestDesk:
    def test_support_works_the_queue_with_one_click_per_step(self, client, support_user, order):
        request = request_beans(order, 1)
        client.force_login(support_user)
        page = client.get(reverse("admin:feedback_returnrequest_change", args=[request.pk]))
        assert page.status_code == 200 and "Approve" in page.content.decode()
        for state in (State.APPROVED, State.RECEIVED, State.REFUNDED):
            reply = client.post(reverse("admin:feedback_returnrequest_transition", args=[request.pk, state]))
            assert reply.status_code == 302
        request.refresh_from_db()
        assert request.state == State.REFUNDED

    def test_it_names_the_buttons_after_what_staff_do_and_reads_each_line_plainly(self, client, support_user, order):
        import re

        request = request_beans(order, 1)
        client.force_login(support_user)
        page = client.get(reverse("admin:feedback_returnrequest_change", args=[request.pk])).content.decode()
        buttons = re.findall(r'<button type="submit" class="button"[^>]*>([^<]+)</button>', page)
        assert buttons == ["Approve", "Reject"]
        assert "Beans: 1 of 2 returned" in page and "2 x Beans" not in page
        request = walk(request, State.APPROVED)
        page = client.get(reverse("admin:feedback_returnrequest_change", args=[request.pk])).content.decode()
        assert re.findall(r'<button type="submit" class="button"[^>]*>([^<]+)</button>', page) == ["Mark received"]

    def test_it_reads_the_returned_lines_plainly_on_the_timeline(self, order, customer):
        from core.timeline import customer_timeline

        request_beans(order, 1)
        entry = next(entry for entry in customer_timeline(customer) if entry.kind == "return")
        assert entry.detail == "Beans: 1 of 2 returned (Damaged)"

    def test_an_invalid_click_shows_a_message_not_an_error(self, client, support_user, order):
        request = request_beans(order, 1)
        client.force_login(support_user)
        reply = client.post(reverse("admin:feedback_returnrequest_transition", args=[request.pk, "refunded"]), follow=True)
        assert reply.status_code == 200 and "cannot become" in reply.content.decode()

    def test_marketing_cannot_process_returns(self, client, marketing_user, order):
        request = request_beans(order, 1)
        client.force_login(marketing_user)
        reply = client.post(reverse("admin:feedback_returnrequest_transition", args=[request.pk, "approved"]))
        assert reply.status_code == 403
        request.refresh_from_db()
        assert request.state == State.REQUESTED

    def test_the_queue_filters_by_state_and_age(self, admin_client, order):
        request_beans(order, 1)
        page = admin_client.get(reverse("admin:feedback_returnrequest_changelist") + "?state=requested&age=new")
        assert page.status_code == 200 and order.order_number in page.content.decode()

    def test_the_report_shows_rates_by_reason_and_category(self, admin_client, order):
        walk(request_beans(order, 1), State.APPROVED)
        beans, mug = lines_of(order)
        by_category = {row["category"]: row for row in selectors.return_rate_by_category()}
        assert by_category["coffee"] == {"category": "coffee", "sold": 2, "returned": 1, "rate": 0.5}
        assert by_category["kitchen"]["rate"] == 0
        assert selectors.returns_by_reason()[0]["reason"] == "damaged"
        page = admin_client.get(reverse("admin:feedback_returnrequest_report"))
        assert page.status_code == 200 and "<svg" in page.content.decode()


class TestCustomerPage:
    def test_a_customer_requests_a_return_through_their_link_in_arabic(self, client, order):
        order.customer.language = "ar"
        order.customer.save()
        link = returns.order_return_link(order)
        page = client.get(link)
        html = page.content.decode()
        assert page.status_code == 200 and 'dir="rtl"' in html and 'lang="ar"' in html
        beans, mug = lines_of(order)
        reply = client.post(link, {f"qty_{beans.pk}": "2", f"reason_{beans.pk}": "wrong_size", f"qty_{mug.pk}": "0",
                                   "resolution": "refund", "note": "مقاس خاطئ"})
        assert reply.status_code == 302
        request = ReturnRequest.objects.get()
        assert request.channel == "customer" and request.note == "مقاس خاطئ"
        assert client.get(reply["Location"]).status_code == 200

    @pytest.mark.parametrize("data, message", [
        ({}, "Choose at least one item to return."),
        ({"qty_BEANS": "5", "reason_BEANS": "damaged"}, "You can return at most 2 of this item."),
        ({"qty_BEANS": "1"}, "Please tell us why you are returning this item."),
        ({"qty_BEANS": "1", "reason_BEANS": "damaged", "resolution": "cash"}, "Select a valid choice"),
    ])
    def test_bad_input_gets_a_clear_message_and_writes_nothing(self, client, order, data, message):
        beans, _mug = lines_of(order)
        payload = {"resolution": "refund", **{key.replace("BEANS", str(beans.pk)): value for key, value in data.items()}}
        reply = client.post(returns.order_return_link(order), payload)
        assert reply.status_code == 400 and message in reply.content.decode()
        assert not ReturnRequest.objects.exists()

    @pytest.mark.parametrize("token", ["garbage", "eyJvIjoiMSJ9:1abc:xyz", "x" * 300])
    def test_a_forged_or_broken_link_is_a_404(self, client, token):
        assert client.get(f"/r/{token}/").status_code == 404

    def test_an_expired_link_is_refused(self, client, order, settings):
        link = returns.order_return_link(order)
        settings.FEEDBACK_RETURN_WINDOW_DAYS = 0
        Order.objects.filter(pk=order.pk).update(placed_at=timezone.now() - timedelta(days=3))
        assert client.get(link).status_code in (404, 410)

    def test_a_link_for_a_cancelled_order_says_closed(self, client, order):
        Order.objects.filter(pk=order.pk).update(status=Order.Status.CANCELLED)
        assert client.get(returns.order_return_link(order)).status_code == 410


class TestAudit:
    def test_each_version_of_a_return_names_the_staff_member_who_moved_it(self, order, support_user, admin_user):
        request = request_beans(order, 1, by=support_user)
        walk(request, State.APPROVED, by=admin_user)

        versions = ReturnRequest.history.filter(id=request.pk).order_by("history_date", "history_id")
        assert [(v.state, v.history_user) for v in versions] == [(State.REQUESTED, support_user), (State.APPROVED, admin_user)]
        assert [event.by for event in ReturnEvent.objects.filter(return_request=request).order_by("id")] == [
            support_user, admin_user]

    def test_a_return_asked_for_on_the_customer_page_comes_from_the_public_page(self, client, order):
        beans, _mug = lines_of(order)
        client.post(returns.order_return_link(order), {f"qty_{beans.pk}": "1", f"reason_{beans.pk}": "damaged",
                                                       "resolution": "refund"})

        version = ReturnRequest.history.get()
        assert (version.history_change_reason, version.history_user) == ("public page", None)
        assert ReturnEvent.objects.get().audit_source == "public page"
