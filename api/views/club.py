"""The club at the till: a member's card, ledger, coupons and offers, enrolment, custom earning
events, redeeming offers, validating and using coupons."""

import hashlib

from django.db.models import prefetch_related_objects
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api import services
from api.idempotency import HEADER, idempotent
from api.pagination import ApiCursorPagination
from api.serializers import (
    ClubEventInputSerializer,
    ClubEventResultSerializer,
    CouponCheckInputSerializer,
    CouponCheckSerializer,
    CouponListQuerySerializer,
    CouponRedeemInputSerializer,
    CouponRedemptionSerializer,
    CouponSerializer,
    EnrolConfirmationSentSerializer,
    EnrollSerializer,
    LedgerRowSerializer,
    MemberOfferSerializer,
    MemberSerializer,
    RedeemOfferSerializer,
)
from api import enrolment
from api.scoping import club_hidden
from api.throttling import enrol_code_count
from api.views.common import club_customer, customer_for_body, customer_for_path, order_for_body, parse_public_id
from crm.models import Customer
from club import selectors as club_selectors
from club import services as club_services
from club.exceptions import NotAMember
from club.models import Coupon, Membership, Offer, PointsTransaction
from club.selectors import membership_of
from crm.models import Product


def _member_response(customer, *, status_code=status.HTTP_200_OK) -> Response:
    card = club_selectors.member_card(customer, rows=0)
    if card is None:
        raise NotAMember(_("This customer is not a club member."))
    return Response(MemberSerializer(MemberSerializer.from_card(card)).data, status=status_code)


class MemberView(APIView):
    required_scopes = {"GET": "club:read"}

    @extend_schema(responses=MemberSerializer)
    def get(self, request, customer_id):
        return _member_response(club_customer(request, customer_for_path(request, customer_id)))


def _member_for_path(request, customer_id):
    """The member behind a path's customer id: 404 for customers the key cannot see and for non-members.
    The customer, its membership and tier in one query (a member's lists are read often, by tills)."""
    customer = customer_for_path(request, customer_id, Customer.objects.select_related("membership__tier"))
    club_customer(request, customer)
    try:
        return customer.membership
    except Membership.DoesNotExist:
        raise NotAMember(f"{customer} is not a club member.") from None


class _MemberListView(generics.ListAPIView):
    """A list that hangs off a member; the view's queryset is for the schema generator only."""

    required_scopes = {"GET": "club:read"}
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return self.member_queryset(_member_for_path(self.request, self.kwargs["customer_id"]))


class LedgerPagination(ApiCursorPagination):
    ordering = ("-created_at", "-id")


class MemberLedgerView(_MemberListView):
    """The member's points ledger, newest first; `points` is signed."""

    serializer_class = LedgerRowSerializer
    pagination_class = LedgerPagination
    queryset = PointsTransaction.objects.none()

    def member_queryset(self, member):
        return club_selectors.member_ledger(member)

    def list(self, request, *args, **kwargs):
        """A key that sees every customer (api.scoping.visible_customers) reads the page in one query that also finds
        the customer and its membership (issue 17); only an empty page asks which answer it is (404, not a member, an
        empty ledger). An own-data-only key first checks, as before, that the person is a member for it (api.scoping).
        The page is `.values()` rows, its facts loaded for the rows that have them (club.selectors.ledger_facts_load)."""
        if request.auth.own_data_only:
            rows = self.get_queryset()
        else:
            rows = club_selectors.customer_ledger(parse_public_id(kwargs["customer_id"]))
        page = self.paginate_queryset(club_selectors.ledger_rows(rows))
        if not page and not request.auth.own_data_only:
            _member_for_path(request, kwargs["customer_id"])  # 404 or not a member, else truly empty
        return self.get_paginated_response(LedgerRowSerializer.render_page(club_selectors.ledger_facts_load(page)))


class CouponPagination(ApiCursorPagination):
    ordering = ("-issued_at", "-id")


