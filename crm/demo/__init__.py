"""crm's step of `seed_demo` (core.demo), the first one: customers, orders, interactions.

The data is reproducible: the same seed and the same anchor date give the same rows
(names, emails, phones, dates, amounts, public ids). Dates run over the two years
before the anchor, which defaults to today at midnight UTC, so lifecycle stages,
follow-ups and birthdays look current; pass `now` for byte-for-byte repeatable data.

It is built for size: Faker is called once per seed to fill small name pools, and
customers are generated in chunks (each in its own transaction) as plain rows that stream
into the tables with COPY on PostgreSQL (core.copy; batched INSERTs on SQLite), ids taken
from the tables' sequences, so a million customers take minutes and memory stays flat. On
PostgreSQL a producer process draws and formats the chunks while this one copies the previous
one in (core.producer): the same rows, PostgreSQL's COPY hidden behind the drawing. The
derived customer figures are computed once at the end with one set-based UPDATE (the one
`rebuild_customer_stats` runs); the search names are derived per row with the model's function.

Apps above crm add their own demo data (club members, surveys, segments) as later steps
(core.demo); crm never imports them.

E-mail addresses use the reserved example.com/.net/.org domains, so a demo campaign
can never reach a real inbox.
"""

import random
from collections import Counter
from collections.abc import Iterator
from contextlib import nullcontext
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, reset_queries, transaction
from django.db.models import F, QuerySet
from django.db.models.functions import Length

from core import copy as core_copy
from core.copy import analyze_tables, bulk_load
from core.demo import DemoDataExists, DemoRun
from core.producer import produced_aside
from crm.demo.generator import Chunk, Generator
from crm.demo.names import NamePools, romanize
from crm.demo.reference import (
    CATALOGUE,
    CUSTOMER_PREFIX,
    DEMO_STAFF,
    DISCONTINUED,
    HISTORY_DAYS,
    MARKETS,
    ORDER_PREFIX,
    SHOP_URL,
    TAGS,
)
from crm.models import ConsentChange, Customer, Interaction, Order, OrderLine, Product
from crm.services import customers_recount_grouped, customers_refresh_order_stats, tags_ensure

__all__ = [
    "CATALOGUE", "DISCONTINUED", "HISTORY_DAYS", "MARKETS", "products_ensure_catalogue", "romanize", "seed_customers",
    "staff_users_ensure",
]

MAX_CHUNK_SIZE = 5000
LOADED = (Customer, Order, OrderLine, Interaction, ConsentChange, Customer.tags.through)


# --- The run ------------------------------------------------------------------------


