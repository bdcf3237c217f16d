"""Rendering filter objects as NocoDB v2 ``where=`` text, and reading it back to check.

Split from :mod:`actops.nocodb.where` (the objects); see its docstring for the grammar's traps.
"""

from __future__ import annotations

from actops.nocodb import _xwhere
from actops.nocodb.where import (  # noqa: F401
    _LIST_OPS,
    _SPLITTER,
    And,
    Cond,
    Expr,
    Not,
    Or,
    Raw,
    TitleOf,
    and_,
    not_,
)

_SEPARATOR = {"and": Cond("Id", "notblank"), "or": Cond("Id", "blank")}


def _is_group(e: Expr) -> bool:
    return isinstance(e, And | Or) or (isinstance(e, Raw) and "~" in e.text)


def _unit(e: Expr, t: TitleOf) -> str:
    """A part as it stands after a connector: ``(…)`` for a clause, ``((…))`` for a group."""
    if isinstance(e, Cond):
        title = t(e.field)
        if not title or "," in title:
            raise ValueError(f"field {e.field!r}: title {title!r} cannot be named in NocoDB's where=")
        return "(" + ",".join((title, e.op, *e.args)) + ")"
    if isinstance(e, Raw):
        return f"({e.text})" if _is_group(e) else e.text
    if isinstance(e, And | Or):
        return f"({_list(e, t)})"
    raise AssertionError(f"unexpected part {e!r}")  # NOT is a connector, see _list


def _normal(e: Expr) -> Expr:
    """``~not`` reads as AND NOT, so keep every NOT inside an AND: ``a | ~b`` → ``~(~a & b)``."""
    if isinstance(e, Or):
        parts = [_normal(p) for p in e.parts]
        if any(isinstance(p, Not) for p in parts):
            return Not(and_(*(not_(p) for p in parts)))
        return Or(tuple(parts))
    if isinstance(e, And):
        return and_(*(_normal(p) for p in e.parts))
    if isinstance(e, Not):
        return not_(_normal(e.part))
    return e


def render(e: Expr, t: TitleOf) -> str:
    e = _normal(e)
    return _list(e if isinstance(e, And | Or) else And((e,)), t)


def _list(e: And | Or, t: TitleOf) -> str:
    kind = "and" if isinstance(e, And) else "or"
    negated = [p for p in e.parts if isinstance(p, Not)]  # only in an AND, see _normal
    groups = [p for p in e.parts if not isinstance(p, Not) and _is_group(p)]
    plain = [p for p in e.parts if not isinstance(p, Not) and not _is_group(p)]
    if negated and not (groups or plain):
        plain.append(_SEPARATOR["and"])  # "(…~not(x))" is misread; "(Id,notblank)~not(x)" is not
    out: list[str] = []
    after_group = False
    while groups or plain:
        if groups and not after_group:
            part, after_group = groups.pop(0), True
        elif plain:
            part, after_group = plain.pop(0), False
        else:  # NocoDB refuses "))~and((": put a neutral clause between two groups
            part, after_group = _SEPARATOR[kind], False
        out.append((f"~{kind}" if out else "") + _unit(part, t))
    out.extend("~not" + _unit(n.part, t) for n in negated)
    return "".join(out)


def _meaning(e: Expr, t: TitleOf) -> tuple:
    if isinstance(e, Cond):
        return ("c", t(e.field), e.op, ",".join(e.args) if e.args else None)
    if isinstance(e, Raw):
        try:
            return _xwhere.meaning(_xwhere.parse(e.text))
        except _xwhere.WhereSyntaxError as exc:
            raise ValueError(f"NocoDB would refuse the where clause {e.text!r}: {exc}") from None
    if isinstance(e, Not):
        return _xwhere.negate(_meaning(e.part, t))
    kind = "and" if isinstance(e, And) else "or"
    return _xwhere.combine(kind, [_meaning(p, t) for p in e.parts])


def check(e: Expr, text: str, t: TitleOf) -> None:
    """Read ``text`` back as NocoDB would, alone and as ``Table.pages`` wraps it."""
    wanted = _meaning(e, t)
    wrapped = f"(Id,gt,0)~and({text})" if "~" in text else f"(Id,gt,0)~and{text}"
    for candidate, expect in ((text, wanted), (wrapped, _xwhere.combine("and", [("c", "Id", "gt", "0"), wanted]))):
        try:
            got = _xwhere.meaning(_xwhere.parse(candidate))
        except _xwhere.WhereSyntaxError as exc:
            got = f"refused ({exc})"
        if got != expect:
            raise ValueError(
                f"NocoDB's v2 where reader would not read {candidate!r} as meant ({got}); "
                f"{_suspects(e, t) or 'simplify the expression'}"
            )


def _suspects(e: Expr, t: TitleOf) -> str:
    found: list[str] = []

    def walk(x: Expr) -> None:
        if isinstance(x, Cond):
            for a in (t(x.field), *x.args):
                if any(c in a for c in "()~"):
                    found.append(repr(a))
        elif isinstance(x, Not):
            walk(x.part)
        elif isinstance(x, And | Or):
            for p in x.parts:
                walk(p)

    walk(e)
    return f"brackets or '~' in {', '.join(found)} confuse it (it has no escaping)" if found else ""