@extend_schema(parameters=[CouponListQuerySerializer])
class MemberCouponsView(_MemberListView):
    """The member's coupons, newest first."""

    serializer_class = CouponSerializer
    pagination_class = CouponPagination
    queryset = Coupon.objects.none()

    def member_queryset(self, member):
        query = CouponListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return club_selectors.member_coupons(member, usable_only=query.validated_data["usable"])


class MemberOffersView(APIView):
    required_scopes = {"GET": "club:read"}

    @extend_schema(responses=MemberOfferSerializer(many=True),
                   description="Offers the member can redeem now, cheapest first; `affordable` says whether the balance covers `points_cost`.")
    def get(self, request, customer_id):
        member = _member_for_path(request, customer_id)
        offers = club_selectors.offers_for_member(member)
        prefetch_related_objects(offers, "gift_product")  # the SKU, in one query for the whole list
        return Response(MemberOfferSerializer(offers, many=True, context={"balance": member.points_balance}).data)


class ClubEventView(APIView):
    """A custom earning event (social_share, app_review...): the club's earning rule for it applies, limits included."""

    required_scopes = {"POST": "club:write"}

    @extend_schema(request=ClubEventInputSerializer, responses={200: ClubEventResultSerializer})
    @idempotent
    def post(self, request):
        serializer = ClubEventInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        reference = data["reference"]
        idempotency_key = request.headers.get(HEADER, "").strip()
        if not reference and not idempotency_key:
            raise exceptions.ValidationError(
                {"reference": [_("Send a reference (or an Idempotency-Key header), so that a retried event earns once.")]}
            )
        customer = customer_for_body(request, data["customer"])
        member = membership_of(club_customer(request, customer))
        outcome = services.club_event_earn(
            key=request.auth, member=member, event=data["event"],
            # The header is per key and up to 255 characters: its digest fits the ledger's key.
            reference=reference or f"key:{request.auth.prefix}:{hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]}",
        )
        return Response(ClubEventResultSerializer({
            "customer": customer.public_id, "event": data["event"], "reference": reference, "points": outcome.points,
            "transaction": outcome.transaction.public_id if outcome.transaction else None, "reason": outcome.reason,
            "message": outcome.message, "balance": outcome.balance,
        }).data)


class EnrollView(APIView):
    """The customer in the club. Own-data-only keys: a confirmation code first (api.enrolment)."""

    required_scopes = {"POST": "club:write"}

    @extend_schema(request=EnrollSerializer, responses={
        200: MemberSerializer, 201: MemberSerializer, 202: EnrolConfirmationSentSerializer,
    }, description="Full-access keys: 201 and the new membership, 200 and the existing one. Own-data-only keys: "
                   "without `member_number` or `confirmation_code`, a one-time code is sent to the customer and the "
                   "answer is always 202 (whoever the person is); then the code, or a member's card number, enrols.")
    def post(self, request):
        # A code is one try of MAX_TRIES, counted and committed before the work: an error answer rolls the
        # request's writes back, and must not give a guesser another try.
        return self._enrol(request, claimed=self._try_claim(request))

    def _try_claim(self, request) -> bool:
        if not request.auth.own_data_only:
            return False
        serializer = EnrollSerializer(data=request.data)
        if not serializer.is_valid() or not serializer.validated_data.get("confirmation_code"):
            return False
        customer = customer_for_body(request, serializer.validated_data["customer"])
        return enrolment.confirmation_try_claim(key=request.auth, customer=customer)

    @idempotent
    def _enrol(self, request, *, claimed: bool):
        serializer = EnrollSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer = customer_for_body(request, data["customer"])
        if request.auth.own_data_only and not data.get("confirmation_code") and not data.get("member_number"):
            enrol_code_count(request)  # a code will be sent: at most API_ENROL_CODE_RATE per key
        outcome = enrolment.partner_club_enrol(
            key=request.auth, customer=customer, member_number=data.get("member_number", ""),
            confirmation_code=data.get("confirmation_code", ""), claimed=claimed)
        if outcome.confirmation is not None:
            return Response(EnrolConfirmationSentSerializer({
                "status": "confirmation_sent", "channel": outcome.confirmation.channel,
                "expires_at": outcome.confirmation.expires_at,
            }).data, status=status.HTTP_202_ACCEPTED)
        return _member_response(customer, status_code=status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK)


