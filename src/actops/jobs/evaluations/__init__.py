"""考评 (evaluations): KPI actuals and scores, cycle rows, scores, grades, streaks, fairness and
publishing (KPI-1, KPI-2, EVA-1..7, RPT-1). The rule modules are pure: no I/O, no clock;
:mod:`.job` reads and plans, the shared runner writes and sends."""

from actops.jobs.evaluations.job import JOB, NAME

__all__ = ["JOB", "NAME", "run"]


def run(store, now, **kw):
    """Run the job once through the shared runner (see :func:`actops.kernel.runner.run`)."""
    from actops.kernel import runner

    return runner.run(JOB, store, now, **kw)
