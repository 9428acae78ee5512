"""The API's serializers, a module per resource: customers, orders, club, feedback, campaigns, segments,
sms, webhooks, and what they share (base). Explicit fields; field names follow the CSV columns,
`id` is the public id. Serializers validate types and shapes only; every write goes through a
service. Every name stays importable from `api.serializers`."""

from api.serializers.base import (  # noqa: F401
    MAX_TEXT, PeriodQuerySerializer, ProblemSerializer, StrictSerializer,
)
from api.serializers.customers import (  # noqa: F401
    CONSENT_SOURCE_PREFIX, ConsentChangeSerializer, ConsentInputSerializer, CustomerLookupSerializer,
    CustomerSerializer, InteractionSerializer, TagNamesField, TimelineEntrySerializer, TimelineQuerySerializer,
    TimelineSerializer,
)
from api.serializers.orders import (  # noqa: F401
    BulkErrorsField, BulkOrdersInputSerializer, BulkOrdersResultSerializer, BulkOrdersSchemaSerializer,
    BulkProblemSerializer, OrderLineSerializer, OrderSerializer, RefundSerializer, orders_validated_plainly, placed_at_plausible,
)
from api.serializers.club import (  # noqa: F401
    ClubEventInputSerializer, ClubEventResultSerializer, CouponCheckInputSerializer, CouponCheckSerializer,
    CouponListQuerySerializer, CouponRedeemInputSerializer, CouponRedemptionSerializer, CouponSerializer,
    EnrolConfirmationSentSerializer, EnrollSerializer, LedgerRowSerializer, MemberExpiringSerializer, MemberOfferSerializer, MemberProgressSerializer,
    MemberSerializer, RedeemOfferSerializer, TierChangeSerializer,
)
from api.serializers.feedback import (  # noqa: F401
    InvitationInputSerializer, InvitationSerializer, ReturnCreateSerializer, ReturnEventSerializer,
    ReturnLineInputSerializer, ReturnLineSerializer, ReturnRequestSerializer, SurveyChoiceSerializer,
    SurveyDetailSerializer, SurveyQuestionSerializer, SurveyResponseSerializer, SurveyResultsSerializer,
    SurveySerializer,
)
from api.serializers.recommendations import RecommendationListSerializer, RecommendationSerializer  # noqa: F401
from api.serializers.campaigns import (  # noqa: F401
    AutomationLiftQuerySerializer, AutomationLiftSerializer, LiftQuerySerializer, LiftSerializer,
)
from api.serializers.segments import (  # noqa: F401
    RetentionQuerySerializer, RetentionSerializer, SegmentSerializer,
)
from api.serializers.sms import (  # noqa: F401
    InboundSmsResultSerializer, InboundSmsSerializer,
)
from api.serializers.webhooks import (  # noqa: F401
    WebhookSubscriptionCreatedSerializer, WebhookSubscriptionSerializer,
)
