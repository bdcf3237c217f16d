"""审计抽样 (quarterly audit sampling, AUD-1..5): sizes, monetary-unit sampling, strata, the
reproducible draw, evaluation and the checklist as pure modules (no I/O, no clock); ``job``
wires one 审计周期 row to its 审计样本 rows."""

from actops.jobs.audit.job import JOB, NAME

__all__ = ["JOB", "NAME", "run"]


def run(store, now, **kw):
    """Run the job once through the shared runner (see :func:`actops.kernel.runner.run`)."""
    from actops.kernel import runner

    return runner.run(JOB, store, now, **kw)
