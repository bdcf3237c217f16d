"""Due times by policy (ESC-1, RPT-1, RPT-2, ACT-3, APR-4, EVA-1, AUD-5), pure: ``now`` is never read here."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from actops.jobs.escalations.items import ItemKind
from actops.kernel.calendar import TZ, WorkCalendar, to_local
from actops.kernel.settings import Settings

GATE_KICKOFF = "启动会"
GATE_CLOSING = "结项验收"
REPORT_KINDS = {"daily": "日报", "weekly": "周报", "monthly": "月报"}
REPORT_DUE_TIME = time(18, 0)


def due_for(
    kind: ItemKind,
    opened_or_base: datetime | date,
    cal: WorkCalendar,
    policy: Settings,
    *,
    report_kind: str | None = None,
    gate_kind: str | None = None,
) -> datetime:
    """The due time of an item of ``kind`` from its base moment (result in Asia/Shanghai).

    * APPROVAL: step opened + ``approval_sla_days`` workdays (ESC-1).
    * POSTHOC: director's emergency approval + ``posthoc_days`` workdays (APR-4).
    * MINUTES: meeting held + ``minutes_hours`` clock hours (RPT-2).
    * GATE ``gate_kind="启动会"``: base = activity start; due ``kickoff_lead_days`` workdays
      before it (a date means 00:00 of the start day, so that many full workdays remain).
      ``"结项验收"``: base = activity end; due ``closing_days`` workdays after it (a date
      means the end of that day).  Other gates have no rule here → ValueError.
    * REPORT (``report_kind`` 日报/周报/月报 or daily/weekly/monthly), base = period start:
      next day / next Monday / day ``monthly_report_day`` of next month, rolled forward to
      the next workday when that date is not one (a Friday daily is due Monday), at 18:00.
    * ACTION, PROBLEM, FINDING: the base is the deadline staff entered (审计发现 整改期限: set
      ``audit_finding_due_days`` workdays after the finding was made); a date means the end of
      that day.
    * SELF_EVAL: the base is the cycle's self-evaluation day
      (:func:`actops.jobs.evaluations.cycle.self_eval_due`: its 截止日期, else day
      ``self_eval_day`` of the next month); the end of that day.
    """
    if kind is ItemKind.REPORT:
        return _report_due(_as_date(opened_or_base), cal, policy, report_kind)
    if kind in (ItemKind.ACTION, ItemKind.PROBLEM, ItemKind.FINDING, ItemKind.SELF_EVAL):
        return _base(opened_or_base, end_of_day=True)
    if kind is ItemKind.APPROVAL:
        return cal.add_workdays(_base(opened_or_base), policy.approval_sla_days)
    if kind is ItemKind.POSTHOC:
        return cal.add_workdays(_base(opened_or_base), policy.posthoc_days)
    if kind is ItemKind.MINUTES:
        return _base(opened_or_base) + timedelta(hours=policy.minutes_hours)
    if kind is ItemKind.GATE:
        if gate_kind == GATE_KICKOFF:
            return cal.add_workdays(_base(opened_or_base), -policy.kickoff_lead_days)
        if gate_kind == GATE_CLOSING:
            return cal.add_workdays(_base(opened_or_base, end_of_day=True), policy.closing_days)
        raise ValueError(f"no due rule for stage gate {gate_kind!r} (use 启动会 or 结项验收)")
    raise ValueError(f"unknown item kind {kind!r}")


def _base(value: datetime | date, *, end_of_day: bool = False) -> datetime:
    if isinstance(value, datetime):
        return to_local(value)
    d = value + timedelta(days=1) if end_of_day else value
    return datetime.combine(d, time(0, 0), tzinfo=TZ)


def _as_date(value: datetime | date) -> date:
    return to_local(value).date() if isinstance(value, datetime) else value


def _report_due(
    start: date, cal: WorkCalendar, policy: Settings, report_kind: str | None
) -> datetime:
    kind = REPORT_KINDS.get(report_kind or "", report_kind)
    if kind == "日报":
        d = start + timedelta(days=1)
    elif kind == "周报":
        d = start + timedelta(days=7 - start.weekday())
    elif kind == "月报":
        y, m = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
        d = date(y, m, policy.monthly_report_day)
    else:
        raise ValueError(f"unknown report kind {report_kind!r} (日报/周报/月报)")
    return datetime.combine(cal.next_workday(d, include=True), REPORT_DUE_TIME, tzinfo=TZ)


