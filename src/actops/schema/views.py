"""Manager views beyond a title: their filters, sorts and grouping, and filters the schema changed.

NocoDB 0.301 keeps a grid's grouping (the toolbar's 「分组」) on its view columns: ``group_by``,
``group_by_order`` and ``group_by_sort`` of ``GET /api/v2/meta/grids/{viewId}/grid-columns``,
written with ``PATCH /api/v2/meta/grid-columns/{id}``. A view groups by a reference through its
link (「审批人」, so the group header is the person's name), else by the column itself. Grouping
is set after the links exist (the sync plan runs it last): for a new view, for a view without
any grouping, and for one grouped by the key columns an earlier apply used before the links;
a view someone grouped differently in NocoDB is left alone and reported as drift.

A view whose ``filters`` changed in ``schema/`` names its earlier filters in ``old_filters``:
a live view that still has exactly those (nobody touched them) gets the new filters; a view
whose filters were changed in NocoDB is left alone and reported as drift.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from actops import errors
from actops.nocodb import Base, Table
from actops.schema import links, payload
from actops.schema.changeset import Change, Plan
from actops.schema.settings_ref import SettingValues, as_filter_value, is_ref
from actops.schema.spec import TableSpec, ViewSpec

Grouping = list[tuple[str, str]]  # (column id, "asc" | "desc"), outermost group first


def create_filters_and_sorts(table: Table, view_id: str, view: ViewSpec, tspec: TableSpec,
                             values: SettingValues) -> None:
    """Filters and sorts of a new view; its grouping comes later (:func:`grouping_fn`)."""
    create_filters(table, view_id, view.filters, tspec, values)
    for s in view.sorts:
        table.api.request(
            "POST", f"/api/v2/meta/views/{view_id}/sorts",
            json={"fk_column_id": table.column(s.lstrip("-"))["id"], "direction": _direction(s)},
            retry=False, table=table.title,
        )


def create_filters(table: Table, view_id: str, filters: tuple[tuple[Any, ...], ...], tspec: TableSpec,
                   values: SettingValues) -> None:
    for flt in filters:
        name, op, *rest = flt
        if rest and is_ref(rest[-1]):
            # A fallback note, if any, was reported with the plan; a new filter takes the value.
            rest[-1] = as_filter_value(values.resolve(rest[-1], tspec.field(name).type).value)
        table.api.request("POST", f"/api/v2/meta/views/{view_id}/filters",
                          json=payload.filter_body(table.column(name)["id"], op, rest), retry=False,
                          table=table.title)


def _direction(name: str) -> str:
    return "desc" if name.startswith("-") else "asc"


def _grouped_column(table: Table, tspec: TableSpec, name: str) -> dict[str, Any]:
    f = tspec.field(name)
    return (links.link_column(table, f) if f.link else None) or table.column(name)


def wanted_grouping(table: Table, tspec: TableSpec, view: ViewSpec) -> Grouping:
    """The grouping as it can be now: by a reference's link where it exists, else by the column."""
    return [(_grouped_column(table, tspec, g.lstrip("-"))["id"], _direction(g)) for g in view.group_by]


def key_grouping(table: Table, view: ViewSpec) -> Grouping:
    """The grouping by the fields' own (key) columns, as written before references were links."""
    return [(table.column(g.lstrip("-"))["id"], _direction(g)) for g in view.group_by]


def live_grouping(grid_columns: list[dict[str, Any]]) -> Grouping:
    grouped = sorted((c for c in grid_columns if c.get("group_by")), key=lambda c: c.get("group_by_order") or 0)
    return [(c["fk_column_id"], c.get("group_by_sort") or "asc") for c in grouped]


def _grid_columns(table: Table, view_id: str) -> list[dict[str, Any]]:
    body = table.api.request("GET", f"/api/v2/meta/grids/{view_id}/grid-columns", table=table.title)
    return body.get("list", []) if isinstance(body, dict) else list(body)


