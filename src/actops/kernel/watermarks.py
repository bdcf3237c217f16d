"""Has anything changed since the last run? Two one-row reads per table say so.

A table's mark is its newest UpdatedAt, its highest Id and its row count: an edit moves
the first, an insert the second, a delete the third (a deleted holiday or setting can make
deadlines earlier, so deletes matter too). Marks are kept in the run log's stats of the
run that took them; the next run compares.

:class:`Since` goes one step further (OPS-3): from two marks it builds the filter that reads
only the rows inserted or updated in between, and tells from the row count whether rows that
were there before are gone (a delete leaves no other trace).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from actops.nocodb import F
from actops.nocodb.where import Expr

# An edit in the same second as the mark cannot be told apart from the marked state.
_SAME_SECOND = timedelta(seconds=2)
UNSETTLED = "unsettled"


@dataclass(frozen=True)
class TableMark:
    updated: str | None  # newest UpdatedAt, or "unsettled" when too close to the mark time
    last_id: int | None
    rows: int | None
    newest: str | None = None  # the newest UpdatedAt itself when ``updated`` is "unsettled"

    def as_json(self) -> list[Any]:
        return [self.updated, self.last_id, self.rows, *([self.newest] if self.newest else [])]

    @classmethod
    def from_json(cls, raw: Any) -> TableMark | None:
        if isinstance(raw, list) and len(raw) in (3, 4):
            return cls(*raw)
        return None

    @property
    def settled(self) -> bool:
        return self.updated != UNSETTLED

    @property
    def newest_update(self) -> str | None:
        """The newest UpdatedAt when the mark was taken (settled or not), as NocoDB wrote it."""
        return self.updated if self.settled else self.newest


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
        updated = raw = newest["UpdatedAt"] if newest else None
        if updated and datetime.fromisoformat(updated) >= taken_at - _SAME_SECOND:
            updated = UNSETTLED
        out[name] = TableMark(updated, last, count, raw if updated == UNSETTLED else None)
    return Watermarks(out)


@dataclass(frozen=True)
class Since:
    """What changed in the watched tables between the previous finished run's marks and this
    run's (OPS-3); the runner hands it to the job as ``RunContext.since``.

    ``previous_state`` is what that run's job kept for this one (``Plan.state``), e.g. when it
    last read everything. Clocks: the filter compares NocoDB's UpdatedAt with the newest
    UpdatedAt NocoDB had written when the previous mark was taken. A settled mark is more than
    two seconds older than the moment it was taken (the rule the idle skip already trusts), so
    later edits fall in a later second; an unsettled mark's second is read again (the API shows
    whole seconds), so an edit made in that second is read twice rather than missed.
    """

    previous: Watermarks
    current: Watermarks
    previous_state: Mapping[str, Any]

    def changed(self, table: str) -> bool:
        """Did ``table``'s mark move (an edit, an insert or a delete), or can it not be told?"""
        p, c = self.previous.marks.get(table), self.current.marks.get(table)
        return p is None or c is None or p != c or not (p.settled and c.settled)

    def where(self, table: str) -> Expr:
        """Rows of ``table`` inserted (Id above the previous mark) or updated since it."""
        p = self.previous.marks.get(table)
        if p is None:
            return F("Id") > 0  # not watched before: every row is new to this job
        inserted = F("Id") > (p.last_id or 0)
        t = p.newest_update
        if t is None:  # no row had been edited at the mark: any edit is new
            return inserted | F("UpdatedAt").not_blank()
        at = datetime.fromisoformat(t)
        # NocoDB keeps fractions of a second but shows whole ones: ``gt`` the shown second would
        # still match the rows written in it, so a settled mark starts at the next second.
        return inserted | F("UpdatedAt").on_or_after(at + timedelta(seconds=1) if p.settled else at)

    def is_new(self, table: str, row_id: int) -> bool:
        """Inserted after the previous mark and at or before this run's."""
        p, c = self.previous.marks.get(table), self.current.marks.get(table)
        lo = (p.last_id or 0) if p is not None else 0
        hi = c.last_id if c is not None and c.last_id is not None else row_id
        return lo < row_id <= hi

    def deleted(self, table: str, inserted: int) -> bool:
        """Are rows that existed at the previous mark gone? ``inserted``: rows found now with
        an Id between the two marks (:meth:`is_new`); the count says the rest."""
        p, c = self.previous.marks.get(table), self.current.marks.get(table)
        if p is None or c is None or p.rows is None or c.rows is None:
            return True  # cannot tell: the caller checks the rows it cares about
        return c.rows - inserted < p.rows
