"""The operations rows a scoring run reads: those its periods can count, not the tables whole.

The rules in :mod:`.actuals` still test every date exactly; these reads only leave out rows
no rule of these periods could count, so a quarter costs the quarter's rows, not the years
before it (issue 12: cost follows the data a run needs). What each rule looks at:

* activities closed (结项时间) or planned to end (结束日期) in the periods, plus every activity a
  feedback or action item read here names (its type, department and owner);
* feedback submitted in the periods, or with no 提交时间 (those fall back to the activity's
  结束日期);
* plan tasks and action items due in the periods, with the plans the tasks name;

and of these only the tables the computed KPIs read: a KPI typed by hand (录入) reads none.

A 时间 (datetime) bound is widened by a day each side: NocoDB compares the stored instant's
day, the rules the Beijing day. Each row comes with the columns the rules read (:data:`FIELDS`), as a
small tuple, a page at a time.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any, NamedTuple

from actops.jobs.evaluations.periods import Period
from actops.kernel.row_cache import Kept, LocalCopy, lend_notes, refresh, refresh_keyed
from actops.nocodb import F
from actops.nocodb.where import Expr, or_
from actops.records import Issue

MARGIN = timedelta(days=1)
NAMED = "activities:named"  # the activities rows read here name, outside the periods' own
# The columns the rules read (a quarter of a large base is many rows: each carries only these).
FIELDS = {
    "activities": ["code", "type", "department", "owner", "stage", "end_date", "closed_at", "budget", "actual_cost"],
    "feedback": ["activity", "satisfaction", "submitted_at"],
    "plans": ["code", "department"],
    "plan_tasks": ["plan", "owner", "due_date", "status", "done_at"],
    "action_items": ["activity", "owner", "department", "due_date", "status", "done_at"],
}

_ROWS = {name: NamedTuple(f"{name}_row", [("Id", int), *((f, Any) for f in fields)])  # type: ignore[misc]
         for name, fields in FIELDS.items()}


def _slim(name: str, recs: list[Any]) -> list[Any]:
    """Records as small tuples of the columns read: about 110 bytes a row besides the values,
    against about 1.4 KB for a record (measured with tracemalloc on 待办事项)."""
    row = _ROWS[name]
    return [row(r.Id, *(getattr(r, f) for f in FIELDS[name])) for r in recs]


def read_ops(store: Any, periods: list[Period], tables: set[str] | None = None,
             copy: LocalCopy | None = None) -> tuple[dict[str, list[Any]], list[Issue]]:
    """The rows of ``activities``, ``feedback``, ``plans``, ``plan_tasks`` and ``action_items``
    the periods need, validated, and the problems of the rows read; only of ``tables`` (the ones
    the computed KPIs read, :func:`.actuals.tables_read`) when given, the others empty.

    With ``copy`` (:mod:`~actops.kernel.row_cache`), the rows of the previous run are patched
    with the rows changed since, so a run after one edit reads that edit: the same rows as a read
    from scratch, at the cost of the change."""
    spans = sorted({(p.start, p.end) for p in periods})

    def days(name: str, margin: timedelta = timedelta(0)) -> Expr:
        return or_(*(F(name).on_or_after(a - margin) & F(name).on_or_before(b + margin) for a, b in spans))

    def times(name: str) -> Expr:
        return days(name, MARGIN)

    filters = {"activities": times("closed_at") | days("end_date"),
               "feedback": times("submitted_at") | F("submitted_at").is_blank(),
               "plan_tasks": days("due_date"), "action_items": days("due_date")}
    reading = [n for n in filters if tables is None or n in tables]
    since, had = copy.open(_ROWS) if copy is not None else (None, {})
    kept: dict[str, Kept] = {}
    for name in reading:
        kept[name] = refresh(store.table(name), had.get(name), since, filters[name], FIELDS[name],
                             partial(_slim, name))
        if copy is not None and kept[name] is not had.get(name):  # a new Kept: read for the periods whole
            copy.read_whole.append(name)
    got: dict[str, list[Any]] = {n: kept[n].sorted_rows() if n in kept else [] for n in filters}
    at = {n: FIELDS[n].index(k) + 1 for n, k in (("plan_tasks", "plan"), ("feedback", "activity"),
                                                 ("action_items", "activity"), ("activities", "code"))}
    plans = {str(t[at["plan_tasks"]]) for t in got["plan_tasks"] if t[at["plan_tasks"]]}
    have = {str(a[at["activities"]]) for a in got["activities"]}
    named = {str(x[at[n]]) for n in ("feedback", "action_items") for x in got[n] if x[at[n]]} - have
    for name, table, wanted in (("plans", "plans", plans), (NAMED, "activities", named)):
        if wanted or name in had:
            kept[name] = refresh_keyed(store.table(table), had.get(name), since, "code", wanted, FIELDS[table],
                                       partial(_slim, table))
    got["plans"] = kept["plans"].sorted_rows() if "plans" in kept else []
    got["activities"] += kept[NAMED].sorted_rows() if NAMED in kept else []
    issues = [i for k in kept.values() for i in k.problems()]
    for name, k in kept.items():
        lend_notes(store.table(name.split(":")[0]), k)
    if copy is not None and (warning := copy.save(kept)):
        issues.append(Issue(store.table("activities").spec.zh, None, None, None, warning))
    return got, issues


def local_copy(store: Any, marks: Any, now: Any, periods: list[Period], tables: set[str] | None,
               max_age: timedelta) -> LocalCopy:
    """The copy of these reads for this NocoDB, these tables, columns and periods."""
    parts = [store.api.url, [store.table(n).table.id for n in FIELDS], FIELDS,
             sorted({(p.start, p.end) for p in periods}), sorted(tables if tables is not None else FIELDS)]
    return LocalCopy.for_job("evaluations", parts, marks, now, max_age)
