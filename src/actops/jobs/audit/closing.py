"""A drawn cycle through to its report (issue 11 items 6 and 7): the I/O beside :mod:`.job`.

For every 审计周期 in 已抽样 or 审计中, each run:

* makes the 审计发现 of checked, described deviations (:mod:`.findings`), once each, and says
  on a sample row what keeps it from being done (a deviation without 问题描述, no owner);
* moves the cycle to 审计中 once its first row is checked;
* when every row is done (:mod:`.verdict`): writes 偏差率, 偏差上限 and 审计结论, marks the
  re-checked earlier findings 已复查, renders the report (:mod:`.report`), stores it in NocoDB and
  attaches it to the row (``apply_extra``), sends it to the general manager and the heads of
  the departments with deviations, and sets the cycle 已完成. A 已完成 cycle is not read again:
  a rerun changes nothing. If the file cannot be stored, the cycle stays as it was (no update,
  no message) and the next run tries again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from actops.jobs.audit import findings, report, verdict
from actops.jobs.audit.verdict import Row
from actops.kernel.changed_rows import filterable, read_in
from actops.kernel.org import CHANNEL_EMAIL, Org
from actops.kernel.runner import Plan
from actops.kernel.snapshot import Snapshot
from actops.messaging.outbox import Message, message_key
from actops.records import Issue

CYCLES, SAMPLES, FINDINGS = "audit_cycles", "audit_samples", "audit_findings"
DRAWN, IN_AUDIT, DONE = "已抽样", "审计中", "已完成"
OPEN = (DRAWN, IN_AUDIT)
OWNER_OF = {"审批": ("approval_requests", "applicant"), "费用": ("expenses", "employee"),
            "活动": ("activities", "owner")}
RETRY_AFTER = timedelta(hours=1)
KIND = "审计报告"


@dataclass
class Archive:
    """The report file to store in NocoDB and attach to the 审计周期 row ``row_id``."""

    row_id: int
    code: str
    filename: str
    html: str

    def __str__(self) -> str:
        return f"attach {self.filename} to 审计周期 {self.code}"


@dataclass
class Closing:
    cycles: list[Any]
    rows: dict[str, list[Row]] = field(default_factory=dict)  # cycle code → its sample rows
    item_owners: dict[str, str | None] = field(default_factory=dict)  # sample code → the item's owner
    prior: dict[str, Any] = field(default_factory=dict)  # earlier finding code → row (re-checks)
    found: dict[str, list[Any]] = field(default_factory=dict)  # cycle code → its 审计发现 rows
    names: list[str] = field(default_factory=list)  # customer and contact names, to mask
    issues: list[Issue] = field(default_factory=list)


def read_keys(store: Any, table: str, name: str, values: Iterable[str], issues: list[Issue],
              fields: list[str] | None = None, links: bool = True) -> list[Any]:
    """Rows of ``table`` whose ``name`` is one of ``values``, 50 a call; a value no filter can
    carry (a comma) finds nothing: the row it names shows as not found, never a failed run."""
    recs, probs = read_in(store.table(table), name, filterable(values), fields=fields, links=links)
    issues += probs
    return recs


def load(store: Any, cycles: list[Any]) -> Closing:
    out = Closing(cycles)
    if not cycles:
        return out
    for s in read_keys(store, SAMPLES, "cycle", [c.code for c in cycles], out.issues):
        if s.code and s.cycle:
            out.rows.setdefault(s.cycle, []).append(_row(s))
    for f in read_keys(store, FINDINGS, "cycle", [c.code for c in cycles], out.issues):
        out.found.setdefault(f.cycle, []).append(f)
    made = {f.code for fs in out.found.values() for f in fs}
    wanted: dict[str, dict[str, list[str]]] = {}  # kind → item → sample codes
    for cycle, rows in out.rows.items():
        for r in findings.raised(rows):
            if findings.code_of(cycle, r.code) not in made and r.kind in OWNER_OF:
                wanted.setdefault(r.kind, {}).setdefault(r.item, []).append(r.code)
    for kind, items in wanted.items():
        table, owner = OWNER_OF[kind]
        for rec in read_keys(store, table, "code", items, out.issues, fields=["code", owner]):
            for sample in items.get(rec.code, []):
                out.item_owners[sample] = getattr(rec, owner)
    rechecks = [r.item for rows in out.rows.values() for r in rows if r.kind == findings.RECHECK]
    out.prior = {f.code: f for f in read_keys(store, FINDINGS, "code", rechecks, out.issues, fields=["code", "status"])}
    if any(rows and not verdict.pending(rows) for rows in out.rows.values()):
        cust = store.table("customers").rows(fields=["name", "contact_name"])
        out.names = [str(v) for c in cust for v in (c.get("name"), c.get("contact_name")) if v]
    return out


def _row(s: Any) -> Row:
    return Row(s.code, s.item_kind or "", s.item_code or "", s.department, s.amount, s.reason, bool(s.checked),
               bool(s.deviation), s.audited_amount, s.finding or "", s.severity, s.Id)


def plan(c: Closing, snap: Snapshot, now: datetime, zh: dict[str, str], job: str, out: Plan) -> dict[str, int]:
    """Adds to ``out`` what :mod:`.job`'s plan does for the cycles in audit; returns the stats."""
    org = snap.org
    stats = {"cycles_evaluated": 0, "cycles_in_audit": 0, "samples_left": 0, "findings_new": 0, "rechecked": 0}
    out.issues += c.issues
    due = snap.calendar.add_workdays(now, snap.settings.audit_finding_due_days).date()
    reports = []
    for cycle in c.cycles:
        rows = c.rows.get(cycle.code, [])
        if not rows:
            out.issues.append(Issue(zh[CYCLES], cycle.Id, "状态", cycle.status,
                                    "本周期没有样本行，无从评价；如需重新抽样，请将状态改回 待抽样"))
            continue
        for r in rows:
            if r.checked and r.deviation and not r.described:
                out.issues.append(Issue(zh[SAMPLES], r.row_id, "问题描述", None,
                                        "已勾选「存在偏差」但未填写「问题描述」：填写后才能生成审计发现，本周期也才能评价"))
        made = {f.code: f for f in c.found.get(cycle.code, [])}
        owners = {r.code: _owner(org, c.item_owners.get(r.code), r.department) for r in rows}
        new, unowned = findings.make(cycle.code, rows, owners, due)
        new = [f for f in new if f.code not in made]
        for f in new:
            out.insert(FINDINGS, f.row())
        for r in (r for r in unowned if findings.code_of(cycle.code, r.code) not in made):
            out.issues.append(Issue(zh[SAMPLES], r.row_id, "对象编号", r.item,
                                    "找不到整改责任人（事项无负责人，部门无负责人，也未设总经理）：审计发现未生成"))
        stats["findings_new"] += len(new)
        left = verdict.pending(rows)
        if left:
            stats["samples_left"] += len(left)
            stats["cycles_in_audit"] += 1
            if cycle.status == DRAWN and any(r.checked for r in rows):
                out.update(CYCLES, cycle.Id, status=IN_AUDIT)
            continue
        try:
            record = verdict.read_record(cycle.params)
            v = verdict.verdict(record, rows)
        except (verdict.RecordError, KeyError, TypeError, ValueError) as exc:
            out.issues.append(Issue(zh[CYCLES], cycle.Id, "抽样参数", None, str(exc)))
            continue
        views = [report.FindingView(f.code, f.severity or "", f.description or "", f.owner or "", f.due_date,
                                    bool(f.fraud), f.status or "") for f in made.values()]
        views += [report.FindingView(f.code, f.severity, f.description, f.owner, f.due_date, f.fraud, findings.OPEN)
                  for f in new]
        values: dict[str, Any] = {"status": DONE, "conclusion": v.conclusion(len(views), sum(f.fraud for f in views))}
        if v.upper_limit is not None:
            values |= {"deviation_rate": v.deviation_rate, "upper_limit": v.upper_limit}
        out.update(CYCLES, cycle.Id, **values)
        for code in findings.rechecked(rows):
            prior = c.prior.get(code)
            if prior is not None and prior.status != findings.RECHECKED:
                out.update(FINDINGS, prior.Id, status=findings.RECHECKED)
                stats["rechecked"] += 1
        rendered = report.render(report.Cycle(cycle.code, cycle.period_start, cycle.period_end), record, v, rows,
                                 views, {d.code: d.name for d in snap.departments if d.code},
                                 {p.code: p.name for p in org.people.values()}, now, c.names)
        out.extra.append(Archive(cycle.Id, cycle.code, f"audit-report-{cycle.code}.html", rendered.html))
        out.messages += _messages(snap, org, cycle, rows, rendered, now, job)
        reports.append(rendered.report)
        stats["cycles_evaluated"] += 1
    if reports:
        out.report = "\n\n".join(reports)
    out.checked.setdefault(CYCLES, []).extend(cycle.Id for cycle in c.cycles)
    out.checked.setdefault(SAMPLES, []).extend(r.row_id for rows in c.rows.values() for r in rows if r.row_id)
    return stats


