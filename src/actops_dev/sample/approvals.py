"""Approval requests, their steps and decisions; purchases, plan changes, emergencies (APR)."""

from __future__ import annotations

import datetime as dt
import math
import re
from functools import cache
from typing import TYPE_CHECKING

from actops.schema import load_schema
from actops_dev.sample.calendar import H, add_workdays
from actops_dev.sample.org import DEPARTMENTS, DEPT_NAME
from actops_dev.sample.plans import DEPT_TASKS

if TYPE_CHECKING:
    from actops_dev.sample.core import Gen, Row

APPROVE_COMMENTS = ("同意。", "同意，注意控制成本。", "已核对预算，同意。", "同意，请按计划推进。",
                    "费用合理，同意。", "同意，执行中注意留存票据。")
REJECT_COMMENTS = ("预算超出年度计划，请重新评估。", "附件不全，请补充报价单后重新提交。",
                   "供应商比价不足三家，请补充比价材料。", "活动目标与部门计划不符，暂不同意。",
                   "费用归属科目有误，请修改后重新提交。")
Route = tuple[str, float | None, float | None, tuple[str, ...]]


@cache
def routes() -> tuple[Route, ...]:
    """The active routes among the schema's ``approval_routes`` seed rows, in order (APR-2).

    Each is (kind, min amount incl., max amount excl., approver roles in order); the sample
    follows the same routes the bases are created with instead of a copy of them.
    """
    from actops.schema.settings_ref import SettingValues, default_settings

    tables = {t.name: t for b in load_schema() for t in b.tables}
    spec = tables["approval_routes"]
    # Tier amounts are {setting: tier1_amount} references: read them as a fresh base shows them.
    values = SettingValues(default_settings(tables["settings"].rows))
    types = {f.name: f.type for f in spec.fields}
    out = []
    for raw in spec.rows:
        row, _ = values.row(raw, types)
        if row.get("active") is False:
            continue
        roles = tuple(r.strip() for r in re.split(r"→|>", row["steps"]) if r.strip())
        out.append((row["kind"], row.get("min_amount"), row.get("max_amount"), roles))
    return tuple(out)


def route(kind: str, amount: float | None) -> tuple[str, ...]:
    for k, lo, hi, roles in routes():
        if k != kind:
            continue
        a = amount or 0
        if (lo is None or a >= lo) and (hi is None or a < hi):
            return roles
    raise ValueError(f"no route for {kind} {amount}")


def assignee(g: Gen, role: str, applicant: Row) -> str:
    me = applicant["code"]
    if role == "主管":
        return applicant["manager"] or g.gm
    if role == "部门负责人":
        head = g.heads[applicant["department"]]
        return head if head != me else (applicant["manager"] or g.gm)
    if role == "财务":
        return g.ch([c for c in g.finance_staff if c != me])
    if role == "总监":
        return g.ch([c for c in g.directors if c != me])
    if role == "计划组":
        return g.ch([c for c in g.planners if c != me])
    return g.gm  # 总经理, CEO


def request(g: Gen, kind: str, applicant: str, title: str, *, amount: float | None = None,
            activity: Row | None = None, emergency_by: str | None = None) -> Row:
    emp = g.emp[applicant]
    roles = route(kind, amount)
    req = {"code": None, "kind": kind, "title": title,
           "activity": activity["code"] if activity else None, "applicant": applicant,
           "department": emp["department"], "amount": amount, "status": "草稿",
           "emergency": emergency_by is not None, "emergency_by": emergency_by,
           "escalation_level": 0, "_roles": roles,
           "_assignees": [assignee(g, role, emp) for role in roles], "_steps": []}
    g.requests.append(req)
    return req


def draft(g: Gen, req: Row, created: dt.datetime) -> Row:
    req["status"] = "草稿"
    req["_t"] = g.past(created)
    return req


def _step(req: Row, i: int) -> Row:
    st = {"code": None, "request": req, "seq": i + 1, "role": req["_roles"][i],
          "assignee": req["_assignees"][i], "status": "未开始", "posthoc": req["emergency"],
          "escalation_level": 0}
    req["_steps"].append(st)
    return st


