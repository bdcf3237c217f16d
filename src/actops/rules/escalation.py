"""The reminder/escalation ladder (ESC-1..5, ACT-3, APR-4, RPT-1..3, PLN-2), as pure functions.

A flow loads open items, people, the calendar and the settings, then asks this module
*what should happen now*: which notices (each with a stable dedupe key, so re-runs are
no-ops, ESC-2), which data problems to show to staff instead of crashing, and which
``escalation_level`` / ``next_escalation_at`` values to write back.  No I/O and no clock:
``now`` is always a parameter, which is what makes the ladder testable around holidays.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from actops.rules.workdays import TZ, WorkCalendar, to_local


class ItemKind(StrEnum):
    """What kind of open item; also the display order inside a digest."""

    APPROVAL = "approval"
    REPORT = "report"
    MINUTES = "minutes"
    ACTION = "action"
    GATE = "gate"
    POSTHOC = "posthoc"
    PROBLEM = "problem"


@dataclass(frozen=True)
class OpenItem:
    """One open row somebody has to act on; ``due_at`` is already computed (:func:`due_for`)."""

    kind: ItemKind
    table: str
    row_id: int
    code: str
    title: str
    assignee: str | None
    due_at: datetime | None
    urgent: bool = False
    link: str | None = None
    escalation_level: int = 0
    next_escalation_at: datetime | None = None


CHANNEL_EMAIL = "邮件"
CHANNEL_WECOM = "企业微信"
CHANNEL_BOTH = "邮件和企业微信"


@dataclass(frozen=True)
class Person:
    code: str
    name: str
    manager: str | None = None
    department: str | None = None
    email: str | None = None
    wecom_id: str | None = None
    channel: str = CHANNEL_EMAIL
    locale: str = "zh-CN"
    active: bool = True

    def addresses(self) -> list[tuple[str, str]]:
        """``[(outbox channel, address)]`` per the chosen channel, falling back to any address.

        A person who chose 企业微信 but has only an e-mail still gets the message by e-mail:
        a reminder that arrives on the "wrong" channel beats one that never arrives.
        """
        have = {"email": (self.email or "").strip(), "wecom": (self.wecom_id or "").strip()}
        wanted = {
            CHANNEL_EMAIL: ["email"],
            CHANNEL_WECOM: ["wecom"],
            CHANNEL_BOTH: ["email", "wecom"],
        }.get(self.channel, ["email"])
        chosen = [(c, have[c]) for c in wanted if have[c]]
        if chosen:
            return chosen
        return [(c, a) for c, a in have.items() if a][:1]


@dataclass(frozen=True)
class Org:
    people: Mapping[str, Person]
    dept_heads: Mapping[str, str]
    general_manager: str | None = None

    def active(self, code: str | None) -> Person | None:
        p = self.people.get(code) if code else None
        return p if p is not None and p.active else None

    def chain(self, code: str) -> list[str]:
        """Escalation chain of ``code`` (ORG-2): manager → department head → general manager.

        An inactive manager is replaced by *their* manager (walking up until someone active);
        the walk remembers whom it visited, so a manager loop in the data ends it.  The
        person themself and inactive people are skipped, duplicates dropped.
        """
        person = self.people.get(code)
        if person is None:
            return []
        out: list[str] = []
        seen = {code}

        def add(c: str | None) -> None:
            if c and c not in seen and self.active(c) is not None:
                out.append(c)
                seen.add(c)

        visited = {code}
        m = person.manager
        while m and m not in visited:
            visited.add(m)
            if self.active(m) is not None:
                add(m)
                break
            nxt = self.people.get(m)
            m = nxt.manager if nxt else None
        if person.department:
            add(self.dept_heads.get(person.department))
        add(self.general_manager)
        return out


@dataclass(frozen=True)
class Policy:
    """Settings the ladder and deadlines use; defaults are SPEC's Settings table."""

    approval_sla_days: int = 2
    escalate_after_days: int = 1
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    minutes_hours: int = 24
    posthoc_days: int = 3
    kickoff_lead_days: int = 5
    closing_days: int = 10
    monthly_report_day: int = 5
    late_streak_limit: int = 3

    @classmethod
    def from_settings(cls, settings: Mapping[str, object]) -> tuple[Policy, list[str]]:
        """Parse Settings rows (key → value); a bad value keeps the default and warns.

        Missing keys silently keep their default (SPEC documents the defaults).
        """
        values: dict[str, object] = {}
        warnings: list[str] = []
        defaults = cls()
        for key, (lo, hi, unit) in _INT_SETTINGS.items():
            if key not in settings or settings[key] is None:
                continue
            raw = settings[key]
            parsed = _parse_int(raw)
            if parsed is None or parsed < lo or (hi is not None and parsed > hi):
                rng = f"{lo}–{hi} 之间的整数" if hi is not None else f"不小于 {lo} 的整数"
                warnings.append(
                    f"设置项 {key} 的取值 {raw!r} 无效：应为{rng}（单位：{unit}）；"
                    f"已使用默认值 {getattr(defaults, key)}，请在系统设置表中修改。"
                )
                continue
            values[key] = parsed
        if "quiet_hours" in settings and settings["quiet_hours"] is not None:
            raw = settings["quiet_hours"]
            window = _parse_window(str(raw))
            if window is None:
                warnings.append(
                    f"设置项 quiet_hours 的取值 {raw!r} 无效：应为“开始-结束”，如 21:00-08:00；"
                    "已使用默认值 21:00-08:00，请在系统设置表中修改。"
                )
            else:
                values["quiet_start"], values["quiet_end"] = window
        return cls(**values), warnings  # type: ignore[arg-type]

    def in_quiet_hours(self, moment: datetime) -> bool:
        """Whether ``moment`` (local time) is inside the quiet window; it may wrap midnight."""
        t = to_local(moment).time()
        s, e = self.quiet_start, self.quiet_end
        if s == e:
            return False
        if s < e:
            return s <= t < e
        return t >= s or t < e

    def quiet_ends_after(self, moment: datetime) -> datetime:
        """The end of the quiet window ``moment`` lies in (call only inside the window)."""
        local = to_local(moment)
        end = datetime.combine(local.date(), self.quiet_end, tzinfo=TZ)
        if end <= local:
            end += timedelta(days=1)
        return end


