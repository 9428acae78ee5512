"""The customers' public pages (issue 8): survey /f/, returns /r/, club card /m/, unsubscribe /c/u/.

Each link is a single-purpose token (signed with its own salt, or a random token stored only as a
hash), it expires, a forged or expired one opens nothing, a token made for one page opens no other
page, and each page is rate-limited."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from campaigns import tokens
from campaigns.models import Channel, Message
from club import services as club_services
from club.models import EarningRule, Tier
from club.card import card_link
from crm.services import LineInput
from feedback.models import Invitation, Question, Survey
from feedback.services import returns, surveys

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def links(customer, place_order):
    """One link of each kind, all for the same customer."""
    Tier.objects.create(name="Bronze", rank=1, threshold=0)
    EarningRule.objects.create(name="1 point per unit", kind=EarningRule.Kind.PURCHASE, points_per_unit=Decimal("1"))
    member = club_services.member_enroll(customer=customer)
    order = place_order(customer, days_ago=2, total="100.00", status="fulfilled", lines=[
        LineInput(sku="BEANS", product_name="Beans", category="coffee", quantity=1, unit_price=Decimal("100")),
    ])
    survey = Survey.objects.create(title="How was it?", public_slug="how-was-it", invitation_valid_days=14)
    Question.objects.create(survey=survey, type=Question.Type.NPS, scores=Question.Score.NPS, text="Recommend?")
    new_invitation = surveys.invitation_create(survey=survey, customer=customer, order=order)
    invitation = new_invitation.invitation
    message = Message.objects.create(customer=customer, channel=Channel.EMAIL, to_address=customer.email,
                                     status=Message.Status.SENT)
    return {
        "survey": new_invitation.path,
        "return": returns.order_return_link(order),
        "card": card_link(member),
        "unsubscribe": reverse("campaigns:unsubscribe", args=[tokens.make(tokens.UNSUBSCRIBE, message.public_id.hex)]),
        "objects": {"member": member, "order": order, "invitation": invitation, "message": message},
    }


def _token(path: str) -> str:
    return [part for part in path.split("/") if part][-1]


PAGE_OF = {
    "survey": lambda token: reverse("feedback:invitation", args=[token]),
    "return": lambda token: reverse("returns:request", args=[token]),
    "card": lambda token: reverse("club_card:card", args=[token]),
    "unsubscribe": lambda token: reverse("campaigns:unsubscribe", args=[token]),
}
KINDS = tuple(PAGE_OF)


@pytest.mark.parametrize("kind", KINDS)
def test_each_link_opens_its_page(client, links, kind):
    response = client.get(links[kind])
    assert response.status_code == 200


@pytest.mark.parametrize("kind", KINDS)
def test_a_forged_or_altered_token_opens_nothing(client, links, kind):
    token = _token(links[kind])
    altered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")

    for bad in (altered, "x", "a" * 300, token + "x"):
        response = client.get(PAGE_OF[kind](bad))
        assert response.status_code == 404, (bad, response.status_code)
        assert links["objects"]["order"].customer.email not in response.content.decode()


@pytest.mark.parametrize("kind, made_for", [(k, m) for k in KINDS for m in KINDS if k != m])
def test_a_token_made_for_one_page_opens_no_other_page(client, links, kind, made_for):
    """A club card token on the return page (and every other pairing) is a 404."""
    response = client.get(PAGE_OF[kind](_token(links[made_for])))

    assert response.status_code == 404
    assert links["objects"]["order"].customer.email not in response.content.decode()


def test_a_token_for_one_message_purpose_does_not_unsubscribe(client, links):
    message = links["objects"]["message"]
    for purpose in (tokens.OPEN, tokens.CLICK):
        response = client.post(PAGE_OF["unsubscribe"](tokens.make(purpose, message.public_id.hex)))
        assert response.status_code == 404
    message.refresh_from_db()
    assert message.status == Message.Status.SENT


# Each link's lifetime and the setting that sets it.
# Just before the end the link is still recognised: the return page then says the order's return
# window has closed (410), which is the page's own rule; after the end the link is unknown (404).
@pytest.mark.parametrize("kind, setting, value, days_valid, status_before", [
    ("card", "CLUB_CARD_LINK_DAYS", 90, 90, 200),
    ("return", "FEEDBACK_RETURN_WINDOW_DAYS", 30, 31, 410),  # the return window, plus a day for time zones
    ("unsubscribe", "CAMPAIGNS_UNSUBSCRIBE_LINK_DAYS", 365, 365, 200),
])
def test_signed_links_expire(client, settings, links, kind, setting, value, days_valid, status_before):
    setattr(settings, setting, value)
    path = links[kind]
    now = timezone.now()

    with time_machine.travel(now + timedelta(days=days_valid) - timedelta(hours=1)):
        assert client.get(path).status_code == status_before
    cache.clear()
    with time_machine.travel(now + timedelta(days=days_valid, hours=1)):
        assert client.get(path).status_code == 404


def test_survey_invitations_expire_and_store_only_a_hash(client, links):
    invitation: Invitation = links["objects"]["invitation"]
    token = _token(links["survey"])
    assert token not in invitation.token_hash and len(invitation.token_hash) == 64

    with time_machine.travel(invitation.expires_at + timedelta(minutes=1)):
        response = client.get(links["survey"])

    assert response.status_code in (404, 410)
    assert "Recommend?" not in response.content.decode()


@pytest.mark.parametrize("kind, setting", [
    ("survey", "FEEDBACK_RATE_LIMIT"), ("return", "FEEDBACK_RATE_LIMIT"), ("card", "CLUB_CARD_RATE_LIMIT"),
    ("unsubscribe", "CAMPAIGNS_PUBLIC_RATE_LIMIT"),
])
def test_public_pages_are_rate_limited(client, settings, links, kind, setting):
    setattr(settings, setting, "3/m")
    for _ in range(3):
        assert client.get(links[kind], REMOTE_ADDR="203.0.113.7").status_code == 200

    assert client.get(links[kind], REMOTE_ADDR="203.0.113.7").status_code == 429
    # Guessing tokens from one address is limited too, not only reusing one token.
    assert client.get(PAGE_OF[kind]("guess-" + "x" * 20), REMOTE_ADDR="203.0.113.7").status_code == 429


@pytest.mark.parametrize("kind", KINDS)
def test_public_pages_keep_their_token_out_of_referer_headers(client, links, kind):
    response = client.get(links[kind])
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "same-origin"  # the token never leaves in a Referer header
