"""Has anything changed since the last run? Two one-row reads per table say so.

A table's mark is its newest UpdatedAt and its highest Id: any edit moves the first, any
insert the second. Deletes move neither, which is fine for the jobs that use marks: a
deleted row can only take work away, never add a message.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from actops.store import Store

# An edit in the same second as the mark cannot be told apart from the marked state.
_SAME_SECOND = timedelta(seconds=2)


def marks(store: Store, tables: Iterable[str], taken_at: datetime) -> dict[str, list]:
    """``{table: [newest UpdatedAt, highest Id]}``; a mark too close to ``taken_at`` is
    replaced by ``"unsettled"`` so that it never equals a later mark."""
    out: dict[str, list] = {}
    for name in tables:
        t = store.table(name).table
        newest = t.first("-UpdatedAt", ["UpdatedAt"], "(UpdatedAt,notblank)")
        last = t.first("-Id", ["Id"])
        updated = newest["UpdatedAt"] if newest else None
        if updated and datetime.fromisoformat(updated) >= taken_at - _SAME_SECOND:
            updated = "unsettled"
        out[name] = [updated, last["Id"] if last else None]
    return out
