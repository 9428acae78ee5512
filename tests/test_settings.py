"""Start-up refuses a bad configuration with a message that names the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def start(tmp_path, **env):
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG", "SECRET_KEY")}
    environment.update({"DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60,
    )


@pytest.mark.parametrize(
    "variable, value, message",
    [
        ("DEBUG", "maybe", "DEBUG='maybe' is not a boolean"),
        ("DATABASE_URL", "mysql://x@y/z", "DATABASE_URL must point to SQLite or PostgreSQL"),
        ("DATABASE_URL", "nonsense", "DATABASE_URL"),
        ("CONN_MAX_AGE", "-5", "CONN_MAX_AGE=-5 must be at least 0"),
        ("CRM_ACTIVITY_WINDOW_DAYS", "ninety", "CRM_ACTIVITY_WINDOW_DAYS='ninety' is not an integer"),
        ("TIME_ZONE", "Mars/Olympus", "TIME_ZONE='Mars/Olympus' is not a known time zone"),
        ("LANGUAGE_CODE", "xx", "LANGUAGE_CODE='xx'"),
        ("CELERY_BROKER_URL", "kafka://x", "CELERY_BROKER_URL='kafka://x'"),
        ("EMAIL_URL", "pigeon://coop", "EMAIL_URL scheme 'pigeon'"),
    ],
)
def test_it_refuses_a_bad_value_naming_the_variable(tmp_path, variable, value, message):
    result = start(tmp_path, **{variable: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_it_requires_a_secret_key_when_debug_is_off(tmp_path):
    result = start(tmp_path, DEBUG="off")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_the_defaults_run_on_a_laptop_with_no_services(tmp_path):
    result = start(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "django.db.backends.sqlite3"
    assert (tmp_path / "secret_key").exists()


def test_it_reads_a_postgres_url(tmp_path):
    result = start(tmp_path, DATABASE_URL="postgres://u:p@db.example:5433/crm", DEBUG="0", SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "django.db.backends.postgresql"
