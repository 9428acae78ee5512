"""Small typed readers for environment variables.

Each one fails loudly, naming the variable, so a bad deployment stops at start-up
instead of running with a silently wrong value.
"""

import os
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use 1/0, true/false, yes/no or on/off.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}.")
    return value


def env_decimal(name: str, default: str, *, minimum: str | None = None) -> Decimal:
    raw = os.environ.get(name)
    if raw is None:
        return Decimal(default)
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a decimal number (e.g. 0.05).") from None
    if not value.is_finite():
        raise ImproperlyConfigured(f"{name}={raw!r} is not a decimal number (e.g. 0.05).")
    if minimum is not None and value < Decimal(minimum):
        raise ImproperlyConfigured(f"{name}={raw} must be at least {minimum}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_fraction(name: str, default: float, *, low: float = 0.0, high: float = 1.0) -> float:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from None
    if not low <= value <= high:
        raise ImproperlyConfigured(f"{name}={raw!r} must be between {low} and {high}.")
    return value


def env_days_or_forever(name: str, default: int) -> int:
    """A number of days where 0 or an empty value means "keep forever" (returned as 0)."""
    if not os.environ.get(name, str(default)).strip():
        return 0
    return env_int(name, default, minimum=0)


def database_from_url(url: str, *, conn_max_age: int) -> dict:
    """DATABASES["default"] for a sqlite:/// or postgres:// URL; anything else is refused."""
    try:
        config = dj_database_url.parse(url, conn_max_age=conn_max_age, conn_health_checks=True)
    except Exception as exc:  # dj-database-url raises several types for a bad URL
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
    engine = config.get("ENGINE", "")
    if engine == "django.db.backends.sqlite3":
        # WAL and IMMEDIATE transactions let the web process and the Celery worker
        # share the file without "database is locked" errors under light load.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    elif engine != "django.db.backends.postgresql":
        raise ImproperlyConfigured(f"DATABASE_URL must point to SQLite or PostgreSQL, not {engine or url!r}.")
    return config


def email_from_url(url: str) -> dict:
    """The EMAIL_* settings for console://, file:///path, locmem:// or smtp[s]://user:password@host:port."""
    parts = urlsplit(url)
    if parts.scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parts.scheme == "locmem":
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if parts.scheme == "file":
        return {"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend", "EMAIL_FILE_PATH": parts.path}
    if parts.scheme in ("smtp", "smtps", "smtp+tls"):
        try:
            port = parts.port or (465 if parts.scheme == "smtps" else 587)
        except ValueError:
            raise ImproperlyConfigured(f"EMAIL_URL has an invalid port: {url!r}") from None
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": parts.hostname or "localhost",
            "EMAIL_PORT": port,
            "EMAIL_HOST_USER": unquote(parts.username or ""),
            "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
            "EMAIL_USE_SSL": parts.scheme == "smtps",
            "EMAIL_USE_TLS": parts.scheme == "smtp+tls",
        }
    raise ImproperlyConfigured(f"EMAIL_URL scheme {parts.scheme!r} is not one of console, file, locmem, smtp, smtps, smtp+tls.")


def filesystem_broker_folders(var_dir: Path) -> dict:
    """Transport options of kombu's filesystem broker under var_dir (the folders are made by config.celery)."""
    return {
        "data_folder_in": str(var_dir / "celery" / "queue"),
        "data_folder_out": str(var_dir / "celery" / "queue"),
        "processed_folder": str(var_dir / "celery" / "processed"),
        "control_folder": str(var_dir / "celery" / "control"),
        "store_processed": False,
    }
