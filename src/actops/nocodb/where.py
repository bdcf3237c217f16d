"""NocoDB v2 ``where=`` filters as small immutable objects (after pyairtable's formulas).

    >>> from datetime import date
    >>> str((F("状态") == "待审批") & F("截止").before(date(2026, 12, 3)))
    '(状态,eq,待审批)~and(截止,lt,exactDate,2026-12-03)'
    >>> str(F("状态").any_of(["未开始", "进行中"]) | F("紧急").checked())
    '(状态,anyof,未开始,进行中)~or(紧急,checked)'

Operators: ``== != < <= > >=`` → ``eq neq lt lte gt gte``; ``&`` → ``~and``, ``|`` →
``~or``, ``~`` → ``~not``. A ``date``/``datetime`` value (or a relative day such as
``today()``) is sent with a date sub-op (``exactDate`` …): NocoDB refuses a bare date on a
Date field. Field names are titles unless ``render(title_of)`` maps them.

What NocoDB's v2 reader can and cannot read (``_xwhere.py`` is a port of it):

* It has **no escaping**. A value may contain ``,`` for ``eq``/``like``/… (kept whole), but
  not in an ``in``/``any_of``/``all_of``/``none_of`` item (the server splits items at ``,``),
  and no value may contain a line break or ``~and(``/``~or(``/``~not(``. A title may not
  contain ``,``. Such input raises ``ValueError`` naming the value.
* It finds brackets by looking for ``((`` and ``))``, so a value with brackets (``f(x)``)
  works alone but may be misread inside a group, and two groups in a row
  (``(a|b) & (c|d)``) are refused by the server. ``render`` orders the parts of ``&``/``|``
  so that a plain clause stands between groups; when there are too few it puts the neutral
  clause ``(Id,notblank)`` (for ``&``) or ``(Id,blank)`` (for ``|``) between them: every
  NocoDB table has a non-blank ``Id``.
* After rendering, the string is read back with the port (alone and wrapped the way
  ``Table.pages`` wraps it) and compared with the expression; anything NocoDB would read
  differently raises ``ValueError`` instead of filtering the wrong rows.

NocoDB reads ``~not`` as AND NOT, so a NOT is always sent inside an AND: ``a | ~b`` goes as
``~(~a & b)`` and a lone ``~a`` as ``(Id,notblank)~not(a)``. It follows SQL:
``~(F("a") == 1)`` leaves out rows where ``a`` is blank (NOT NULL is NULL), unlike
``F("a") != 1``, which NocoDB extends with "or blank".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from actops.nocodb import _xwhere

TitleOf = Callable[[str], str]

_LIST_OPS = {"in", "anyof", "nanyof", "allof", "nallof"}
_SPLITTER = re.compile(r"~(?:or(?:not)?|and(?:not)?|not)\(")  # where NocoDB cuts clauses apart


class Expr:
    """A filter; combine with ``&``, ``|``, ``~``; ``str()`` or ``render()`` gives ``where=``."""

    __slots__ = ()

    def __and__(self, other: Expr) -> Expr:
        return and_(self, other)

    def __or__(self, other: Expr) -> Expr:
        return or_(self, other)

    def __invert__(self) -> Expr:
        return not_(self)

    def __bool__(self) -> bool:
        raise TypeError("a filter has no truth value; combine filters with & | ~, not and/or/not")

    def render(self, title_of: TitleOf | None = None) -> str:
        """The ``where=`` string; ``title_of`` maps each field name to its title."""
        from actops.nocodb._where_render import check, render

        t = title_of or _identity
        text = render(self, t)
        check(self, text, t)
        return text

    def __str__(self) -> str:
        return self.render()


Where = Expr


def _identity(name: str) -> str:
    return name


@dataclass(frozen=True, slots=True)
class Cond(Expr):
    """One comparison: ``(field,op[,arg…])``; ``args`` are already text."""

    field: str
    op: str
    args: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"Cond({self.field!r}, {self.op!r}{''.join(f', {a!r}' for a in self.args)})"


@dataclass(frozen=True, slots=True)
class Raw(Expr):
    """A ``where`` string written by hand, taken as NocoDB reads it (titles, no mapping)."""

    text: str


@dataclass(frozen=True, slots=True)
class And(Expr):
    parts: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Or(Expr):
    parts: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Not(Expr):
    part: Expr


def _parts(kind: type, items: Iterable[Expr]) -> tuple[Expr, ...]:
    out: list[Expr] = []
    for e in items:
        if not isinstance(e, Expr):
            raise TypeError(f"not a filter: {e!r} (build one with F(...))")
        out.extend(e.parts if isinstance(e, kind) else (e,))
    return tuple(out)


def and_(*exprs: Expr) -> Expr:
    parts = _parts(And, exprs)
    if not parts:
        raise ValueError("and_() needs at least one filter")
    return parts[0] if len(parts) == 1 else And(parts)


def or_(*exprs: Expr) -> Expr:
    parts = _parts(Or, exprs)
    if not parts:
        raise ValueError("or_() needs at least one filter")
    return parts[0] if len(parts) == 1 else Or(parts)


def not_(expr: Expr) -> Expr:
    if not isinstance(expr, Expr):
        raise TypeError(f"not a filter: {expr!r}")
    return expr.part if isinstance(expr, Not) else Not(expr)


# --- values --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Day:
    """A relative day NocoDB computes at query time (in the server's time zone, UTC here)."""

    sub_op: str
    n: int | None = None

    def args(self) -> tuple[str, ...]:
        return (self.sub_op,) if self.n is None else (self.sub_op, str(self.n))


def today() -> Day:
    return Day("today")


def days_ago(n: int) -> Day:
    return Day("daysAgo", int(n))


def days_from_now(n: int) -> Day:
    return Day("daysFromNow", int(n))


def _date_text(d: date) -> str:
    if isinstance(d, datetime):
        if d.tzinfo is not None:
            d = d.astimezone(UTC)
            return d.strftime("%Y-%m-%d %H:%M:%S+00:00")
        return d.strftime("%Y-%m-%d %H:%M:%S")  # NocoDB reads it in its own zone (UTC)
    return d.isoformat()


def _date_args(field: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, Day):
        return value.args()
    if isinstance(value, date):
        return ("exactDate", _date_text(value))
    if isinstance(value, str):
        try:
            parsed: date = datetime.fromisoformat(value) if len(value) > 10 else date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"field {field!r}: {value!r} is not a date (give a datetime.date, "
                             "a datetime or today()/days_ago(n))") from None
        return ("exactDate", _date_text(parsed))
    raise TypeError(f"field {field!r}: a date filter needs a date, not {value!r}")


