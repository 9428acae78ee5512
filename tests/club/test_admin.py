"""The club in the admin: the member card, the adjust form, read-only ledgers, roles."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from club import services
from club.models import Membership, PointsTransaction
from core import roles
from core.timeline import customer_timeline
from crm import services as crm_services
from tests.club.helpers import give_points

pytestmark = pytest.mark.django_db


def adjust_url(member):
    return reverse("admin:club_membership_adjust", args=[member.pk])


def change_url(member):
    return reverse("admin:club_membership_change", args=[member.pk])


def test_club_managers_see_the_member_card(client, club_manager, member, offer, order_with_lines):
    order_with_lines(member.customer)
    services.offer_redeem(member=member, offer=offer)
    client.force_login(club_manager)
    response = client.get(change_url(member))
    assert response.status_code == 200
    page = response.content.decode()
    assert services.member_number_format(member.member_number) in page
    assert "Bronze" in page and "Silver" in page  # the tier and the next one
    assert "200" in page  # balance
    assert "Adjust points" in page and "Set tier" in page
    assert "Order T-" in page or "Order" in page


def test_a_club_manager_adjusts_points_with_a_reason(client, club_manager, member):
    client.force_login(club_manager)
    assert client.get(adjust_url(member)).status_code == 200
    response = client.post(adjust_url(member), {"points": "40", "reason": "Late delivery"})
    assert response.status_code == 302
    row = PointsTransaction.objects.get(kind="adjust")
    assert (row.points, row.reason, row.created_by) == (40, "Late delivery", club_manager)


def test_the_adjust_form_refuses_a_missing_reason_and_a_negative_balance(client, club_manager, member):
    give_points(member, 10)
    client.force_login(club_manager)
    response = client.post(adjust_url(member), {"points": "5", "reason": ""})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    response = client.post(adjust_url(member), {"points": "-11", "reason": "Mistake"})
    assert response.status_code == 200
    assert "below zero" in response.content.decode()
    member.refresh_from_db()
    assert member.points_balance == 10


def test_the_adjust_form_refuses_points_beyond_64_bits_and_names_the_limit(client, club_manager, member):
    client.force_login(club_manager)
    response = client.post(adjust_url(member), {"points": str(2**63), "reason": "Typo"})
    assert response.status_code == 200
    assert "less than or equal to 9223372036854775807" in response.content.decode()
    assert not PointsTransaction.objects.exists()


@pytest.mark.parametrize("user_fixture", ["support_user", "marketing_user", "outsider"])
def test_other_roles_cannot_adjust_points(request, client, member, user_fixture):
    client.force_login(request.getfixturevalue(user_fixture))
    assert client.get(adjust_url(member)).status_code == 403
    assert client.post(adjust_url(member), {"points": "40", "reason": "x"}).status_code == 403
    assert not PointsTransaction.objects.filter(kind="adjust").exists()


def test_support_sees_the_card_read_only(client, support_user, member):
    client.force_login(support_user)
    response = client.get(change_url(member))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Points ledger" in page and "Adjust points" not in page
    assert 'name="status"' not in page


def test_support_enrolls_a_customer_in_the_admin(client, support_user, customer, tiers):
    client.force_login(support_user)
    response = client.post(reverse("admin:club_membership_add"), {"customer": customer.pk})
    assert response.status_code == 302, response.content.decode()[:2000]
    member = Membership.objects.get(customer=customer)
    assert member.tier == tiers["bronze"] and len(member.member_number) == 10


def test_lists_are_searchable_by_member_number(client, club_manager, member, make_member):
    other = make_member()
    give_points(member, 5)
    client.force_login(club_manager)
    term = services.member_number_format(member.member_number)
    response = client.get(reverse("admin:club_membership_changelist"), {"q": term})
    assert member.member_number[:4] in response.content.decode()
    assert response.context["cl"].result_count == 1
    response = client.get(reverse("admin:club_pointstransaction_changelist"), {"q": term})
    assert response.status_code == 200 and response.context["cl"].result_count == 1
    assert other.pk != member.pk


@pytest.mark.parametrize("term", ["\u06a9\u06cc\u0627\u0646", "\u0643\u064a\u0627\u0646", "0912 123 4567", "0098 912 123 4567"])
def test_members_are_found_by_a_name_in_either_letter_form_and_a_national_phone(
        client, club_manager, member, make_member, term, settings):
    settings.PHONENUMBER_DEFAULT_REGION = "IR"
    crm_services.customer_update(customer=member.customer, values={"first_name": "\u0643\u064a\u0627\u0646"})  # Arabic letters
    make_member(first_name="\u06a9\u06cc\u0648\u0627\u0646", phone="+989351112233")  # another name, another phone
    client.force_login(club_manager)
    response = client.get(reverse("admin:club_membership_changelist"), {"q": term})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [member]


def test_the_ledger_is_read_only_in_the_admin(client, club_manager, member):
    row = give_points(member, 5)
    client.force_login(club_manager)
    assert client.get(reverse("admin:club_pointstransaction_change", args=[row.pk])).status_code == 200
    assert client.get(reverse("admin:club_pointstransaction_add")).status_code == 403
    assert client.post(reverse("admin:club_pointstransaction_delete", args=[row.pk]), {"post": "yes"}).status_code == 403


@pytest.mark.parametrize("url_name", [
    "admin:club_tier_changelist", "admin:club_earningrule_changelist", "admin:club_offer_changelist",
    "admin:club_coupon_changelist", "admin:club_tierchange_changelist", "admin:club_birthdayreward_changelist",
    "admin:club_membership_changelist", "admin:club_referral_changelist", "admin:club_pendingpoints_changelist",
])
def test_admin_lists_render(client, admin_user, member, url_name):
    client.force_login(admin_user)
    assert client.get(reverse(url_name)).status_code == 200


def test_marketing_reads_but_does_not_edit_offers(client, marketing_user, offer):
    client.force_login(marketing_user)
    assert client.get(reverse("admin:club_offer_changelist")).status_code == 200
    assert client.get(reverse("admin:club_offer_add")).status_code == 403


def test_role_permissions():
    managers = roles.declared_permissions(roles.CLUB_MANAGERS)
    assert {"club.adjust_points", "club.change_tier", "club.change_earningrule", "club.add_offer"} <= managers
    assert "club.adjust_points" not in roles.declared_permissions(roles.SUPPORT)
    assert "club.adjust_points" not in roles.declared_permissions(roles.MARKETING)
    assert "club.add_membership" in roles.declared_permissions(roles.SUPPORT)


def test_the_customer_timeline_shows_points_and_coupons(member, offer, order_with_lines):
    order_with_lines(member.customer)
    services.offer_redeem(member=member, offer=offer)
    kinds = [entry.kind for entry in customer_timeline(member.customer)]
    assert "points" in kinds and "coupon" in kinds


def test_the_card_tag_for_the_customer_page(support_user, marketing_user, outsider, member):
    give_points(member, 77)
    template = Template("{% load club_tags %}{% club_member_card customer %}")
    for user, shown in ((support_user, True), (marketing_user, True), (outsider, False)):
        request = RequestFactory().get("/")
        request.user = user
        html = template.render(Context({"request": request, "customer": member.customer}))
        assert ("77" in html) == shown


def test_a_manager_sets_a_tier_until_a_date(client, club_manager, member, tiers):
    client.force_login(club_manager)
    url = reverse("admin:club_membership_tier", args=[member.pk])
    response = client.post(url, {"tier": tiers["gold"].pk, "frozen_until": "2099-01-01", "note": "Partner VIP"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.tier == tiers["gold"] and str(member.tier_frozen_until) == "2099-01-01"
    assert Decimal(member.qualifying_value) == 0


def test_the_customer_page_shows_the_member_card_read_only_to_support(client, support_user, member):
    from django.urls import reverse

    client.force_login(support_user)
    page = client.get(reverse("admin:crm_customer_change", args=[member.customer.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert member.member_number[:4] in html.replace(" ", "")
