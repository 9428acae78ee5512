"""Events crm sends so that the apps above it can react without crm importing them.

They are sent *inside* the transaction of the write that caused them: a receiver that
writes (the club awarding or reversing points) commits or rolls back together with
the order. Receivers that talk to the outside world must use transaction.on_commit.
"""

from django.dispatch import Signal

# sender=Order, order_ids=[int, ...], source=str, orders=[<Order>, ...] | None: a batch of new orders, whichever road
# it came by (the API, orders/bulk/, a file import); a batch of one for a single order. `orders` are the rows just
# written when the road holds them (the API's), so a receiver need not read them again: their lines (`lines.all()`)
# and, when the road held it (OrderInput.customer), their customer (`customer`, at least its public id) come with
# them; a file's import names ids only.
orders_created = Signal()
# sender=Order, order=<Order>, previous_status=str, previous_refunded=Decimal, by=<User|None>,
# refund_lines={order_line_id: quantity} | None (a refund that names the lines it refunds)
order_changed = Signal()
# sender=Interaction, interaction=<Interaction>, by=<User|None>
interaction_resolved = Signal()
# sender=Customer, customer=<Customer>
customer_created = Signal()
