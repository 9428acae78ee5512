"""One registry class behind every extension point, filled by each app's contributions module (issue 13)."""

from importlib import import_module
from importlib.util import find_spec

import pytest
from django.apps import apps

from core import registry as core_registry
from core.audit import history_source_registry
from core.customers import loyalty_condition_registry, search_extension_registry
from core.demo import demo_step_registry
from core.jobs import job_registry
from core.panels import admin_action_registry, list_columns_registry, panel_registry
from core.privacy import eraser_registry, exporter_registry
from core.registry import AlreadyRegistered, Registry
from core.roles import role_registry
from core.rule_fields import RuleField, rule_field_registry
from core.timeline import timeline_registry

PROJECT_APPS = ("core", "crm", "club", "feedback", "campaigns", "analytics", "api")
EVERY_REGISTRY = (
    history_source_registry, loyalty_condition_registry, search_extension_registry, demo_step_registry, job_registry,
    admin_action_registry, panel_registry, eraser_registry, exporter_registry, role_registry, rule_field_registry,
    timeline_registry, list_columns_registry,
)


def test_it_keeps_items_in_registration_order_and_finds_them_by_key():
    things = Registry("things")
    things.register("b", 2)
    things.register("a", 1)

    assert list(things) == ["b", "a"] and list(things.values()) == [2, 1]
    assert things["a"] == 1 and things.get("c") is None and "b" in things and len(things) == 2


def test_it_refuses_a_key_registered_twice():
    things = Registry("things")
    things.register("a", 1)

    with pytest.raises(AlreadyRegistered, match="'a' is already registered"):
        things.register("a", 2)
    assert things["a"] == 1


def test_an_unknown_key_names_the_registered_ones():
    things = Registry("things")
    things.register("a", 1)

    with pytest.raises(KeyError, match="registered: a"):
        things["zzz"]


def test_override_swaps_the_contents_for_the_block_and_restores_them():
    things = Registry("things")
    things.register("a", 1)

    with things.override({"x": 9}, y=8):
        assert dict(things) == {"x": 9, "y": 8}
        things.register("z", 7)  # registering inside the block touches only the swapped contents
    assert dict(things) == {"a": 1}


def test_override_restores_the_contents_when_the_block_raises():
    things = Registry("things")
    things.register("a", 1)

    with pytest.raises(RuntimeError), things.override({}):
        raise RuntimeError
    assert dict(things) == {"a": 1}


def test_override_can_add_to_or_keep_part_of_the_contents():
    things = Registry("things")
    things.register("a", 1)
    things.register("b", 2)

    with things.override({**things, "c": 3}):
        assert list(things) == ["a", "b", "c"]
    with things.override({"b": things["b"]}):
        assert list(things) == ["b"]
    assert list(things) == ["a", "b"]


def test_discovery_runs_once(monkeypatch):
    calls = []
    monkeypatch.setattr(core_registry, "autodiscover_modules", lambda name: calls.append(name))

    core_registry.contributions_discover()

    assert calls == []  # CoreConfig.ready() has discovered already; a second call registers nothing twice


def test_discovery_finds_each_apps_contributions():
    assert "core.job_runs_purge" in job_registry
    assert {"crm.retention_interactions", "club.birthdays", "feedback.post_purchase_invitations",
            "campaigns.dispatch", "crm.rfm_scores", "api.purge"} <= set(job_registry)
    assert {grant.app_label for grant in role_registry.values()} >= {"crm", "club", "feedback", "campaigns", "analytics", "api"}
    assert list(timeline_registry)[:3] == ["interaction", "order", "consent"]  # crm's first: discovery follows INSTALLED_APPS
    assert {"points", "coupon", "return", "message"} <= set(timeline_registry)
    assert list(exporter_registry)[:1] == ["customer"] and {"club", "feedback", "campaigns"} <= set(exporter_registry)
    assert list(eraser_registry) == ["crm", "club", "feedback", "campaigns"]  # run in reverse: crm's last
    assert list(demo_step_registry) == ["crm", "club", "feedback", "campaigns", "analytics"]
    assert list(history_source_registry) == ["customer", "membership", "coupon", "return_request"]
    assert "club_member_card" in panel_registry
    assert "club.member_number" in search_extension_registry and "club.top_tiers" in loyalty_condition_registry and "analytics.rfm" in loyalty_condition_registry
    assert admin_action_registry["add_to_static_segment"].model == "crm.customer"
    assert list_columns_registry["analytics.segment_retention"].model == "campaigns.segment"


@pytest.mark.parametrize("label", PROJECT_APPS)
def test_every_project_app_declares_its_contributions_in_one_module_or_contributes_nothing(label):
    """An app with a contributions module fills registries only from it; an app without one contributes nothing."""
    config = apps.get_app_config(label)
    if find_spec(f"{config.name}.contributions") is not None:
        import_module(f"{config.name}.contributions")
        return
    owned = [f"{name}" for reg in EVERY_REGISTRY for name, item in reg.items()
             if name.split(".")[0] == label or getattr(item, "__module__", "").split(".")[0] == label]
    assert owned == [], f"{label} contributes {owned} without a contributions module"


def test_the_project_apps_are_installed_with_core_first():
    labels = [config.label for config in apps.get_app_configs() if config.label in PROJECT_APPS]
    assert labels == list(PROJECT_APPS)


def test_every_contributed_callable_belongs_to_a_project_app():
    for reg in (timeline_registry, exporter_registry, eraser_registry, panel_registry):
        for name, item in reg.items():
            assert item.__module__.split(".")[0] in PROJECT_APPS, (reg, name)


def test_a_rule_field_checks_its_kind_and_operators():
    build = lambda field, op, value, now: None  # noqa: E731
    RuleField(name="age", label="Age", kind="number", operators=("lt", "gt"), build_q=build)

    with pytest.raises(ValueError, match="unknown kind"):
        RuleField(name="age", label="Age", kind="colour", operators=("lt",), build_q=build)
    with pytest.raises(ValueError, match="unknown operators"):
        RuleField(name="age", label="Age", kind="number", operators=("near",), build_q=build)
