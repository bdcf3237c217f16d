"""Every job, once. The CLI (`actops run <job>`), `flows/`, `prefect.yaml` and the demo are
derived from this list, so adding a job is its package plus one entry here (then
`actops deployments write` regenerates the flow file and the deployment)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class JobEntry:
    name: str  # the job's id: CLI command, flow name, deployment name, run-log 流程
    title: str  # zh-CN, what staff call it
    module: str  # where ``JOB`` lives (imported only when the job runs)
    cron: str  # Asia/Shanghai
    description: str

    def load(self) -> Any:
        return importlib.import_module(self.module).JOB


# In this order in the demo: intake gives form rows their keys before the others read them;
# approvals opens steps before escalations chases them.
JOBS: tuple[JobEntry, ...] = (
    JobEntry(
        name="intake",
        title="表单受理",
        module="actops.jobs.intake",
        cron="*/10 8-20 * * *",
        description=(
            "Form intake (STF-1, ACT-5, ESC-3): every 10 minutes 08:00–20:00, rows submitted "
            "through the five forms get their key, submitted time and submitter; document names "
            "are checked against the naming rule; 工作日历 is filled for the years chinese_calendar "
            "knows when dates are missing. Idle runs cost two one-row reads per watched table."
        ),
    ),
    JobEntry(
        name="approvals",
        title="审批流转",
        module="actops.jobs.approvals",
        cron="*/10 * * * *",
        description=(
            "Approvals (APR-1..5, ACT-2, PLN-1, SEC-4): every 10 minutes (and at once when a "
            "webhook from automations/ wakes it), requests in 审批中 are routed into ordered steps, "
            "decisions from the grid (approver's own account only) or the signed link move them on, "
            "the applicant is told the outcome, and every decision history is checked and sealed."
        ),
    ),
    JobEntry(
        name="escalations",
        title="提醒与升级",
        module="actops.jobs.escalations",
        cron="5 8-20 * * *",
        description=(
            "Reminders and escalations (ESC-1..5): hourly 08:00–20:00 every day; on days the "
            "工作日历 marks as non-workdays the ladder does not advance, so 调休 make-up "
            "Saturdays are covered without a special cron."
        ),
    ),
    JobEntry(
        name="access",
        title="账号与权限",
        module="actops.jobs.access",
        cron="30 8 * * *",
        description=(
            "Accounts and roles as code (STF-4, EVA-7): daily at 08:30, after the quiet hours, "
            "NocoDB's base members follow the 员工 table (active employees invited, roles per base, "
            "leavers removed) and new accounts get a 账号开通 e-mail. Same as `actops access apply`."
        ),
    ),
    JobEntry(
        name="audit",
        title="审计抽样",
        module="actops.jobs.audit",
        cron="40 7 * * *",
        description=(
            "Quarterly audit sampling (AUD-1..5): daily at 07:40, every 审计周期 row in 待抽样 gets "
            "its sample — emergency approvals, altered histories, items at or above "
            "audit_always_amount and open findings in full, then a statistical sample per kind "
            "(attribute sampling by department for approvals and activities, monetary-unit "
            "sampling for expenses) — as 审计样本 rows with pre-filled checklists; the seed, "
            "parameters and method version are stored on the cycle. Idle runs cost a few reads."
        ),
    ),
)
TIMEZONE = "Asia/Shanghai"


def job(name: str) -> JobEntry:
    for j in JOBS:
        if j.name == name:
            return j
    known = ", ".join(j.name for j in JOBS)
    raise KeyError(f"no job {name!r}; known jobs: {known}")
