from crm.roles import CLUB_MANAGERS, MARKETING, SUPPORT, register_role_permissions


def register() -> None:
    register_role_permissions(SUPPORT, "feedback", {
        "survey": ("view",), "question": ("view",), "choice": ("view",),
        "invitation": ("view", "add"), "response": ("view",), "answer": ("view",),
        "returnrequest": ("view", "process_return"), "returnline": ("view",), "returnevent": ("view",),
    })
    register_role_permissions(MARKETING, "feedback", {
        "survey": ("view", "add", "change"), "question": ("view", "add", "change", "delete"),
        "choice": ("view", "add", "change", "delete"), "invitation": ("view", "add"), "response": ("view",),
        "answer": ("view",), "returnrequest": ("view",), "returnline": ("view",), "returnevent": ("view",),
    })
    register_role_permissions(CLUB_MANAGERS, "feedback", {
        "survey": ("view",), "response": ("view",), "answer": ("view",), "returnrequest": ("view",),
        "returnline": ("view",),
    })
