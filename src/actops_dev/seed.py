"""Fill the bases with the sample company (``actops seed``), idempotently.

Rows are matched by natural key: a rerun inserts only what is missing and leaves rows that
staff edited alone, so the demo can be run again without duplicating the company.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from actops.store import Store

# Written in this order so a reader of a half-seeded base sees the org first.
ORDER = (
    "calendar", "departments", "employees", "customers", "activities", "approval_requests",
    "approval_steps", "approval_decisions", "stage_gates", "documents", "reports", "meetings",
    "action_items", "kpi_results", "budget_lines", "expenses", "risks", "risk_history",
    "feedback", "plans", "plan_tasks", "problems",
)


def sample_rows(today: date, scale: int = 1) -> dict[str, list[dict]]:
    from actops_dev import sample
    from actops_dev.sample.calendar import calendar_rows

    data = sample.generate(today=today, scale=scale)
    data["calendar"] = calendar_rows(today)  # the workdays the sample was made with
    return data


def seed(store: Store, today: date, scale: int = 1,
         progress: Callable[[str, int, int], None] = lambda t, n, s: None) -> dict[str, tuple[int, int]]:
    data = sample_rows(today, scale)
    result: dict[str, tuple[int, int]] = {}
    for name in [*ORDER, *sorted(set(data) - set(ORDER))]:
        rows = data.get(name)
        if not rows:
            continue
        created, skipped = store.table(name).create_missing(rows)
        result[name] = (created, skipped)
        progress(store.table(name).spec.zh, created, skipped)
    return result