# key: (minimum, maximum or None, unit shown in warnings)
_INT_SETTINGS: dict[str, tuple[int, int | None, str]] = {
    "approval_sla_days": (0, 60, "工作日"),
    "escalate_after_days": (0, 60, "工作日"),
    "minutes_hours": (0, 720, "小时"),
    "posthoc_days": (0, 60, "工作日"),
    "kickoff_lead_days": (0, 60, "工作日"),
    "closing_days": (0, 120, "工作日"),
    "monthly_report_day": (1, 28, "日，28 日以内保证每月都有"),
    "late_streak_limit": (1, None, "次"),
}


def _parse_int(raw: object) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    text = str(raw).strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        f = float(text)
    except ValueError:
        return None
    return int(f) if f.is_integer() else None


_WINDOW = re.compile(
    r"^\s*(\d{1,2})[:：](\d{2})\s*(?:-|–|—|~|～|至|到)\s*(\d{1,2})[:：](\d{2})\s*$"
)


def _parse_window(text: str) -> tuple[time, time] | None:
    m = _WINDOW.match(text)
    if not m:
        return None
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    try:
        return time(h1, m1), time(h2, m2)
    except ValueError:
        return None


# ---------------------------------------------------------------- deadlines

GATE_KICKOFF = "启动会"
GATE_CLOSING = "结项验收"
REPORT_KINDS = {"daily": "日报", "weekly": "周报", "monthly": "月报"}
REPORT_DUE_TIME = time(18, 0)


