"""Reminders and escalations: one package, split by concern.

``sources`` (where open items live) → ``deadlines`` (due times by policy) → ``ladder``
(rungs, notices, issues) → ``digests`` (one per person) → ``messages`` (rendered outbox
rows); ``late_reports`` (RPT-1 streaks); ``job`` (load and plan for the runner).
"""

from actops.jobs.escalations.job import JOB, Inputs, load, plan

__all__ = ["JOB", "Inputs", "load", "plan", "run"]


def run(store, now, **kw):
    """Run the job once through the shared runner (see :func:`actops.kernel.runner.run`)."""
    from actops.kernel import runner

    return runner.run(JOB, store, now, **kw)