class RedeemOfferView(APIView):
    required_scopes = {"POST": "club:write"}

    @extend_schema(request=RedeemOfferSerializer, responses={201: CouponSerializer})
    @idempotent
    def post(self, request, customer_id):
        customer = club_customer(request, customer_for_path(request, customer_id))
        serializer = RedeemOfferSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        member = membership_of(customer)
        offer = Offer.objects.filter(public_id=serializer.validated_data["offer"]).first()
        if offer is None:
            raise exceptions.ValidationError({"offer": [_("No such offer.")]})
        key = request.headers.get(HEADER, "").strip()
        coupon = club_services.offer_redeem(
            member=member, offer=offer, idempotency_key=f"api:{request.auth.prefix}:{key}" if key else None,
        )
        return Response(CouponSerializer(coupon).data, status=status.HTTP_201_CREATED)


def _till_customer(request, data):
    """Own-data-only keys must say whose coupon it is, so they cannot probe other customers' codes."""
    if data.get("customer"):
        customer = customer_for_body(request, data["customer"])
        # A person seen through the key's view owns no coupon for it (until it was let into their club
        # membership): every code reads as unknown.
        return Customer() if club_hidden(request.auth, customer) else customer
    if request.auth.own_data_only:
        raise exceptions.ValidationError({"customer": [_("This key must name the customer.")]})
    return None


class CouponValidateView(APIView):
    required_scopes = {"POST": "coupons:redeem"}

    @extend_schema(request=CouponCheckInputSerializer, responses=CouponCheckSerializer)
    @idempotent
    def post(self, request):
        serializer = CouponCheckInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        check = club_services.coupon_validate(
            code=data["code"], order_value=data["order_value"], customer=_till_customer(request, data)
        )
        return Response(CouponCheckSerializer({
            "valid": check.valid, "discount": check.discount, "reason": check.reason, "message": check.message,
            "free_shipping": check.free_shipping,
            "gift_product": Product.objects.filter(pk=check.gift_product_id).values_list("sku", flat=True).first()
            if check.gift_product_id else None,
        }).data)


class CouponRedeemView(APIView):
    required_scopes = {"POST": "coupons:redeem"}

    @extend_schema(request=CouponRedeemInputSerializer, responses={201: CouponRedemptionSerializer})
    @idempotent
    def post(self, request):
        serializer = CouponRedeemInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer = _till_customer(request, data)
        order = None
        if data.get("order"):
            order = order_for_body(request, data["order"])
            if customer is not None and customer.pk is None:
                order = None  # a person seen through a view (_till_customer): every code is unknown, whatever the order
        redemption = club_services.coupon_redeem(
            code=data["code"], order_value=data["order_value"], customer=customer, order=order,
            reference=data.get("reference", "") or f"partner:{request.auth.partner_id}",
        )
        return Response(CouponRedemptionSerializer(redemption).data, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("club/members/<str:customer_id>/", MemberView.as_view(), name="api-club-member"),
    path("club/members/<str:customer_id>/redeem/", RedeemOfferView.as_view(), name="api-club-redeem"),
    path("club/members/<str:customer_id>/ledger/", MemberLedgerView.as_view(), name="api-club-ledger"),
    path("club/members/<str:customer_id>/coupons/", MemberCouponsView.as_view(), name="api-club-coupons"),
    path("club/members/<str:customer_id>/offers/", MemberOffersView.as_view(), name="api-club-offers"),
    path("club/enroll/", EnrollView.as_view(), name="api-club-enroll"),
    path("club/events/", ClubEventView.as_view(), name="api-club-events"),
    path("coupons/validate/", CouponValidateView.as_view(), name="api-coupon-validate"),
    path("coupons/redeem/", CouponRedeemView.as_view(), name="api-coupon-redeem"),
]
