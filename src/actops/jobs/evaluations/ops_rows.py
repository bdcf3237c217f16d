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
from typing import Any, NamedTuple

from actops.jobs.evaluations.periods import Period
from actops.kernel.changed_rows import read_keyed
from actops.nocodb import F
from actops.nocodb.where import Expr, or_
from actops.records import Issue

MARGIN = timedelta(days=1)
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


def read_ops(store: Any, periods: list[Period], tables: set[str] | None = None) -> tuple[dict[str, list[Any]],
                                                                                        list[Issue]]:
    """The rows of ``activities``, ``feedback``, ``plans``, ``plan_tasks`` and ``action_items``
    the periods need, validated, and the problems of the rows read; only of ``tables`` (the ones
    the computed KPIs read, :func:`.actuals.tables_read`) when given, the others empty."""
    spans = sorted({(p.start, p.end) for p in periods})

    def days(name: str, margin: timedelta = timedelta(0)) -> Expr:
        return or_(*(F(name).on_or_after(a - margin) & F(name).on_or_before(b + margin) for a, b in spans))

    def times(name: str) -> Expr:
        return days(name, MARGIN)

    issues: list[Issue] = []

    def read(name: str, where: Expr) -> list[Any]:
        t, out = store.table(name), []
        for recs, probs in t.stream(t.where(where), fields=FIELDS[name]):
            out += _slim(name, recs)  # a page at a time: a quarter of a large base is many rows
            issues.extend(probs)
        return out

    def by_code(name: str, codes: set[str]) -> list[Any]:
        recs, probs = read_keyed(store.table(name), "code", codes, fields=FIELDS[name])
        issues.extend(probs)
        return _slim(name, recs)

    filters = {"activities": times("closed_at") | days("end_date"),
               "feedback": times("submitted_at") | F("submitted_at").is_blank(),
               "plan_tasks": days("due_date"), "action_items": days("due_date")}
    got: dict[str, list[Any]] = {name: read(name, where) if tables is None or name in tables else []
                                 for name, where in filters.items()}
    got["plans"] = by_code("plans", {str(t.plan) for t in got["plan_tasks"] if t.plan})
    have = {str(a.code) for a in got["activities"]}
    named = {str(x.activity) for x in (*got["feedback"], *got["action_items"]) if x.activity} - have
    got["activities"] += by_code("activities", named)
    return got, issues
