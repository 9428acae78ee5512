"""What each staff role may do in the club (registered with crm.roles)."""

from crm.roles import CLUB_MANAGERS, MARKETING, SUPPORT, register_role_permissions

READ_ONLY = ("view",)
EDIT = ("view", "add", "change", "delete")


def register() -> None:
    register_role_permissions(CLUB_MANAGERS, "club", {
        "tier": EDIT,
        "earningrule": EDIT,
        "offer": EDIT,
        "coupon": ("view", "add", "change"),
        "couponredemption": READ_ONLY,
        "membership": ("view", "add", "change", "adjust_points", "override_tier"),
        "pointstransaction": READ_ONLY,
        "pendingpoints": READ_ONLY,
        "tierchange": READ_ONLY,
        "referral": ("view", "add"),
        "birthdayreward": READ_ONLY,
        "membernotice": READ_ONLY,
    })
    # Support answers members' questions and enrols them; reads the rest.
    register_role_permissions(SUPPORT, "club", {
        "membership": ("view", "add"),
        "coupon": READ_ONLY,
        "couponredemption": READ_ONLY,
        "pointstransaction": READ_ONLY,
        "pendingpoints": READ_ONLY,
        "tierchange": READ_ONLY,
        "tier": READ_ONLY,
        "offer": READ_ONLY,
        "referral": READ_ONLY,
        "birthdayreward": READ_ONLY,
    })
    # Marketing plans campaigns around the club: reads everything, changes nothing, adjusts no points.
    register_role_permissions(MARKETING, "club", {
        model: READ_ONLY for model in (
            "membership", "tier", "earningrule", "offer", "coupon", "couponredemption", "pointstransaction",
            "pendingpoints", "tierchange", "referral", "birthdayreward",
        )
    })
