"""Rows changed since the previous run's marks, and rows looked up by key (OPS-3): what a job
that reads only changes is built from. See :class:`~actops.kernel.watermarks.Since`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from actops.nocodb import F
from actops.nocodb.where import Expr
from actops.records import Issue, Record

IN_CHUNK = 50  # values per ``in`` filter: keeps the URL short


class ReadAll(Exception):
    """Reading changes cannot be trusted here: the run reads everything (the reason)."""


def filterable(values: Iterable[Any]) -> set[str]:
    """The values an ``in`` filter can carry (NocoDB splits its list at commas)."""
    return {str(v) for v in values if v not in (None, "") and "," not in str(v)}


def chunks(values: Iterable[Any], n: int = IN_CHUNK) -> list[list[str]]:
    vals = sorted({str(v) for v in values if v not in (None, "")})
    return [vals[i:i + n] for i in range(0, len(vals), n)]


def read_in(bound: Any, name: str, values: Iterable[Any], where: Expr | None = None, also: Expr | None = None,
            fields: Sequence[str] | None = None, links: bool = True,
            salvage: bool = False) -> tuple[list[Record], list[Issue]]:
    """Validated rows whose ``name`` is one of ``values`` (and ``where``), 50 values a call,
    plus the rows ``also`` matches (read with the first call); each row once. A value that
    cannot travel in an ``in`` filter (a comma) makes the run read everything (:class:`ReadAll`;
    :func:`filterable` leaves such values out beforehand). ``links``, ``salvage``: see ``BoundTable.stream``."""
    calls: list[Expr] = []
    for chunk in chunks(values):
        try:
            calls.append(F(name).in_(chunk))
        except ValueError as err:
            raise ReadAll(f"a {name} value cannot be filtered on ({err})") from err
    if also is not None:
        calls[0:1] = [calls[0] | also] if calls else [also]
    recs: dict[int, Record] = {}
    probs: list[Issue] = []
    for cond in calls:
        r, p = bound.read(bound.where(cond & where if where is not None else cond), fields=fields, links=links,
                          salvage=salvage)
        recs.update({x.Id: x for x in r})
        probs += p
    return sorted(recs.values(), key=lambda x: x.Id), probs


def read_keyed(bound: Any, name: str, values: Iterable[Any], fields: Sequence[str] | None = None,
               salvage: bool = False) -> tuple[list[Record], list[Issue]]:
    """:func:`read_in` for a job that must find every value: one that no ``in`` filter can carry
    (a comma) makes it read the rows with ``name`` set and keep those whose ``name`` is wanted."""
    wanted = {str(v) for v in values if v not in (None, "")}
    if not wanted:
        return [], []
    if wanted == filterable(wanted):
        return read_in(bound, name, wanted, fields=fields, salvage=salvage)
    recs, probs = bound.read(bound.where(F(name).not_blank()), fields=fields, salvage=salvage)
    return [r for r in recs if str(getattr(r, name)) in wanted], probs


def changed(store: Any, since: Any, table: str, key: str,
            more: tuple[str, ...] = ()) -> tuple[set[str], Expr | None, list[dict[str, Any]]]:
    """The ``key`` values of ``table``'s rows inserted or edited since the marks (raw: a row
    that fails validation still names what it belongs to), the filter that found them and the
    rows edited, not inserted (``key`` and ``more`` by field name); a delete makes the run read
    everything (:class:`ReadAll`)."""
    if not since.changed(table):
        return set(), None, []
    bound = store.table(table)
    where = since.where(table)
    names = (key, *more)
    rows = changed_raw(bound, since, table, names)
    if rows is None:
        raise ReadAll(f"rows of {bound.spec.zh} were deleted")
    edited = [{"Id": r["Id"], **{n: r.get(bound.title(n)) for n in names}} for r in rows
              if not since.is_new(table, r["Id"])]
    return {str(r[bound.title(key)]) for r in rows if r.get(bound.title(key))}, where, edited


def changed_raw(bound: Any, since: Any, table: str, names: Sequence[str]) -> list[dict[str, Any]] | None:
    """The rows of ``table`` inserted or edited since the marks, with Id and the ``names``
    columns as NocoDB holds them, in one read; None when rows that were there are gone."""
    rows = bound.table.all(bound.where(since.where(table)), ["Id", *(bound.title(n) for n in names)])
    if since.deleted(table, sum(since.is_new(table, r["Id"]) for r in rows)):
        return None
    return rows


def changed_records(store: Any, since: Any, table: str) -> tuple[list[Record], list[Issue]]:
    """The rows of ``table`` inserted or edited since the marks, whole and validated, in the one
    read that finds them (for a job that wants exactly those rows); a delete makes the run read
    everything (:class:`ReadAll`)."""
    if not since.changed(table):
        return [], []
    bound = store.table(table)
    rows = bound.fetch(bound.where(since.where(table)))
    if since.deleted(table, sum(since.is_new(table, r["Id"]) for r in rows)):
        raise ReadAll(f"rows of {bound.spec.zh} were deleted")
    return bound.finish(rows, few=True)
