"""Which activity each expense and budget line named when last read, kept between runs
(:mod:`~actops.kernel.row_cache`), so that a row edited to name another activity also wakes the
activity it left (OPS-3, FIN-1).

A run that reads only changes finds the activities changed rows name now; the one an expense
left is named by no row any more, and NocoDB keeps no old values. Without this its line would
keep the moved amount in 已用金额 until the next full read. The copy is small: per table, the
Ids under each activity (a million expenses are about 8 MB of JSON).

Kept valid with the marks of the run that wrote it: a full read makes it anew; a changes run
asks which rows changed since its marks (one call per changed table, Id and 活动 only), takes
the activities those rows left and files them under the one they name now. With no usable copy
(first run, a new worker machine, a table with deletes since, older than ``full_scan_hours``)
the run reads everything, which makes one; ``ACTOPS_CACHE_DIR`` set empty keeps none, and then
the gap is closed by the next full read only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from actops.kernel.row_cache import LocalCopy, changed_keys
from actops.kernel.watermarks import Since, Watermarks


@dataclass
class Homes:
    """Per table: activity code → the Ids of the rows that named it."""

    tables: dict[str, dict[str, list[int]]] = field(default_factory=dict)

    @classmethod
    def of(cls, rows: Mapping[str, Iterable[Any]]) -> Homes:
        """From rows with ``Id`` and ``activity`` (records or tuples), per table."""
        out = cls({t: {} for t in rows})
        for t, rs in rows.items():
            for r in rs:
                if r.activity not in (None, ""):
                    out.tables[t].setdefault(str(r.activity), []).append(r.Id)
        return out

    def move(self, table: str, changed: Mapping[int, Any]) -> set[str]:
        """File the ``changed`` rows (Id → activity now) under their activity; the activities
        they were under before (the ones they may have left)."""
        groups, left = self.tables.setdefault(table, {}), set()
        for act, ids in list(groups.items()):
            if any(i in changed for i in ids):
                left.add(act)
                kept = [i for i in ids if i not in changed]
                if kept:
                    groups[act] = kept
                else:
                    del groups[act]
        for i, act in changed.items():
            if act not in (None, ""):
                groups.setdefault(str(act), []).append(i)
        return left


def copy_for(store: Any, marks: Watermarks, now: datetime, full_scan_hours: int) -> LocalCopy:
    parts = [store.api.url, [store.table(t).table.id for t in ("expenses", "budget_lines")]]
    return LocalCopy.for_job("watch-homes", parts, marks, now, timedelta(hours=full_scan_hours))


def left_behind(store: Any, copy: LocalCopy, tables: Iterable[str]) -> tuple[Homes, set[str]] | None:
    """The copy patched with the rows of ``tables`` changed since its marks, and the activities
    those rows were filed under; None without a usable copy (``copy.why`` says why)."""
    got = copy.read()
    if got is None:
        return None
    since, data = got
    homes = Homes(data)  # freshly parsed: {table: {activity: [Id, …]}}
    left: set[str] = set()
    for t in tables:
        changed = _changed(store, since, t)
        if changed is None:
            copy.why = f"rows of {store.table(t).spec.zh} were deleted since the local copy"
            return None
        left |= homes.move(t, changed)
    return homes, left


def _changed(store: Any, since: Since, table: str) -> dict[int, Any] | None:
    return changed_keys(store.table(table), since, table, "activity")
