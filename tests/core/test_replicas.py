"""Which database a read goes to (core.replicas): the replica only inside a report, never inside a transaction,
never when it is not configured or not usable. The real replica is exercised in tests/integration/test_replica.py."""

import time

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from core import replicas
from core.replicas import REPLICA, ReplicaRouter, read_alias, replica_page, replica_reads


@pytest.fixture
def replica(settings):
    """A replica alias configured (never connected to: its verdict is set by the test)."""
    connections.settings[REPLICA] = {**connections[DEFAULT_DB_ALIAS].settings_dict}
    settings.DATABASE_REPLICA_CHECK_SECONDS = 3600

    def verdict(usable: bool):
        replicas._verdict[REPLICA] = (time.monotonic(), usable)

    yield verdict
    del connections.settings[REPLICA]
    replicas.replica_verdict_forget()


def test_it_reads_the_primary_when_no_replica_is_configured():
    with replica_reads():
        assert read_alias() == DEFAULT_DB_ALIAS


@pytest.mark.django_db(transaction=True)
def test_it_reads_the_replica_only_inside_a_report(replica):
    replica(True)
    assert read_alias() == DEFAULT_DB_ALIAS
    with replica_reads():
        assert read_alias() == REPLICA
        assert ReplicaRouter().db_for_read(None) == REPLICA
        assert ReplicaRouter().db_for_write(None) == DEFAULT_DB_ALIAS
    assert read_alias() == DEFAULT_DB_ALIAS


@pytest.mark.django_db(transaction=True)
def test_a_read_inside_a_transaction_stays_on_the_primary_to_see_its_own_writes(replica):
    replica(True)
    with replica_reads(), transaction.atomic():
        assert read_alias() == DEFAULT_DB_ALIAS


def test_an_unusable_replica_sends_reports_to_the_primary(replica):
    replica(False)
    with replica_reads():
        assert read_alias() == DEFAULT_DB_ALIAS


def test_it_never_migrates_the_replica():
    assert ReplicaRouter().allow_migrate(REPLICA, "crm") is False
    assert ReplicaRouter().allow_migrate(DEFAULT_DB_ALIAS, "crm") is True



def test_a_report_page_renders_its_template_inside_the_report(replica):
    """A TemplateResponse renders after the view returns: its template's reads must still go to the replica."""
    replica(True)
    seen = []

    class LateResponse:
        is_rendered = False

        def render(self):
            seen.append(read_alias())

    replica_page(lambda request: LateResponse())(None)
    assert seen == [REPLICA]
