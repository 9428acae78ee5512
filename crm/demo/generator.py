"""Turns the seeded random generator into rows, one chunk of customers at a time.

The rows are plain tuples in the tables' column order (ids included, taken from the tables'
sequences), written with core.copy: COPY on PostgreSQL, batched INSERTs elsewhere. Money is
drawn in cents (core.copy.Cents), UUIDs as 32 hex digits: no model instance, no Decimal per row.
"""
import random
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import accumulate

from django.utils import timezone

from core.copy import Cents, copy_text, copy_write, ids_reserve, write_rows
from crm.demo.activity import ActivityRows
from crm.demo.names import NamePools
from crm.demo.reference import (
    AFFINITY_GROUPS,
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

CUSTOMER_COLUMNS = (
    "id", "public_id", "first_name", "last_name", "email", "phone", "external_ref", "birth_date", "gender", "language",
    "city", "country", "source", "acquired_at", "notes", "search_name", "search_last_name", "email_opt_in",
    "sms_opt_in", "orders_count", "total_spent", "created_at", "updated_at",
)
ORDER_COLUMNS = (
    "id", "public_id", "customer_id", "source", "order_number", "placed_at", "status", "channel", "currency", "total",
    "discount", "refunded_amount", "fulfilled_at", "created_at", "updated_at",
)
LINE_COLUMNS = ("id", "public_id", "order_id", "product_id", "sku", "product_name", "category", "quantity", "unit_price")
INTERACTION_COLUMNS = (
    "id", "public_id", "customer_id", "channel", "direction", "subject", "body", "status", "staff_id", "occurred_at",
    "follow_up_on", "order_id", "resolved_at", "created_at",
)
CONSENT_COLUMNS = ("id", "customer_id", "channel", "granted", "source", "changed_at")
TAG_COLUMNS = ("id", "customer_id", "tag_id")

GENDERS, GENDER_CUM = ("female", "male", "other", ""), (48, 96, 97, 100)

# UUID version 4 from 128 random bits: clear the version and variant bits, then set them.
_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_UUID_SET = (0x4000 << 64) | (0x8000 << 48)


def _tables() -> tuple[tuple[type, tuple[str, ...]], ...]:
    return (
        (Customer, CUSTOMER_COLUMNS), (Order, ORDER_COLUMNS), (OrderLine, LINE_COLUMNS),
        (Interaction, INTERACTION_COLUMNS), (ConsentChange, CONSENT_COLUMNS), (Customer.tags.through, TAG_COLUMNS),
    )


@dataclass
class Chunk:
    """A chunk of customers and their history: each table's rows (in `_tables()`'s order, parents first) as
    tuples or, once `formatted()`, as COPY text (core.copy.copy_text)."""

    counts: Counter = field(default_factory=Counter)
    first_pk: int | None = None
    last_pk: int | None = None
    rows: list[list | bytes] = field(default_factory=list)

    def formatted(self) -> "Chunk":
        """The same chunk with its rows as COPY text: made where the rows are drawn (core.producer)."""
        self.rows = [copy_text(rows) for rows in self.rows]
        return self

    def write(self) -> None:
        """Into the tables (the caller holds a transaction)."""
        for (model, columns), rows in zip(_tables(), self.rows, strict=True):
            if isinstance(rows, bytes):
                copy_write(model, columns, rows)
            else:
                write_rows(model, columns, rows)


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
        self.staff_cum = None
        self.next_customer = first_customer
        self.next_order = first_order
        self.written_at = timezone.now()  # created_at/updated_at where the row's own date is not the story

        # category -> [(product id, sku, name, price in cents, category)]
        self.products_by_category: dict[str, list[tuple[int, str, str, Cents, str]]] = {}
        by_sku = {}
        # product id -> replenishment interval in days, for the products that run out
        self.replenishment_days: dict[int, int] = {}
        for product, (_, _, category, cents, days) in zip(products, CATALOGUE):
            item = (product.pk, product.sku, product.name, Cents(cents), category)
            self.products_by_category.setdefault(category, []).append(item)
            by_sku[product.sku] = item
            if days:
                self.replenishment_days[product.pk] = days
        # Tastes (reference.AFFINITY_GROUPS): (main category, [products]) and their weights.
        self.tastes = [(category, [by_sku[sku] for sku in skus]) for _, category, _, skus in AFFINITY_GROUPS]
        self.taste_cum = list(accumulate(weight for _, _, weight, _ in AFFINITY_GROUPS))
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
        # Midnight of each day before the anchor, so a moment is one addition.
        self.midnights = [self.now - timedelta(days=d) for d in range(HISTORY_DAYS + 30)]

    # -- helpers
    def pick(self, options: list[str], cum: list[int]) -> str:
        return options[bisect_right(cum, self.rng.random() * cum[-1])]

    def new_uuid(self) -> str:
        return f"{(self.rng.getrandbits(128) & _UUID_CLEAR) | _UUID_SET:032x}"

    def _seasonal_day(self, low: int = 1, high: int = HISTORY_DAYS) -> int:
        """A day in [low, high] days ago, drawn with the seasonal demand."""
        start = self.day_cum[low - 2] if low > 1 else 0.0
        value = start + self.rng.random() * (self.day_cum[high - 1] - start)
        return min(high, max(low, bisect_right(self.day_cum, value) + 1))

    def _at(self, days_ago: int) -> datetime:
        """A moment in opening hours (08:00-21:00 UTC) on the day `days_ago` days before the anchor."""
        return self.midnights[days_ago] + timedelta(seconds=self.rng.randint(8 * 3600, 21 * 3600))

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
        expovariate, random_, day_weight = self.rng.expovariate, self.rng.random, self.day_weight
        while len(days) < limit:
            t -= expovariate(rate)
            if t < last:
                break
            day = int(t)
            if day < days[-1] and random_() < day_weight[day]:
                days.append(day)
        return days

    # -- rows
    def draw_chunk(self, size: int, ids_reserve: Callable[[type, int], list[int]] = ids_reserve) -> Chunk:
        """Draw `size` customers with their history as rows, ids from `ids_reserve` (core.copy's, or
        a SequenceIds in a producer process)."""
        chunk = Chunk()
        customer_ids = ids_reserve(Customer, size)
        customers, orders, lines, interactions, consents, tags = [], [], [], [], [], []
        for customer_id in customer_ids:
            self._customer(customer_id, customers, orders, lines, interactions, consents, tags)
        # The orders, lines... were numbered from 0 in this chunk: now they get their ids.
        order_ids = ids_reserve(Order, len(orders))
        orders = [(order_ids[row[0]], *row[1:]) for row in orders]
        line_ids = ids_reserve(OrderLine, len(lines))
        lines = [(line_id, row[0], order_ids[row[1]], *row[2:]) for line_id, row in zip(line_ids, lines)]
        interaction_ids = ids_reserve(Interaction, len(interactions))
        interactions = [
            (interaction_id, *row[:10], None if row[10] is None else order_ids[row[10]], *row[11:])
            for interaction_id, row in zip(interaction_ids, interactions)
        ]
        consents = [(consent_id, *row) for consent_id, row in zip(ids_reserve(ConsentChange, len(consents)), consents)]
        Through = Customer.tags.through
        tags = [(tag_link_id, *row) for tag_link_id, row in zip(ids_reserve(Through, len(tags)), tags)]

        chunk.rows = [customers, orders, lines, interactions, consents, tags]
        chunk.first_pk, chunk.last_pk = customer_ids[0], customer_ids[-1]
        chunk.counts.update({
            "customers": len(customers), "orders": len(orders), "order_lines": len(lines),
            "interactions": len(interactions), "consent_changes": len(consents), "customer_tags": len(tags),
        })
        return chunk

    def _customer(self, customer_id: int, customers: list, orders: list, lines: list, interactions: list,
                  consents: list, tag_links: list) -> None:
        """Draw one customer and append their rows (orders, lines and interactions numbered within the chunk)."""
        rng = self.rng
        seq = self.next_customer
        self.next_customer += 1

        language = self.pick(self.languages, self.language_cum)
        country, cities, locale = rng.choice(MARKETS[language])
        gender = self.pick(GENDERS, GENDER_CUM)
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
        tastes = [self.tastes[bisect_right(self.taste_cum, rng.random() * self.taste_cum[-1])]
                  for _ in range(1 if rng.random() < 0.4 else 2)]
        favourite = [category for category, _ in tastes]
        preferred_channel = "store" if source == "store" else self.pick(self.channels, self.channel_cum)
        wholesale = rng.random() < 0.02
        public_id = self.new_uuid()
        city = rng.choice(cities)
        notes = rng.choice(NOTES) if rng.random() < 0.03 else ""

        # (index in the chunk, placed_at, order number) of this customer's orders, for the interactions
        placed = []
        last_bought: dict = {}  # product id -> when this customer last bought it
        for index, day in enumerate(days):
            placed_at = self._at(day)
            if index == 0 and placed_at < acquired_at:
                placed_at = min(acquired_at + timedelta(minutes=rng.randint(1, 90)), self.now)
            placed.append(self.order_rows(
                customer_id, placed_at, tastes, preferred_channel, wholesale, last_bought, orders, lines,
            ))

        tags = self._tags(profile, favourite, wholesale, source, len(days))
        email_opt_in = sms_opt_in = False
        if email and rng.random() < 0.6:
            email_opt_in = self._consent(customer_id, ConsentChange.Channel.EMAIL, acquired_at, consents)
            if email_opt_in and rng.random() < 0.7:
                tags.append(self.tag_ids["newsletter"])
        if phone and rng.random() < 0.45:
            sms_opt_in = self._consent(customer_id, ConsentChange.Channel.SMS, acquired_at, consents)
        tag_links.extend((customer_id, tag_id) for tag_id in tags)

        self.interaction_rows(customer_id, language, acquired_at, placed, profile, interactions)
        search_name, search_last_name = Customer.search_names_for(first, last)
        customers.append((
            customer_id, public_id, first, last, email, phone, f"{CUSTOMER_PREFIX}{seq:07d}", birth_date, gender,
            language, city, country, source, acquired_at, notes, search_name, search_last_name, email_opt_in,
            sms_opt_in, 0, Cents(0), acquired_at, self.written_at,
        ))

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

    def _consent(self, customer_id: int, channel: str, at: datetime, consents: list) -> bool:
        """Append the consent history of a customer who opted in; return whether they still are."""
        consents.append((customer_id, channel, True, CONSENT_SOURCE, at))
        if self.rng.random() < 0.06:  # some changed their mind later: the history shows both
            withdrawn_at = at + (self.now - at) * self.rng.random()
            consents.append((customer_id, channel, False, CONSENT_SOURCE, withdrawn_at))
            return False
        return True
