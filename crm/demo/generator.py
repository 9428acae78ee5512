"""Turns the seeded random generator into rows, one chunk of customers at a time."""
import random
import re
import uuid
from bisect import bisect_right
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import Any

from django.db.models import F

from crm.demo.activity import ActivityRows
from crm.demo.names import NamePools
from crm.demo.reference import (
    CATALOGUE,
    CATEGORY_WEIGHTS,
    CONSENT_SOURCE,
    CUSTOMER_PREFIX,
    EMAIL_DOMAINS,
    HISTORY_DAYS,
    LANGUAGE_WEIGHTS,
    MARKETS,
    NOTES,
    ORDER_CHANNELS,
    PHONE_PLANS,
    PROFILES,
    SOURCES,
    season_weight,
)
from crm.models import ConsentChange, Customer, Interaction, Order, OrderLine, Product


BATCH_SIZE = 5000


@dataclass
class Chunk:
    counts: Counter = field(default_factory=Counter)
    first_pk: int | None = None
    last_pk: int | None = None


def _choices(weights: Mapping[str, int]) -> tuple[list[str], list[int]]:
    return list(weights), list(accumulate(weights.values()))
class Generator(ActivityRows):
    """Draws every value from one seeded Random, customer after customer, so the data
    depends only on the seed, the anchor and the number of customers (not the chunk size)."""

    def __init__(self, *, rng: random.Random, names: NamePools, now: datetime, products: list[Product],
                 tag_ids: dict[str, int], staff_ids: list[int], first_customer: int, first_order: int):
        self.rng = rng
        self.names = names
        self.now = now
        self.today = now.date()
        self.tag_ids = tag_ids
        self.staff_ids = staff_ids
        self.next_customer = first_customer
        self.next_order = first_order

        self.products_by_category: dict[str, list[tuple[Product, Decimal]]] = {}
        for product, (_, _, category, cents, _) in zip(products, CATALOGUE):
            self.products_by_category.setdefault(category, []).append((product, Decimal(cents).scaleb(-2)))
        self.categories, self.category_cum = _choices(CATEGORY_WEIGHTS)
        self.languages, self.language_cum = _choices(LANGUAGE_WEIGHTS)
        self.sources, self.source_cum = _choices(SOURCES)
        self.channels, self.channel_cum = _choices(ORDER_CHANNELS)
        self.profiles, self.profile_cum = _choices(PROFILES)

        # Day d (1..HISTORY_DAYS days before the anchor): demand weight, growing slowly
        # over the two years, scaled so the busiest day is 1 (for thinning).
        weights = [0.0] + [
            season_weight(self.today - timedelta(days=d)) * (0.8 + 0.2 * (1 - d / HISTORY_DAYS))
            for d in range(1, HISTORY_DAYS + 1)
        ]
        top = max(weights)
        self.day_weight = [w / top for w in weights]
        self.mean_day_weight = sum(self.day_weight[1:]) / HISTORY_DAYS
        self.day_cum = list(accumulate(self.day_weight[1:]))

    # -- helpers
    def pick(self, options: list[str], cum: list[int]) -> str:
        return options[bisect_right(cum, self.rng.random() * cum[-1])]

    def new_uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def _seasonal_day(self, low: int = 1, high: int = HISTORY_DAYS) -> int:
        """A day in [low, high] days ago, drawn with the seasonal demand."""
        start = self.day_cum[low - 2] if low > 1 else 0.0
        value = start + self.rng.random() * (self.day_cum[high - 1] - start)
        return min(high, max(low, bisect_right(self.day_cum, value) + 1))

    def _at(self, days_ago: int) -> datetime:
        """A moment in opening hours (08:00-21:00 UTC) on the day `days_ago` days before the anchor."""
        return self.now - timedelta(days=days_ago) + timedelta(seconds=self.rng.randint(8 * 3600, 21 * 3600))

    # -- order days for each profile (days ago, oldest first)
    def _order_days(self, profile: str) -> list[int]:
        rng = self.rng
        if profile == "prospect":
            return []
        if profile == "one_time":
            return [self._seasonal_day()]
        if profile == "new":
            first = rng.randint(1, 90)
            return self._process(first, 1, mean_gap=rng.uniform(15, 40), limit=3)
        if profile == "regular":
            first = self._seasonal_day(90, HISTORY_DAYS)
            return self._process(first, 1, mean_gap=rng.uniform(40, 120))
        # lapsed: a repeat buyer who stopped 4 to 12 months ago
        stop = rng.randint(120, 365)
        first = rng.randint(min(stop + 45, HISTORY_DAYS), HISTORY_DAYS)
        days = self._process(first, stop + 1, mean_gap=rng.uniform(50, 140))
        return days + [stop]

    def _process(self, first: int, last: int, *, mean_gap: float, limit: int = 10_000) -> list[int]:
        """Orders from `first` down to `last` days ago as a seasonal Poisson process (thinning)."""
        days = [first]
        rate = 1.0 / (mean_gap * self.mean_day_weight)
        t = float(first)
        while len(days) < limit:
            t -= self.rng.expovariate(rate)
            if t < last:
                break
            day = int(t)
            if day < days[-1] and self.rng.random() < self.day_weight[day]:
                days.append(day)
        return days

    # -- rows
    def write_chunk(self, size: int) -> Chunk:
        chunk = Chunk()
        customers: list[Customer] = []
        plans: list[dict[str, Any]] = []
        for _ in range(size):
            customer, plan = self._customer()
            customers.append(customer)
            plans.append(plan)
        Customer.objects.bulk_create(customers, batch_size=BATCH_SIZE)
        chunk.first_pk, chunk.last_pk = customers[0].pk, customers[-1].pk
        # auto_now_add stamps today on insert; the demo's customers joined when they were acquired.
        Customer.objects.filter(pk__in=[customer.pk for customer in customers]).update(created_at=F("acquired_at"))

        orders, lines, interactions, consents, tag_links = [], [], [], [], []
        Through = Customer.tags.through
        for customer, plan in zip(customers, plans):
            for order, order_lines in plan["orders"]:
                order.customer_id = customer.pk
                orders.append((order, order_lines))
            for interaction in plan["interactions"]:
                interaction.customer_id = customer.pk
                interactions.append(interaction)
            for consent in plan["consents"]:
                consent.customer_id = customer.pk
                consents.append(consent)
            tag_links.extend(Through(customer_id=customer.pk, tag_id=tag_id) for tag_id in plan["tags"])
        Order.objects.bulk_create([order for order, _ in orders], batch_size=BATCH_SIZE)
        for order, order_lines in orders:
            for line in order_lines:
                line.order_id = order.pk
                lines.append(line)
        OrderLine.objects.bulk_create(lines, batch_size=BATCH_SIZE)
        for interaction in interactions:
            if interaction.order is not None:  # linked before the order had a pk
                interaction.order_id = interaction.order.pk
        Interaction.objects.bulk_create(interactions, batch_size=BATCH_SIZE)
        ConsentChange.objects.bulk_create(consents, batch_size=BATCH_SIZE)
        Through.objects.bulk_create(tag_links, batch_size=BATCH_SIZE)
        chunk.counts.update({
            "customers": len(customers), "orders": len(orders), "order_lines": len(lines),
            "interactions": len(interactions), "consent_changes": len(consents), "customer_tags": len(tag_links),
        })
        return chunk

    def _customer(self) -> tuple[Customer, dict[str, Any]]:
        rng = self.rng
        seq = self.next_customer
        self.next_customer += 1

        language = self.pick(self.languages, self.language_cum)
        country, cities, locale = rng.choice(MARKETS[language])
        gender = rng.choices(["female", "male", "other", ""], weights=[48, 48, 1, 3])[0]
        if gender in ("female", "male"):
            pool = self.names.female if gender == "female" else self.names.male
        else:
            pool = rng.choice((self.names.female, self.names.male))
        first, first_latin = rng.choice(pool[locale])
        last, last_latin = rng.choice(self.names.last[locale])

        email = None
        if rng.random() < 0.93:
            email = self._email(first_latin, last_latin, seq)
        phone = self._phone(country) if (email is None or rng.random() < 0.85) else None
        birth_date = None
        if rng.random() < 0.82:
            birth_date = self.today - timedelta(days=rng.randint(18 * 365, 75 * 365))

        profile = self.pick(self.profiles, self.profile_cum)
        days = self._order_days(profile)
        if days:
            lead = rng.choice([0, 0, 0, 0, 1, 3, 7, 21])
            acquired_at = self._at(min(days[0] + lead, HISTORY_DAYS + 21))
            source = self.pick(self.sources, self.source_cum)
        else:
            acquired_at = self._at(rng.randint(1, HISTORY_DAYS))
            source = rng.choice(["web", "web", "instagram", "instagram", "referral", "partner"])
        favourite = [self.pick(self.categories, self.category_cum) for _ in range(2)]
        preferred_channel = "store" if source == "store" else self.pick(self.channels, self.channel_cum)
        wholesale = rng.random() < 0.02

        customer = Customer(
            public_id=self.new_uuid(), first_name=first, last_name=last, email=email, phone=phone,
            external_ref=f"{CUSTOMER_PREFIX}{seq:07d}", birth_date=birth_date, gender=gender, language=language,
            city=rng.choice(cities), country=country, source=source, acquired_at=acquired_at,
            notes=rng.choice(NOTES) if rng.random() < 0.03 else "",
        )
        customer.refresh_search_names()  # written with bulk_create, which does not call save()

        orders = []
        for index, day in enumerate(days):
            placed_at = self._at(day)
            if index == 0 and placed_at < acquired_at:
                placed_at = min(acquired_at + timedelta(minutes=rng.randint(1, 90)), self.now)
            orders.append(self.order_rows(placed_at, favourite, preferred_channel, wholesale))

        tags = self._tags(profile, favourite, wholesale, source, len(days))
        consents = []
        if email and rng.random() < 0.6:
            customer.email_opt_in = True
            consents.extend(self._consent(customer, ConsentChange.Channel.EMAIL, acquired_at))
            if customer.email_opt_in and rng.random() < 0.7:
                tags.append(self.tag_ids["newsletter"])
        if phone and rng.random() < 0.45:
            customer.sms_opt_in = True
            consents.extend(self._consent(customer, ConsentChange.Channel.SMS, acquired_at))

        interactions = self.interaction_rows(language, acquired_at, orders, profile)
        return customer, {"orders": orders, "interactions": interactions, "consents": consents, "tags": tags}

    def _email(self, first: str, last: str, seq: int) -> str:
        first = re.sub(r"[^a-z]", "", first.lower()) or "customer"
        last = re.sub(r"[^a-z]", "", last.lower())
        pattern = self.rng.randrange(5)
        if not last or pattern == 0:
            local = f"{first}{seq}"
        elif pattern == 1:
            local = f"{first}.{last}{seq}"
        elif pattern == 2:
            local = f"{first[0]}.{last}{seq}"
        elif pattern == 3:
            local = f"{first}_{last}{seq}"
        else:
            local = f"{last}.{first}{seq}"
        # The sequence number keeps every address unique: names never contain digits.
        return f"{local}@{self.rng.choice(EMAIL_DOMAINS)}"

    def _phone(self, country: str) -> str:
        code, prefixes, digits = PHONE_PLANS[country]
        prefix = self.rng.choice(prefixes)
        if country == "US":  # the exchange (NXX) cannot start with 0 or 1 or be 555
            exchange = self.rng.randint(200, 999)
            exchange = 556 if exchange == 555 else exchange
            return f"+{code}{prefix}{exchange}{self.rng.randrange(10_000):04d}"
        return f"+{code}{prefix}{self.rng.randrange(10 ** digits):0{digits}d}"

    def _tags(self, profile: str, favourite: list[str], wholesale: bool, source: str, orders: int) -> list[int]:
        rng, ids = self.rng, self.tag_ids
        tags = []
        if profile == "regular" and orders >= 6 and rng.random() < 0.35:
            tags.append(ids["vip"])
        if wholesale:
            tags.append(ids["wholesale"])
        if rng.random() < 0.02:
            tags.append(ids["corporate"])
        if "coffee" in favourite and rng.random() < 0.3:
            tags.append(ids["coffee-lover"])
        if "tea" in favourite and rng.random() < 0.3:
            tags.append(ids["tea-lover"])
        if "gifts" in favourite:
            tags.append(ids["gift-buyer"])
        if source == "instagram" and rng.random() < 0.05:
            tags.append(ids["influencer"])
        return tags

    def _consent(self, customer: Customer, channel: str, at: datetime) -> list[ConsentChange]:
        rows = [ConsentChange(channel=channel, granted=True, source=CONSENT_SOURCE, changed_at=at)]
        if self.rng.random() < 0.06:  # some changed their mind later: the history shows both
            withdrawn_at = at + (self.now - at) * self.rng.random()
            rows.append(ConsentChange(channel=channel, granted=False, source=CONSENT_SOURCE, changed_at=withdrawn_at))
            setattr(customer, f"{channel}_opt_in", False)
        return rows
