"""One request's way through its steps (APR-1..5): pure rules, ``now`` is a parameter.

:func:`advance` looks at a request with its steps and decisions and says what happens next:
steps to create, steps to open, decisions to record (from the grid), edits to undo, the
request's outcome, and who is told. Nothing here reads or writes; the job does that.

Who decided is never taken on trust from the grid: a step set to 已通过/已驳回 in
「待我审批」 counts only when NocoDB's 最后修改人 is the approver's (or the deputy's) account;
otherwise the edit is undone and said on the row. The link page writes its decision row
itself, so a step that already has a decision row is settled by that row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from actops.jobs.approvals.routing import Route, RoutingError, approver, deputy_for, match
from actops.jobs.intake.submitters import account_email
from actops.kernel.calendar import WorkCalendar
from actops.kernel.org import Org

IN_APPROVAL, APPROVED, REJECTED = "审批中", "已通过", "已驳回"
WAITING, PENDING, PASSED, FAILED, SKIPPED = "未开始", "待审批", "已通过", "已驳回", "已跳过"
YES, NO, HANDOVER, EMERGENCY = "通过", "驳回", "转交", "特批"
DIRECTOR = "总监"
PLAN_CHANGE = "计划调整"
AUDIT_EMERGENCY = "总监特批（APR-4）：须纳入审计抽样"
AUDIT_POSTHOC_REJECTED = "事后补办被驳回：特批后的完整审批未通过"


@dataclass(frozen=True)
class Rules:
    """What every request is judged by in one run."""

    now: datetime
    org: Org
    routes: tuple[Route, ...]
    calendar: WorkCalendar
    sla_days: int
    posthoc_days: int
    leave: Mapping[str, tuple[date | None, str | None]]  # 工号 → (休假至, 代理人)
    by_email: Mapping[str, str]  # account e-mail → 工号 of active people

    def due(self, opened: datetime, days: int) -> datetime:
        return self.calendar.add_workdays(opened, days)


@dataclass
class Notice:
    kind: str  # "open" (to the approver), "outcome" (to the applicant), "refused" (grid edit undone)
    to: str  # 工号
    step: str | None = None  # step code
    urgent: bool = False
    detail: str = ""


@dataclass
class Advance:
    """What to do for one request (field-name keyed values)."""

    new_steps: list[dict[str, Any]] = field(default_factory=list)
    step_updates: dict[str, dict[str, Any]] = field(default_factory=dict)  # step code → values
    new_decisions: list[dict[str, Any]] = field(default_factory=list)
    request: dict[str, Any] = field(default_factory=dict)
    problems: list[tuple[str, str, Any, str]] = field(default_factory=list)  # (on, field zh, value, why); on = "request" or a step code
    notices: list[Notice] = field(default_factory=list)
    audit: list[str] = field(default_factory=list)
    outcome: str | None = None  # APPROVED / REJECTED when the request ended in this run

    def step(self, code: str, **values: Any) -> None:
        self.step_updates.setdefault(code, {}).update(values)


class Row(dict):
    """A step planned in this run, read like a stored record (``row.status``)."""

    def __getattr__(self, name: str) -> Any:
        return self.get(name)


def _missing(req: Any, steps: list[Any], rules: Rules, posthoc: bool) -> list[Row]:
    """Steps of the route that a killed run did not insert (it inserts in batches): the
    stored ones must be exactly the route's first steps, else nothing is guessed."""
    try:
        planned, _ = plan_steps(req, rules, posthoc=posthoc)
    except RoutingError:
        return []
    have = {s.code: s for s in steps}
    if not set(have) < {p["code"] for p in planned}:
        return []
    if any(have[p["code"]].role != p["role"] for p in planned if p["code"] in have):
        return []
    return [Row({**p, "status": WAITING, "opened_at": None, "due_at": None, "delegate": None, "Id": None})
            for p in planned if p["code"] not in have]


def _get(r: Any, name: str) -> Any:
    return r.get(name) if isinstance(r, dict) else getattr(r, name, None)


def actor(step: Any) -> str | None:
    """Who acts on a step now: the deputy while one is set, else the approver."""
    return _get(step, "delegate") or _get(step, "assignee")


def _open(adv: Advance, step: Any, rules: Rules, due: datetime, urgent: bool, code: str) -> None:
    """Open a step now; an approver on leave gets their deputy (recorded as a 转交)."""
    assignee = _get(step, "assignee")
    deputy = deputy_for(assignee, dict(rules.leave), rules.org, rules.now.date()) if assignee else None
    values: dict[str, Any] = {"status": PENDING, "opened_at": rules.now, "due_at": due}
    if deputy and not _get(step, "delegate"):
        values["delegate"] = deputy
        until = rules.leave.get(assignee, (None, None))[0]
        adv.new_decisions.append({"code": f"{code}-T1", "step": code, "decision": HANDOVER, "by": assignee,
                                  "to": deputy, "at": rules.now,
                                  "comment": f"休假代理：{_name(rules, assignee)} 休假至 {until}，由 {_name(rules, deputy)} 代理审批"})
    if isinstance(step, dict):
        step.update(values)
    else:
        adv.step(code, **values)
    adv.notices.append(Notice("open", values.get("delegate") or _get(step, "delegate") or assignee, code, urgent))


