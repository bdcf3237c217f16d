"""表单受理 (intake): form rows accepted as they are (STF-1), document names checked
(ACT-5), the workday calendar kept filled (ESC-3).

``numbering`` (keys RPT-20261123-0001), ``submitters`` (account e-mail → 员工), ``forms``
(what each form table gets), ``naming`` (the document naming rule), ``calendar_sync``
(工作日历 from ``chinese_calendar``, also `actops calendar sync`), ``job`` (load and plan).
"""

from actops.jobs.intake.job import JOB, Inputs, load, plan

__all__ = ["JOB", "Inputs", "load", "plan", "run"]


def run(store, now, **kw):
    """Run the job once through the shared runner (see :func:`actops.kernel.runner.run`)."""
    from actops.kernel import runner

    return runner.run(JOB, store, now, **kw)
