"""The rows a monthly summary reads: those its month and the month before can count, not the
tables whole (issue 12). :func:`.metrics.compute` still tests every date exactly; these
reads only leave out rows it could not count:

* activities whose dates touch the two months or that end in them, plus the activities the
  feedback read names (the feedback's department is its activity's);
* budget lines and risks of those activities only (looked up by 活动, 50 codes a call);
* requests ended, reports due and feedback submitted since the first day of the month before;
* action items due by the month's end and not done before the month began (an item done
  earlier was done by the end of both months, so it is overdue in neither);
* steps escalated at least once; KPI results of the two months.

A 时间 (datetime) bound is widened by a day: NocoDB compares the stored instant's day, the
rules the Beijing day.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from actops.jobs.summaries.metrics import Month
from actops.kernel.changed_rows import read_keyed
from actops.nocodb import F

MARGIN = timedelta(days=1)


def read_month(store: Any, month: Month) -> dict[str, list[Any]]:
    """Validated (salvaged) rows by table name, for ``month`` and the month before."""
    first, last = month.previous().first, month.last
    since = first - MARGIN

    def read(name: str, where: Any, fields: list[str] | None = None) -> list[Any]:
        t = store.table(name)
        return t.read(t.where(where), fields=fields, salvage=True)[0]

    def by(name: str, key: str, values: set[str], fields: list[str] | None = None) -> list[Any]:
        return read_keyed(store.table(name), key, values, fields=fields, salvage=True)[0]

    recs: dict[str, list[Any]] = {
        "activities": read("activities", (F("start_date").on_or_before(last) & F("end_date").on_or_after(first))
                           | (F("end_date").on_or_after(first) & F("end_date").on_or_before(last))),
        "approval_requests": read("approval_requests", F("decided_at").on_or_after(since)),
        "approval_steps": read("approval_steps", F("escalation_level") >= 1, ["request", "escalation_level"]),
        "reports": read("reports", F("due_at").on_or_after(since), ["employee", "due_at", "submitted_at"]),
        "action_items": read("action_items", F("due_date").on_or_before(last)
                             & (F("done_at").is_blank() | F("done_at").on_or_after(month.first - MARGIN)),
                             ["owner", "department", "due_date", "status", "done_at"]),
        "kpi_results": read("kpi_results", F("period").in_([str(month), str(month.previous())])),
        "feedback": read("feedback", F("submitted_at").on_or_after(since), ["activity", "satisfaction",
                                                                             "submitted_at"]),
    }
    touched = {str(a.code) for a in recs["activities"] if a.code}
    recs["activities"] += by("activities", "code", {str(f.activity) for f in recs["feedback"] if f.activity} - touched)
    recs["budget_lines"] = by("budget_lines", "activity", touched, ["activity", "category", "amount", "spent"])
    recs["risks"] = by("risks", "activity", touched, ["activity", "likelihood", "impact", "status"])
    return recs
