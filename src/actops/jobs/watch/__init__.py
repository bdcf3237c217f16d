"""预算与风险监控 (watch): budget lines kept current from approved expenses and alerted at
``budget_warn_ratio`` and 100 %, the variance per category at closing, risks warned at
``risk_warn_level`` and every change of their level kept (FIN-1..3, RSK-1, RSK-2)."""

from actops.jobs.watch.job import JOB, NAME

__all__ = ["JOB", "NAME", "run"]


def run(store, now, **kw):
    """Run the job once through the shared runner (see :func:`actops.kernel.runner.run`)."""
    from actops.kernel import runner

    return runner.run(JOB, store, now, **kw)
