"""The activity of a generated customer: their orders with lines, and the interactions support
logged with them. Part of crm.demo.generator.Generator; the draws come from its one seeded
Random, in the order the generator calls these. Rows are plain tuples (see the generator)."""

from datetime import datetime, timedelta
from itertools import accumulate

from core.copy import Cents
from crm.demo.reference import (
    FOLLOW_UP_OFFSETS,
    GENERAL_TOPICS,
    HISTORY_DAYS,
    INTERACTION_TOPICS,
    ORDER_PREFIX,
    ORDER_TOPICS,
    RECENT_DAYS,
    REPLENISH_CHANCE,
    STAFF_WEIGHTS,
    TASTE_SHARE,
)
from crm.models import Interaction, Order

FULFILLED, CANCELLED, REFUNDED = Order.Status.FULFILLED.value, Order.Status.CANCELLED.value, Order.Status.REFUNDED.value
PENDING = (Order.Status.PLACED.value, Order.Status.PAID.value)
RESOLVED = Interaction.Status.RESOLVED.value
OPEN_STATES = (Interaction.Status.OPEN.value, Interaction.Status.OPEN.value, Interaction.Status.WAITING.value)
# Weighted draws as cumulative weights, once (Generator.pick draws what random.choices would).
SLOTS, SLOTS_CUM = (1, 2, 3, 4), tuple(accumulate((66, 24, 8, 2)))
QUANTITIES, QUANTITIES_CUM = (1, 2, 3), tuple(accumulate((75, 18, 7)))
STAFF_CUM = tuple(accumulate(STAFF_WEIGHTS))


def percent_of(cents: int, percent: int) -> Cents:
    """`percent`% of an amount in cents, rounded half to even to the cent (as Decimal.quantize does)."""
    whole, rest = divmod(cents * percent, 100)
    if rest * 2 > 100 or (rest * 2 == 100 and whole % 2):
        whole += 1
    return Cents(whole)


