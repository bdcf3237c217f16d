"""月度总结 (summaries): on the 1st, last month in numbers for each department and the company.

Once per month: a month whose 月度总结 rows exist is not made again (a rerun sends nothing);
``--force`` makes a new version (``…-v2``) and says so in the subject. Each department head
gets their department's summary, the general manager the company's (e-mail with the charts
inside; WeCom the headline and a link), each in their language; each scope's zh-CN HTML is
attached to its 月度总结 row; the numbers of all scopes become the run's Prefect artifact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from actops.jobs.summaries.metrics import COMPANY, Data, Month, Numbers, compute
from actops.jobs.summaries.report import Rendered, artifact, render
from actops.jobs.summaries.rows import read_month
from actops.kernel.calendar import TZ
from actops.kernel.links import RowLinks
from actops.kernel.org import CHANNEL_EMAIL, Person
from actops.kernel.runner import FunctionJob, Plan, RunContext
from actops.kernel.snapshot import Snapshot, load_snapshot
from actops.messaging.outbox import Message, message_key
from actops.nocodb import F

NAME = "summaries"
NOTE_TAG = "月度总结"
WATCHED = ("summaries",)  # made on its day (the wake-up time); a deleted 月度总结 row is made again
TABLE = "summaries"

VERSION_SUFFIX = "-v"


@dataclass
class Archive:
    """A report file to store in NocoDB and attach to the 月度总结 row ``code`` (apply_extra)."""

    code: str
    filename: str
    html: str

    def __str__(self) -> str:
        return f"attach {self.filename} to 月度总结 {self.code}"


@dataclass
class Inputs:
    now: datetime
    month: Month
    department: str | None
    force: bool
    done: dict[str, list[str]]  # scope → codes already made for the month
    snap: Snapshot | None = None
    data: Data | None = None
    names: list[str] = field(default_factory=list)  # customer and contact names, to mask
    links: RowLinks | None = None


def _first_of_next_month(now: datetime) -> datetime:
    d = now.astimezone(TZ).date().replace(day=1) + timedelta(days=32)
    return datetime.combine(d.replace(day=1), time(8, 0), TZ)


def load(store: Any, ctx: RunContext) -> Inputs:
    from actops.kernel.links import row_links

    p = ctx.params
    month = Month.parse(p["month"]) if p.get("month") else Month.before(ctx.now)
    st = store.table(TABLE)
    done: dict[str, list[str]] = {}
    for r in st.rows(st.where(F("period") == str(month)), fields=["code", "scope"]):
        done.setdefault(str(r.get("scope")), []).append(str(r["code"]))
    inp = Inputs(ctx.now, month, p.get("department"), bool(p.get("force")), done)
    wanted = [inp.department] if inp.department else None
    if not inp.force and done and (wanted is None and COMPANY in done or wanted and wanted[0] in done):
        return inp  # made already: nothing else is read
    inp.snap = load_snapshot(store, ctx.now)
    recs = read_month(store, month)
    people = {e.code: (e.name, e.department) for e in inp.snap.employees}
    inp.data = Data(people=people, **{k: recs[k] for k in ("activities", "kpi_results", "budget_lines", "risks",
                                                           "feedback", "reports", "action_items")},
                    requests=recs["approval_requests"], steps=recs["approval_steps"])
    cust = store.table("customers").rows(fields=["name", "contact_name"])
    inp.names = [str(v) for c in cust for v in (c.get("name"), c.get("contact_name")) if v]
    inp.links = row_links(store, [TABLE])
    return inp


def _code(inp: Inputs, scope: str) -> tuple[str, int]:
    base = f"SUM-{inp.month}-{scope}"
    n = len(inp.done.get(scope, []))
    return (base if n == 0 else f"{base}{VERSION_SUFFIX}{n + 1}"), n + 1


def plan(inp: Inputs, ctx: RunContext) -> Plan:
    out = Plan(wake_at=_first_of_next_month(inp.now))
    if inp.snap is None or inp.data is None:
        out.stats = {"month": str(inp.month), "skipped": "already summarised; --force makes a new version"}
        return out
    snap, data = inp.snap, inp.data
    cal, org = snap.calendar, snap.org
    names = {d.code: d.name for d in snap.departments}
    scopes: list[str | None] = [inp.department] if inp.department else [None, *sorted(names)]
    made: list[Numbers] = []
    for scope in scopes:
        n = compute(data, inp.month, cal, scope)
        if scope is not None and not _anything(n):
            continue  # a department with nothing in the month gets no mail (the company summary lists it)
        before = compute(data, inp.month.previous(), cal, scope)
        key = scope or COMPANY
        code, version = _code(inp, key)
        label = names.get(scope or "", COMPANY)
        archive = render(n, before, label, "zh-CN", inp.now, inp.names, inp.links.grid(TABLE) if inp.links else None)
        out.insert(TABLE, {"code": code, "period": str(inp.month), "scope": key, "locale": "zh-CN",
                           "headline": archive.headline, "generated_at": inp.now})
        out.extra.append(Archive(code, f"{code}.html", archive.file_html))
        head = org.general_manager if scope is None else org.dept_heads.get(scope)
        person = org.active(head)
        if person is not None:
            out.messages += _messages(inp, person, n, before, label, code, version, archive)
        made.append(n)
    out.report = artifact(made, inp.names) if made else None
    out.stats = {"month": str(inp.month), "summaries": len(made), "charts": sum(1 for _ in out.extra)}
    return out


def _anything(n: Numbers) -> bool:
    return bool(n.activities or n.approvals or n.reports_due or n.overdue_items or n.ending or n.kpi_count)


def _messages(inp: Inputs, person: Person, n: Numbers, before: Numbers, label: str, code: str, version: int,
              zh: Rendered) -> list[Message]:
    r = zh if person.locale != "en" else render(n, before, label, "en", inp.now, inp.names,
                                                 inp.links.grid(TABLE) if inp.links else None)
    subject = r.subject + (f"（第 {version} 版，重新生成）" if version > 1 and person.locale != "en"
                           else f" (version {version}, regenerated)" if version > 1 else "")
    not_before = inp.snap.settings.quiet_ends_after(inp.now) if inp.snap.settings.in_quiet_hours(inp.now) else inp.now
    items = (f"{TABLE}:{code}:to:{person.code}",)
    out = []
    for channel, address in person.addresses():
        email = channel == CHANNEL_EMAIL
        out.append(Message(key=message_key(NAME, person.code, channel, items), job=NAME, kind="月度总结",
                           recipient=person.code, channel=channel, address=address, subject=subject,
                           body=r.markdown, html=r.mail_html if email else "", items=items, urgent=False,
                           not_before=not_before, recipient_name=person.name,
                           images=tuple((c.cid, c.png) for c in r.charts) if email else ()))
    return out


def apply_extra(store: Any, inputs: Inputs, plan: Plan) -> dict[str, int]:
    """Store each report file and put it on its 月度总结 row before the rows are inserted."""
    rows = {r["code"]: r for r in plan.inserts.get(TABLE, [])}
    stored = 0
    for a in plan.extra:
        if not isinstance(a, Archive) or a.code not in rows:
            continue
        try:
            rows[a.code]["report"] = store.api.upload(a.filename, a.html.encode("utf-8"), "text/html")
            stored += 1
        except Exception as exc:  # noqa: BLE001 — the summary still goes out; the row says what is missing
            plan.warnings.append(f"月度总结 {a.code} 的报告文件未能存入 NocoDB（{type(exc).__name__}: {exc}）；"
                                 "邮件照常发送，可用 --force 重新生成")
    return {"report files": stored}


JOB = FunctionJob(NAME, NOTE_TAG, WATCHED, load, plan, apply_extra=apply_extra)