def decided(g: Gen, req: Row, submitted: dt.datetime, outcome: str) -> Row:
    """A request that has ended: 已通过, 已驳回 or 已撤回, submitted at ``submitted``."""
    n = len(req["_roles"])
    if submitted >= g.limit - 2 * H:
        submitted = g.limit - dt.timedelta(hours=g.u(30, 90))
    j = n if outcome == "已通过" else g.ri(0, n - 1)
    m = n if outcome == "已通过" else j + 1
    times: list[dt.datetime] = []
    t = submitted
    for _ in range(m):
        t = g.after(t, g.delay_h())
        times.append(t)
    if times[-1] >= g.limit:
        span = (g.limit - submitted) * g.u(0.5, 0.95)
        total = times[-1] - submitted
        times = [(submitted + (x - submitted) * (span / total)).replace(microsecond=0) for x in times]
    prev = submitted
    for i in range(n):
        st = _step(req, i)
        if i < j:
            st.update(status="已通过", opened_at=prev, decided_at=times[i])
            prev = times[i]
        elif i == j:
            st["opened_at"] = prev
            if outcome == "已驳回":
                st.update(status="已驳回", decided_at=times[i])
            else:
                st["status"] = "已跳过"
                req["_withdrawn"] = (st, times[i])
        else:
            st["status"] = "已跳过"
    req.update(status=outcome, submitted_at=submitted, decided_at=times[-1], _t=submitted)
    return req


def pending(g: Gen, req: Row, opened: dt.datetime, k: int | None = None,
            submitted: dt.datetime | None = None) -> Row:
    """A request in approval whose step ``k`` (0-based) has been open since ``opened``."""
    n = len(req["_roles"])
    opened = g.past(opened)
    if k is None:
        k = g.ri(0, n - 1)
    if k == 0:
        submitted = opened if submitted is None else submitted
        times: list[dt.datetime] = []
    elif submitted is not None and submitted < opened:
        times = sorted(submitted + (opened - submitted) * g.r() for _ in range(k - 1))
        times = [x.replace(microsecond=0) for x in times] + [opened]
    else:
        times = [opened]
        for _ in range(k - 1):
            times.insert(0, times[0] - dt.timedelta(hours=g.delay_h()))
        submitted = times[0] - dt.timedelta(hours=g.delay_h())
        office = g.wt(submitted.date())  # submitted in office hours that day
        submitted = office if office < times[0] else submitted.replace(microsecond=0)
    prev = submitted
    for i in range(n):
        st = _step(req, i)
        if i < k:
            st.update(status="已通过", opened_at=prev, decided_at=times[i])
            prev = times[i]
        elif i == k:
            st.update(status="待审批", opened_at=prev)
            if st["assignee"] in g.on_leave:
                st["delegate"] = g.emp[st["assignee"]].get("deputy")
    req.update(status="审批中", submitted_at=submitted, _t=submitted)
    return req


def recent_open(g: Gen) -> dt.datetime:
    """When a pending step opened: mostly within the SLA, some long overdue."""
    hours = g.u(1, 40) if g.r() < 0.65 else g.u(72, 400)
    return g.wt((g.limit - dt.timedelta(hours=hours)).date())


def number_requests(g: Gen) -> None:
    reqs = sorted(g.requests, key=lambda q: q["_t"])
    steps, decisions = g.t["approval_steps"], g.t["approval_decisions"]
    for n, req in enumerate(reqs, 1):
        code = f"AP-{n:06d}"
        req["code"] = code
        if req["emergency"]:
            decisions.append({"code": f"{code}-E", "request": req, "decision": "特批",
                              "by": req["emergency_by"], "at": req["submitted_at"],
                              "comment": "情况紧急，同意先行采购，请于3个工作日内补办完整审批手续。"})
        for st in req["_steps"]:
            st["code"] = f"{code}-S{st['seq']}"
            steps.append(st)
            if st["status"] in ("已通过", "已驳回"):
                ok = st["status"] == "已通过"
                decisions.append({"code": f"{st['code']}-D", "request": req, "step": st,
                                  "decision": "通过" if ok else "驳回", "by": st["assignee"],
                                  "at": st["decided_at"],
                                  "comment": g.ch(APPROVE_COMMENTS if ok else REJECT_COMMENTS)})
        if "_withdrawn" in req:
            st, at = req["_withdrawn"]
            decisions.append({"code": f"{code}-W", "request": req, "step": st, "decision": "撤回",
                              "by": req["applicant"], "at": at, "comment": "方案调整，撤回申请。"})
    g.t["approval_requests"] = reqs


