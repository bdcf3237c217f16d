"""Rows through a ``where=`` string as NocoDB 0.301.3 filters them.

The string is read with ``_xwhere`` (the port of NocoDB's v2 reader), then each clause is
applied the way ``conditionV2.ts`` and its field handlers do: ``neq``/``nlike``/``nanyof``
also match blank, ``like`` is case-insensitive with ``%…%`` added, ``anyof`` matches whole
comma-separated options, ``blank`` on text means NULL or "". SQL's three-valued logic is kept
(None = NULL), and a list means what knex makes of it: ``a ~or b ~and c`` = a OR (b AND c),
``~not`` = AND NOT. DateTimes compare as timestamps to the second (PostgreSQL-like; on
SQLite NocoDB compares text, which differs only at the exact second of a ``gt``/``lte``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from actops.nocodb import _xwhere

NUMERIC = {"Number", "Decimal", "Currency", "Percent", "Rating", "Duration", "Year", "ID", "AutoNumber"}
DATES = {"Date", "DateTime", "CreatedTime", "LastModifiedTime"}
_DATE_OPS = {"eq", "neq", "not", "empty", "notempty", "null", "notnull", "blank", "notblank",
             "gt", "lt", "gte", "lte", "ge", "le", "isWithin"}
_NUMBER_OPS = {"eq", "neq", "blank", "notblank", "gt", "lt", "gte", "lte", "ge", "le", "in", "like",
               "nlike", "empty", "notempty", "null", "notnull"}
ABSENT = object()  # a clause NocoDB drops (e.g. exactDate with no date): knex adds nothing
Tri = bool | None


class Refused(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body)
        self.status, self.body = status, body


def compile_where(text: str | None, columns: dict[str, dict[str, Any]], now: datetime) -> Callable[[dict], bool]:
    """``columns`` maps title and id to column meta; rows are keyed by column id."""
    try:
        nodes = _xwhere.parse(text)
    except _xwhere.WhereSyntaxError as exc:
        raise Refused(exc.status, {"msg": str(exc)}) from None
    run = _list(nodes, columns, now)
    return lambda row: run(row) in (True, ABSENT)


def _list(nodes, columns, now) -> Callable[[dict], Any]:
    items = [(n.logical_op, _list(n.children, columns, now) if isinstance(n, _xwhere.Group)
              else _clause(n, columns, now)) for n in nodes]

    def run(row: dict) -> Any:
        chains: list[list[Tri]] = [[]]
        started = False
        for lop, f in items:
            v = f(row)
            if v is ABSENT:
                continue
            if lop == "not":
                v = None if v is None else not v
            if started and lop == "or":
                chains.append([v])
            else:
                chains[-1].append(v)
            started = True
        return _or([_and(c) for c in chains]) if started else ABSENT

    return run


def _and(vals: list[Tri]) -> Tri:
    return False if False in vals else None if None in vals else True


def _or(vals: list[Tri]) -> Tri:
    return True if True in vals else None if None in vals else False


def _clause(node: _xwhere.Clause, columns, now) -> Callable[[dict], Any]:
    col = columns.get(node.alias)
    if col is None:
        raise Refused(422, {"msg": f"Column alias '{node.alias}' not found."})
    uidt, op, value, sub = col["uidt"], node.op, node.value, None
    if uidt in DATES:
        parts = value.split(",") if value is not None else []
        sub = parts.pop(0) if parts else None
        value = parts[0] if parts else None
        if sub == "null":
            sub = None
        if sub and sub not in _xwhere.SUB_OPS:
            raise Refused(422, {"msg": f"'{sub}' is not supported."})
        if sub and (op == "isWithin") != (sub in _xwhere.IS_WITHIN_SUB_OPS):
            raise Refused(422, {"msg": f"'{sub}' is not supported for '{op}'"})
    allowed = _DATE_OPS if uidt in DATES else _NUMBER_OPS if uidt in NUMERIC else None
    if allowed is not None and op not in allowed:
        raise Refused(422, {"error": "ERR_FILTER_VERIFICATION_FAILED", "message": "Filter verification failed: "
                            f"Operation {op} is not supported for type {uidt} on column {col['title']}"})
    key = col["id"]
    if uidt in DATES:
        test = _date_test(op, sub, value, uidt, col["title"], now)
    else:
        test = _value_test(op, value, uidt in NUMERIC)
    return lambda row: test(row.get(key))


# --- text, numbers, checkboxes (conditionV2's own switch; numbers via the generic handler) ---


def _like(v: Any, pattern: str) -> bool:
    rx = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(rx, _s(v), re.IGNORECASE | re.DOTALL) is not None


def _s(v: Any) -> str:
    if isinstance(v, bool):
        return "1" if v else "0"  # SQLite keeps booleans as integers
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _num(v: Any) -> float | str:
    try:
        return float(v)
    except (TypeError, ValueError):
        return _s(v)


def _cmp(a: Any, b: Any, numeric: bool) -> int:
    x, y = (_num(a), _num(b)) if numeric else (_s(a), _s(b))
    if type(x) is not type(y):  # SQLite: numbers sort before text
        x, y = (0, 1) if isinstance(x, float) else (1, 0)
    return (x > y) - (x < y)


def _value_test(op: str, val: str | None, numeric: bool) -> Callable[[Any], Any]:
    if op == "not":
        op = "neq"
    if op in ("eq", "neq") and numeric and not val:  # generic handler: eq "" is blank
        return (lambda v: v is None) if op == "eq" else (lambda v: v is not None and v != "")
    if op == "eq":
        return lambda v: None if v is None else _cmp(v, val or "", numeric) == 0
    if op == "neq":
        return lambda v: True if v is None else _cmp(v, val or "", numeric) != 0
    if op in ("gt", "lt", "gte", "lte", "ge", "le"):
        want = {"gt": (1,), "lt": (-1,), "gte": (0, 1), "ge": (0, 1), "lte": (-1, 0), "le": (-1, 0)}[op]
        return lambda v: None if v is None else _cmp(v, val, numeric) in want
    if op == "like":
        if not val:
            return lambda v: v is not None
        pat = val if val.startswith("%") or val.endswith("%") else f"%{val}%"
        return lambda v: None if v is None else _like(v, pat)
    if op == "nlike":
        if not val:
            return lambda v: v is None or v != ""
        pat = val if val.startswith("%") or val.endswith("%") else f"%{val}%"
        return lambda v: v is None or v == "" or not _like(v, pat)
    if op in ("anyof", "allof", "nanyof", "nallof"):
        items = val.split(",") if val is not None else []
        if not items:
            return lambda v: ABSENT

        def has(v: Any, item: str) -> bool:
            wrapped = f",{_s(v)},"
            return _like(wrapped, f"%,{item},%") or _like(wrapped, f"%, {item},%")

        every = all if op in ("allof", "nallof") else any

        def test(v: Any) -> Tri:
            return None if v is None else every(has(v, i) for i in items)

        if op in ("anyof", "allof"):
            return test
        return lambda v: True if v is None else not test(v)
    if op == "in":
        items = (val or "").split(",")
        return lambda v: None if v is None else any(_cmp(v, i, numeric) == 0 for i in items)
    if op == "blank":
        return (lambda v: v is None) if numeric else (lambda v: v is None or v == "")
    if op == "notblank":
        return (lambda v: v is not None) if numeric else (lambda v: v is not None and v != "")
    if op in ("null", "notnull"):
        return (lambda v: v is None) if op == "null" else (lambda v: v is not None)
    if op == "empty":
        return lambda v: None if v is None else v == ""
    if op == "notempty":
        return lambda v: v is None or v != ""
    if op == "checked":
        return lambda v: None if v is None else v in (True, 1, "1", "true")
    if op == "notchecked":
        return lambda v: v is None or v in (False, 0, "0", "false")
    raise Refused(422, {"msg": f"the fake NocoDB does not evaluate '{op}'"})


# --- dates (date.general / date-time.general handlers) ---------------------------------


def parse_when(text: str) -> datetime | None:
    """A date or date-time as NocoDB parses it; no zone means UTC."""
    try:
        d = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return d.replace(tzinfo=UTC) if d.tzinfo is None else d.astimezone(UTC)


def _add_months(d: datetime, n: int) -> datetime:
    y, m = divmod(d.month - 1 + n, 12)
    for day in (d.day, 30, 29, 28):
        try:
            return d.replace(year=d.year + y, month=m + 1, day=day)
        except ValueError:
            continue
    raise AssertionError


_RELATIVE = {"today": (0, 0), "tomorrow": (1, 0), "yesterday": (-1, 0), "oneWeekAgo": (-7, 0),
             "oneWeekFromNow": (7, 0), "oneMonthAgo": (0, -1), "oneMonthFromNow": (0, 1),
             "pastWeek": (-7, 0), "pastMonth": (0, -1), "pastYear": (0, -12), "nextWeek": (7, 0),
             "nextMonth": (0, 1), "nextYear": (0, 12)}


def _date_test(op, sub, value, uidt, title, now) -> Callable[[Any], Any]:
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    exact: datetime | None = None
    if op in ("blank", "null", "empty"):
        return lambda v: v is None
    if op in ("notblank", "notnull", "notempty"):
        return lambda v: v is not None
    if sub in _RELATIVE:
        days, months = _RELATIVE[sub]
        anchor = _add_months(today, months) + timedelta(days=days)
    elif sub in ("daysAgo", "daysFromNow", "pastNumberOfDays", "nextNumberOfDays"):
        if not value:
            return lambda v: ABSENT
        n = int(float(value))
        anchor = today + timedelta(days=-n if sub in ("daysAgo", "pastNumberOfDays") else n)
    else:  # exactDate, or no sub-op
        if not value:
            return lambda v: ABSENT
        exact = parse_when(value)
        if exact is None:
            raise Refused(422, {"error": "ERR_FILTER_VERIFICATION_FAILED", "message": "Filter verification failed: "
                                f"Value {value} is not supported for type {uidt} on column {title}"})
        anchor = exact.replace(hour=0, minute=0, second=0, microsecond=0)
        if " " not in value.replace("T", " ").strip():
            exact = None  # a plain day: gt/lte mean after / up to the end of that day
    day = timedelta(days=1)
    if uidt == "Date":  # compared as 'YYYY-MM-DD' text, day by day
        key: Callable[[Any], Any] = lambda v: str(v)[:10]  # noqa: E731
        lo, hi, point = anchor.date().isoformat(), anchor.date().isoformat(), anchor.date().isoformat()
        first, last = today.date().isoformat(), today.date().isoformat()
        ends = {"gt": point, "gte": point, "lt": point, "lte": point}
    else:
        key = lambda v: (parse_when(str(v)) or datetime.min.replace(tzinfo=UTC)).replace(microsecond=0)  # noqa: E731
        lo, hi = anchor, anchor + day - timedelta(seconds=1)
        first, last = today, today + day - timedelta(seconds=1)
        ends = {"gt": exact or hi, "gte": exact or lo, "lt": exact or lo, "lte": exact or hi}
    if op == "isWithin":
        a, b = (first, hi) if today < anchor else (lo, last)
        return lambda v: None if v is None else a <= key(v) <= b
    if op == "eq":
        return lambda v: None if v is None else lo <= key(v) <= hi
    if op in ("neq", "not"):
        return lambda v: True if v is None else not lo <= key(v) <= hi
    bound = ends[{"ge": "gte", "le": "lte"}.get(op, op)]
    test = {"gt": lambda x: x > bound, "gte": lambda x: x >= bound, "ge": lambda x: x >= bound,
            "lt": lambda x: x < bound, "lte": lambda x: x <= bound, "le": lambda x: x <= bound}[op]
    return lambda v: None if v is None else test(key(v))


def sort_key(value: Any, uidt: str) -> tuple:
    """NULLs first ascending (NocoDB orders NULL as the smallest value on every database)."""
    if value is None:
        return (0, 0, "")
    if uidt in NUMERIC:
        n = _num(value)
        return (1, 0, n) if isinstance(n, float) else (1, 1, n)
    if uidt in ("DateTime", "CreatedTime", "LastModifiedTime"):
        d = parse_when(str(value))
        return (1, 0, d.isoformat()) if d else (1, 1, str(value))
    return (1, 0, _s(value))

