"""Keys for rows that arrive without one (STF-1): ``<PREFIX>-<YYYYMMDD>-<NNNN>``.

The day is the row's CreatedAt in Asia/Shanghai; NNNN continues the highest number of that
prefix and day already in the table (a key typed by hand counts too), four digits at least
(the 10,000th row of a day gets five). Rows are numbered in the order they were created
(CreatedAt, then Id). A row that has a key keeps it: only blank keys are given, so a
rerun gives nothing new and a key never changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime

from actops.kernel.calendar import TZ

WIDTH = 4


def day_of(created_at: datetime) -> date:
    """The Shanghai calendar day of a NocoDB time stamp (naive ones are UTC, as NocoDB stores)."""
    if created_at.tzinfo is None:
        created_at = created_at.replace(tzinfo=UTC)
    return created_at.astimezone(TZ).date()


def stem(prefix: str, day: date) -> str:
    return f"{prefix}-{day:%Y%m%d}-"


def format_key(prefix: str, day: date, n: int) -> str:
    return f"{stem(prefix, day)}{n:0{WIDTH}d}"


def number_of(prefix: str, day: date, key: object) -> int | None:
    """N of a key ``<prefix>-<day>-<N>``, or None when the key is another day's or shape."""
    m = re.fullmatch(re.escape(stem(prefix, day)) + r"(\d+)", str(key or "").strip())
    return int(m.group(1)) if m else None


def highest(prefix: str, day: date, keys: Iterable[object]) -> int:
    return max((n for k in keys if (n := number_of(prefix, day, k)) is not None), default=0)


def assign(prefix: str, rows: Iterable[tuple[int, datetime]], existing: dict[date, Iterable[object]]) -> dict[int, str]:
    """Keys for ``rows`` (row Id, CreatedAt), continuing ``existing`` keys per day.

    ``existing`` maps each day the rows fall on to the keys of that day already in the
    table (a superset is fine: other shapes are ignored).
    """
    by_day: dict[date, list[tuple[datetime, int]]] = {}
    for row_id, created in rows:
        by_day.setdefault(day_of(created), []).append((created, row_id))
    out: dict[int, str] = {}
    for day, items in by_day.items():
        n = highest(prefix, day, existing.get(day, ()))
        for _, row_id in sorted(items, key=lambda t: (t[0], t[1])):
            n += 1
            out[row_id] = format_key(prefix, day, n)
    return out
