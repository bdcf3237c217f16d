"""Late work reports and late streaks (RPT-1, feeding EVA-6), as a pure plan.

The flow reads the reports, calls :func:`late_report_plan` and writes back only what
changed; the streak per employee goes to ``employees.late_streak``, which the evaluations job
reads to note ``late_streak_limit`` or more on the 考评表 row (HR base, EVA-6/EVA-7).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from actops.kernel.calendar import to_local

FLAG_NO_REASON = "逾期未说明原因"


@dataclass(frozen=True)
class ReportRow:
    row_id: int
    employee: str
    kind: str
    period_start: date
    due_at: datetime | None
    submitted_at: datetime | None
    late_reason: str | None
    late: bool
    flag: str | None


def is_late(r: ReportRow, now: datetime) -> bool | None:
    """True/False once decidable; None while still open before the due time or without one.

    Submitted after the due time, or not submitted and the due time has passed, is late;
    submitting exactly at the due time is on time.
    """
    if r.due_at is None:
        return None
    if r.submitted_at is not None:
        return to_local(r.submitted_at) > to_local(r.due_at)
    return True if to_local(now) > to_local(r.due_at) else None


def late_report_plan(
    reports: Iterable[ReportRow], late_streak_limit: int, now: datetime
) -> tuple[list[dict], dict[str, int], set[str]]:
    """Row updates, current late streak per employee, and employees at/above the limit.

    * ``late`` is set to the computed value; a row that cannot be judged yet keeps it False.
    * ``flag`` becomes 逾期未说明原因 when late without a (non-blank) reason, and is cleared
      once a reason is given; a flag with other text was written by someone else and is
      left alone.
    * The streak counts trailing late reports per employee across kinds in period order
      (period start, then due time, then row id); an on-time report resets it; reports
      still open before their due time do not count either way.  Every employee seen
      appears in the dict, with 0 when not late, so stale streaks get reset.
    """
    if late_streak_limit < 1:
        raise ValueError(f"late_streak_limit must be at least 1, got {late_streak_limit}")
    rows = list(reports)
    updates: list[dict] = []
    verdicts: dict[int, bool | None] = {}
    for r in rows:
        verdict = is_late(r, now)
        verdicts[r.row_id] = verdict
        late = bool(verdict)
        has_reason = bool((r.late_reason or "").strip())
        if late and not has_reason:
            flag = FLAG_NO_REASON
        elif r.flag == FLAG_NO_REASON:
            flag = None
        else:
            flag = r.flag
        change: dict = {}
        if late != bool(r.late):
            change["late"] = late
        if (flag or None) != (r.flag or None):
            change["flag"] = flag
        if change:
            updates.append({"Id": r.row_id, **change})

    def order(r: ReportRow) -> tuple:
        due = to_local(r.due_at).timestamp() if r.due_at else float("inf")
        return (r.period_start, due, r.row_id)

    streaks: dict[str, int] = {}
    for r in sorted(rows, key=order):
        current = streaks.setdefault(r.employee, 0)
        verdict = verdicts[r.row_id]
        if verdict is True:
            streaks[r.employee] = current + 1
        elif verdict is False:
            streaks[r.employee] = 0
    flagged = {e for e, n in streaks.items() if n >= late_streak_limit}
    return updates, streaks, flagged


def employee_streak_updates(employees, streaks: dict[str, int]) -> list[dict]:
    """员工 rows whose 连续逾期报告数 (``late_streak``) changes.

    Only the count goes to the operations base. The evaluation note it leads to (EVA-6) is
    written by the evaluations job on the person's 考评表 row in the HR base, which only HR
    and managers can open (EVA-7): no evaluation text is kept in 员工.
    """
    out = []
    for e in employees:
        streak = streaks.get(e.code)
        if streak is not None and (e.late_streak or 0) != streak:
            out.append({"Id": e.Id, "late_streak": streak})
    return out
