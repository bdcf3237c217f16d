"""The reminder/escalation ladder (ESC-2, ESC-4), as pure functions.

For each open item: which rung it has reached (assignee → manager → general manager, each
``escalate_after_days`` workdays apart), the notices owed, the data problems to show staff
instead of failing, and the ``escalation_level`` / ``next_escalation_at`` values to write
back. A notice already on the item's ledger (已通知) is not owed again, so re-runs are
no-ops and a reassigned item reaches its new assignee.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time

from actops.jobs.escalations.items import Notice, OpenItem, dedupe_key
from actops.kernel.calendar import TZ, WorkCalendar, to_local
from actops.kernel.org import Org
from actops.kernel.settings import Settings

ROLE_ASSIGNEE = "assignee"
ROLE_MANAGER = "manager"
ROLE_GM = "general_manager"
_ROLES = {1: ROLE_ASSIGNEE, 2: ROLE_MANAGER, 3: ROLE_GM}
MAX_RUNG = 3


def _ladder(
    due: datetime, cal: WorkCalendar, policy: Settings
) -> tuple[datetime, datetime, datetime]:
    """Moments rungs 1, 2 and 3 are reached.

    A due time on a non-workday (a date deadline ending on a holiday eve) is reminded at
    the start of the next workday: nobody is messaged on a holiday. The same holds for the
    escalations: a date deadline ends at midnight, so whole workdays after it end at the
    midnight that starts the next day, which may be a Saturday; that rung waits for Monday.
    """
    due = to_local(due)

    def workday(t: datetime) -> datetime:
        return t if cal.is_workday(t.date()) else datetime.combine(cal.next_workday(t.date()), time(0), tzinfo=TZ)

    r2 = cal.add_workdays(due, policy.escalate_after_days)
    return workday(due), workday(r2), workday(cal.add_workdays(r2, policy.escalate_after_days))


def rung_at(item: OpenItem, now: datetime, cal: WorkCalendar, policy: Settings) -> int:
    """0 = not due, 1 = due passed (remind), 2 = manager, 3 = general manager (ESC-2)."""
    if item.due_at is None:
        raise ValueError(f"{item.table} row {item.row_id} has no due time")
    now = to_local(now)
    return sum(1 for t in _ladder(item.due_at, cal, policy) if now >= t)


def next_escalation_at(
    item: OpenItem, rung: int, cal: WorkCalendar, policy: Settings
) -> datetime | None:
    """When the item reaches ``rung + 1``; None at the top or without a due time."""
    if item.due_at is None or rung >= MAX_RUNG:
        return None
    return _ladder(item.due_at, cal, policy)[max(rung, 0)]


@dataclass(frozen=True)
class ItemIssue:
    """A data problem on a row, shown to staff instead of failing the run."""

    table: str
    row_id: int
    field: str
    value: object
    reason: str


@dataclass(frozen=True)
class ItemUpdate:
    table: str
    row_id: int
    escalation_level: int
    next_escalation_at: datetime | None


def _assignee_issue(item: OpenItem, org: Org) -> ItemIssue | None:
    code = (item.assignee or "").strip()
    if not code:
        return ItemIssue(
            item.table,
            item.row_id,
            "assignee",
            item.assignee,
            f"{item.code} 没有负责人，无法提醒；请填写负责人。",
        )
    if code in org.ambiguous:
        return ItemIssue(
            item.table,
            item.row_id,
            "assignee",
            item.assignee,
            f"{item.code} 的负责人工号 {code} 在员工表中有多行，无法确定通知谁；请删除重复的员工行或改号。",
        )
    person = org.people.get(code)
    if person is None:
        return ItemIssue(
            item.table,
            item.row_id,
            "assignee",
            item.assignee,
            f"{item.code} 的负责人工号 {code} 不在员工表中；请改为有效员工。",
        )
    if not person.active:
        return ItemIssue(
            item.table,
            item.row_id,
            "assignee",
            item.assignee,
            f"{item.code} 的负责人 {person.name}（{code}）已不在职；请改派在职员工。",
        )
    if not person.addresses():
        return ItemIssue(
            item.table,
            item.row_id,
            "assignee",
            item.assignee,
            f"{item.code} 的负责人 {person.name}（{code}）没有邮箱也没有企业微信号，"
            "无法通知；请在员工表中补充。",
        )
    return None


def _recipient(item: OpenItem, rung: int, org: Org) -> tuple[str | None, ItemIssue | None]:
    """Who gets rung ``rung``; (None, None) means "nobody, and that is fine"."""
    assignee = (item.assignee or "").strip()
    if rung == 1:
        return assignee, None
    chain = org.chain(assignee)
    if rung == 2:
        code = chain[0] if chain else None
    else:
        gm = org.general_manager if org.active(org.general_manager) else None
        code = gm or (chain[-1] if chain else None)
    if code == assignee or (code is None and assignee == org.general_manager):
        return None, None  # the top of the ladder has nobody above
    who = "上级" if rung == 2 else "总经理"
    if code is None:
        return None, ItemIssue(
            item.table,
            item.row_id,
            "assignee",
            item.assignee,
            f"{item.code} 已逾期，但负责人 {assignee} 没有可升级的{who}"
            "（直属上级、部门负责人、总经理均未设置或不在职）；请完善组织信息。",
        )
    person = org.people[code]
    if not person.addresses():
        return None, ItemIssue(
            item.table,
            item.row_id,
            "assignee",
            item.assignee,
            f"{item.code} 需升级至{who} {person.name}（{code}），但其没有邮箱"
            "也没有企业微信号；请在员工表中补充。",
        )
    return code, None


def plan_notices(
    items: Iterable[OpenItem],
    now: datetime,
    cal: WorkCalendar,
    org: Org,
    policy: Settings,
) -> tuple[list[Notice], list[ItemIssue], list[ItemUpdate]]:
    """Notices due now, data issues, and ladder fields to write back.

    Every rung reached keeps the earlier rungs' notices too: the job drops those already
    on the item's ledger, so a flow that missed runs still sends each rung once.
    Items with a bad assignee or no due time get an issue, no notice and no update.
    """
    notices: list[Notice] = []
    issues: list[ItemIssue] = []
    updates: list[ItemUpdate] = []
    for item in items:
        if item.due_at is None:
            issues.append(
                ItemIssue(
                    item.table,
                    item.row_id,
                    "due_at",
                    item.due_at,
                    f"{item.code} 没有截止时间，无法判断是否逾期；请补充相关日期。",
                )
            )
            continue
        problem = _assignee_issue(item, org)
        if problem is not None:
            issues.append(problem)
            continue
        owner = org.people[(item.assignee or "").strip()]
        rung = rung_at(item, now, cal, policy)
        # The level written back is the last rung fully delivered to the outbox: a rung
        # whose recipient could not be reached stays "not reached", so it is tried again
        # on every run until the org data is fixed (the dedupe keys keep the rest quiet).
        level, blocked = 0, False
        for r in range(1, rung + 1):
            code, issue = _recipient(item, r, org)
            if issue is not None:
                issues.append(issue)
                blocked = True
            if code is not None:
                notices.append(
                    Notice(item, r, code, _ROLES[r], dedupe_key(item, r, code), owner.name)
                )
            if not blocked:
                level = r
        nxt = next_escalation_at(item, level, cal, policy)
        if level != item.escalation_level or nxt != item.next_escalation_at:
            updates.append(ItemUpdate(item.table, item.row_id, level, nxt))
    return notices, issues, updates


