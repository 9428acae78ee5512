"""The Task class of every Celery task of the project (config.celery names it as the app's `task_cls`).

A task is an audited entry point (core.audit): what it changes records the source
"task: <task name>" and no staff user (a task takes ids, not people; a service it calls with
`by` still names them). The job runner's task narrows this to "job: <name>" (core.jobs).
Nothing here is imported at module level from the apps: the class is loaded when Celery
configures itself, possibly before Django's app registry is ready.
"""

from celery import Task


class AuditedTask(Task):
    def __call__(self, *args, **kwargs):
        from core.audit import history_source, task_source

        with history_source(task_source(self.name)):
            return super().__call__(*args, **kwargs)
