"""Has anything changed since the last run? Two one-row reads per table say so.

A table's mark is its newest UpdatedAt, its highest Id and its row count: an edit moves
the first, an insert the second, a delete the third (a deleted holiday or setting can make
deadlines earlier, so deletes matter too). Marks are kept in the run log's stats of the
run that took them; the next run compares.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

# An edit in the same second as the mark cannot be told apart from the marked state.
_SAME_SECOND = timedelta(seconds=2)
UNSETTLED = "unsettled"


@dataclass(frozen=True)
class TableMark:
    updated: str | None  # newest UpdatedAt, or "unsettled" when too close to the mark time
    last_id: int | None
    rows: int | None

    def as_json(self) -> list[Any]:
        return [self.updated, self.last_id, self.rows]

    @classmethod
    def from_json(cls, raw: Any) -> TableMark | None:
        if isinstance(raw, list) and len(raw) == 3:
            return cls(*raw)
        return None

    @property
    def settled(self) -> bool:
        return self.updated != UNSETTLED


@dataclass(frozen=True)
class Watermarks:
    marks: Mapping[str, TableMark]

    def as_json(self) -> dict[str, list[Any]]:
        return {t: m.as_json() for t, m in self.marks.items()}

    @classmethod
    def from_json(cls, raw: Any) -> Watermarks | None:
        if not isinstance(raw, dict):
            return None
        marks = {t: TableMark.from_json(v) for t, v in raw.items()}
        if any(m is None for m in marks.values()):
            return None
        return cls(marks)  # type: ignore[arg-type]

    def unchanged_since(self, earlier: Watermarks | None) -> bool:
        """Same tables, same marks, every one settled."""
        return (earlier is not None and earlier.marks == self.marks
                and all(m.settled for m in self.marks.values()))


def take(store: Any, tables: Iterable[str], taken_at: datetime) -> Watermarks:
    """Marks of ``tables`` now; a mark too close to ``taken_at`` is "unsettled" so that it
    never equals a later mark."""
    out: dict[str, TableMark] = {}
    for name in tables:
        t = store.table(name).table
        newest = t.first("-UpdatedAt", ["UpdatedAt"], "(UpdatedAt,notblank)")
        body = t.api.request("GET", f"/api/v2/tables/{t.id}/records",
                             params={"limit": 1, "sort": "-Id", "fields": "Id"}, table=t.title)
        last = body["list"][0]["Id"] if body.get("list") else None
        count = body.get("pageInfo", {}).get("totalRows")
        updated = newest["UpdatedAt"] if newest else None
        if updated and datetime.fromisoformat(updated) >= taken_at - _SAME_SECOND:
            updated = UNSETTLED
        out[name] = TableMark(updated, last, count)
    return Watermarks(out)
