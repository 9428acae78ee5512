"""The tables every order inserts into carry no index another one already serves: each index is one more entry to
write for every order, ledger row, tier change and webhook delivery (club/migrations/0011 and its neighbours)."""

import pytest
from django.db import connection

# Inserted into for every order (whichever road: the order, its ledger row, its tier change, its webhook deliveries).
HOT_TABLES = ["crm_order", "club_pointstransaction", "club_tierchange", "api_webhookdelivery"]


def _indexes(table: str) -> dict[str, dict]:
    with connection.cursor() as cursor:
        return {name: details for name, details in connection.introspection.get_constraints(cursor, table).items()
                if details["index"] or details["unique"]}


@pytest.mark.django_db
@pytest.mark.parametrize("table", HOT_TABLES)
def test_no_index_is_the_leading_part_of_another(table):
    indexes = _indexes(table)
    redundant = [
        (name, other) for name, details in indexes.items() for other, wider in indexes.items()
        if name != other and not details["unique"] and not details["primary_key"] and details["columns"]
        and details["columns"] == wider["columns"][:len(details["columns"])]
        and not details.get("definition") and not wider.get("definition")  # an index on expressions serves other look-ups
        and (len(wider["columns"]) > len(details["columns"]) or wider["unique"])
    ]

    assert redundant == [], f"{table}: {redundant} (each pair: an index, and the one that already serves its look-ups)"


@pytest.mark.django_db
def test_the_ledger_keys_stay_unique_under_their_declared_names():
    ledger = _indexes("club_pointstransaction")
    pending = _indexes("club_pendingpoints")

    assert ledger["club_points_idempotency_key"]["unique"] and ledger["club_points_idempotency_key"]["columns"] == ["idempotency_key"]
    assert pending["club_pending_idempotency_key"]["unique"]
    # Nothing else on the key alone (unique=True had added a LIKE index on PostgreSQL).
    assert [name for name, details in ledger.items() if details["columns"] == ["idempotency_key"]] == ["club_points_idempotency_key"]
