"""Reading only what changed (OPS-3): one staff edit in a base of 50,000 open items costs a few
reads, not a pass over every open row.

What can give the ladder something to do between two runs, and how this run finds it:

* a row inserted or edited since the previous run's marks (``Since.where``), open rows only;
* a row falling due with no edit: its stored 下次升级时间 (``next_escalation_at``, which the
  ladder writes on every item it handles) has passed — ``(next_escalation_at ≤ now)`` — read
  only for tables whose earliest such time (kept per table in the run log, ``due_by_table``)
  has come; a report also turns late at its due time (``late`` not yet ticked);
* a stage gate whose activity moved (its dates give the gate's deadline): the open gates of the
  activities edited since, all open gates when an activity was deleted;
* a row that left the open set or was deleted while a message about it waits in the outbox:
  the waiting messages name their rows, so those rows alone are looked up (``Id in …``); a
  message whose rows are all closed or gone is retired as in a full read;
* late-report streaks (RPT-1): every report of the employees whose reports were edited or
  turned late is read (``employee in …``), the whole table when a report was deleted.

Unread rows owe nothing: they have not changed since a run that put every notice they owed on
their ledger, and their next rung is later than now. Settings, the calendar, employees,
departments and the open self-evaluation cycles are read whole on every run anyway; when what
the rules take from them changes (:func:`context_fingerprint`), the run reads everything, as it
does on a first run, with job options, and every ``full_scan_hours`` (the safety net: a link
picked in a grid does not move UpdatedAt, see STACK.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from actops.jobs.escalations.sources import CYCLES, SOURCES, Source, open_filter
from actops.kernel import full_read
from actops.kernel.changed_rows import ReadAll, read_in
from actops.kernel.runner import RunContext
from actops.kernel.snapshot import Snapshot
from actops.messaging.outbox import PENDING, item_refs
from actops.nocodb import F
from actops.nocodb.where import Expr, or_
from actops.records import Issue, Record

DUE = "next_escalation_at"


@dataclass(frozen=True)
class Scope:
    """What a run read. A full read knows every open row; a read of changes knows the rows it
    read (``seen``: open or not) and assumes the others are as the previous run left them."""

    full: bool = True
    why: str = ""
    full_read_at: datetime | None = None  # the last run that read everything (this one, when full)
    context: str = ""  # :func:`context_fingerprint` of this run
    seen: Mapping[str, frozenset[int]] = field(default_factory=dict)  # rows whose state this run knows
    floors: Mapping[str, datetime | None] = field(default_factory=dict)  # earliest due time of rows not read
    rows_read: Mapping[str, int] = field(default_factory=dict)

    def stats(self) -> dict[str, Any]:
        return {"read": "full" if self.full else "changes", "read_why": self.why, "rows_read": dict(self.rows_read)}

    def state(self, due_by_table: Mapping[str, datetime | None]) -> dict[str, Any]:
        """What the next run needs to read only changes (``Plan.state``)."""
        return {"full_read_at": self.full_read_at.isoformat() if self.full_read_at else None,
                "context": self.context,
                "due_by_table": {t: d.isoformat() if d else None for t, d in due_by_table.items()}}


def context_fingerprint(base: Snapshot, cycles: Mapping[str, Record]) -> str:
    """A digest of what the rules take from settings, calendar, org and open cycles: equal
    digests, equal deadlines and chains. Fields the jobs write there (连续逾期, 数据问题) are left
    out, so this job's own writes do not make the next run read everything."""
    return full_read.fingerprint([
        *full_read.org_parts(base),
        sorted((d.isoformat(), w) for d, w in base.calendar.days.items()),
        [[c.code, c.kind, c.period, str(getattr(c, "due_date", None)), c.status] for _, c in sorted(cycles.items())],
    ])


