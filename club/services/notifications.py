"""Messages the club asks the campaigns app to send (welcome, birthday, points expiring).

The club does not send email or SMS itself: it records a `MemberNotice` per
(member, kind, key) and, after commit, sends `club.signals.member_notification`. The
unique row makes each message go out once however often a job runs; the receiver
(campaigns) picks the channel and checks consent.
"""

from django.db import IntegrityError, transaction

from club import signals
from club.models import Membership, MemberNotice
from club.services.common import after_commit


def notice_send_once(*, member_id: int, kind: str, keys: list[str], context: dict) -> bool:
    """Record the notice under each key not seen before; notify once if any was new."""
    new_keys = []
    with transaction.atomic():
        for key in keys:
            try:
                with transaction.atomic():
                    MemberNotice.objects.create(member_id=member_id, kind=kind, key=key, context=context)
            except IntegrityError:
                continue
            new_keys.append(key)
        if new_keys:
            after_commit(_send, member_id, kind, {**context, "keys": new_keys})
    return bool(new_keys)


def _send(member_id: int, kind: str, context: dict) -> None:
    member = Membership.objects.select_related("customer", "tier").get(pk=member_id)
    signals.member_notification.send(sender=Membership, member=member, kind=kind, context=context)