def _text(field: str, value: Any) -> str:
    if isinstance(value, Expr | F):
        raise TypeError(f"field {field!r}: NocoDB filters compare a field with a value, not with {value!r}")
    if value is None:
        raise ValueError(f"field {field!r}: compare with None via .is_blank() / .not_blank()")
    if isinstance(value, bool):
        raise ValueError(f"field {field!r}: use .checked() / .not_checked() for a checkbox, not {value!r}")
    if isinstance(value, int | float | Decimal | str):
        text = str(value)
    else:
        raise TypeError(f"field {field!r}: cannot filter by {type(value).__name__} {value!r}")
    if "\n" in text or "\r" in text:
        raise ValueError(f"field {field!r}: value {text!r} has a line break, which NocoDB's where= cannot carry")
    if _SPLITTER.search(text):
        raise ValueError(f"field {field!r}: value {text!r} contains '~and('/'~or('/'~not(', which "
                         "NocoDB's where= reads as a new clause (it has no escaping)")
    return text


class F:
    """A field, by title (or by name when rendered with a ``title_of`` mapping)."""

    __slots__ = ("name",)
    __hash__ = None  # type: ignore[assignment]  # == builds a filter

    def __init__(self, name: str) -> None:
        if not name or "," in name:
            raise ValueError(f"field {name!r}: NocoDB's where= cannot name a field with ',' in it, or none")
        self.name = name

    def __repr__(self) -> str:
        return f"F({self.name!r})"

    def _cmp(self, op: str, value: Any) -> Cond:
        if isinstance(value, date | Day):
            return Cond(self.name, op, _date_args(self.name, value))
        return Cond(self.name, op, (_text(self.name, value),))

    def __eq__(self, value: Any) -> Cond:  # type: ignore[override]
        return self._cmp("eq", value)

    def __ne__(self, value: Any) -> Cond:  # type: ignore[override]
        return self._cmp("neq", value)

    def __lt__(self, value: Any) -> Cond:
        return self._cmp("lt", value)

    def __le__(self, value: Any) -> Cond:
        return self._cmp("lte", value)

    def __gt__(self, value: Any) -> Cond:
        return self._cmp("gt", value)

    def __ge__(self, value: Any) -> Cond:
        return self._cmp("gte", value)

    eq, neq, lt, lte, gt, gte = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    # --- no value ---
    def is_blank(self) -> Cond:
        """Empty: NULL, or "" for text fields."""
        return Cond(self.name, "blank")

    def not_blank(self) -> Cond:
        return Cond(self.name, "notblank")

    def checked(self) -> Cond:
        return Cond(self.name, "checked")

    def not_checked(self) -> Cond:
        """Unticked or never set."""
        return Cond(self.name, "notchecked")

    # --- text ---
    def like(self, pattern: str) -> Cond:
        """SQL LIKE, case-insensitive; NocoDB adds ``%…%`` when the pattern has no ``%`` at
        either end."""
        return Cond(self.name, "like", (_text(self.name, pattern),))

    def not_like(self, pattern: str) -> Cond:
        """NOT LIKE, or blank."""
        return Cond(self.name, "nlike", (_text(self.name, pattern),))

    # --- lists ---
    def _list(self, op: str, values: Iterable[Any]) -> Cond:
        if isinstance(values, str):
            raise TypeError(f"field {self.name!r}: give a list of values, not the string {values!r}")
        items = tuple(_text(self.name, v) for v in values)
        if not items:
            raise ValueError(f"field {self.name!r}: {op} needs at least one value")
        for item in items:
            if "," in item:
                raise ValueError(f"field {self.name!r}: value {item!r} contains ',', which NocoDB uses to "
                                 f"separate the values of {op} (it has no escaping)")
        return Cond(self.name, op, items)

    def in_(self, values: Iterable[Any]) -> Cond:
        return self._list("in", values)

    def any_of(self, values: Iterable[Any]) -> Cond:
        """For select / multi-select fields: has any of the options."""
        return self._list("anyof", values)

    def all_of(self, values: Iterable[Any]) -> Cond:
        return self._list("allof", values)

    def none_of(self, values: Iterable[Any]) -> Cond:
        """Has none of the options, or is blank."""
        return self._list("nanyof", values)

    # --- dates (Date, DateTime, CreatedAt, UpdatedAt) ---
    def before(self, day: date | Day | str) -> Cond:
        return Cond(self.name, "lt", _date_args(self.name, day))

    def after(self, day: date | Day | str) -> Cond:
        return Cond(self.name, "gt", _date_args(self.name, day))

    def on(self, day: date | Day | str) -> Cond:
        return Cond(self.name, "eq", _date_args(self.name, day))

    def not_on(self, day: date | Day | str) -> Cond:
        return Cond(self.name, "neq", _date_args(self.name, day))

    def on_or_before(self, day: date | Day | str) -> Cond:
        return Cond(self.name, "lte", _date_args(self.name, day))

    def on_or_after(self, day: date | Day | str) -> Cond:
        return Cond(self.name, "gte", _date_args(self.name, day))

    def within(self, period: str, n: int | None = None) -> Cond:
        """``isWithin``: pastWeek, pastMonth, pastYear, nextWeek, …, or pastNumberOfDays/
        nextNumberOfDays with ``n``."""
        if period not in _xwhere.IS_WITHIN_SUB_OPS:
            raise ValueError(f"field {self.name!r}: isWithin takes one of {sorted(_xwhere.IS_WITHIN_SUB_OPS)}")
        return Cond(self.name, "isWithin", (period,) if n is None else (period, str(int(n))))
