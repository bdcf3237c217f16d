"""Has anything changed since the last run? Two one-row reads per table say so.

A table's mark is its newest UpdatedAt, its highest Id and its row count: an edit moves
the first, an insert the second, a delete the third (a deleted holiday or setting can make
deadlines earlier, so deletes matter too).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from actops.store import Store

# An edit in the same second as the mark cannot be told apart from the marked state.
_SAME_SECOND = timedelta(seconds=2)


def marks(store: Store, tables: Iterable[str], taken_at: datetime) -> dict[str, list]:
    """``{table: [newest UpdatedAt, highest Id, rows]}``; a mark too close to ``taken_at`` is
    replaced by ``"unsettled"`` so that it never equals a later mark."""
    out: dict[str, list] = {}
    for name in tables:
        t = store.table(name).table
        newest = t.first("-UpdatedAt", ["UpdatedAt"], "(UpdatedAt,notblank)")
        body = t.api.request("GET", f"/api/v2/tables/{t.id}/records",
                             params={"limit": 1, "sort": "-Id", "fields": "Id"}, table=t.title)
        last = body["list"][0]["Id"] if body.get("list") else None
        count = body.get("pageInfo", {}).get("totalRows")
        updated = newest["UpdatedAt"] if newest else None
        if updated and datetime.fromisoformat(updated) >= taken_at - _SAME_SECOND:
            updated = "unsettled"
        out[name] = [updated, last, count]
    return out