def due_for(
    kind: ItemKind,
    opened_or_base: datetime | date,
    cal: WorkCalendar,
    policy: Policy,
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
    * ACTION, PROBLEM: the base is the deadline staff entered; a date means end of that day.
    """
    if kind is ItemKind.REPORT:
        return _report_due(_as_date(opened_or_base), cal, policy, report_kind)
    if kind in (ItemKind.ACTION, ItemKind.PROBLEM):
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
    start: date, cal: WorkCalendar, policy: Policy, report_kind: str | None
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


# ---------------------------------------------------------------- ladder

ROLE_ASSIGNEE = "assignee"
ROLE_MANAGER = "manager"
ROLE_GM = "general_manager"
_ROLES = {1: ROLE_ASSIGNEE, 2: ROLE_MANAGER, 3: ROLE_GM}
MAX_RUNG = 3


def _ladder(
    due: datetime, cal: WorkCalendar, policy: Policy
) -> tuple[datetime, datetime, datetime]:
    """Moments rungs 1, 2 and 3 are reached.

    A due time on a non-workday (a date deadline ending on a holiday eve) is reminded at
    the start of the next workday: nobody is messaged on a holiday.
    """
    due = to_local(due)
    r1 = due if cal.is_workday(due.date()) else datetime.combine(cal.next_workday(due.date()), time(0), tzinfo=TZ)
    r2 = cal.add_workdays(due, policy.escalate_after_days)
    return r1, r2, cal.add_workdays(r2, policy.escalate_after_days)


def rung_at(item: OpenItem, now: datetime, cal: WorkCalendar, policy: Policy) -> int:
    """0 = not due, 1 = due passed (remind), 2 = manager, 3 = general manager (ESC-2)."""
    if item.due_at is None:
        raise ValueError(f"{item.table} row {item.row_id} has no due time")
    now = to_local(now)
    return sum(1 for t in _ladder(item.due_at, cal, policy) if now >= t)


def next_escalation_at(
    item: OpenItem, rung: int, cal: WorkCalendar, policy: Policy
) -> datetime | None:
    """When the item reaches ``rung + 1``; None at the top or without a due time."""
    if item.due_at is None or rung >= MAX_RUNG:
        return None
    return _ladder(item.due_at, cal, policy)[max(rung, 0)]


@dataclass(frozen=True)
class Notice:
    item: OpenItem
    rung: int
    recipient: str
    role: str
    dedupe_key: str
    assignee_name: str | None = None  # for manager/GM rungs: whose item it is


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


def dedupe_key(item: OpenItem, rung: int, recipient: str) -> str:
    return f"{item.table}:{item.row_id}:r{rung}:{recipient}"


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
    policy: Policy,
) -> tuple[list[Notice], list[ItemIssue], list[ItemUpdate]]:
    """Notices due now, data issues, and ladder fields to write back.

    Every rung reached keeps the earlier rungs' notices too: their dedupe keys make them
    no-ops when already sent, and a flow that missed runs still sends each rung once.
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


# ---------------------------------------------------------------- digests

_KIND_ORDER = {k: i for i, k in enumerate(ItemKind)}


@dataclass(frozen=True)
class Digest:
    """Everything one person hears about in one run (ESC-5)."""

    recipient: Person
    notices: tuple[Notice, ...]
    urgent: bool
    dedupe_keys: tuple[str, ...]
    send_after: datetime | None = None
    key: str = field(default="")

    def groups(self) -> list[tuple[ItemKind, tuple[Notice, ...]]]:
        """Notices grouped by kind, in :class:`ItemKind` order."""
        out: dict[ItemKind, list[Notice]] = {}
        for n in self.notices:
            out.setdefault(n.item.kind, []).append(n)
        return [(k, tuple(v)) for k, v in sorted(out.items(), key=lambda kv: _KIND_ORDER[kv[0]])]


def _sort_key(n: Notice) -> tuple:
    due = n.item.due_at or datetime.max.replace(tzinfo=TZ)
    return (_KIND_ORDER[n.item.kind], due, n.item.code, n.item.table, n.item.row_id)


def build_digests(
    notices: Iterable[Notice], org: Org, now: datetime, policy: Policy
) -> list[Digest]:
    """One digest per recipient (ordered by recipient code), items grouped by kind.

    A recipient who gets several rungs of the same item (e.g. manager who is also the
    general manager) sees it once, at the highest rung; all dedupe keys are kept.  In quiet
    hours a non-urgent digest waits for the end of the window; a digest with any urgent
    item goes now, whole (splitting it would send two messages in one run).  ``key`` is a
    stable id of the digest content, usable as the outbox dedupe key.
    """
    by_person: dict[str, dict[tuple[str, int], Notice]] = {}
    keys: dict[str, list[str]] = {}
    for n in notices:
        if n.recipient not in org.people:
            continue
        items = by_person.setdefault(n.recipient, {})
        ident = (n.item.table, n.item.row_id)
        if ident not in items or items[ident].rung < n.rung:
            items[ident] = n
        keys.setdefault(n.recipient, []).append(n.dedupe_key)
    quiet = policy.in_quiet_hours(now)
    out: list[Digest] = []
    for code in sorted(by_person):
        shown = tuple(sorted(by_person[code].values(), key=_sort_key))
        urgent = any(n.item.urgent for n in shown)
        all_keys = tuple(sorted(set(keys[code])))
        digest_id = hashlib.sha1("\n".join(all_keys).encode()).hexdigest()[:16]
        out.append(
            Digest(
                recipient=org.people[code],
                notices=shown,
                urgent=urgent,
                dedupe_keys=all_keys,
                send_after=policy.quiet_ends_after(now) if quiet and not urgent else None,
                key=f"digest:{code}:{digest_id}",
            )
        )
    return out
