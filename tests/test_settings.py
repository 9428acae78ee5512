"""Start-up refuses a bad configuration with a message that names the variable; importing the
settings writes nothing; every variable they read is documented in .env.example."""

import ast
import os
import re
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
        ("PHONENUMBER_DEFAULT_REGION", "Iran", "PHONENUMBER_DEFAULT_REGION='IRAN' is not a region code"),
        ("DATABASE_REPLICA_URL", "sqlite:///replica.sqlite3", "DATABASE_REPLICA_URL must point to a PostgreSQL standby"),
        ("DATABASE_REPLICA_MAX_LAG_SECONDS", "soon", "DATABASE_REPLICA_MAX_LAG_SECONDS='soon' is not an integer"),
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


def test_it_reads_a_postgres_url(tmp_path):
    result = start(tmp_path, DATABASE_URL="postgres://u:p@db.example:5433/crm", DEBUG="0", SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "django.db.backends.postgresql"


def test_importing_the_settings_creates_no_file_or_folder(tmp_path):
    var_dir = tmp_path / "var"

    result = start(var_dir)

    assert result.returncode == 0, result.stderr
    assert not var_dir.exists()
    assert list(tmp_path.iterdir()) == []


def test_it_reads_the_development_key_that_make_run_wrote(tmp_path):
    (tmp_path / "secret_key").write_text("k" * 50 + "\n")
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG", "SECRET_KEY")}
    environment.update({"DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(tmp_path)})

    result = subprocess.run([sys.executable, "-c", "from django.conf import settings; print(settings.SECRET_KEY)"],
                            cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "k" * 50


@pytest.mark.integration
def test_the_make_run_path_prepares_var_migrates_and_bootstraps(tmp_path):
    """What `make run` does before starting the processes, in a fresh VAR_DIR (nested, so that
    nothing exists yet): the local files, then migrate, then bootstrap_dev, then the worker's
    Celery configuration."""
    var_dir = tmp_path / "deep" / "var"
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG", "SECRET_KEY", "CELERY_BROKER_URL")}
    environment.update({"DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(var_dir)})

    def run(*args):
        result = subprocess.run([sys.executable, *args], cwd=ROOT, env=environment, capture_output=True, text=True,
                                timeout=600)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    run("-m", "config.local_files")
    key = (var_dir / "secret_key").read_text()
    assert len(key) >= 50
    assert (var_dir / "secret_key").stat().st_mode & 0o777 == 0o600
    run("manage.py", "migrate", "--no-input", "-v", "0")
    output = run("manage.py", "bootstrap_dev", "--customers", "5")
    assert "username: admin" in output
    run("-c", "import django; django.setup(); from config.celery import app; app.conf.broker_url")

    assert (var_dir / "db.sqlite3").exists()
    assert (var_dir / "celery" / "queue").is_dir() and (var_dir / "celery" / "processed").is_dir()
    run("-m", "config.local_files")  # a second run keeps the key: sessions survive restarts
    assert (var_dir / "secret_key").read_text() == key


def test_axes_is_the_last_middleware_and_the_api_call_log_is_installed(settings):
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"
    assert settings.MIDDLEWARE.count("api.middleware.ApiCallLogMiddleware") == 1


def _variables_read_by_the_settings() -> set[str]:
    """Names passed to the env_* readers (config.env) or os.environ in config/settings.py."""
    tree = ast.parse((ROOT / "config" / "settings.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            function = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if function.startswith("env_") or (function in ("getenv", "get") and "environ" in ast.unparse(node.func)):
                names.add(node.args[0].value)
        if isinstance(node, ast.Subscript) and "environ" in ast.unparse(node.value) and isinstance(node.slice, ast.Constant):
            names.add(node.slice.value)
    return names


def test_every_variable_the_settings_read_is_documented_in_env_example():
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), flags=re.MULTILINE))
    read = _variables_read_by_the_settings()

    assert len(read) > 50  # the parser still finds them
    assert sorted(read - documented) == []


def test_it_prints_no_library_banner_on_command_output(tmp_path):
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG", "SECRET_KEY")}
    environment.update({"DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(tmp_path)})
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=environment,
                            capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    assert "AXES" not in result.stdout + result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


def test_it_still_logs_the_lockout_warnings_of_axes():
    import logging

    assert not logging.getLogger("axes.apps").isEnabledFor(logging.INFO)  # the start-up banner
    for name in ("axes.handlers.database", "axes.handlers.cache", "axes.checks"):
        assert logging.getLogger(name).isEnabledFor(logging.WARNING)


@pytest.mark.parametrize("value, region", [(None, "IR"), ("ae", "AE"), ("", None)])
def test_national_phone_numbers_are_read_in_iran_unless_told_otherwise(tmp_path, value, region):
    environment = {k: v for k, v in os.environ.items() if k != "PHONENUMBER_DEFAULT_REGION"}
    if value is not None:
        environment["PHONENUMBER_DEFAULT_REGION"] = value
    environment.update({"DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(tmp_path)})
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.PHONENUMBER_DEFAULT_REGION)"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(region)
