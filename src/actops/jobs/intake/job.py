"""表单受理 (intake): accept what staff submit, check what they name, keep the calendar filled.

Every run (the runner skips it when none of ``WATCHED`` changed and nothing falls due):

* form rows — rows of the five form tables whose key is blank, and rows still carrying an
  【表单受理】 note — get their key, submitted time and submitter (:mod:`.forms`);
* documents created or edited since the previous run (all of them on the first run) are
  checked against the naming rule (ACT-5, :mod:`.naming`): 命名合规 is set to what the rule
  says and a breaking name gets a note with the expected patterns; the name is never changed;
* 工作日历 is filled for the years ``chinese_calendar`` knows when it lacks days of them
  (:mod:`.calendar_sync`; one count call when it is complete). The run wakes once a day
  for this even when no table changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from actops.jobs.intake import calendar_sync, naming, numbering
from actops.jobs.intake.forms import (
    BY_TABLE,
    FORMS,
    OPEN_CYCLE,
    SELF_EVAL_KIND,
    Known,
    accept,
    blank,
    created_at,
)
from actops.jobs.intake.submitters import Directory
from actops.kernel.calendar import TZ
from actops.kernel.runner import FunctionJob, Plan, RunContext
from actops.nocodb import F
from actops.records import Issue
from actops.schema.spec import TableSpec

NAME = "intake"
NOTE_TAG = "表单受理"
DOCUMENTS = "documents"
WATCHED = (*(f.table for f in FORMS), "eval_cycles", "employees", DOCUMENTS)
IN_CHUNK = 50  # values per `in` filter: keeps the URL short


@dataclass
class FormRows:
    spec: TableSpec
    rows: list[dict[str, Any]]  # keyed by field name, with Id and CreatedAt
    existing: dict[date, list[str]] = field(default_factory=dict)  # keys of the days new rows fall on


@dataclass
class Inputs:
    now: datetime
    forms: dict[str, FormRows]
    known: Known
    documents: list[dict[str, Any]]
    documents_spec: TableSpec
    calendar: calendar_sync.CalendarPlan | None = None  # None: complete, nothing read


def _tagged() -> Any:
    return F("data_issue").like(f"【{NOTE_TAG}】")


def _read(bound: Any, where: str | None) -> list[dict[str, Any]]:
    rows = bound.rows(where)
    bound.notes.update({r["Id"]: r.get("data_issue") for r in rows})  # so fixed rows lose our note
    return rows


def previous_start(store: Any) -> datetime | None:
    """When the last finished run of this job started (from its 运行日志 stats)."""
    from actops.kernel.runlog import FINISHED

    t = store.table("run_log")
    row = t.table.first("-Id", ["Id", t.title("stats")], t.where((F("flow") == NAME) & F("status").any_of(FINISHED)))
    raw = (row or {}).get(t.title("stats"))
    try:
        stats = json.loads(raw) if isinstance(raw, str) else (raw or {})
        return datetime.fromisoformat(stats["started_at"])
    except (ValueError, KeyError, TypeError):
        return None


def _keys_of_days(bound: Any, prefix: str, days: Iterable[date]) -> dict[date, list[str]]:
    key = bound.spec.key
    return {d: [r[key] for r in bound.rows(bound.where(F(key).like(numbering.stem(prefix, d))), fields=[key])]
            for d in sorted(set(days))}


def _asked(store: Any, target: str, values: set[str]) -> set[str]:
    bound = store.table(target)
    key = bound.spec.key
    found: set[str] = set()
    plain = sorted(v for v in values if "," not in v)
    for i in range(0, len(plain), IN_CHUNK):
        rows = bound.rows(bound.where(F(key).in_(plain[i:i + IN_CHUNK])), fields=[key])
        found |= {str(r[key]) for r in rows if r.get(key) is not None}
    return found


def _known(store: Any, forms: dict[str, FormRows]) -> Known:
    known = Known()
    emps = store.table("employees").rows(fields=["code", "name", "email", "active", "department", "manager"])
    known.directory = Directory.from_rows(emps)
    known.keys["employees"] = set(known.directory.by_code)
    depts = store.table("departments")
    known.keys["departments"] = {str(r["code"]) for r in depts.rows(fields=["code"]) if r.get("code")}
    asked: dict[str, set[str]] = {}
    for fr in forms.values():
        for f in fr.spec.fields:
            if f.type == "ref" and f.ref not in known.keys:
                asked.setdefault(f.ref, set()).update(str(r[f.name]).strip() for r in fr.rows if not blank(r.get(f.name)))
    if "evaluations" in forms:
        cyc = store.table("eval_cycles")
        known.cycles = cyc.rows(cyc.where((F("kind") == SELF_EVAL_KIND) & (F("status") == OPEN_CYCLE)),
                                fields=["code", "kind", "status", "due_date"])
        codes = sorted({str(c["code"]) for c in known.cycles if c.get("code")} | asked.pop("eval_cycles", set()))
        known.keys["eval_cycles"] = _asked(store, "eval_cycles", set(codes))
        ev = store.table("evaluations")
        for i in range(0, len(codes), IN_CHUNK):
            for r in ev.rows(ev.where(F("cycle").in_(codes[i:i + IN_CHUNK])), fields=["cycle", "employee"]):
                known.evaluated.setdefault((str(r.get("cycle")), str(r.get("employee") or "").strip()), []).append(r["Id"])
    for target, values in asked.items():
        known.keys[target] = _asked(store, target, values)
    return known


def load(store: Any, ctx: RunContext) -> Inputs:
    forms: dict[str, FormRows] = {}
    for ft in FORMS:
        bound = store.table(ft.table)
        rows = _read(bound, bound.where(F(bound.spec.key).is_blank() | _tagged()))
        if not rows:
            continue
        fr = FormRows(bound.spec, rows)
        new_days = [numbering.day_of(created_at(r) or ctx.now) for r in rows if blank(r.get(bound.spec.key))]
        fr.existing = _keys_of_days(bound, bound.spec.key_prefix or "", new_days)
        forms[ft.table] = fr
    known = _known(store, forms) if forms else Known()
    docs = store.table(DOCUMENTS)
    since = previous_start(store)
    where = None
    if since is not None:  # a day's margin: NocoDB compares these by date
        day = since.astimezone(TZ).date() - timedelta(days=1)
        where = docs.where(F("UpdatedAt").on_or_after(day) | F("CreatedAt").on_or_after(day) | _tagged())
    documents = _read(docs, where)
    cal = None
    if not calendar_sync.looks_complete(store):
        cal = calendar_sync.sync_calendar(store, dry_run=ctx.dry_run)
    return Inputs(ctx.now, forms, known, documents, docs.spec, cal)


def plan(inp: Inputs, ctx: RunContext) -> Plan:
    out = Plan(wake_at=datetime.combine(inp.now.date() + timedelta(days=1), time(0, 5), TZ))
    stats = {"form_rows": 0, "keys_given": 0, "submitters_filled": 0, "documents_checked": len(inp.documents),
             "names_not_conforming": 0}
    for table, fr in inp.forms.items():
        ft, spec = BY_TABLE[table], fr.spec
        new = [(r["Id"], created_at(r) or inp.now) for r in fr.rows if blank(r.get(spec.key))]
        keys = numbering.assign(spec.key_prefix or "", new, fr.existing)
        for r in fr.rows:
            up, issues = accept(ft, spec, r, keys.get(r["Id"]), inp.known, inp.now)
            if up:
                out.update(table, r["Id"], **up)
            out.issues += issues
            stats["submitters_filled"] += ft.person in up
        out.checked[table] = [r["Id"] for r in fr.rows]
        stats["form_rows"] += len(fr.rows)
        stats["keys_given"] += len(keys)
    name_title = inp.documents_spec.field("name").zh
    for d in inp.documents:
        why = naming.problem(d.get("name"))
        if _truthy(d.get("name_ok")) != (why is None):
            out.update(DOCUMENTS, d["Id"], name_ok=why is None)
        if why:
            out.issues.append(Issue(inp.documents_spec.zh, d["Id"], name_title, d.get("name"), why))
            stats["names_not_conforming"] += 1
    out.checked[DOCUMENTS] = [d["Id"] for d in inp.documents]
    if inp.calendar is not None:
        c = inp.calendar
        stats.update(calendar_added=c.added if not ctx.dry_run else len(c.add), calendar_kept=len(c.kept))
        out.warnings.append(c.summary())
        if c.duplicates:
            out.warnings.append(f"工作日历中 {len(c.duplicates)} 个日期有多行（如 {c.duplicates[0]}），未改动；请删除多余的行")
    out.stats = stats
    return out


def _truthy(v: Any) -> bool:
    return v.strip().lower() in {"true", "1"} if isinstance(v, str) else bool(v)


JOB = FunctionJob(NAME, NOTE_TAG, WATCHED, load, plan)  # intake sends nothing
