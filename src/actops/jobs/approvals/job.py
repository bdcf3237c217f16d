"""审批流转 (approvals): requests become ordered steps, decisions move them, history is sealed.

Each run (woken by a webhook at once, or by its schedule):

* 立项 requests are made from 活动项目启动申请表 rows (ACT-2) that have their key and no
  立项审批单 yet; an activity past 客户确认 without an approved 立项 is flagged on its row;
* every request in 审批中 (and every director-approved one still owing its post-hoc chain)
  moves as far as its steps and decisions allow (:mod:`.flow`): routed and first step opened,
  grid decisions checked against the editor's account, the next step opened, the outcome
  written and told; an approved 计划调整 changes its plan task (PLN-1);
* every request's decision history is checked and new decisions are sealed (:mod:`.history`).

"Every" is every request a run reads: after a first full read, only the requests that changed
rows name, with their steps and decisions (OPS-3, :mod:`.changes`, which says why that is
enough); everything on a first run, with ``--full``, after a delete, when routes, settings or
org change, and every ``full_scan_hours``. ``requests_open`` counts the open requests read.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from actops.jobs.approvals import full, history
from actops.jobs.approvals.changes import (
    ReadAll,
    Scope,
    context_fingerprint,
    load_changes,
    why_full,
)
from actops.jobs.approvals.flow import (
    APPROVED,
    IN_APPROVAL,
    PLAN_CHANGE,
    Advance,
    Rules,
    advance,
)
from actops.jobs.approvals.messages import Context, render
from actops.jobs.approvals.routing import Route, parse_routes
from actops.kernel.calendar import TZ
from actops.kernel.links import DecisionLinks, RowLinks
from actops.kernel.runner import FunctionJob, Plan, RunContext
from actops.kernel.snapshot import Snapshot, load_snapshot
from actops.nocodb import F
from actops.records import Issue

NAME = "approvals"
NOTE_TAG = "审批流转"
WATCHED = ("approval_requests", "approval_steps", "approval_decisions", "approval_routes", "activities",
           "employees", "departments", "settings")
REQUESTS, STEPS, DECISIONS = "approval_requests", "approval_steps", "approval_decisions"
INITIATION = "立项"
NEEDS_INITIATION = ("执行", "结项验收", "归档")
APPLYING = "立项申请"
AUDIT_TAMPERED = "审批记录被改动或删除（SEC-4）：须纳入审计抽样"
IN_CHUNK = 50
APPLYING_FILTER = (F("stage") == APPLYING) & F("initiation_request").is_blank() & F("code").not_blank()
GATED_FILTER = F("stage").any_of(NEEDS_INITIATION)


@dataclass
class Inputs:
    now: datetime
    snap: Snapshot
    routes: list[Route]
    requests: list[Any]
    steps: dict[str, list[Any]]  # request code → its steps
    decisions: dict[str, list[Any]]  # request code → its decisions (of the open requests)
    applying: list[Any]  # activities waiting for their 立项 request
    gated: list[Any]  # activities past 客户确认
    verdicts: dict[int, history.Verdict] = field(default_factory=dict)  # request Id → its history check
    decision_ids: list[int] = field(default_factory=list)  # every decision read
    plan_tasks: dict[str, int] = field(default_factory=dict)
    decide: DecisionLinks | None = None
    rows: RowLinks | None = None
    issues: list[Issue] = field(default_factory=list)
    zh: dict[str, str] = field(default_factory=dict)  # table name → zh title
    scope: Scope = field(default_factory=Scope)  # what was read: everything, or changes (OPS-3)


def _open(req: Any) -> bool:
    return req.status == IN_APPROVAL or (req.emergency and req.status == APPROVED and req.posthoc_done_at is None)


def load(store: Any, ctx: RunContext) -> Inputs:
    """Routes, settings, calendar and org, then the requests with their steps and decisions:
    all of them (a first run, ``--full`` or other options, every ``full_scan_hours``, after a
    delete, or when what the rules take from routes, settings, calendar or org changed),
    otherwise only the requests changes name (OPS-3, :mod:`~actops.jobs.approvals.changes`)."""
    snap = load_snapshot(store, ctx.now)
    route_recs, issues = store.table("approval_routes").read()
    routes, route_issues = parse_routes(route_recs, store.table("approval_routes").spec.zh)
    issues += route_issues
    context = context_fingerprint(snap, routes, route_issues)
    why = why_full(ctx, snap.settings.full_scan_hours, context)
    if why is None:
        assert ctx.since is not None
        try:
            ch = load_changes(store, ctx, requests=REQUESTS, steps=STEPS, decisions=DECISIONS, is_open=_open,
                              applying=APPLYING_FILTER, gated=GATED_FILTER,
                              initiation_code=lambda a: _request_from(a, ctx.now).code)
        except ReadAll as err:
            why = str(err)
        else:
            scope = Scope(False, "only requests named by rows changed since the previous run",
                          datetime.fromisoformat(ctx.since.previous_state["full_read_at"]), context)
            opened = {r.code for r in ch.requests if r.code and _open(r)}
            return _inputs(store, ctx, snap, routes, ch.requests, ch.steps, full.fold([(ch.decisions, [])], opened),
                           ch.applying, ch.gated, issues + ch.issues, scope)
    # a page at a time: closed requests as small tuples, decisions folded into chains (.full)
    requests, probs = full.requests_of(store.table(REQUESTS).stream(), _open)
    issues += probs
    open_codes = sorted({r.code for r in requests if r.code and _open(r)})
    st = store.table(STEPS)
    steps: list[Any] = []
    for i in range(0, len(open_codes), IN_CHUNK):
        recs, probs = st.read(st.where(F("request").in_(open_codes[i:i + IN_CHUNK])))
        issues += probs
        steps += recs
    decisions = full.fold(store.table(DECISIONS).stream(fields=full.DECISION_FIELDS, keep_keys=False), set(open_codes))
    acts = store.table("activities")
    applying, probs = acts.read(acts.where(APPLYING_FILTER))
    issues += probs
    gated, probs = acts.read(acts.where(GATED_FILTER))
    issues += probs
    return _inputs(store, ctx, snap, routes, requests, steps, decisions, applying, gated, issues,
                   Scope(True, why or "", ctx.now, context))


def _inputs(store: Any, ctx: RunContext, snap: Snapshot, routes: list[Route], requests: list[Any],
            step_recs: list[Any], decisions: full.Decisions, applying: list[Any], gated: list[Any],
            issues: list[Issue], scope: Scope) -> Inputs:
    from actops.kernel.links import decision_links_from_env, row_links

    steps: dict[str, list[Any]] = {}
    for s in step_recs:
        steps.setdefault(s.request, []).append(s)
    verdicts = {}
    for r in requests:  # kept for the open requests and wherever there is something to do
        if r.Id is None:
            continue
        v = decisions.verdict(r.code, r.history_check)
        if _open(r) or not v.quiet(r.history_check):
            verdicts[r.Id] = v
    issues += decisions.issues
    scope = replace(scope, rows_read={t: n for t, n in ((REQUESTS, len(requests)), (STEPS, len(step_recs)),
                                                         (DECISIONS, len(decisions.ids)),
                                                         ("activities", len(applying) + len(gated))) if n})
    needs_tasks = any(r.kind == PLAN_CHANGE and _open(r) for r in requests)
    return Inputs(ctx.now, snap, routes, requests, steps, decisions.kept, applying, gated, verdicts=verdicts,
                  decision_ids=decisions.ids, plan_tasks=store.key_ids("plan_tasks") if needs_tasks else {},
                  decide=decision_links_from_env(datetime.now(TZ)), rows=row_links(store, [REQUESTS]), issues=issues,
                  zh={n: store.table(n).spec.zh for n in (REQUESTS, STEPS, DECISIONS, "activities")}, scope=scope)


def _rules(inp: Inputs) -> Rules:
    snap, s = inp.snap, inp.snap.settings
    active = [e for e in snap.employees if e.active]
    return Rules(now=inp.now, org=snap.org, routes=tuple(inp.routes), calendar=snap.calendar,
                 sla_days=s.approval_sla_days, posthoc_days=s.posthoc_days,
                 leave={e.code: (e.on_leave_until, e.deputy) for e in active},
                 by_email={str(e.email).strip().lower(): e.code for e in active if e.email})


def _request_from(act: Any, now: datetime) -> SimpleNamespace:
    return SimpleNamespace(Id=None, code=f"AP-{act.code}", kind=INITIATION, title=f"{act.name}（立项）",
                           activity=act.code, applicant=act.owner, department=act.department, amount=act.budget,
                           status=IN_APPROVAL, emergency=False, emergency_by=None, submitted_at=now,
                           posthoc_due_at=None, posthoc_done_at=None, history_check=None, audit_flag=None,
                           plan_task=None, new_due_date=None, last_editor=None)


def plan(inp: Inputs, ctx: RunContext) -> Plan:
    out = Plan()
    out.issues += inp.snap.issues + inp.issues
    out.warnings += inp.snap.warnings
    rules = _rules(inp)
    s = inp.snap.settings
    quiet = s.in_quiet_hours(inp.now)
    mctx = Context(inp.now, s.quiet_ends_after(inp.now) if quiet else inp.now, inp.snap.org, inp.decide, inp.rows)
    stats = {"requests_open": 0, "routed": 0, "steps_opened": 0, "decisions_recorded": 0, "approved": 0,
             "rejected": 0, "grid_edits_undone": 0, "chains_broken": 0, "initiations_created": 0}
    requests = list(inp.requests)
    for act in inp.applying:  # ACT-2: the form row becomes its 立项 request
        req = _request_from(act, inp.now)
        row = {k: v for k, v in vars(req).items() if k not in ("Id", "last_editor") and v is not None}
        out.insert(REQUESTS, row)
        out.update("activities", act.Id, initiation_request=req.code)
        requests.append(req)
        stats["initiations_created"] += 1
    for req in requests:
        if not req.code:
            out.issues.append(Issue(inp.zh[REQUESTS], req.Id, "申请编号", None, "请填写申请编号（如 AP-20261123-0001）"))
            continue
        verdict = inp.verdicts.get(req.Id) if req.Id is not None else None
        if verdict is None:  # a closed request with nothing to write, or one made this run
            verdict = history.Verdict([], {}, req.history_check or history.head(0, history.GENESIS))
        adv = Advance()
        if _open(req):
            stats["requests_open"] += 1
            adv = _advance_one(req, inp, rules, out)
        _apply(out, inp, req, adv, verdict, mctx, stats)
    _gate(out, inp, requests)
    out.checked = {REQUESTS: [r.Id for r in inp.requests if r.Id],
                   STEPS: [s.Id for ss in inp.steps.values() for s in ss],
                   DECISIONS: inp.decision_ids,
                   "activities": [a.Id for a in inp.gated], **inp.snap.checked}
    out.stats = {**stats, **inp.scope.stats()}
    out.state = inp.scope.state()
    return out


def _advance_one(req: Any, inp: Inputs, rules: Rules, out: Plan) -> Advance:
    if req.kind == PLAN_CHANGE and (not req.plan_task or not req.new_due_date) and not inp.steps.get(req.code):
        return Advance(problems=[("request", "调整任务", req.plan_task,
                                  "计划调整申请须选择「调整任务」并填写「调整后截止日期」，然后保存（状态保持 审批中）")])
    return advance(req, inp.steps.get(req.code, []), inp.decisions.get(req.code, []), rules)


def _apply(out: Plan, inp: Inputs, req: Any, adv: Advance, verdict: history.Verdict, mctx: Context,
           stats: dict[str, int]) -> None:
    code = req.code
    steps = {s.code: s for s in inp.steps.get(code, [])}
    for row in adv.new_steps:
        out.insert(STEPS, row)
    for scode, values in adv.step_updates.items():
        if scode in steps:
            out.update(STEPS, steps[scode].Id, **values)
    stats["routed"] += bool(adv.new_steps)
    stats["steps_opened"] += sum(1 for n in adv.notices if n.kind == "open")
    audit = list(adv.audit)
    if verdict.problems:
        stats["chains_broken"] += 1
        audit.append(AUDIT_TAMPERED)
        for rid, why in verdict.problems:
            if rid is None:
                out.issues.append(Issue(inp.zh[REQUESTS], req.Id, "记录校验", req.history_check, why))
            else:
                out.issues.append(Issue(inp.zh[DECISIONS], rid, "本条校验", verdict.hashes.get(rid), why))
    else:  # seal what is unsealed, then the new decisions after them
        for rid, (prev, h) in verdict.seals.items():
            out.update(DECISIONS, rid, prev_hash=prev, hash=h)
        n, last = history.parse_head(verdict.head) or (0, history.GENESIS)
        for d in adv.new_decisions:
            d["request"] = code
            d["prev_hash"], d["hash"] = last, history.digest(last, d)
            last, n = d["hash"], n + 1
            out.insert(DECISIONS, d)
        stats["decisions_recorded"] += len(adv.new_decisions)
        head = history.head(n, last) if n else None
        if head != (req.history_check or None) and req.Id is not None or req.Id is None and head:
            adv.request["history_check"] = head
    flags = [x for x in str(req.audit_flag or "").splitlines() if x]
    merged = list(dict.fromkeys([*flags, *audit]))
    if merged != flags:
        adv.request["audit_flag"] = "\n".join(merged)
    if adv.outcome == APPROVED and req.kind == PLAN_CHANGE and req.plan_task in inp.plan_tasks:
        out.update("plan_tasks", inp.plan_tasks[req.plan_task], due_date=req.new_due_date)
    stats["approved"] += adv.outcome == APPROVED
    stats["rejected"] += bool(adv.outcome) and adv.outcome != APPROVED
    if req.Id is not None and adv.request:
        out.update(REQUESTS, req.Id, **adv.request)
    elif req.Id is None:
        pending = next((r for r in out.inserts.get(REQUESTS, []) if r["code"] == code), None)
        if pending is not None:
            pending.update(adv.request)
    for on, fzh, value, why in adv.problems:
        if on == "request":
            if req.Id is not None:
                out.issues.append(Issue(inp.zh[REQUESTS], req.Id, fzh, value, why))
        else:
            stats["grid_edits_undone"] += 1
            out.issues.append(Issue(inp.zh[STEPS], steps[on].Id if on in steps else None, fzh, value, why))
    _messages(out, req, adv, steps, inp.decisions.get(code, []), mctx)


def _messages(out: Plan, req: Any, adv: Advance, steps: dict[str, Any], known: list[Any], mctx: Context) -> None:
    fresh = {s["code"]: s for s in adv.new_steps}
    said = [(d.decision, d.comment) for d in sorted(known, key=lambda d: d.Id)]
    said += [(d["decision"], d.get("comment")) for d in adv.new_decisions]
    # the applicant reads the comment of the decision that ended it (the last 通过/驳回/特批)
    last_comment = next((c for what, c in reversed(said) if what in ("通过", "驳回", "特批")), None)
    reqd = {"Id": req.Id, "code": req.code, "title": req.title, "kind": req.kind, "amount": req.amount,
            "applicant": req.applicant, "_comment": last_comment}
    for n in adv.notices:
        step = None
        if n.step:
            s = fresh.get(n.step) or steps.get(n.step)
            step = s if isinstance(s, dict) else ({**vars(s), **adv.step_updates.get(n.step, {})} if s else None)
        out.messages += render(n, reqd, step, mctx)


def _gate(out: Plan, inp: Inputs, requests: list[Any]) -> None:
    """ACT-2: past 客户确认 only with an approved 立项."""
    status = {r.code: r.status for r in requests if r.code}
    for a in inp.gated:
        got = status.get(a.initiation_request or "")
        if got == APPROVED:
            continue
        why = ("没有立项审批单" if not a.initiation_request else
               f"立项审批单 {a.initiation_request} 的状态是「{got or '不存在'}」")
        out.issues.append(Issue(inp.zh["activities"], a.Id, "阶段", a.stage,
                                f"活动进入「{a.stage}」前须经立项审批通过（部门负责人审核、总经理审批），但{why}；"
                                "请先完成立项审批，或把阶段改回"))


# A message's key names its step and notice (messages.item_key): one a dead run enqueued is
# not enqueued again, so the failed runs' outbox rows are not read (``uses_enqueued``).
JOB = FunctionJob(NAME, NOTE_TAG, WATCHED, load, plan, uses_enqueued=False)