def _name(rules: Rules, code: str | None) -> str:
    p = rules.org.people.get(code or "")
    return f"{p.name}（{code}）" if p else str(code or "—")


def plan_steps(req: Any, rules: Rules, posthoc: bool, due: datetime | None = None) -> tuple[list[dict[str, Any]], Advance]:
    """The steps of a request from its route, the first one opened; RoutingError if it cannot be routed."""
    applicant = rules.org.active(_get(req, "applicant"))
    if applicant is None:
        raise RoutingError(f"申请人 {_get(req, 'applicant') or '（未填）'} 不在「员工」中或已离职；请选择在职的申请人")
    route = match(rules.routes, _get(req, "kind"), _get(req, "amount"))
    code = _get(req, "code")
    steps = [{"code": f"{code}-S{i}", "request": code, "seq": i, "role": role,
              "assignee": approver(role, applicant, rules.org), "status": WAITING, "posthoc": posthoc,
              "escalation_level": 0}
             for i, role in enumerate(route.roles, 1)]
    adv = Advance(new_steps=steps)
    _open(adv, steps[0], rules, due or rules.due(rules.now, rules.sla_days), posthoc, steps[0]["code"])
    return steps, adv


def _grid_decision(adv: Advance, step: Any, rules: Rules) -> str | None:
    """A step set to 已通过/已驳回 in the grid: recorded if the approver's own account did it, else undone."""
    code, status = step.code, step.status
    editor = account_email(_get(step, "last_editor"))
    who = rules.by_email.get(editor or "")
    allowed = {c for c in (step.assignee, step.delegate) if c}
    if who in allowed:
        adv.new_decisions.append({"code": f"{code}-D", "step": code, "decision": YES if status == PASSED else NO,
                                  "by": who, "at": rules.now, "comment": (step.comment or "").strip() or None})
        adv.step(code, decided_at=rules.now)
        return status
    names = "、".join(_name(rules, c) for c in sorted(allowed)) or "（未指定审批人）"
    adv.step(code, status=PENDING, decided_at=None)
    adv.problems.append((code, "状态", status,
                         f"只有 {names} 本人可以审批这一步；这次修改来自 {editor or '无法识别的账号'}，已恢复为 待审批。"
                         "请审批人用自己的账号在「待我审批」中处理，或点击提醒消息中的审批链接"))
    return None


def _handover(adv: Advance, step: Any, transfers: list[Any], rules: Rules) -> None:
    """A 代理审批人 set or changed in the grid is a 转交, by the approver or the current deputy only."""
    expected = transfers[-1].to if transfers else None
    if (step.delegate or None) == (expected or None):
        return
    named = rules.leave.get(step.assignee, (None, None))[1]
    if not transfers and step.delegate and step.delegate == named and rules.org.active(named):
        # the approver's own 代理人 from 「员工」, set before this job ran: recorded, not undone
        adv.new_decisions.append({"code": f"{step.code}-T1", "step": step.code, "decision": HANDOVER,
                                  "by": step.assignee, "to": named, "at": rules.now,
                                  "comment": f"代理审批：{_name(rules, named)} 是 {_name(rules, step.assignee)} 在「员工」中登记的代理人"})
        return
    editor = account_email(_get(step, "last_editor"))
    who = rules.by_email.get(editor or "")
    if who in {c for c in (step.assignee, expected) if c} and (step.delegate is None or rules.org.active(step.delegate)):
        n = len(transfers) + 1
        target = step.delegate or step.assignee
        adv.new_decisions.append({"code": f"{step.code}-T{n}", "step": step.code, "decision": HANDOVER, "by": who,
                                  "to": target, "at": rules.now,
                                  "comment": f"转交给 {_name(rules, target)}"})
        adv.notices.append(Notice("open", target, step.code, bool(step.posthoc)))
        return
    adv.step(step.code, delegate=expected)
    why = ("代理审批人不在职" if step.delegate and not rules.org.active(step.delegate)
           else f"只有审批人 {_name(rules, step.assignee)} 或当前代理人可以转交；这次修改来自 {editor or '无法识别的账号'}")
    adv.problems.append((step.code, "代理审批人", step.delegate, f"{why}，已恢复。"))


