"""Everything the partner API contributes to the platform's registries (core), in one place.

Partners and their keys are credentials: no role (Support, Marketing, Club managers) gets any
permission on them, not even view. Only superusers manage partners and keys in the admin.
Declaring an empty grant keeps that decision visible next to the other apps' roles.
"""

from api import jobs
from core.jobs import Job, job_registry
from core.roles import ROLES, RoleGrant, role_registry

for role in ROLES:
    role_registry.register(f"api.{role}", RoleGrant(role, "api", {}))

job_registry.register("api.purge", Job(
    name="api.purge", func=jobs.purge, schedule={"minute": "40", "hour": "3"},
    description="Delete stored Idempotency-Key responses past API_IDEMPOTENCY_TTL_HOURS, "
                "API call log rows past API_CALL_LOG_DAYS and finished webhook deliveries past "
                "API_WEBHOOK_KEEP_DAYS.",
))
job_registry.register("api.webhooks_sweep", Job(
    name="api.webhooks_sweep", func=jobs.webhooks_sweep, schedule={"minute": "*"},
    description="Queue the webhook deliveries that are due: retries whose backoff is over, and "
                "deliveries that could not be queued (broker down) or whose task was lost.",
))