def _owner(org: Org, item_owner: str | None, department: str | None) -> str | None:
    """The item's owner while employed; else the department's head; else the general manager."""
    for code in (item_owner, org.dept_heads.get(department or ""), org.general_manager):
        if org.active(code):
            return code
    return None


def recipients(org: Org, rows: Iterable[Row]) -> list[str]:
    """The general manager and the heads of the departments with deviations (active, once each)."""
    heads = [org.dept_heads.get(d) for d in sorted({r.department for r in rows if r.deviation and r.department})]
    out: list[str] = []
    for code in [org.general_manager, *heads]:
        if code and org.active(code) and code not in out:
            out.append(code)
    return out


def item_key(row_id: int) -> str:
    """The outbox item of a cycle's report: one message per cycle, recipient and channel."""
    return f"{CYCLES}:{row_id}:report"


def _messages(snap: Snapshot, org: Org, cycle: Any, rows: list[Row], r: report.Rendered, now: datetime,
              job: str) -> list[Message]:
    s = snap.settings
    not_before = s.quiet_ends_after(now) if s.in_quiet_hours(now) else now
    items = (item_key(cycle.Id),)
    out = []
    for code in recipients(org, rows):
        person = org.active(code)
        assert person is not None
        for channel, address in person.addresses():
            email = channel == CHANNEL_EMAIL
            out.append(Message(key=message_key(job, person.code, channel, items), job=job, kind=KIND,
                               recipient=person.code, channel=channel, address=address, subject=r.subject,
                               body=r.markdown, html=r.html if email else "", items=items, urgent=False,
                               not_before=not_before, recipient_name=person.name))
    return out


def apply_extra(store: Any, plan: Plan, now: datetime) -> dict[str, int]:
    """Store each report and put it on its cycle's update; a cycle whose file cannot be stored
    keeps its state (no update, no message) and the next run, within the hour, tries again."""
    stored = 0
    for a in plan.extra:
        if not isinstance(a, Archive):
            continue
        update = plan.row_updates.get(CYCLES, {}).get(a.row_id)
        try:
            attachment = store.api.upload(a.filename, a.html.encode("utf-8"), "text/html")
        except Exception as exc:  # noqa: BLE001 — the cycle is retried whole by the next run
            plan.row_updates.get(CYCLES, {}).pop(a.row_id, None)
            plan.messages = [m for m in plan.messages if item_key(a.row_id) not in m.items]
            plan.wake_at = min(filter(None, (plan.wake_at, now + RETRY_AFTER)))
            plan.warnings.append(f"审计周期 {a.code} 的审计报告未能存入 NocoDB（{type(exc).__name__}: {exc}）；"
                                 "本周期暂不标记为已完成、报告暂不发送，下次运行重试")
            continue
        if update is not None:
            update["report"] = attachment
            stored += 1
    return {"audit reports": stored}
