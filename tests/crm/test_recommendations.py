"""crm.recommend: a hand-made purchase history where the right picks are known.

The coffee people buy beans, a grinder and filters together; the tea people buy tea and chocolate;
everybody buys the logo mug (the bestseller); a discontinued gadget goes with the coffee kit but is
off sale. Dates are relative to AS_OF, the moment the picks are computed for."""

from datetime import datetime, timedelta, timezone as dt_timezone
from decimal import Decimal

import pytest

from crm import privacy
from crm.models import ErasureEvent, Order, Recommendation
from crm.recommend import recommendations_refresh
from tests.factories import CustomerFactory, OrderFactory, OrderLineFactory, ProductFactory

AS_OF = datetime(2026, 6, 1, 12, 0, tzinfo=dt_timezone.utc)
SUPPORT = {"min_support": 2}


def buy(customer, days_ago, *products, status=Order.Status.FULFILLED):
    order = OrderFactory(customer=customer, placed_at=AS_OF - timedelta(days=days_ago), status=status)
    for product in products:
        OrderLineFactory(order=order, product=product, sku=product.sku, unit_price=Decimal("10.00"))
    return order


@pytest.fixture
def shop(db):
    p = {
        "beans": ProductFactory(sku="BEANS", replenishment_days=30),
        "grinder": ProductFactory(sku="GRINDER"),
        "filters": ProductFactory(sku="FILTERS"),
        "mug": ProductFactory(sku="MUG"),
        "tea": ProductFactory(sku="TEA"),
        "chocolate": ProductFactory(sku="CHOC"),
        "gadget": ProductFactory(sku="GADGET", is_active=False),
    }
    for n in range(5):  # coffee kit, and everybody's mug
        buy(CustomerFactory(city="Tehran"), 100 + n, p["beans"], p["grinder"], p["filters"], p["gadget"], p["mug"])
    for n in range(6):
        buy(CustomerFactory(city="Tehran"), 120 + n, p["tea"], p["chocolate"], p["mug"])
    for n in range(4):  # Shiraz drinks tea
        buy(CustomerFactory(city="Shiraz"), 90 + n, p["tea"], p["mug"])
    return p


def picks(customer):
    return list(Recommendation.objects.filter(customer=customer).order_by("rank").values_list("product__sku", "reason"))


def test_a_customer_with_beans_and_a_grinder_gets_filters_not_the_bestseller_they_own(shop):
    alice = CustomerFactory(city="Tehran")
    buy(alice, 10, shop["beans"], shop["grinder"], shop["mug"])

    recommendations_refresh(as_of=AS_OF, **SUPPORT)

    skus = [sku for sku, _ in picks(alice)]
    assert picks(alice)[0] == ("FILTERS", "together")
    assert "MUG" not in skus and "GRINDER" not in skus
    assert "BEANS" not in skus  # bought 10 days ago, lasts 30: not due yet


def test_the_bestseller_everyone_buys_does_not_outrank_the_products_bought_together(shop):
    carol = CustomerFactory(city="Tehran")
    buy(carol, 5, shop["grinder"])

    recommendations_refresh(as_of=AS_OF, **SUPPORT)

    skus = [sku for sku, _ in picks(carol)]
    # Every grinder buyer bought the mug as often as the filters: a raw count would tie them.
    assert skus.index("FILTERS") < skus.index("MUG")
    assert skus.index("BEANS") < skus.index("MUG")
    assert dict(picks(carol))["FILTERS"] == "together"


def test_a_replenishable_product_comes_back_first_once_its_interval_has_passed(shop):
    bob = CustomerFactory(city="Tehran")
    buy(bob, 40, shop["beans"])

    recommendations_refresh(as_of=AS_OF, **SUPPORT)

    assert picks(bob)[0] == ("BEANS", "due")


def test_an_inactive_product_is_never_recommended(shop):
    dave = CustomerFactory(city="Tehran")
    buy(dave, 5, shop["beans"])

    recommendations_refresh(as_of=AS_OF, **SUPPORT)

    assert Recommendation.objects.exists()
    assert not Recommendation.objects.filter(product=shop["gadget"]).exists()


def test_a_new_customer_gets_the_bestsellers_of_their_city(shop):
    newbie = CustomerFactory(city="Shiraz")

    recommendations_refresh(as_of=AS_OF, **SUPPORT)

    assert picks(newbie)[:2] == [("MUG", "popular"), ("TEA", "popular")]
    assert len(picks(newbie)) == 6  # the city's two, then the overall bestsellers: every product on sale
    assert "GADGET" not in dict(picks(newbie))


def test_cancelled_orders_and_orders_after_the_moment_do_not_count(shop):
    erin = CustomerFactory(city="Tehran")
    buy(erin, 3, shop["grinder"], status=Order.Status.CANCELLED)
    buy(erin, -3, shop["filters"])  # after AS_OF

    recommendations_refresh(as_of=AS_OF, **SUPPORT)

    assert {reason for _, reason in picks(erin)} == {"popular"}
    assert "GRINDER" in dict(picks(erin)) and "FILTERS" in dict(picks(erin))


def test_every_customer_gets_at_most_ten_ranked_picks_and_a_summary_says_how_many(shop):
    summary = recommendations_refresh(as_of=AS_OF, **SUPPORT)

    ranks = list(Recommendation.objects.values_list("customer_id", "rank"))
    assert summary["recommendations"] == len(ranks) and summary["customers"] == 15
    assert all(1 <= rank <= 10 for _, rank in ranks)


def _table():
    return sorted(
        (customer, product, rank, reason, round(score, 9))
        for customer, product, rank, reason, score in
        Recommendation.objects.values_list("customer_id", "product_id", "rank", "reason", "score")
    )


def test_a_chunked_refresh_equals_a_one_shot_refresh(shop):
    buy(CustomerFactory(city="Tehran"), 40, shop["beans"], shop["tea"])
    recommendations_refresh(as_of=AS_OF, chunk_size=100_000, **SUPPORT)
    one_shot = _table()

    recommendations_refresh(as_of=AS_OF, chunk_size=1, **SUPPORT)

    assert _table() == one_shot
    recommendations_refresh(as_of=AS_OF, chunk_size=4, **SUPPORT)
    assert _table() == one_shot


def test_running_again_replaces_the_picks(shop):
    recommendations_refresh(as_of=AS_OF, **SUPPORT)
    before = Recommendation.objects.count()
    shop["filters"].is_active = False
    shop["filters"].save()

    recommendations_refresh(as_of=AS_OF, **SUPPORT)

    assert not Recommendation.objects.filter(product=shop["filters"]).exists()
    assert Recommendation.objects.count() <= before
    assert Recommendation.objects.filter(customer_id__isnull=False).values("customer_id", "rank").distinct().count() \
        == Recommendation.objects.count()


def test_nothing_to_do_without_customers(db):
    assert recommendations_refresh(as_of=AS_OF)["recommendations"] == 0


def test_erasing_a_customer_deletes_their_picks_and_the_refresh_gives_them_none(shop):
    gone = CustomerFactory(city="Tehran")
    buy(gone, 40, shop["beans"])
    recommendations_refresh(as_of=AS_OF, **SUPPORT)
    assert picks(gone)

    privacy.customer_erase(customer=gone)
    assert picks(gone) == []
    recommendations_refresh(as_of=AS_OF, **SUPPORT)

    assert picks(gone) == [] and Recommendation.objects.exists()
    assert ErasureEvent.objects.filter(customer=gone).exists()