def other_requests(g: Gen) -> None:
    today = g.today
    for a in g.acts:
        if a["_si"] < 2 or g.r() >= 0.35:
            continue
        amount = float(round(a["budget"] * g.u(0.15, 0.6), -2))
        req = request(g, "采购", a["owner"], f"{a['name']}物资及服务采购", amount=amount, activity=a)
        sub = g.wt(a["start_date"] - dt.timedelta(days=g.ri(5, 20)))
        if sub > g.now - dt.timedelta(days=5):
            pending(g, req, recent_open(g))
            continue
        r = g.r()
        if r < 0.82:
            decided(g, req, sub, "已通过")
        elif r < 0.9:
            decided(g, req, sub, "已驳回")
        elif r < 0.96:
            decided(g, req, sub, "已撤回")
        else:
            draft(g, req, sub)
    # plan adjustments (PLN-1 via APR)
    for _ in range(12 * g.scale):
        dept = g.ch([d[0] for d in DEPARTMENTS[1:]])
        applicant = g.worker(dept)
        title = f"{DEPT_NAME[dept]}{g.ch(DEPT_TASKS[dept])}计划调整申请"
        req = request(g, "计划调整", applicant, title)
        sub = g.wt(today - dt.timedelta(days=g.ri(3, 150)))
        r = g.r()
        if r < 0.55:
            decided(g, req, sub, "已通过")
        elif r < 0.7:
            decided(g, req, sub, "已驳回")
        elif r < 0.8:
            decided(g, req, sub, "已撤回")
        elif r < 0.9:
            pending(g, req, recent_open(g))
        else:
            draft(g, req, sub)


def emergencies(g: Gen) -> None:
    """Director-approved emergency purchases (APR-4), ~5 % of all requests."""
    n = max(3, round(len(g.requests) * 0.05 / 0.95))
    pool = [a for a in g.acts if a["_si"] >= 3]
    recent = [a for a in pool if a["stage"] in ("执行", "结项验收")] or pool
    for _ in range(n):
        r = g.r()
        mode = ("recent" if r < 0.12 else "overdue" if r < 0.25 else
                "rejected" if r < 0.3 else "done")
        a = g.ch(recent if mode in ("recent", "overdue") else pool)
        director = g.ch([d for d in g.directors if d != a["owner"]])
        amount = float(round(math.exp(g.u(math.log(5000), math.log(160_000))), -2))
        req = request(g, "紧急采购", a["owner"], f"{a['name']}现场紧急采购", amount=amount,
                      activity=a, emergency_by=director)
        if mode == "recent":  # post-hoc chain still within its 3 workdays
            sub = g.wt((g.limit - dt.timedelta(hours=g.u(3, 60))).date())
            span_h = (g.limit - sub).total_seconds() / 3600
            pending(g, req, sub + dt.timedelta(hours=g.u(0, span_h)), submitted=sub)
        elif mode == "overdue":  # post-hoc chain stuck past its deadline
            sub = g.wt((g.limit - dt.timedelta(days=g.u(6, 25))).date())
            pending(g, req, sub + dt.timedelta(hours=g.u(2, 72)), submitted=sub)
        else:
            sub = g.past(g.wt(a["start_date"] - dt.timedelta(days=g.ri(0, 4))), 60)
            if mode == "rejected":
                decided(g, req, sub, "已驳回")
            else:
                decided(g, req, sub, "已通过")
                req["posthoc_done_at"] = req["decided_at"]
        req["posthoc_due_at"] = add_workdays(g.cal, req["submitted_at"], 3)
