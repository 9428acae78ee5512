"""The activity of a generated customer: their orders with lines, and the interactions support
logged with them. Part of crm.demo.generator.Generator; the draws come from its one seeded
Random, in the order the generator calls these."""

from datetime import datetime, timedelta
from decimal import Decimal


from crm.demo.reference import (
    FOLLOW_UP_OFFSETS,
    GENERAL_TOPICS,
    HISTORY_DAYS,
    INTERACTION_TOPICS,
    ORDER_PREFIX,
    ORDER_TOPICS,
    RECENT_DAYS,
    STAFF_WEIGHTS,
)
from crm.models import Interaction, Order, OrderLine


class ActivityRows:
    """Orders and interactions of one customer (mixed into Generator, whose state they read)."""

    def order_rows(self, placed_at: datetime, favourite: list[str], preferred_channel: str,
               wholesale: bool) -> tuple[Order, list[OrderLine]]:
        rng = self.rng
        number = self.next_order
        self.next_order += 1
        channel = preferred_channel if rng.random() < 0.75 else self.pick(self.channels, self.channel_cum)
        holidays = placed_at.month == 12 or (placed_at.month == 11 and placed_at.day >= 15)

        lines = []
        subtotal = Decimal("0")
        for _ in range(rng.choices((1, 2, 3, 4), weights=(66, 24, 8, 2))[0]):
            if holidays and rng.random() < 0.3:
                category = "gifts"
            elif rng.random() < 0.75:
                category = rng.choice(favourite)
            else:
                category = self.pick(self.categories, self.category_cum)
            product, price = rng.choice(self.products_by_category[category])
            quantity = rng.randint(5, 20) if wholesale else rng.choices((1, 2, 3), weights=(75, 18, 7))[0]
            subtotal += price * quantity
            lines.append(OrderLine(
                public_id=self.new_uuid(), product_id=product.pk, sku=product.sku, product_name=product.name,
                category=category, quantity=quantity, unit_price=price,
            ))
        discount = Decimal("0")
        if wholesale:
            discount = (subtotal * Decimal("0.15")).quantize(Decimal("0.01"))
        elif rng.random() < 0.12:
            discount = (subtotal * Decimal(rng.choice((5, 10, 15, 20))) / 100).quantize(Decimal("0.01"))
        total = subtotal - discount

        status, refunded, fulfilled_at = Order.Status.FULFILLED, Decimal("0"), placed_at
        if channel in ("online", "app", "phone"):
            fulfilled_at = placed_at + timedelta(hours=rng.randint(4, 96))
        roll = rng.random()
        if roll < 0.03:
            status, fulfilled_at = Order.Status.CANCELLED, None
        elif fulfilled_at > self.now:
            status, fulfilled_at = rng.choice((Order.Status.PLACED, Order.Status.PAID)), None
        elif roll < 0.05:
            status, refunded = Order.Status.REFUNDED, total
        elif roll < 0.08 and total >= Decimal("2.00"):
            # A partial refund: one line when there are several, otherwise part of the total.
            if len(lines) > 1:
                refunded = lines[-1].unit_price * lines[-1].quantity
            else:
                refunded = (total * Decimal(rng.randint(10, 50)) / 100).quantize(Decimal("0.01"))
            refunded = min(refunded, total - Decimal("0.01"))

        order = Order(
            public_id=self.new_uuid(), order_number=f"{ORDER_PREFIX}{number:09d}", source="", placed_at=placed_at,
            status=status, channel=channel, currency="USD", total=total, discount=discount,
            refunded_amount=refunded, fulfilled_at=fulfilled_at,
        )
        return order, lines

    def interaction_rows(self, language: str, acquired_at: datetime, orders: list, profile: str) -> list[Interaction]:
        rng = self.rng
        roll = rng.random()
        if roll >= 0.30:
            return []
        interactions = []
        for _ in range(2 if roll < 0.03 else 1):
            order = None
            if orders and rng.random() < 0.5:
                order, _ = rng.choice(orders)
                topic = rng.choice(ORDER_TOPICS)
                occurred_at = order.placed_at + timedelta(hours=rng.randint(2, 120))
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
                    occurred_at = orders[0][0].placed_at + timedelta(days=rng.randint(1, 5))
            occurred_at = min(occurred_at, self.now - timedelta(minutes=rng.randint(5, 600)))
            channels, direction, texts = INTERACTION_TOPICS[topic]
            subject, body = texts[language]
            product = rng.choice(self.products_by_category[rng.choice(self.categories)])[0].name
            values = {"order": order.order_number if order else "", "product": product}

            age_days = (self.now - occurred_at).days
            status, follow_up_on, resolved_at = Interaction.Status.RESOLVED, None, None
            if age_days < RECENT_DAYS and rng.random() < 0.7:
                status = rng.choice((Interaction.Status.OPEN, Interaction.Status.OPEN, Interaction.Status.WAITING))
                # Some overdue, some due today, the rest in the coming days.
                follow_up_on = self.today + timedelta(days=rng.choice(FOLLOW_UP_OFFSETS))
            else:
                resolved_at = occurred_at + timedelta(minutes=rng.randint(5, 3 * 24 * 60))
                resolved_at = min(resolved_at, self.now)
            interactions.append(Interaction(
                channel=rng.choice(channels), direction=direction, subject=subject.format(**values)[:200],
                body=body.format(**values), status=status,
                staff_id=rng.choices(self.staff_ids, weights=STAFF_WEIGHTS)[0],
                occurred_at=occurred_at, follow_up_on=follow_up_on, order=order, resolved_at=resolved_at,
            ))
        return interactions