def set_grouping(table: Table, view_id: str, tspec: TableSpec, view: ViewSpec) -> None:
    table.meta(refresh=True)  # links may have been added in this same apply
    wanted = wanted_grouping(table, tspec, view)
    by_column = {c["fk_column_id"]: c for c in _grid_columns(table, view_id)}
    keep = {column_id for column_id, _ in wanted}
    for gc in by_column.values():  # an earlier grouping (say, by the key column) gives way
        if gc.get("group_by") and gc["fk_column_id"] not in keep:
            table.api.request("PATCH", f"/api/v2/meta/grid-columns/{gc['id']}", json={"group_by": False},
                              table=table.title)
    for order, (column_id, direction) in enumerate(wanted, start=1):
        grid_column = by_column.get(column_id)
        if grid_column is None:
            raise errors.NotFoundError(f"the view {view.zh} has no column {column_id} to group by",
                                       table=table.title)
        table.api.request("PATCH", f"/api/v2/meta/grid-columns/{grid_column['id']}",
                          json={"group_by": True, "group_by_order": order, "group_by_sort": direction},
                          table=table.title)


def grouping_fn(base: Base, tspec: TableSpec, view: ViewSpec) -> Callable[[], None]:
    """The change that groups a view, found by title when it runs (it may be new in this apply)."""

    def run() -> None:
        table = base.table_by_name(tspec.name)
        if table is None:
            raise errors.NotFoundError(f"no table {tspec.zh} to group {view.zh} in")
        live = next(v for v in table.meta(refresh=True)["views"] if v["title"] == view.zh)
        set_grouping(table, live["id"], tspec, view)

    return run


def grouping_changes(base: Base, tspec: TableSpec, where: str) -> list[Change]:
    """Grouping of the views of a table made in this apply."""
    return [Change("group view", f"{where}/{v.zh}: 分组 {_field_names(tspec, v)}", grouping_fn(base, tspec, v))
            for v in tspec.views if v.group_by]


def _field_names(tspec: TableSpec, view: ViewSpec) -> str:
    return "、".join(tspec.field(g.lstrip("-")).zh + ("（降序）" if g.startswith("-") else "") for g in view.group_by)


def plan_view(p: Plan, later: Plan, table: Table, base: Base, live_view: dict[str, Any], tspec: TableSpec,
              view: ViewSpec, values: SettingValues, linking: frozenset[str] = frozenset()) -> None:
    """Superseded filters (into ``p``) and grouping (into ``later``, after links) of one grid view.

    ``linking``: names of the reference fields whose link this same plan adds.
    """
    where = f"{tspec.zh}/{view.zh}"
    if view.group_by:
        _plan_grouping(p, later, table, base, live_view, tspec, view, where, linking)
    if view.old_filters is not None and tuple(view.old_filters) != tuple(view.filters):
        _plan_filters(p, table, live_view, tspec, view, values, where)
    elif relative := [f for f in _plain(view.filters) if len(f) == 4]:  # one read, for these views only
        cols = {table.column(f[0])["id"] for f in relative if _has_column(table, f[0])}
        listed = table.api.request("GET", f"/api/v2/meta/views/{live_view['id']}/filters", table=table.title)
        _plan_filter_timezones(p, table, [f for f in listed.get("list", []) if f.get("fk_column_id") in cols], where)


def _has_column(table: Table, name: str) -> bool:
    try:
        table.column(name)
    except errors.NotFoundError:  # being added back in this plan: its filter comes with the view
        return False
    return True


def _names(table: Table, grouping: Grouping) -> str:
    titles = {c["id"]: c["title"] for c in table.meta()["columns"]}
    return "、".join(titles.get(col, col) + ("（降序）" if d == "desc" else "") for col, d in grouping) or "（无）"


