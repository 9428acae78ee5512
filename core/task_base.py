"""The Task class of every Celery task of the project (config.celery names it as the app's `task_cls`).

A task is an audited entry point (core.audit): what it changes records the source
"task: <task name>" and no staff user (a task takes ids, not people; a service it calls with
`by` still names them). The job runner's task narrows this to "job: <name>" (core.jobs).
Nothing here is imported at module level from the apps: the class is loaded when Celery
configures itself, possibly before Django's app registry is ready.
"""

import logging

from celery import Task

log = logging.getLogger(__name__)


class AuditedTask(Task):
    def __call__(self, *args, **kwargs):
        from core.audit import history_source, task_source

        with history_source(task_source(self.name)):
            return super().__call__(*args, **kwargs)

    def delay_or_log(self, *args, fallback: str, **kwargs) -> bool:
        """Queue the task; True when queued. When the broker cannot be reached (core.errors.classify: a
        connection error, kombu's OperationalError) it is logged with `fallback`, what does the work instead
        (a sweep, the nightly job, the request itself), and False is returned. Any other error is a bug and
        raises."""
        from core import errors

        try:
            self.delay(*args, **kwargs)
            return True
        except Exception as error:
            if errors.classify(error) != errors.UNAVAILABLE:
                raise
            log.error("could not queue %s; %s", self.name, fallback, exc_info=True)
            return False
