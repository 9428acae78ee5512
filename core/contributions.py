"""What the platform itself contributes to its registries (core.registry)."""

from core.jobs import Job, job_registry, job_runs_purge

job_registry.register("core.job_runs_purge", Job(
    name="core.job_runs_purge", func=job_runs_purge, schedule={"minute": "50", "hour": "3"},
    description="Delete job runs (the JobRun history) older than JOB_RUNS_KEEP_DAYS.",
))
