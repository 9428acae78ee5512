"""Events of feedback, for the apps above it (campaigns sends invitations, partners get webhooks).

Sent after commit: receivers may talk to the outside world.
"""

from django.dispatch import Signal

# sender=Invitation, invitation=<Invitation>, token=str (the only moment the raw token exists)
invitation_created = Signal()
# sender=Response, response=<Response>  (sent inside the transaction)
response_submitted = Signal()
# sender=ReturnRequest, return_request=<ReturnRequest>  (after commit, on every state change)
return_updated = Signal()