def _plan_grouping(p: Plan, later: Plan, table: Table, base: Base, live_view: dict[str, Any], tspec: TableSpec,
                   view: ViewSpec, where: str, linking: frozenset[str]) -> None:
    try:
        now, keyed = wanted_grouping(table, tspec, view), key_grouping(table, view)
    except errors.NotFoundError:
        now, keyed = None, None  # a group-by field is added in this plan
    live = live_grouping(_grid_columns(table, live_view["id"]))
    pending = any(g.lstrip("-") in linking for g in view.group_by)  # its link comes in this plan
    if live and live == now and not pending:
        return
    if live and live != keyed and live != now:
        p.drift.append(f"{where}: grouped by {_names(table, live)} in NocoDB, schema says "
                       f"{_field_names(tspec, view)}; left as is")
        return
    later.changes.append(Change("group view", f"{where}: 分组 {_field_names(tspec, view)}",
                                grouping_fn(base, tspec, view)))


def _filter_key(column_id: str, op: str, sub_op: Any, value: Any) -> tuple[str, str, str, str]:
    return (column_id, op, sub_op or "", "" if value is None else str(value))


def _spec_keys(table: Table, filters: tuple[tuple[Any, ...], ...]) -> list[tuple[str, str, str, str]]:
    keys = []
    for name, op, *rest in filters:
        body = payload.filter_body(table.column(name)["id"], op, list(rest))
        keys.append(_filter_key(body["fk_column_id"], op, body.get("comparison_sub_op"), body.get("value")))
    return sorted(keys)


def _plan_filters(p: Plan, table: Table, live_view: dict[str, Any], tspec: TableSpec, view: ViewSpec,
                  values: SettingValues, where: str) -> None:
    listed = table.api.request("GET", f"/api/v2/meta/views/{live_view['id']}/filters", table=table.title)
    live = listed.get("list", [])
    if any(f.get("is_group") for f in live):
        p.drift.append(f"{where}: filters were changed in NocoDB (filter groups); left as is")
        return
    live_keys = sorted(_filter_key(f.get("fk_column_id"), f.get("comparison_op"), f.get("comparison_sub_op"),
                                   f.get("value")) for f in live)
    try:
        old = _spec_keys(table, view.old_filters or ())
    except errors.NotFoundError:  # a field of the old filters is gone: nothing to match
        old = None
    if live_keys != old:
        try:
            if live_keys == _spec_keys(table, _plain(view.filters)):
                _plan_filter_timezones(p, table, live, where)
                return
        except errors.NotFoundError:  # a field of the new filters is added in this same plan
            pass
        p.drift.append(f"{where}: filters differ from the schema (changed in NocoDB?); left as is")
        return

    def replace() -> None:
        table.meta(refresh=True)  # a filter field (say a formula) may have been added just before
        for f in live:
            table.api.request("DELETE", f"/api/v2/meta/filters/{f['id']}", table=table.title)
        create_filters(table, live_view["id"], view.filters, tspec, values)

    shown = "；".join(" ".join(str(x) for x in (tspec.field(f[0]).zh, *f[1:]) if x not in ("", None))
                     for f in view.filters)
    p.changes.append(Change("replace view filters", f"{where}: {shown}", replace))


def _plan_filter_timezones(p: Plan, table: Table, live: list[dict[str, Any]], where: str) -> None:
    """Relative date filters made before they carried the company's timezone (or changed in
    NocoDB) get it: their ``today`` is Shanghai's, not UTC's."""
    for f in live:
        if payload.needs_timezone(f):
            body = {k: f.get(k) for k in ("fk_column_id", "comparison_op", "comparison_sub_op", "value")}
            body["meta"] = {**(f.get("meta") if isinstance(f.get("meta"), dict) else {}),
                            "timezone": payload.FILTER_TIMEZONE}
            p.changes.append(Change(
                "filter timezone", f"{where}: {f.get('comparison_sub_op')} 按 {payload.FILTER_TIMEZONE} 计算",
                lambda fid=f["id"], b=body: table.api.request(
                    "PATCH", f"/api/v2/meta/filters/{fid}", json=b, table=table.title)))


def _plain(filters: tuple[tuple[Any, ...], ...]) -> tuple[tuple[Any, ...], ...]:
    """Filters without {setting: …} values (those are compared by upkeep.derived_filters)."""
    return tuple(f for f in filters if not is_ref(f[-1]))
