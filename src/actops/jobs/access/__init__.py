"""Accounts and roles as code (STF-4, EVA-7): one package, split by concern.

``policy`` (pure: who gets which role in which base, the calls that make NocoDB match,
the issues on 员工 rows) · ``members`` (NocoDB's base-user API) · ``welcome`` (the 账号开通
message) · ``job`` (load, plan and ``apply_extra`` for the runner).
"""

from actops.jobs.access.job import JOB, Inputs, load, plan

__all__ = ["JOB", "Inputs", "load", "plan", "run"]


def run(store, now, **kw):
    """Run the job once through the shared runner (see :func:`actops.kernel.runner.run`)."""
    from actops.kernel import runner

    return runner.run(JOB, store, now, **kw)
