"""The decision page (STF-5, APR-3): ``/approve/<token>`` opened from a reminder.

The token binds a person and one approval step (:class:`actops.kernel.links.DecisionLinks`).
``GET`` shows the request, its steps and its history with 通过 / 驳回 and a comment box;
``POST`` records the decision as a 审批记录 row by that person, then the step. The link works
once: a step that is no longer 待审批, or already has a decision, gets a page saying who
decided and when; a person who no longer acts on the step (handed over) is refused. One
decision per step at a time: a lock per step in this process, and the decision row is
looked up again under it, so of two decisions at once one wins and the other is told.

The approvals job, woken at once, seals the row into the request's hash chain and opens
the next step.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from actops.jobs.approvals.flow import NO, PENDING, YES, actor
from actops.nocodb import F

STEPS, REQUESTS, DECISIONS = "approval_steps", "approval_requests", "approval_decisions"
MAX_COMMENT = 2000
_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


class Refused(Exception):
    def __init__(self, status: int, heading: str, detail: str, what_to_do: str) -> None:
        super().__init__(detail)
        self.status, self.heading, self.detail, self.what_to_do = status, heading, detail, what_to_do


@dataclass
class StepView:
    person: Any
    step: dict[str, Any]
    request: dict[str, Any]
    steps: list[dict[str, Any]]
    history: list[dict[str, Any]]
    names: dict[str, str]


def _one(bound: Any, key: str, value: str) -> dict[str, Any] | None:
    rows = bound.rows(bound.where(F(key) == value))
    return rows[0] if len(rows) == 1 else None


def _names(store: Any) -> dict[str, Any]:
    return {r["code"]: r for r in store.table("employees").rows(fields=["code", "name", "active", "locale"])}


def load_view(store: Any, person_code: str, step_code: str) -> StepView:
    people = _names(store)
    person = people.get(person_code)
    if person is None or not person.get("active"):
        raise Refused(403, "无法打开此链接", "链接所属的员工不在职或不存在。", "如有疑问，请联系系统管理员。")
    step = _one(store.table(STEPS), "code", step_code)
    if step is None:
        raise Refused(404, "审批步骤不存在", f"找不到审批步骤 {step_code}（可能已被删除）。", "请联系申请人或系统管理员。")
    req = _one(store.table(REQUESTS), "code", step["request"]) or {"code": step["request"]}
    st = store.table(STEPS)
    steps = sorted(st.rows(st.where(F("request") == step["request"])), key=lambda s: s.get("seq") or 0)
    dt = store.table(DECISIONS)
    hist = sorted(dt.rows(dt.where(F("request") == step["request"])), key=lambda d: d["Id"])
    return StepView(person, step, req, steps, hist, {c: p.get("name") or c for c, p in people.items()})


def check_open(view: StepView) -> None:
    """Refuse a step that is decided (the link was used) or no longer this person's."""
    step, code = view.step, view.person["code"]
    done = next((d for d in view.history if d.get("step") == step["code"] and d.get("decision") in (YES, NO)), None)
    if done is not None or step.get("status") != PENDING:
        who = view.names.get((done or {}).get("by"), (done or {}).get("by") or "—")
        when = local((done or {}).get("at") or step.get("decided_at"))
        what = (done or {}).get("decision") or step.get("status")
        raise Refused(409, "这一步已经处理过", f"审批步骤 {step['code']} 已由 {who} 于 {when} 处理：{what}。",
                      "审批链接只能使用一次；无需再次操作。")
    if code not in {actor(step), step.get("assignee")}:
        now_by = view.names.get(actor(step) or "", actor(step) or "—")
        raise Refused(403, "这一步已转交他人", f"审批步骤 {step['code']} 现在由 {now_by} 处理。",
                      "如有疑问，请联系申请人或系统管理员。")


def local(v: object) -> str:
    """A time as NocoDB returns it (UTC text) or a datetime, as Beijing time ``YYYY-MM-DD HH:MM``."""
    from actops.messaging.render import local_time

    if isinstance(v, datetime):
        return local_time(v)
    text = str(v or "")
    try:
        return local_time(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return text[:16] or "—"


def _lock(step_code: str) -> threading.Lock:
    with _guard:
        return _locks.setdefault(step_code, threading.Lock())


def record(store: Any, person_code: str, step_code: str, decision: str, comment: str, now: datetime) -> StepView:
    """Write the decision of ``person_code`` on ``step_code``; :class:`Refused` if it cannot be."""
    if decision not in (YES, NO):
        raise Refused(400, "请选择通过或驳回", "没有收到有效的审批决定。", "请返回上一页，点击「通过」或「驳回」。")
    comment = " ".join(str(comment or "").split())[:MAX_COMMENT]
    if decision == NO and not comment:
        raise Refused(400, "驳回须写明原因", "驳回时请在意见栏写明原因，申请人会看到它。", "请返回上一页，填写意见后再点击「驳回」。")
    with _lock(step_code):
        view = load_view(store, person_code, step_code)  # read again under the lock: one decision wins
        check_open(view)
        step = view.step
        store.table(DECISIONS).create([{"code": f"{step_code}-D", "request": step["request"], "step": step_code,
                                        "decision": decision, "by": person_code, "at": now,
                                        "comment": comment or None}])
        store.table(STEPS).update([{"Id": step["Id"], "status": "已通过" if decision == YES else "已驳回",
                                    "decided_at": now, "comment": comment or None}])
        return view