def advance(req: Any, steps: list[Any], decisions: list[Any], rules: Rules,
            is_director: Callable[[str], bool] | None = None) -> Advance:
    """The next moves of one request in 审批中 (or approved by a director and still post-hoc)."""
    emergency_done = any(d.decision == EMERGENCY for d in decisions)
    if req.emergency and not emergency_done and req.status == IN_APPROVAL:
        return _emergency(req, steps, rules, is_director or (lambda c: DIRECTOR in rules.org.people[c].roles))
    if not steps:
        if req.status != IN_APPROVAL:
            return Advance()
        try:
            _, adv = plan_steps(req, rules, posthoc=False)
        except RoutingError as err:
            return Advance(problems=[("request", "审批类型", req.kind, str(err))])
        if req.submitted_at is None:
            adv.request["submitted_at"] = rules.now
        return adv
    adv = Advance()
    posthoc = emergency_done
    by_step: dict[str, Any] = {}
    transfers: dict[str, list[Any]] = {}
    for d in sorted(decisions, key=lambda d: d.Id):
        if d.decision in (YES, NO) and d.step and d.step not in by_step:
            by_step[d.step] = d
        elif d.decision == HANDOVER and d.step:
            transfers.setdefault(d.step, []).append(d)
    missing = _missing(req, steps, rules, posthoc)
    adv.new_steps += missing
    ordered = sorted([*steps, *missing], key=lambda s: (s.seq or 0, s.Id or 0))
    ended: str | None = None
    for _i, s in enumerate(ordered):
        if ended:
            if s.status in (WAITING, PENDING):
                if isinstance(s, dict):
                    s["status"] = SKIPPED
                else:
                    adv.step(s.code, status=SKIPPED)
            continue
        d = by_step.get(s.code)
        outcome = None
        if d is not None:
            outcome = PASSED if d.decision == YES else FAILED
            if s.status != outcome:
                adv.step(s.code, status=outcome, decided_at=d.at)
                if s.status in (PASSED, FAILED):
                    adv.problems.append((s.code, "状态", s.status,
                                         f"此步骤已于 {d.at:%Y-%m-%d %H:%M} 由 {_name(rules, d.by)} 处理为{d.decision}，"
                                         "不能再改；已恢复"))
        elif s.status in (PASSED, FAILED):
            outcome = _grid_decision(adv, s, rules)
        elif s.status == WAITING:
            _open(adv, s, rules, _due(req, rules, posthoc), posthoc, s.code)
            return adv
        if outcome is None:  # still 待审批: only a handover can happen
            if s.status == PENDING or adv.step_updates.get(s.code, {}).get("status") == PENDING:
                _handover(adv, s, transfers.get(s.code, []), rules)
            return adv
        if outcome == FAILED:
            ended = REJECTED
    return _finish(adv, req, rules, ended or APPROVED, posthoc)


def _due(req: Any, rules: Rules, posthoc: bool) -> datetime:
    return req.posthoc_due_at if posthoc and req.posthoc_due_at else rules.due(rules.now, rules.sla_days)


def _finish(adv: Advance, req: Any, rules: Rules, result: str, posthoc: bool) -> Advance:
    if posthoc:  # the director's approval stands; the post-hoc chain is done either way
        if req.posthoc_done_at is None:
            adv.request["posthoc_done_at"] = rules.now
            if result == REJECTED:
                adv.audit.append(AUDIT_POSTHOC_REJECTED)
            adv.notices.append(Notice("outcome", req.applicant, detail="posthoc-" + ("ok" if result == APPROVED else "no")))
        return adv
    if req.status == IN_APPROVAL:
        adv.request.update(status=result, decided_at=rules.now)
        adv.outcome = result
        adv.notices.append(Notice("outcome", req.applicant, detail=result))
    return adv


def _emergency(req: Any, steps: list[Any], rules: Rules, is_director: Callable[[str], bool]) -> Advance:
    """总监特批 (APR-4): the director's own account ticked it; approved now, the chain follows post hoc."""
    by = req.emergency_by
    editor = account_email(_get(req, "last_editor"))
    person = rules.org.active(by)
    if person is None or not is_director(by):
        return Advance(problems=[("request", "特批人", by,
                                  "特批人须为在职的总监；请选择一位总监，或取消「总监特批」走正常审批")])
    if rules.by_email.get(editor or "") != by:
        return Advance(problems=[("request", "总监特批", editor,
                                  f"总监特批须由特批人 {_name(rules, by)} 本人用自己的账号勾选「总监特批」并保存；"
                                  f"这次修改来自 {editor or '无法识别的账号'}，暂不生效")])
    posthoc_due = rules.due(rules.now, rules.posthoc_days)
    adv = Advance()
    if not steps:
        try:
            _, adv = plan_steps(req, rules, posthoc=True, due=posthoc_due)
        except RoutingError as err:
            return Advance(problems=[("request", "审批类型", req.kind, f"特批后须补办完整审批，但{err}")])
    adv.new_decisions.insert(0, {"code": f"{req.code}-E", "step": None, "decision": EMERGENCY, "by": by,
                                 "at": rules.now, "comment": "总监特批：先行执行，完整审批事后补办"})
    adv.request.update(status=APPROVED, decided_at=rules.now, posthoc_due_at=posthoc_due,
                       submitted_at=req.submitted_at or rules.now)
    adv.audit.append(AUDIT_EMERGENCY)
    adv.outcome = APPROVED
    adv.notices.append(Notice("outcome", req.applicant, detail="emergency"))
    return adv
