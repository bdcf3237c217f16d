"""Every job, once. The CLI (`actops run <job>`), `flows/`, `prefect.yaml` and the demo are
derived from this list, so adding a job is its package plus one entry here (then
`actops deployments write` regenerates the flow file and the deployment)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class JobOption:
    """A job's own option: ``--<name> VALUE`` on `actops run <job>`, a flow parameter in Prefect."""

    name: str
    help: str
    flag: bool = False  # a switch (``--force``) instead of a value


@dataclass(frozen=True)
class JobEntry:
    name: str  # the job's id: CLI command, flow name, deployment name, run-log 流程
    title: str  # zh-CN, what staff call it
    module: str  # where ``JOB`` lives (imported only when the job runs)
    cron: str  # Asia/Shanghai
    description: str
    options: tuple[JobOption, ...] = ()

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
            "the applicant is told the outcome, and every decision history is checked and sealed. "
            "After a first full read a run reads only the requests that rows changed since the last "
            "run name, and everything every full_scan_hours or after a delete."
        ),
        options=(JobOption("full", "Read every request and decision now, not only what changed since the last run.",
                           flag=True),),
    ),
    JobEntry(
        name="watch",
        title="预算与风险监控",
        module="actops.jobs.watch",
        cron="15,45 * * * *",
        description=(
            "Budget and risk watch (FIN-1..3, RSK-1, RSK-2): every 30 minutes, 已用金额 and 预警 of each "
            "budget line follow the approved and paid expenses; the activity owner and finance are "
            "alerted once when a line reaches budget_warn_ratio and once at 100 %; the variance per "
            "category is written to a closing activity once; a risk reaching risk_warn_level warns "
            "its owner and their manager once per crossing, and every change is kept in 风险变更记录. "
            "Messages planned in the quiet hours wait for their end. After a first full read a run "
            "reads only the lines and expenses of the activities, and the risks, that rows changed "
            "since the last run name, and everything every full_scan_hours or after a delete."
        ),
        options=(JobOption("full", "Read every budget line, expense and risk now, not only what changed since "
                                   "the last run.", flag=True),),
    ),
    JobEntry(
        name="escalations",
        title="提醒与升级",
        module="actops.jobs.escalations",
        cron="5 8-20 * * *",
        description=(
            "Reminders and escalations (ESC-1..5): hourly 08:00–20:00 every day; on days the "
            "工作日历 marks as non-workdays the ladder does not advance, so 调休 make-up "
            "Saturdays are covered without a special cron. Chases approvals, reports, minutes, "
            "action items, stage gates, post-hoc approvals, problems, audit findings and "
            "self-evaluations not yet submitted. After a first full read a run reads only rows "
            "changed since the last run and rows falling due, and everything every full_scan_hours."
        ),
        options=(JobOption("full", "Read every open row now, not only what changed since the last run.",
                           flag=True),),
    ),
    JobEntry(
        name="summaries",
        title="月度总结",
        module="actops.jobs.summaries",
        cron="0 8 1 * *",
        description=(
            "Monthly summaries (SUM-1..3, RPT-3): on the 1st at 08:00, last month per department "
            "and for the company — activities, approvals (p50/p90 in workdays), reports on time, "
            "overdue items per owner, KPI, budget, risks, satisfaction and the deviation report — "
            "mailed with charts to each department head and the general manager, archived in 月度总结. "
            "Once per month; --force makes a new version."
        ),
        options=(JobOption("month", "The month to summarise, YYYY-MM (default: last month)."),
                 JobOption("department", "Only this department (部门编号); no company summary."),
                 JobOption("force", "Make a new version even if the month is done (says so in the subject).",
                           flag=True)),
    ),
    JobEntry(
        name="evaluations",
        title="考评",
        module="actops.jobs.evaluations",
        cron="20 8 * * *",
        description=(
            "Evaluation cycles (KPI-1, KPI-2, EVA-1..7): daily at 08:20; idle unless a cycle, its rows "
            "or the data behind the KPIs changed. HR opens a cycle with one 考评周期 row: one 考评表 "
            "row per active employee with their supervisor (and judges); KPI parts, composite, grade, "
            "rank and the reasons written back; four-fifths flags to HR; on 已发布 each person is told "
            "only their own result and the cycle locks. After an edit a run reads the rows changed since "
            "the last run into its local copy of the period's rows, and the period again every "
            "full_scan_hours."
        ),
        options=(JobOption("cycle", "Only this cycle (考评周期 编号)."),
                 JobOption("full", "Read the scored periods' rows from NocoDB, not from the local copy.", flag=True)),
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
            "sampling for expenses) — as 审计样本 rows with checklists pre-filled where the "
            "system can judge; the seed, parameters and method version are stored on the cycle. "
            "In 已抽样/审计中, each checked deviation becomes a 审计发现 (owner, severity, due "
            "audit_finding_due_days workdays later; chased by escalations); once every row is "
            "checked the cycle is evaluated (deviation rate, upper deviation limit, Stringer bound "
            "for expenses), the HTML report is archived on the cycle and mailed to the general "
            "manager and the heads of departments with deviations, and open findings are "
            "re-checked next quarter. Idle runs cost a few reads."
        ),
        options=(JobOption("cycle", "Only this cycle (审计周期 编号)."),),
    ),
)
TIMEZONE = "Asia/Shanghai"


def job(name: str) -> JobEntry:
    for j in JOBS:
        if j.name == name:
            return j
    known = ", ".join(j.name for j in JOBS)
    raise KeyError(f"no job {name!r}; known jobs: {known}")
