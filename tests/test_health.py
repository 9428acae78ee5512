"""The health endpoints tell a load balancer the truth: liveness needs nothing but the process, readiness
(and /health/, its first name) answers 503 naming each failing part: database, broker, migrations."""

from pathlib import Path

import pytest
from django.conf import settings
from django.db import OperationalError, connection
from django.db.migrations.executor import MigrationExecutor

from config.celery import app as celery_app

pytestmark = pytest.mark.django_db

SECRET = "password=hunter2 host=db.internal"


@pytest.fixture
def database_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError(f"could not connect to server: {SECRET}")

    monkeypatch.setattr(connection, "cursor", refuse)


@pytest.fixture
def embedded_broker(monkeypatch, tmp_path):
    folders = {key: str(tmp_path / "celery" / name) for key, name in
               (("data_folder_in", "queue"), ("data_folder_out", "queue"), ("processed_folder", "processed"))}
    for folder in folders.values():
        Path(folder).mkdir(parents=True, exist_ok=True)
    monkeypatch.setitem(celery_app.conf, "broker_url", "filesystem://")
    monkeypatch.setitem(celery_app.conf, "broker_transport_options", {**folders, "store_processed": False})
    return tmp_path / "celery"


def test_it_is_ready_when_the_database_the_broker_and_the_migrations_are(client, embedded_broker):
    for url in ("/health/ready/", "/health/"):
        response = client.get(url)

        assert response.status_code == 200
        assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok", "migrations": "ok"}}
        assert "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize("url", ["/health/ready/", "/health/"])
def test_it_is_not_ready_without_the_database_and_says_nothing_of_the_error(client, embedded_broker, database_down, url):
    response = client.get(url)

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "unreachable"
    assert "database" in body["failing"]
    assert body["checks"]["broker"] == "ok"
    assert response["Retry-After"] == str(settings.RETRY_AFTER_SECONDS)
    assert "hunter2" not in response.content.decode() and "Traceback" not in response.content.decode()


def test_it_is_not_ready_when_the_broker_does_not_answer(client, monkeypatch):
    monkeypatch.setitem(celery_app.conf, "broker_url", "redis://:hunter2@127.0.0.1:1/0")  # nothing listens on port 1

    response = client.get("/health/ready/")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "failing": ["broker"],
                               "checks": {"database": "ok", "broker": "unreachable", "migrations": "ok"}}
    assert "hunter2" not in response.content.decode()


def test_it_is_not_ready_when_the_embedded_brokers_queue_folder_is_gone(client, embedded_broker):
    (embedded_broker / "queue").rmdir()

    response = client.get("/health/ready/")

    assert response.status_code == 503
    assert response.json()["failing"] == ["broker"]


def test_it_is_not_ready_while_a_migration_is_unapplied(client, embedded_broker, monkeypatch):
    graph = MigrationExecutor(connection).loader.graph
    last = graph.nodes[next(node for node in graph.leaf_nodes() if node[0] == "core")]
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets, clean_start=False: [(last, False)])

    response = client.get("/health/ready/")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "failing": ["migrations"],
                               "checks": {"database": "ok", "broker": "ok", "migrations": "unapplied"}}


def test_it_is_alive_without_touching_the_database(client, database_down, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/health/live/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("url", ["/health/live/", "/health/ready/"])
def test_it_refuses_writes(client, url):
    assert client.post(url).status_code == 405


def test_a_load_balancer_probing_over_plain_http_gets_the_answer_not_a_redirect(client, settings, embedded_broker):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/health/live/").status_code == 200
    assert client.get("/health/ready/").status_code == 200
    assert client.get("/admin/").status_code == 301  # everything else still goes to https
