"""factory_boy factories for every app's models, one module per app (tests/factories/<app>.py).

Rows whose invariants a service keeps (a member number, a coupon code, a ledger row, an API key's
hash, an invitation's token, a return that fits its order) are built through that service, in the
factory's `_create`, so a test can never start from a state production could not reach.
Import them from here: `from tests.factories import CustomerFactory, MembershipFactory`.
"""

from tests.factories.analytics import CustomerScoreFactory, SegmentMetricSnapshotFactory
from tests.factories.api import ApiKeyFactory, PartnerFactory, WebhookSubscriptionFactory
from tests.factories.campaigns import (
    CampaignFactory,
    CampaignVariantFactory,
    MessageFactory,
    SegmentFactory,
    StaticSegmentFactory,
)
from tests.factories.club import (
    CouponFactory,
    EarningRuleFactory,
    MembershipFactory,
    OfferFactory,
    PointsTransactionFactory,
    TierFactory,
)
from tests.factories.core import JobRunFactory, StaffPreferenceFactory, UserFactory
from tests.factories.crm import (
    CustomerFactory,
    CustomerWithConsentFactory,
    InteractionFactory,
    LoggedInteractionFactory,
    OrderFactory,
    OrderLineFactory,
    PlacedOrderFactory,
    ProductFactory,
)
from tests.factories.feedback import (
    ChoiceFactory,
    InvitationFactory,
    QuestionFactory,
    ReturnRequestFactory,
    SurveyFactory,
)

__all__ = [
    "ApiKeyFactory", "CampaignFactory", "CampaignVariantFactory", "ChoiceFactory", "CouponFactory", "CustomerFactory",
    "CustomerScoreFactory", "CustomerWithConsentFactory", "EarningRuleFactory", "InteractionFactory", "InvitationFactory",
    "JobRunFactory", "LoggedInteractionFactory", "MembershipFactory", "MessageFactory", "OfferFactory", "OrderFactory",
    "OrderLineFactory", "PartnerFactory", "PlacedOrderFactory", "PointsTransactionFactory", "ProductFactory",
    "QuestionFactory", "ReturnRequestFactory", "SegmentFactory", "SegmentMetricSnapshotFactory", "StaffPreferenceFactory",
    "StaticSegmentFactory", "SurveyFactory", "TierFactory", "UserFactory", "WebhookSubscriptionFactory",
]
