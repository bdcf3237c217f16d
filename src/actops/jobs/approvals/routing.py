"""Routes (审批路由 rows) to ordered approvers (APR-1, APR-2, APR-5). Pure: no I/O, no clock.

A route row gives a kind, an amount tier (lower bound included, upper bound excluded; blank is
open) and the approver roles in order. The request's kind and amount pick exactly one active
route; none or two is a problem reported on the request, and nothing is created.

Each role resolves to one active person from the org data:

* 主管 — the applicant's manager (an inactive one is replaced by theirs, as in the chain);
* 部门负责人 / 部门经理 — the head of the applicant's department; when the applicant heads it,
  their own manager (nobody approves their own request);
* 总经理 — the general manager (setting ``general_manager``, else the active 总经理);
* 财务, 总监, CEO, 计划组, 人事, 审计 — the active holder of that role. When several hold it,
  the one in the applicant's department is chosen, otherwise the lowest 工号: predictable, and
  an administrator who wants another person changes the roles, not code.

The applicant is never their own approver. A person on leave (休假至 on or after today) with
an active deputy resolves to the deputy as 代理审批人 (APR-5); the step keeps the approver.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from actops.kernel.org import Org, Person
from actops.records import Issue

SPLIT = re.compile(r"\s*(?:→|->|>|＞|，|,)\s*")
BY_HOLDER = ("财务", "总监", "CEO", "计划组", "人事", "审计")
HEAD_ROLES = ("部门负责人", "部门经理")
ROLES = ("主管", *HEAD_ROLES, "总经理", *BY_HOLDER)


class RoutingError(Exception):
    """Why a request cannot be routed, in words for the person who fixes it."""


@dataclass(frozen=True)
class Route:
    code: str
    kind: str
    min_amount: float | None
    max_amount: float | None
    roles: tuple[str, ...]
    row_id: int | None = None

    def covers(self, kind: str, amount: float | None) -> bool:
        if kind != self.kind:
            return False
        a = amount or 0.0
        return (self.min_amount is None or a >= self.min_amount) and (self.max_amount is None or a < self.max_amount)

    def describe(self) -> str:
        lo = "" if self.min_amount is None else f"{self.min_amount:,.2f}"
        hi = "" if self.max_amount is None else f"{self.max_amount:,.2f}"
        tier = f"（金额 {lo or '不限'} ~ {hi or '不限'}）" if lo or hi else ""
        return f"{self.code} {self.kind}{tier}：{' → '.join(self.roles)}"


def parse_routes(records: Iterable, table: str = "审批路由") -> tuple[list[Route], list[Issue]]:
    """Active routes from 审批路由 records; a route naming an unknown role is reported and left out."""
    routes, issues = [], []
    for r in records:
        if not getattr(r, "active", True):
            continue
        roles = tuple(x for x in SPLIT.split(str(r.steps or "").strip()) if x)
        unknown = [x for x in roles if x not in ROLES]
        if not roles or unknown:
            why = (f"审批角色「{'、'.join(unknown)}」不认识；可用的角色：{'、'.join(ROLES)}" if unknown
                   else "没有填写审批角色")
            issues.append(Issue(table, r.Id, "审批角色顺序", r.steps, f"{why}。此路由暂不使用"))
            continue
        if r.min_amount is not None and r.max_amount is not None and r.min_amount >= r.max_amount:
            issues.append(Issue(table, r.Id, "金额上限", r.max_amount,
                                f"金额上限须大于下限 {r.min_amount:,.2f}。此路由暂不使用"))
            continue
        routes.append(Route(str(r.code), str(r.kind), r.min_amount, r.max_amount, roles, r.Id))
    return routes, issues


def match(routes: Iterable[Route], kind: str, amount: float | None) -> Route:
    found = [r for r in routes if r.covers(kind, amount)]
    money = "未填金额" if amount is None else f"金额 {amount:,.2f}"
    if not found:
        raise RoutingError(f"没有适用于「{kind}」、{money} 的启用路由；请在「审批路由」中添加或启用一条，"
                           "然后保存本申请（状态保持 审批中）")
    if len(found) > 1:
        raise RoutingError(f"「{kind}」、{money} 同时符合 {len(found)} 条路由（{'；'.join(r.describe() for r in found)}）；"
                           "请在「审批路由」中调整金额区间或停用多余的一条")
    return found[0]


def _pick(holders: list[Person], applicant: Person) -> Person | None:
    others = [p for p in holders if p.code != applicant.code]
    same = [p for p in others if p.department and p.department == applicant.department]
    return (same or others or [None])[0]


def approver(role: str, applicant: Person, org: Org) -> str:
    """The 工号 who approves as ``role`` for ``applicant``; :class:`RoutingError` if nobody."""
    if role == "主管":
        chain = org.chain(applicant.code)
        manager = org.active(applicant.manager) and applicant.manager
        first = manager or (chain[0] if chain else None)
        if not first:
            raise RoutingError(f"申请人 {applicant.name}（{applicant.code}）没有在职的直属上级；请在「员工」中填写「直属上级」")
        return first
    if role in HEAD_ROLES:
        head = org.dept_heads.get(applicant.department or "")
        if head and head != applicant.code and org.active(head):
            return head
        if head == applicant.code:  # a head's own request goes to their manager
            return approver("主管", applicant, org)
        raise RoutingError(f"部门 {applicant.department or '（未填）'} 没有在职的部门负责人；请在「部门」中填写「部门负责人」")
    if role == "总经理":
        gm = org.general_manager
        if gm and gm != applicant.code:
            return gm
        raise RoutingError("没有在职的总经理（或申请人本人即总经理）；请在「系统设置」中填写 general_manager，"
                           "或给一位在职员工加上「总经理」角色")
    chosen = _pick(org.holders(role), applicant)
    if chosen is None:
        raise RoutingError(f"没有在职员工担任「{role}」（申请人本人除外）；请在「员工」中给一位在职员工加上该角色")
    return chosen.code


def deputy_for(code: str, leave: dict[str, tuple[date | None, str | None]], org: Org, today: date) -> str | None:
    """The active deputy of ``code`` while they are on leave (休假至 ≥ today), else None."""
    until, deputy = leave.get(code, (None, None))
    if until is None or until < today or not deputy or deputy == code:
        return None
    return deputy if org.active(deputy) else None
