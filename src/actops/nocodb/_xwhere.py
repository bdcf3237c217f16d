"""How NocoDB 0.301.3 reads a v2 ``where=`` string, ported line by line.

The v2 data API reads ``where`` with ``extractFilterFromXwhere`` from
``nocodb-sdk/build/main/lib/filterHelpers_old.js`` (a string that starts with ``@`` goes to
a newer parser instead; we never send one). That reader has no escaping and no real bracket
matching: it looks for ``((`` / ``(~`` and the first ``))``, and splits clauses before
``~and(``, ``~or(``, ``~not(``. ``where.py`` renders expressions and then reads them back
with this port to prove NocoDB will read what was meant; the fake server evaluates with it.

Checked against the real parser (node + the installed SDK) for the shapes in
``tests/unit/test_where.py``; e.g. ``((a,eq,1)~or(b,eq,2))~and((c,eq,3)~or(d,eq,4))`` is
refused by NocoDB ("Invalid filter format."), and so it is here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# filterHelpers_old.js: split before ~or( ~ornot( ~and( ~andnot( ~not(
_SPLIT = re.compile(r"(?=~(?:or(?:not)?|and(?:not)?|not)\()")
# JS \w without the u flag is ASCII; JS "." does not match a line break, nor does Python's.
_LEAF = re.compile(r"(?:~(and|or|not))?\((.*?),([A-Za-z0-9_]+),(.*)\)")
_BARE = re.compile(r"(?:~(and|or|not))?\((.*?),([A-Za-z0-9_]+)\)")
# nocodb-sdk query-filter-lexer.js (COMPARISON_OPS + GROUPBY_COMPARISON_OPS) and its sub-ops.
COMPARISON_OPS = frozenset(
    ["eq", "neq", "not", "like", "nlike", "empty", "notempty", "null", "notnull", "checked", "notchecked", "blank", "notblank", "allof", "anyof", "nallof", "nanyof", "gt", "lt", "gte", "lte", "ge", "le", "in", "isnot", "is", "isWithin", "btw", "nbtw", "gb_eq", "gb_null"])
IS_WITHIN_SUB_OPS = frozenset(
    ["pastWeek", "pastMonth", "pastYear", "nextWeek", "nextMonth", "nextYear", "pastNumberOfDays", "nextNumberOfDays"])
SUB_OPS = frozenset(
    ["today", "tomorrow", "yesterday", "oneWeekAgo", "oneWeekFromNow", "oneMonthAgo", "oneMonthFromNow", "daysAgo", "daysFromNow", "exactDate"]) | IS_WITHIN_SUB_OPS
_ALIASES = {"isblank": "blank", "is_blank": "blank", "isnotblank": "notblank",
            "is_not_blank": "notblank", "is_notblank": "notblank"}


class WhereSyntaxError(ValueError):
    """NocoDB would refuse the string; ``status`` is what the server answers (500 for a
    missing bracket: that path throws a plain Error)."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Clause:
    logical_op: str | None  # None/"" (plain where), "and", "or", "not"
    alias: str
    op: str
    value: str | None  # raw text after the op, commas kept; None for (field,op)


@dataclass(frozen=True)
class Group:
    logical_op: str | None
    children: tuple[Clause | Group, ...]


Node = Clause | Group


def parse(text: str | None) -> list[Node]:
    """The filter list NocoDB builds from ``text``; raises WhereSyntaxError where it errs."""
    if not text:
        return []
    open_ = text.find("((")
    if open_ == -1:
        open_ = text.find("(~")
    if open_ == -1:
        if text == "~not":
            return []
        # JS split() makes no empty first piece for a match at 0; Python's does.
        return [_clause(piece) for piece in _SPLIT.split(text) if piece]
    close = text.find("))")
    nxt = open_
    while True:
        nxt = _substring(text, 0, close).find("((", nxt + 1)
        if nxt == -1:
            break
        close = text.find("))", close + 1)
    if close == -1:
        raise WhereSyntaxError(f"{text[: open_ + 1][-10:]} : Closing bracket not found", status=500)
    op_start = text.rfind("~", 0, open_ + 1)
    operator = text[op_start + 1 : open_] if op_start != -1 else ""
    lhs = parse(text[:open_])
    nested = parse(_substring(text, open_ + 1, close + 1))  # a "))" before the "((" swaps
    rhs = parse(text[close + 2 :])
    return [*lhs, Group(operator, tuple(nested)), *rhs]


def _substring(s: str, start: int, end: int) -> str:
    """JS String.prototype.substring: negatives count as 0, and start > end swaps."""
    start, end = (min(max(i, 0), len(s)) for i in (start, end))
    return s[min(start, end) : max(start, end)]


def _clause(piece: str) -> Clause:
    m = _LEAF.search(piece)
    logic, alias, op, value = m.groups() if m else (None, None, None, None)
    if not alias and not op and not value:
        m = _BARE.search(piece)
        logic, alias, op = m.groups() if m else (None, None, None)
        value = None
    if not alias:
        raise WhereSyntaxError("Invalid filter format.")
    if op == "is" and value in ("blank", "notblank"):
        op, value = value, None
    op = _ALIASES.get(op, op)
    if op not in COMPARISON_OPS:
        raise WhereSyntaxError(f"{op} is not supported.")
    return Clause(logic, alias, op, value)


# --- what the list means ---------------------------------------------------------------
# conditionV2 applies a list with knex: where / andWhere / orWhere / whereNot per item, so
# "a ~or b ~and c" is SQL "a OR b AND c" = a OR (b AND c). Meanings are nested tuples:
# ("c", alias, op, value) | ("not", clause) | ("and", (m, …)) | ("or", (m, …)): NOT only on
# clauses, children flattened and sorted, so equal meanings compare equal.


def meaning(nodes: list[Node] | tuple[Node, ...]) -> tuple:
    chains: list[list[tuple]] = [[]]
    for i, node in enumerate(nodes):
        m = meaning(node.children) if isinstance(node, Group) else ("c", node.alias, node.op, node.value)
        if node.logical_op == "not":
            m = negate(m)
        if i and node.logical_op == "or":
            chains.append([m])
        else:
            chains[-1].append(m)
    return combine("or", [combine("and", c) for c in chains])


_TRUE, _FALSE = ("c", "Id", "notblank", None), ("c", "Id", "blank", None)  # Id is never blank
_NEUTRAL = {"and": {_TRUE, ("not", _FALSE)}, "or": {_FALSE, ("not", _TRUE)}}


def combine(kind: str, parts: list[tuple]) -> tuple:
    """Flatten, drop the neutral clauses, sort; a single part stands for itself."""
    flat: list[tuple] = []
    for p in parts:
        flat.extend(p[1] if p[0] == kind else (p,))
    flat = [p for p in flat if p not in _NEUTRAL[kind]]
    if len(flat) == 1:
        return flat[0]
    return (kind, tuple(sorted(flat, key=repr)))


def negate(m: tuple) -> tuple:
    """NOT pushed down to the clauses (De Morgan holds in SQL's three-valued logic too)."""
    if m[0] == "not":
        return m[1]
    if m[0] in ("and", "or"):
        return combine("or" if m[0] == "and" else "and", [negate(p) for p in m[1]])
    return ("not", m)
