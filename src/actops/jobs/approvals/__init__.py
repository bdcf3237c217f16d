"""审批流转 (approvals): routes to ordered steps, decisions from the grid or a signed link,
a sealed decision history, the emergency path and delegation (APR-1..5, ACT-2, PLN-1, SEC-4)."""

from actops.jobs.approvals.job import JOB, NAME

__all__ = ["JOB", "NAME", "run"]


def run(store, now, **kw):
    """Run the job once through the shared runner (see :func:`actops.kernel.runner.run`)."""
    from actops.kernel import runner

    return runner.run(JOB, store, now, **kw)