def seed_customers(run: DemoRun) -> dict[str, int]:
    """Create `run.customers` demo customers with their history; return the counts created.

    Raises DemoDataExists when customers exist and `run.append` is false. With `append`, the
    new customers, emails and order numbers continue after the existing ones. Sets `run.created`
    and `run.rng_seed` for the steps that follow."""
    customers, seed, now, progress, log = run.customers, run.seed, run.now, run.progress, run.log
    if Customer.objects.exists() and not run.append:
        raise DemoDataExists("The database already has customers.")
    customer_offset, order_offset = _numbering_offsets()
    # A fresh database gets exactly Random(seed); appending mixes in the offsets so a
    # second run with the same seed does not repeat the first (public ids are unique).
    fresh = customer_offset == 0 and order_offset == 0
    rng_seed: int | str = seed if fresh else f"{seed}:{customer_offset}:{order_offset}"

    products = products_ensure_catalogue()
    tags = {tag.name: tag.pk for tag in tags_ensure(TAGS)}
    staff = staff_users_ensure()
    generator = Generator(
        rng=random.Random(rng_seed), names=NamePools.build(seed), now=now, products=products,
        tag_ids=tags, staff_ids=[user.pk for user in staff], first_customer=customer_offset + 1,
        first_order=order_offset + 1,
    )

    counts: Counter[str] = Counter()
    chunk_size = run.chunk_size or min(MAX_CHUNK_SIZE, max(250, customers // 20))
    first_pk = last_pk = None
    # Into empty tables, the whole load is one transaction with the indexes and constraints built
    # once at the end (core.copy.bulk_load); appending keeps one transaction per chunk.
    empty = fresh and not Order.objects.exists()
    load = bulk_load(*LOADED, log=log) if empty else nullcontext()
    bar = progress(desc="Customers", total=customers, unit="customer")
    sizes = [min(chunk_size, customers - start) for start in range(0, customers, chunk_size)]
    try:
        with load:
            for chunk in _chunks(generator, sizes):
                with transaction.atomic():
                    chunk.write()
                counts.update(chunk.counts)
                _forget_queries()
                first_pk = chunk.first_pk if first_pk is None else first_pk
                last_pk = chunk.last_pk
                bar.update(chunk.counts["customers"])
            bar.close()
            if empty and customers and core_copy.uses_copy():
                # Before the indexes are back: one grouped pass over the orders, no index to maintain.
                log("Computing the customers' order figures...")
                customers_recount_grouped()
                log("Building the indexes...")
    finally:
        bar.close()

    if not (empty and core_copy.uses_copy()):
        log("Computing the customers' order figures...")
        customers_refresh_order_stats()
    analyze_tables(*LOADED)

    run.rng_seed = rng_seed
    run.created = Customer.objects.none()
    if first_pk is not None:
        run.created = Customer.objects.filter(pk__gte=first_pk, pk__lte=last_pk)
    counts["products"] = len(products)
    counts["staff_users"] = len(staff)
    return dict(counts)


def _chunks(generator: Generator, sizes: list[int]) -> Iterator[Chunk]:
    """The chunks drawn in turn. With COPY (PostgreSQL) a producer process draws and formats them while
    this one writes the previous chunk (core.producer): the drawing and PostgreSQL's COPY overlap, on a
    machine with two CPUs or more. The rows are the same either way."""
    if not core_copy.uses_copy():
        return (generator.draw_chunk(size) for size in sizes)
    ids = core_copy.SequenceIds(connection.get_connection_params())

    def produce() -> Iterator[Chunk]:
        try:
            for size in sizes:
                yield generator.draw_chunk(size, ids).formatted()
        finally:
            ids.close()

    return produced_aside(produce)


def _forget_queries() -> None:
    # Under DEBUG, Django keeps the text of the last 9,000 queries, and a 5,000-row
    # insert is megabytes of SQL: memory would grow with every chunk. Keep the log
    # when someone is reading it (assertNumQueries and friends force the debug cursor).
    if not connection.force_debug_cursor:
        reset_queries()


def _numbering_offsets() -> tuple[int, int]:
    def highest(queryset: QuerySet, field_name: str, pattern: str, prefix: str) -> int:
        value = (
            queryset.filter(**{f"{field_name}__regex": pattern})
            .order_by(Length(field_name).desc(), F(field_name).desc())
            .values_list(field_name, flat=True)
            .first()
        )
        return int(value[len(prefix):]) if value else 0

    return (
        highest(Customer.objects.all(), "external_ref", rf"^{CUSTOMER_PREFIX}[0-9]+$", CUSTOMER_PREFIX),
        highest(Order.objects.filter(source=""), "order_number", rf"^{ORDER_PREFIX}[0-9]+$", ORDER_PREFIX),
    )



def products_ensure_catalogue() -> list[Product]:
    skus = [sku for sku, *_ in CATALOGUE]
    Product.objects.bulk_create(
        [
            Product(sku=sku, name=name, category=category, replenishment_days=days, price=Decimal(cents).scaleb(-2),
                    url=SHOP_URL.format(sku=sku.lower()), is_active=sku not in DISCONTINUED)
            for sku, name, category, cents, days in CATALOGUE
        ],
        ignore_conflicts=True,
    )
    by_sku = Product.objects.in_bulk(skus, field_name="sku")
    return [by_sku[sku] for sku in skus]



def staff_users_ensure() -> list:
    """The demo staff the interactions are assigned to; existing users are left as they are."""
    User = get_user_model()
    users = []
    for username, first_name, last_name, role in DEMO_STAFF:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(
                username, f"{username}@example.com", password=None,
                first_name=first_name, last_name=last_name, is_staff=True,
            )
            user.groups.add(Group.objects.get_or_create(name=role)[0])
        users.append(user)
    return users

