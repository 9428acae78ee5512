from crm.roles import CLUB_MANAGERS, MARKETING, SUPPORT, register_role_permissions


def register() -> None:
    register_role_permissions(MARKETING, "campaigns", {
        "segment": ("view", "add", "change", "delete"), "segmentmember": ("view", "add", "delete"),
        # Marketing owns campaigns and automations; "change" on a campaign includes sending it.
        "campaign": ("view", "add", "change", "delete"), "campaignvariant": ("view", "add", "change", "delete"),
        "campaignevent": ("view",),  # the audit trail: written by the services only
        "automation": ("view", "add", "change"), "message": ("view",), "trackedlink": ("view",),
        "suppression": ("view", "add"), "inboundsms": ("view",),
    })
    register_role_permissions(CLUB_MANAGERS, "campaigns", {
        "segment": ("view",), "campaign": ("view",), "campaignvariant": ("view",), "campaignevent": ("view",),
        "automation": ("view",),
        "message": ("view",),
    })
    # Support reads the messages a customer got (their timeline); it cannot touch campaigns.
    register_role_permissions(SUPPORT, "campaigns", {"message": ("view",)})
