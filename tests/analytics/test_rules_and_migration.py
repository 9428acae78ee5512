"""What analytics adds to lower apps without their importing it: the RFM, P(alive) and CLV rule
fields (through core's rule field registry), and the models it took over from crm and campaigns with
their rows."""

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from campaigns import rules
from tests.factories import CustomerFactory


@pytest.mark.django_db
def test_the_rfm_p_alive_and_clv_fields_reach_the_rule_compiler_through_the_registry():
    names = [field["name"] for field in rules.field_catalogue()]
    assert names[-3:] == ["rfm_segment", "p_alive", "predicted_clv"]  # analytics is the last app to contribute
    rfm = next(field for field in rules.field_catalogue() if field["name"] == "rfm_segment")
    assert "champions" in rfm["choices"] and rfm["kind"] == "choice"
    with pytest.raises(rules.RuleError, match="not a probability"):
        rules.validate({"all": [{"field": "p_alive", "op": "lt", "value": 2}]})


@pytest.mark.django_db
def test_a_low_p_alive_selects_the_customer():
    from analytics.models import CustomerScore

    low, high = CustomerFactory(), CustomerFactory()
    CustomerScore.objects.create(customer=low, p_alive=0.1, rfm_segment="lost")
    CustomerScore.objects.create(customer=high, p_alive=0.9, rfm_segment="champions")
    assert list(rules.customers_matching({"all": [{"field": "p_alive", "op": "lt", "value": 0.5}]})) == [low]
    assert list(rules.customers_matching({"all": [{"field": "rfm_segment", "op": "eq", "value": "champions"}]})) == [high]


@pytest.mark.django_db
def test_the_predicted_clv_selects_the_valuable_customers():
    from analytics.models import CustomerScore

    cheap, valuable = CustomerFactory(), CustomerFactory()
    CustomerFactory()  # never scored: no CLV
    CustomerScore.objects.create(customer=cheap, predicted_clv="12.50")
    CustomerScore.objects.create(customer=valuable, predicted_clv="900.00")
    assert list(rules.customers_matching({"all": [{"field": "predicted_clv", "op": "gte", "value": 100}]})) == [valuable]
    assert rules.customers_matching({"all": [{"field": "predicted_clv", "op": "is_set"}]}).count() == 2


OLD = [("crm", "0008_jobrun"), ("campaigns", "0003_analytics"), ("analytics", None)]


@pytest.mark.django_db(transaction=True)
def test_the_moved_models_keep_their_rows_and_their_permissions():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(OLD)
    old = MigrationExecutor(connection)._create_project_state(with_applied_migrations=True).apps
    customer = old.get_model("crm", "Customer").objects.create(first_name="Old", email="old@example.com")
    old.get_model("crm", "CustomerScore").objects.create(customer=customer, p_alive=0.3, rfm_segment="lost")
    old.get_model("campaigns", "SegmentMetricSnapshot").objects.create(period="quarter", start=date(2026, 1, 1),
                                                                       end=date(2026, 4, 1), window_days=90, retained=7)
    ContentType = old.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="analytics").delete()  # as before the upgrade (the test database has them)
    score_type = ContentType.objects.get_or_create(app_label="crm", model="customerscore")[0]
    Permission = old.get_model("auth", "Permission")
    permission = Permission.objects.get_or_create(content_type=score_type, codename="view_customerscore",
                                                  defaults={"name": "Can view customer score"})[0]

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(latest)

    from analytics.models import CustomerScore, SegmentMetricSnapshot

    assert CustomerScore._meta.db_table == "analytics_customerscore"
    assert CustomerScore.objects.get(customer_id=customer.pk).p_alive == 0.3
    assert SegmentMetricSnapshot.objects.get().retained == 7
    from django.contrib.auth.models import Permission as CurrentPermission

    assert CurrentPermission.objects.get(pk=permission.pk).content_type.app_label == "analytics"
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    assert "crm_customerscore" not in tables and "campaigns_segmentmetricsnapshot" not in tables
