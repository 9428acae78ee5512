"""Every factory builds a row production could have: the ones that carry an invariant go through
their service (a member number, a coupon code, a balance equal to the ledger, a hashed key)."""

from decimal import Decimal

import pytest

from api.services import api_key_hash
from campaigns.models import Segment
from club.models import Membership, Tier
from feedback.models import ReturnRequest
from tests import factories

pytestmark = pytest.mark.django_db


def test_it_builds_every_app_s_main_models():
    built = [
        factories.UserFactory(), factories.StaffPreferenceFactory(), factories.JobRunFactory(),
        factories.CustomerFactory(), factories.ProductFactory(), factories.OrderLineFactory(), factories.InteractionFactory(),
        factories.TierFactory(), factories.EarningRuleFactory(), factories.OfferFactory(), factories.CouponFactory(),
        factories.QuestionFactory(), factories.ChoiceFactory(), factories.InvitationFactory(),
        factories.ReturnRequestFactory(), factories.SegmentFactory(), factories.CampaignVariantFactory(),
        factories.MessageFactory(), factories.CustomerScoreFactory(), factories.SegmentMetricSnapshotFactory(),
        factories.WebhookSubscriptionFactory(),
    ]
    assert all(row.pk for row in built)


def test_it_enrols_members_through_the_service_with_a_member_number_and_the_entry_tier():
    entry = factories.TierFactory(name="Bronze", rank=1)
    member = factories.MembershipFactory()
    assert member.member_number and member.status == Membership.Status.ACTIVE
    assert member.tier == entry
    assert Tier.objects.count() == 1


def test_it_keeps_the_balance_equal_to_the_ledger():
    member = factories.MembershipFactory()
    factories.PointsTransactionFactory(member=member, points=120)
    factories.PointsTransactionFactory(member=member, points=-20)
    member.refresh_from_db()
    assert member.points_balance == 100 == sum(member.transactions.values_list("points", flat=True))


def test_it_issues_coupons_with_a_code():
    first, second = factories.CouponFactory(), factories.CouponFactory()
    assert first.code and second.code and first.code != second.code


def test_it_places_orders_through_the_service():
    order = factories.PlacedOrderFactory(total=Decimal("80.00"))
    order.customer.refresh_from_db()
    assert order.customer.orders_count == 1


def test_it_makes_api_keys_whose_secret_is_shown_once_and_stored_hashed():
    key = factories.ApiKeyFactory()
    prefix, secret = key.secret.split(".", 1)
    assert key.prefix == prefix and key.hashed_key == api_key_hash(secret)


def test_it_hands_the_invitation_token_to_the_test():
    invitation = factories.InvitationFactory()
    assert invitation.token and invitation.token_hash


def test_it_requests_a_return_that_fits_the_order():
    request = factories.ReturnRequestFactory()
    assert request.state == ReturnRequest.State.REQUESTED
    assert request.lines.get().quantity == 1


def test_it_makes_static_segments_with_their_members_and_campaigns_with_their_audience():
    customers = factories.CustomerFactory.create_batch(2)
    segment = factories.StaticSegmentFactory(members=customers)
    campaign = factories.CampaignFactory(segments=[segment])
    assert segment.kind == Segment.Kind.STATIC and segment.memberships.count() == 2 and segment.size == 2
    assert list(campaign.segments.all()) == [segment]
