import os
from pathlib import Path

from celery import Celery
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Every task records itself as the source of the changes it makes (core.task_base).
app = Celery("clubcrm", task_cls="core.task_base:AuditedTask")
app.config_from_object("django.conf:settings", namespace="CELERY")

# Work is split by kind, so a recompute of every segment never waits in front of a till's webhook, and each
# kind gets the workers it needs (README, "Scaling out"). A worker started without -Q consumes every queue,
# which is what `make run` does; production starts one pool per queue. Periodic jobs run on the queue their
# Job declares (core.jobs), through the one task core.tasks.run_job.
QUEUES = ("default", "sending", "webhooks", "analytics")
app.conf.task_default_queue = "default"
app.conf.task_queues = tuple(Queue(name, Exchange(name), routing_key=name) for name in QUEUES)
app.conf.task_routes = {
    "api.tasks.*": {"queue": "webhooks"},
    "campaigns.tasks.*": {"queue": "sending"},
    "campaigns.analytics.*": {"queue": "analytics"},
    "club.tasks.liability_*": {"queue": "analytics"},
}
app.autodiscover_tasks()

FILESYSTEM_BROKER_FOLDERS = ("data_folder_in", "data_folder_out", "processed_folder", "control_folder")


@app.on_after_configure.connect
def make_filesystem_broker_folders(sender, **kwargs) -> None:
    """kombu's filesystem transport expects its folders to exist, on the worker's side and on the
    side that queues a task. Made here, the first time either process reads the Celery
    configuration, rather than when the settings are imported."""
    if not str(sender.conf.broker_url or "").startswith("filesystem://"):
        return
    options = sender.conf.broker_transport_options or {}
    for key in FILESYSTEM_BROKER_FOLDERS:
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)
