"""crm's models, by subdomain; every name is importable from crm.models as before."""

from core.bounds import AMOUNT_VALIDATORS, MONEY, MONEY_SUM  # the sizes of money live there; MONEY is re-exported
from crm.models.customers import (
    SEARCH_NAME_LENGTH, ConsentChange, Customer, CustomerAccess, ErasureEvent, Tag,
)
from crm.models.interactions import Interaction
from crm.models.orders import Order, OrderLine, Product
from crm.models.recommendations import Recommendation

__all__ = [
    "AMOUNT_VALIDATORS", "MONEY", "MONEY_SUM", "SEARCH_NAME_LENGTH", "ConsentChange", "Customer", "CustomerAccess",
    "ErasureEvent", "Interaction", "Order", "OrderLine", "Product", "Recommendation", "Tag",
]
