"""Staff roles and the partner API.

Partners and their keys are credentials: no role (Support, Marketing, Club managers) gets
any permission on them, not even view. Only superusers manage partners and keys in the
admin. Registering an empty grant keeps that decision visible next to the other apps' roles.
"""

from crm.roles import ROLES, register_role_permissions


def register() -> None:
    for role in ROLES:
        register_role_permissions(role, "api", {})
