"""Migrations are history: they never import the project's own modules (whose code changes later),
and the model state knows every index the migrations create."""

import ast
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from core.indexes import PostgresOnlyIndex

ROOT = Path(__file__).resolve().parent.parent
# Schema building blocks a migration must name to rebuild the model state, as it names a
# library's field class; they hold no data or behaviour that could rewrite history. Field
# validators are named the same way (Django compares them by their import path) and only run
# on forms and full_clean(), never in a migration. Migration operations are the same kind of block (Django's own
# live in django.contrib.postgres.operations): core.migration_operations is changed by adding, never by editing.
ALLOWED = {"core.indexes", "core.migration_operations", "crm.validators"}


def project_packages() -> set[str]:
    """Top-level packages of this project (its apps and config), not Django's or a library's."""
    names = {"config"}
    for app in apps.get_app_configs():
        # A project app is a folder at the top of the repository; a virtualenv inside it (.venv/...) holds libraries.
        if Path(app.path).resolve().parent == ROOT:
            names.add(app.name.split(".")[0])
    return names


def migration_files() -> list[Path]:
    return sorted(path for path in ROOT.glob("*/migrations/*.py") if path.name != "__init__.py")


def imported_modules(path: Path) -> list[str]:
    modules = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.append(node.module)
    return modules


def test_the_scan_finds_the_migrations_and_the_apps():
    assert len(migration_files()) >= 10
    assert {"crm", "club", "feedback", "campaigns", "api"} <= project_packages()


@pytest.mark.parametrize("path", migration_files(), ids=lambda path: f"{path.parent.parent.name}/{path.name}")
def test_a_migration_imports_no_project_module(path):
    project = project_packages()

    offending = [module for module in imported_modules(path) if module.split(".")[0] in project and module not in ALLOWED]

    assert offending == [], f"{path.relative_to(ROOT)} imports {offending}: copy what it needs into the migration"


def test_the_default_automations_are_created_by_the_migrations(db):
    from campaigns.models import Automation

    assert set(Automation.objects.values_list("kind", flat=True)) >= {
        "win_back", "replenishment", "post_purchase", "survey_invitation", "welcome", "points_expiring", "birthday"}


def test_the_models_and_the_migrations_agree(db):
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    assert "No changes detected" in out.getvalue()


def declared_postgres_only_indexes():
    return [(model, index) for model in apps.get_app_config("crm").get_models()
            for index in model._meta.indexes if isinstance(index, PostgresOnlyIndex)]


def index_definition(name: str) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [name])
        row = cursor.fetchone()
    return row[0] if row else None


def test_the_indexes_built_in_raw_sql_are_declared_on_the_models():
    assert {index.name for _model, index in declared_postgres_only_indexes()} == {
        "crm_customer_last_order_sort", "crm_customer_search_name", "crm_customer_search_last_name",
        "crm_order_status_placed", "crm_interaction_occurred"}


@pytest.mark.postgres
def test_a_declared_index_builds_exactly_what_the_raw_sql_migration_built(db):
    for model, index in declared_postgres_only_indexes():
        built_by_migration = index_definition(index.name)
        assert built_by_migration is not None, index.name
        with connection.schema_editor(atomic=False) as editor:  # inside the test's transaction: rolled back
            editor.remove_index(model, index)
            assert index_definition(index.name) is None
            editor.add_index(model, index)

        assert index_definition(index.name) == built_by_migration


def test_sqlite_builds_none_of_them(db):
    if connection.vendor == "postgresql":
        pytest.skip("SQLite only")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        existing = {row[0] for row in cursor.fetchall()}
    assert existing.isdisjoint(index.name for _model, index in declared_postgres_only_indexes())
