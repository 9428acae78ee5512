"""Health endpoints for load balancers and supervisors.

    /health/live/   the process is up and answers; touches nothing else (restart the instance when it fails)
    /health/ready/  the instance can serve: the database answers a query, the Celery broker accepts a
                    connection and every migration is applied (take it out of the pool when it fails)
    /health/        the same as /health/ready/ (what earlier versions answered, now truthful)

Readiness answers 200 with each check's result, or 503 naming each failing check. The answer holds fixed
codes only, never an exception's text (which may hold a host name or a password); the details go to the log.
"""

import logging
from pathlib import Path

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from config.celery import app as celery_app
from core import errors

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 2


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.warning("health: the database does not answer", exc_info=True)
        return "unreachable"
    return "ok"


def check_migrations() -> str:
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError:
        logger.warning("health: the applied migrations cannot be read", exc_info=True)
        return "unknown"
    if plan:
        logger.warning("health: %d migrations are not applied", len(plan))
        return "unapplied"
    return "ok"


def check_broker() -> str:
    try:
        if str(celery_app.conf.broker_url).startswith("filesystem://"):
            # kombu's filesystem transport "connects" without looking at its folders; a missing or
            # read-only queue folder is what makes publishing fail, so that is what is checked.
            options = celery_app.conf.broker_transport_options or {}
            for key in ("data_folder_in", "data_folder_out"):
                folder = Path(options.get(key) or ".")
                if not folder.is_dir():
                    logger.warning("health: the embedded broker's folder %s is missing", folder)
                    return "unreachable"
        with celery_app.connection_for_write(connect_timeout=BROKER_TIMEOUT_SECONDS) as broker:
            broker.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception:  # kombu and the transports raise many kinds (OSError, OperationalError, their own)
        logger.warning("health: the Celery broker does not answer", exc_info=True)
        return "unreachable"
    return "ok"


READINESS_CHECKS = {"database": check_database, "broker": check_broker, "migrations": check_migrations}


@never_cache
@require_safe
def live(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def ready(request):
    checks = {name: check() for name, check in READINESS_CHECKS.items()}
    failing = [name for name, result in checks.items() if result != "ok"]
    if not failing:
        return JsonResponse({"status": "ok", "checks": checks})
    response = JsonResponse({"status": "unavailable", "checks": checks, "failing": failing}, status=503)
    response["Retry-After"] = str(errors.retry_after_seconds())
    return response
