"""What a message's source does once its messages are sent, declared per source.

A message comes from a campaign or from an automation of some kind; some of those sources
have work to do when their messages go out. Each declares it here as `SourceHooks`, keyed by
`Message.source_kind` ("campaign" or the automation's kind):
- `forget`: context keys dropped in the same UPDATE that marks a message sent (single-use
  secrets such as a survey link's raw token, which the lower app keeps only hashed);
- `after_send(messages)`: called once per sending batch with that source's sent messages.

The sender knows nothing about any source's context keys; it only looks up the hooks.

Why the hooks are declared here, and not registered by feedback: feedback sits below campaigns
(core <- crm <- club <- feedback <- campaigns), so feedback may never import campaigns, and a
registry it filled would need exactly that import. Campaigns, the higher app, already calls into
feedback (it turns feedback's `invitation_created` signal into a message in
`services.automations.on_invitation_created`), so the code that writes the invitation's context
keys and the hook that reads them back live in campaigns, side by side, and call down into
feedback's public service. A plain mapping, filled where it is defined: nothing registers itself
as a side effect of an import.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from campaigns.models import Automation, Message
from feedback.services import invitation_mark_sent

# The context keys of a survey invitation's message (written by on_invitation_created).
SURVEY_URL = "survey_url"
INVITATION_ID = "invitation_id"


@dataclass(frozen=True)
class SourceHooks:
    forget: tuple[str, ...] = ()
    after_send: Callable[[list[Message]], None] | None = None


NO_HOOKS = SourceHooks()


def invitations_mark_sent(messages: list[Message]) -> None:
    """Feedback records when each invitation went out (its reminders and response rates count from it)."""
    invited = [message for message in messages if (message.context or {}).get(INVITATION_ID)]
    if invited:
        invitation_mark_sent(invitation_ids=[message.context[INVITATION_ID] for message in invited],
                             at=max(message.sent_at for message in invited))


# A post-purchase message carries the survey invitation of its order when feedback created one.
SURVEY_INVITATION_HOOKS = SourceHooks(forget=(SURVEY_URL,), after_send=invitations_mark_sent)

# The one-time code of a club enrolment (campaigns.services.addressed): kept hashed by the API, here only until sent.
CONFIRMATION_CODE = "confirmation_code"

SOURCE_HOOKS: dict[str, SourceHooks] = {
    Automation.Kind.SURVEY_INVITATION: SURVEY_INVITATION_HOOKS,
    Automation.Kind.POST_PURCHASE: SURVEY_INVITATION_HOOKS,
    Automation.Kind.ENROL_CODE: SourceHooks(forget=(CONFIRMATION_CODE,)),
}


def hooks_for(message: Message) -> SourceHooks:
    return SOURCE_HOOKS.get(message.source_kind, NO_HOOKS)


def context_after_send(message: Message) -> dict | None:
    """The message's context without what its source forgets once sent; None when nothing changes."""
    forget = hooks_for(message).forget
    context = message.context or {}
    if not any(key in context for key in forget):
        return None
    return {key: value for key, value in context.items() if key not in forget}


def run_after_send(messages: Iterable[Message]) -> None:
    """Call each source's `after_send` once with its messages of the batch."""
    by_source: dict[str, list[Message]] = defaultdict(list)
    for message in messages:
        by_source[message.source_kind].append(message)
    for source_kind, sent in by_source.items():
        hook = SOURCE_HOOKS.get(source_kind, NO_HOOKS).after_send
        if hook is not None:
            hook(sent)