def why_full(ctx: RunContext, full_scan_hours: int, context: str) -> str | None:
    """Why this run must read everything, or None: reading changes is enough."""
    why = full_read.why_full(ctx, full_scan_hours, context,
                             "settings, the calendar, employees, departments or open self-evaluation cycles",
                             state_maps=["due_by_table"])
    if why is None and any(s.table not in ctx.since.previous_state["due_by_table"] for s in SOURCES):
        return "a table to chase was not read before"
    return why


@dataclass
class Changes:
    """Rows read from the changes (see the module docstring), ready for :class:`Inputs`."""

    open_rows: dict[str, list[Record]]
    open_ids: dict[str, set[int]]
    seen: dict[str, set[int]]
    floors: dict[str, datetime | None]
    issues: list[Issue]
    reports_all: list[Record]
    reqs: list[Record]  # 审批中 or 特批 requests named by the rows read (titles, duplicates)
    activities: list[Record]  # activities of the gates read
    notes: list[str] = field(default_factory=list)  # how the reads were chosen, for the run log


def _parse(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def _read_in(bound: Any, name: str, values: Iterable[Any], where: Expr | None = None,
             fields: list[str] | None = None) -> tuple[list[Record], list[Issue]] | None:
    """Rows whose ``name`` is one of ``values`` (and ``where``), 50 values a call; None when a
    value cannot travel in an ``in`` filter (a comma): the caller reads more instead."""
    try:
        return read_in(bound, name, values, where, fields=fields)
    except ReadAll:
        return None


def due_filter(src: Source, now: datetime) -> Expr:
    """Open rows of ``src`` that fall due by ``now`` without an edit."""
    due = F(DUE).on_or_before(now)
    if src.table == "reports":  # a report turns late at its due time (RPT-1)
        return due | (F("due_at").on_or_before(now) & F("late").not_checked())
    return due


def _floor(bound: Any, where_open: Expr, now: datetime) -> datetime | None:
    """The earliest 下次升级时间 after ``now`` among the open rows (one one-row read)."""
    title = bound.title(DUE)
    row = bound.table.first(title, [title], bound.where(where_open & (F(DUE) > now)))
    return _parse(str(row[title]).replace(" ", "T", 1)) if row and row.get(title) else None


def load_changes(store: Any, ctx: RunContext, cycles: Mapping[str, Record], job: str) -> Changes:
    since, now = ctx.since, ctx.now
    assert since is not None
    prev_due = {t: _parse(v) for t, v in since.previous_state["due_by_table"].items()}
    out = Changes({}, {}, {}, {}, [], [], [], [])

    # Stage gates follow their activity's dates.
    gates_by_activity: Expr | None = None
    all_gates = False
    if since.changed("activities"):
        acts = store.table("activities")
        code = acts.title("code")
        moved = acts.table.all(acts.where(since.where("activities")), ["Id", code])
        all_gates = since.deleted("activities", sum(since.is_new("activities", r["Id"]) for r in moved))
        codes = [str(r[code]) for r in moved if r.get(code)]
        try:
            gates_by_activity = F("activity").in_(codes) if codes and len(codes) <= 200 else None
        except ValueError:
            gates_by_activity = None
        all_gates = all_gates or (codes != [] and gates_by_activity is None)
        if all_gates:
            out.notes.append("activities deleted or many edited: every open stage gate read")

    report_people: set[str] = set()
    all_reports = False
    for src in SOURCES:
        t = src.table
        where_open = open_filter(src, cycles)
        out.open_rows[t], out.open_ids[t], out.seen[t] = [], set(), set()
        edited = since.changed(t)
        due_at = prev_due.get(t)
        due = due_at is not None and now >= due_at
        complete = t == "stage_gates" and all_gates
        extra = gates_by_activity if t == "stage_gates" else None
        out.floors[t] = due_at
        if where_open is None or not (edited or due or complete or extra is not None):
            continue
        bound = store.table(t)
        wanted = [*([since.where(t)] if edited else []), *([due_filter(src, now)] if due else []),
                  *([extra] if extra is not None else [])]
        recs, probs = bound.read(bound.where(where_open if complete else where_open & or_(*wanted)))
        out.open_rows[t] = recs
        out.open_ids[t] = {r.Id for r in recs} | {p.row_id for p in probs}
        out.seen[t] = set(out.open_ids[t])
        out.issues += probs
        if due:
            out.floors[t] = _floor(bound, where_open, now)
        if complete:
            out.floors[t] = None
        if t == "reports":
            report_people |= {r.employee for r in recs if r.employee}
            if edited:  # submitted reports left the open set but move their author's streak
                emp = bound.title("employee")
                rows = bound.table.all(bound.where(since.where(t)), ["Id", emp])
                report_people |= {str(r[emp]) for r in rows if r.get(emp)}
                all_reports = since.deleted(t, sum(since.is_new(t, r["Id"]) for r in rows))
    _check_waiting(store, since, cycles, out, job)
    _read_reports(store, report_people, all_reports, out)
    _read_requests(store, out)
    acts = store.table("activities")
    got = _read_in(acts, "code", (g.activity for g in out.open_rows["stage_gates"]),
                   fields=["code", "name", "start_date", "end_date"])
    out.activities = got[0] if got is not None else acts.read(fields=["code", "name", "start_date", "end_date"])[0]
    return out


def _check_waiting(store: Any, since: Any, cycles: Mapping[str, Record], out: Changes, job: str) -> None:
    """Rows named by messages still waiting in the outbox, in tables that changed, that this
    run did not read: open still (in ``open_ids``), or closed or deleted (only in ``seen``)."""
    changed = {s.table for s in SOURCES if since.changed(s.table)}
    if not changed:
        return
    outbox = store.table("outbox")
    rows = outbox.rows(outbox.where((F("status") == PENDING) & (F("job") == job)), fields=["items"])
    refs: dict[str, set[int]] = {}
    for r in rows:
        for t, i in item_refs(r.get("items")):
            if t in changed and i not in out.seen.get(t, ()):
                refs.setdefault(t, set()).add(i)
    for src in SOURCES:
        ids = sorted(refs.get(src.table, ()))
        if not ids:
            continue
        bound = store.table(src.table)
        where_open = open_filter(src, cycles)
        still: set[int] = set()
        if where_open is not None:
            for i in range(0, len(ids), 100):
                found = bound.table.all(bound.where(where_open & F("Id").in_(ids[i:i + 100])), ["Id"])
                still |= {r["Id"] for r in found}
        out.open_ids[src.table] |= still
        out.seen[src.table] |= set(ids)
        out.notes.append(f"{src.table}: {len(ids)} rows named by waiting messages looked up, "
                         f"{len(ids) - len(still)} closed or deleted")


def _read_reports(store: Any, people: set[str], everything: bool, out: Changes) -> None:
    """Every report of ``people`` (their late streaks), or the whole table."""
    bound = store.table("reports")
    got = None if everything else _read_in(bound, "employee", people)
    if got is None:
        out.notes.append("reports deleted: every report read for the late streaks")
        got = bound.read()
    out.reports_all, probs = got
    out.issues += probs


def _read_requests(store: Any, out: Changes) -> None:
    """Requests in approval or emergency-approved, of the steps and requests read: the steps'
    titles and the duplicate check (REL-2) need them."""
    codes = {s.request for s in out.open_rows["approval_steps"]} | {r.code for r in out.open_rows["approval_requests"]}
    bound = store.table("approval_requests")
    live = (F("status") == "审批中") | F("emergency").checked()
    got = _read_in(bound, "code", codes, live)
    if got is None:
        got = bound.read(bound.where(live))
    out.reqs, probs = got
    out.issues += probs


__all__ = ["CYCLES", "Changes", "Scope", "context_fingerprint", "due_filter", "load_changes", "why_full"]
