"""Keep what already exists in NocoDB in step with ``schema/``: the safe metadata updates.

Nothing here drops, renames or retypes anything. It sets the display column (the field NocoDB
shows as a row's name) to the schema's ``display``, replaces descriptions a machine wrote
(the old ``en: …`` text, or none), sets the decimals a Decimal column shows, and re-derives
view filters whose value copies a setting (``{setting: …}``). Everything else that differs
stays drift, reported by :mod:`actops.schema.sync`.
"""

from __future__ import annotations

from typing import Any

from actops import errors
from actops.nocodb import Api, Table
from actops.schema import payload
from actops.schema.changeset import Change, Plan
from actops.schema.settings_ref import (
    SettingValueError,
    SettingValues,
    as_filter_value,
    is_ref,
    same_filter_value,
)
from actops.schema.spec import BaseSpec, FieldSpec, TableSpec


def _short(text: str | None) -> str:
    text = text or "（无）"
    return text if len(text) <= 30 else text[:29] + "…"


def base_description(p: Plan, api: Api, row: dict[str, Any], spec: BaseSpec) -> None:
    wanted = payload.describe(spec.description)
    if payload.is_ours_to_replace(row.get("description"), wanted):
        p.changes.append(Change(
            "update description", f"{row['title']}: {_short(row.get('description'))} → {_short(wanted)}",
            lambda: api.request("PATCH", f"/api/v2/meta/bases/{row['id']}", json={"description": wanted or ""}),
        ))


def table_description(p: Plan, table: Table, meta: dict[str, Any], tspec: TableSpec) -> None:
    wanted = payload.describe(tspec.description)
    if payload.is_ours_to_replace(meta.get("description"), wanted):
        p.changes.append(Change(
            "update description", f"{tspec.zh}: {_short(meta.get('description'))} → {_short(wanted)}",
            lambda: table.api.request("PATCH", f"/api/v2/meta/tables/{table.id}", json={"description": wanted},
                                      table=table.title),
        ))


def column(p: Plan, table: Table, col: dict[str, Any], f: FieldSpec, where: str) -> None:
    """Description, decimals and missing select options of one existing column, in one update."""
    said: list[str] = []
    changes: dict[str, Any] = {}
    wanted = payload.field_description(f)
    if payload.is_ours_to_replace(col.get("description"), wanted):
        changes["description"] = wanted
        said.append(f"说明 {_short(col.get('description'))} → {_short(wanted)}")
    if f.options:  # an option the engine writes must exist, or NocoDB refuses the row (400)
        have = {o.get("title") for o in (col.get("colOptions") or {}).get("options", [])}
        missing = [o for o in f.options if o not in have]
        if missing:
            changes["add_options"] = missing
            said.append(f"新增选项 {'、'.join(missing)}")
    precision = payload.precision_change(col, f)
    if precision:
        changes["meta"] = payload.precision_meta(f)
        said.append(f"小数位 {1 if precision[0] is None else precision[0]} → {precision[1]}")
    if changes:
        body = payload.column_update(col, **changes)
        p.changes.append(Change(
            "update field", f"{where}.{col['title']}: {'；'.join(said)}",
            lambda: table.api.request("PATCH", f"/api/v2/meta/columns/{col['id']}", json=body, retry=False,
                                      table=table.title),
        ))


def view_descriptions(p: Plan, table: Table, views: dict[str, dict[str, Any]], tspec: TableSpec) -> None:
    for spec in (*tspec.views, *tspec.forms):
        live = views.get(spec.zh)
        if live is None:
            continue
        wanted = payload.describe(spec.description)
        if payload.is_ours_to_replace(live.get("description"), wanted):
            p.changes.append(Change(
                "update description", f"{tspec.zh}/{spec.zh}: {_short(live.get('description'))} → {_short(wanted)}",
                lambda vid=live["id"], w=wanted: table.api.request(
                    "PATCH", f"/api/v2/meta/views/{vid}", json={"description": w}, table=table.title),
            ))


def derived_filters(p: Plan, table: Table, views: dict[str, dict[str, Any]], tspec: TableSpec,
                    values: SettingValues) -> None:
    """A view filter whose value is ``{setting: …}`` follows the setting's live value."""
    for view in tspec.views:
        refs = [flt for flt in view.filters if is_ref(flt[-1])]
        live_view = views.get(view.zh)
        if not refs or live_view is None:
            continue
        where = f"{tspec.zh}/{view.zh}"
        listed = table.api.request("GET", f"/api/v2/meta/views/{live_view['id']}/filters", table=table.title)
        live = sorted(listed.get("list", []), key=lambda x: x.get("order") or 0)
        used: set[str] = set()
        for name, op, *rest in refs:
            ref, sub_op = rest[-1], (rest[0] if len(rest) == 2 else None)
            f = tspec.field(name)
            try:
                col_id = table.column(name)["id"]
                resolved = values.resolve(ref, f.type)
            except errors.NotFoundError:
                continue  # the field is being added back; its filter went with it
            except SettingValueError as exc:
                p.drift.append(f"{where}: filter on {f.zh} follows {ref.key}: {exc}; left as is")
                continue
            if resolved.note:
                p.drift.append(f"{where}: {resolved.note}; filter on {f.zh} left as is")
                continue
            wanted = as_filter_value(resolved.value)
            match = next((x for x in live if x["id"] not in used and x.get("fk_column_id") == col_id
                          and x.get("comparison_op") == op and (x.get("comparison_sub_op") or None) == sub_op), None)
            if match is None:
                p.drift.append(f"{where}: filter {f.zh} {op} … ({ref.key}) is no longer there; left as is")
                continue
            used.add(match["id"])
            if same_filter_value(match.get("value"), wanted) and not payload.needs_timezone(match):
                continue
            body = payload.filter_body(col_id, op, [sub_op, wanted] if sub_op else [wanted])
            p.changes.append(Change(
                "update view filter", f"{where}: {f.zh} {op} {match.get('value')} → {wanted}（系统设置 {ref.key}）",
                lambda fid=match["id"], b=body: table.api.request(
                    "PATCH", f"/api/v2/meta/filters/{fid}", json=b, table=table.title),
            ))


def _live_column(columns: list[dict[str, Any]], f: FieldSpec) -> dict[str, Any] | None:
    return next((c for c in columns if c.get("column_name") == f.name), None) or \
        next((c for c in columns if c["title"] == f.zh), None)


def set_display(table: Table, f: FieldSpec) -> None:
    """Make ``f`` the table's display column (NocoDB's "primary value"); needs owner rights."""
    col = _live_column(table.columns(refresh=True), f)
    if col is None:  # the field could not be added; its own change said why
        raise errors.NotFoundError(f"no field {f.zh!r} to show as the display column; run `actops schema apply`",
                                   table=table.title, field=f.zh)
    table.api.request("POST", f"/api/v2/meta/columns/{col['id']}/primary", table=table.title)
    table.meta(refresh=True)


def display_column(p: Plan, table: Table, meta: dict[str, Any], tspec: TableSpec) -> None:
    """The column NocoDB shows as the row's name is the schema's ``display`` field.

    A field added in the same plan does not exist yet; the change looks it up when it runs.
    """
    f = tspec.field(tspec.display_field)
    live = next((c for c in meta["columns"] if c.get("pv")), None)
    wanted = _live_column(meta["columns"], f)
    if wanted is not None and live is not None and live["id"] == wanted["id"]:
        return
    was = live["title"] if live else "（无）"
    p.changes.append(Change("set display column", f"{tspec.zh}: {was} → {f.zh}",
                            lambda: set_display(table, f)))