class ActivityRows:
    """Orders and interactions of one customer (mixed into Generator, whose state they read)."""

    def order_rows(self, customer_id: int, placed_at: datetime, tastes: list,
                   preferred_channel: str, wholesale: bool, last_bought: dict, orders: list,
                   lines: list) -> tuple[int, datetime, str]:
        """Append an order and its lines; return (its index in the chunk, placed_at, order number).

        The lines (one to four): first the replenishable products the customer runs out of about now
        (bought again with REPLENISH_CHANCE once 0.8 of their interval has passed), then products of
        their tastes (a share TASTE_SHARE), gifts around the holidays, anything else by category weight."""
        rng = self.rng
        number = f"{ORDER_PREFIX}{self.next_order:09d}"
        self.next_order += 1
        index = len(orders)
        channel = preferred_channel if rng.random() < 0.75 else self.pick(self.channels, self.channel_cum)
        holidays = placed_at.month == 12 or (placed_at.month == 11 and placed_at.day >= 15)

        subtotal = 0
        last_line_value = 0
        slots = self.pick(SLOTS, SLOTS_CUM)
        chosen = []
        for product_id, (bought_at, item) in last_bought.items():
            interval = self.replenishment_days.get(product_id)
            if interval and (placed_at - bought_at).days >= 0.8 * interval and rng.random() < REPLENISH_CHANCE:
                chosen.append(item)
        chosen = chosen[:slots]
        for _ in range(slots - len(chosen)):
            if holidays and rng.random() < 0.3:
                item = rng.choice(self.products_by_category["gifts"])
            elif rng.random() < TASTE_SHARE:
                item = rng.choice(rng.choice(tastes)[1])
            else:
                item = rng.choice(self.products_by_category[self.pick(self.categories, self.category_cum)])
            if item not in chosen:
                chosen.append(item)
        count = len(chosen)
        for item in chosen:
            product_id, sku, name, price, category = item
            last_bought[product_id] = (placed_at, item)
            quantity = rng.randint(5, 20) if wholesale else self.pick(QUANTITIES, QUANTITIES_CUM)
            last_line_value = price * quantity
            subtotal += last_line_value
            lines.append((self.new_uuid(), index, product_id, sku, name, category, quantity, price))
        discount = 0
        if wholesale:
            discount = percent_of(subtotal, 15)
        elif rng.random() < 0.12:
            discount = percent_of(subtotal, rng.choice((5, 10, 15, 20)))
        total = subtotal - discount

        status, refunded, fulfilled_at = FULFILLED, 0, placed_at
        if channel in ("online", "app", "phone"):
            fulfilled_at = placed_at + timedelta(hours=rng.randint(4, 96))
        roll = rng.random()
        if roll < 0.03:
            status, fulfilled_at = CANCELLED, None
        elif fulfilled_at > self.now:
            status, fulfilled_at = rng.choice(PENDING), None
        elif roll < 0.05:
            status, refunded = REFUNDED, total
        elif roll < 0.08 and total >= 200:
            # A partial refund: one line when there are several, otherwise part of the total.
            refunded = last_line_value if count > 1 else percent_of(total, rng.randint(10, 50))
            refunded = min(refunded, total - 1)

        orders.append((
            index, self.new_uuid(), customer_id, "", number, placed_at, status, channel, "USD", Cents(total),
            Cents(discount), Cents(refunded), fulfilled_at, self.written_at, self.written_at,
        ))
        return index, placed_at, number

    def interaction_rows(self, customer_id: int, language: str, acquired_at: datetime, orders: list, profile: str,
                         interactions: list) -> None:
        """Append the customer's interactions; `orders` are order_rows' (index, placed_at, number)."""
        rng = self.rng
        roll = rng.random()
        if roll >= 0.30:
            return
        for _ in range(2 if roll < 0.03 else 1):
            order = None
            if orders and rng.random() < 0.5:
                order = rng.choice(orders)
                topic = rng.choice(ORDER_TOPICS)
                occurred_at = order[1] + timedelta(hours=rng.randint(2, 120))
            else:
                if profile == "lapsed" and rng.random() < 0.4:
                    topic = "win_back"
                elif orders and rng.random() < 0.2:
                    topic = "welcome"
                else:
                    topic = rng.choice(GENERAL_TOPICS)
                # Many conversations are recent, so the follow-up queues are busy.
                start = max(acquired_at, self.now - timedelta(days=HISTORY_DAYS))
                if rng.random() < 0.4:
                    start = max(start, self.now - timedelta(days=RECENT_DAYS))
                occurred_at = start + (self.now - start) * rng.random()
                if topic == "welcome":
                    occurred_at = orders[0][1] + timedelta(days=rng.randint(1, 5))
            occurred_at = min(occurred_at, self.now - timedelta(minutes=rng.randint(5, 600)))
            channels, direction, texts = INTERACTION_TOPICS[topic]
            subject, body = texts[language]
            product = rng.choice(self.products_by_category[rng.choice(self.categories)])[2]
            values = {"order": order[2] if order else "", "product": product}

            age_days = (self.now - occurred_at).days
            status, follow_up_on, resolved_at = RESOLVED, None, None
            if age_days < RECENT_DAYS and rng.random() < 0.7:
                status = rng.choice(OPEN_STATES)
                # Some overdue, some due today, the rest in the coming days.
                follow_up_on = self.today + timedelta(days=rng.choice(FOLLOW_UP_OFFSETS))
            else:
                resolved_at = occurred_at + timedelta(minutes=rng.randint(5, 3 * 24 * 60))
                resolved_at = min(resolved_at, self.now)
            interactions.append((
                self.new_uuid(), customer_id, rng.choice(channels), direction, subject.format(**values)[:200],
                body.format(**values), status, self.pick(self.staff_ids, STAFF_CUM), occurred_at,
                follow_up_on, None if order is None else order[0], resolved_at, self.written_at,
            ))
