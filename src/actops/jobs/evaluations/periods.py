"""Periods as 考评周期 and KPI实绩 write them ("2026-10", "2026-Q3", "2026"), and the one
rounding rule every stored score uses. Pure: no I/O, no clock."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from actops.kernel.calendar import to_local

MONTH, QUARTER, YEAR = "月", "季度", "年"
_PATTERNS = (
    (re.compile(r"^(\d{4})-(\d{1,2})$"), MONTH),
    (re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE), QUARTER),
    (re.compile(r"^(\d{4})$"), YEAR),
)


@dataclass(frozen=True, order=True)
class Period:
    start: date
    end: date  # inclusive
    kind: str
    code: str

    def __contains__(self, d: date | None) -> bool:
        return d is not None and self.start <= d <= self.end

    def months(self) -> list[Period]:
        out, d = [], self.start
        while d <= self.end:
            out.append(month(d.year, d.month))
            d = out[-1].end + timedelta(days=1)
        return out

    def previous(self) -> Period:
        """The period of the same kind just before this one."""
        return containing(self.start - timedelta(days=1), self.kind)


def month(year: int, m: int) -> Period:
    start = date(year, m, 1)
    nxt = date(year + (m == 12), m % 12 + 1, 1)
    return Period(start, nxt - timedelta(days=1), MONTH, f"{year}-{m:02d}")


def quarter(year: int, q: int) -> Period:
    first, last = month(year, 3 * q - 2), month(year, 3 * q)
    return Period(first.start, last.end, QUARTER, f"{year}-Q{q}")


def containing(d: date, kind: str) -> Period:
    if kind == MONTH:
        return month(d.year, d.month)
    if kind == QUARTER:
        return quarter(d.year, (d.month - 1) // 3 + 1)
    return Period(date(d.year, 1, 1), date(d.year, 12, 31), YEAR, str(d.year))


def parse_period(text: Any) -> Period:
    """"2026-10" (a month), "2026-Q3" / "2026Q3" (a quarter), "2026" (a year); ValueError else."""
    s = str(text or "").strip()
    for pattern, kind in _PATTERNS:
        m = pattern.match(s)
        if not m:
            continue
        year = int(m.group(1))
        if kind == MONTH:
            if not 1 <= int(m.group(2)) <= 12:
                break
            return month(year, int(m.group(2)))
        if kind == QUARTER:
            return quarter(year, int(m.group(2)))
        return containing(date(year, 1, 1), YEAR)
    raise ValueError(f"期间「{s}」无法识别：应写作 2026-10（月）、2026-Q3（季度）或 2026（年）")


def local_date(value: date | datetime | None) -> date | None:
    """A datetime's date in Beijing time; a date as is."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return to_local(value).date()
    return value


def round_half_up(x: float, places: int = 2) -> float:
    """Rounded the way people round by hand (2.345 → 2.35), not banker's rounding."""
    q = Decimal(1).scaleb(-places)
    return float(Decimal(repr(x)).quantize(q, rounding=ROUND_HALF_UP))


def get(row: Any, name: str, default: Any = None) -> Any:
    """A field of a record, a SimpleNamespace or a dict."""
    v = row.get(name, default) if isinstance(row, dict) else getattr(row, name, default)
    return default if v is None else v
