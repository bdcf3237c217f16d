"""Make NocoDB match ``schema/``: create what is missing, report drift, never drop.

The plan is computed from reads only, so ``--dry-run`` and a second run cost a handful of
meta calls and report "0 changes". Besides creating, it makes the safe metadata updates of
:mod:`actops.schema.upkeep` (machine-written descriptions, decimals shown, view filters
derived from a setting); values written ``{setting: …}`` are resolved by
:mod:`actops.schema.settings_ref`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from actops.nocodb import Api, Base, Table
from actops.nocodb._base import short_name
from actops.schema import links, payload, upkeep, views
from actops.schema.changeset import Change, Plan
from actops.schema.payload import column_payload
from actops.schema.settings_ref import (
    SETTINGS_TABLE,
    SettingValues,
    default_settings,
)
from actops.schema.spec import BaseSpec, FieldSpec, FormSpec, TableSpec, ViewSpec

__all__ = ["Change", "Plan", "apply", "base_title", "column_payload", "find_base", "plan"]

VIEW_GRID, VIEW_FORM = 3, 1


def base_title(spec: BaseSpec, prefix: str = "") -> str:
    return f"{prefix}{spec.zh}"


def find_base(api: Api, spec: BaseSpec, prefix: str = "") -> Base | None:
    return api.base_by_title(base_title(spec, prefix))


def plan(api: Api, specs: Iterable[BaseSpec], prefix: str = "", only: set[str] | None = None) -> Plan:
    specs = tuple(specs)
    p = Plan()
    rows = {b["title"]: b for b in api.bases()}
    in_scope = [(s, [t for t in s.tables if only is None or t.name in only]) for s in specs]
    needs_settings = any(t.setting_refs() for _, tables in in_scope for t in tables)
    values = _setting_values(api, specs, prefix, rows) if needs_settings else SettingValues({})
    for spec, tables in in_scope:
        if not tables:
            continue
        row = rows.get(base_title(spec, prefix))
        if row is None:
            seeds = {t.name: _resolved_rows(p, t, t.rows, values) for t in tables}
            p.changes.append(Change("create base", base_title(spec, prefix),
                                    _deferred_base(api, spec, prefix, tables, seeds, values)))
            continue
        base = api.base(row["id"])
        upkeep.base_description(p, api, row, spec)
        existing = {short_name(t.get("table_name", "")): t for t in base.tables()}
        later = Plan()  # links need both tables, forms need the links: they go last
        created = {t.name for t in tables if t.name not in existing}
        for tspec in tables:
            if tspec.name in created:
                seed = _resolved_rows(p, tspec, tspec.rows, values)
                p.changes.append(Change("create table", f"{spec.zh}/{tspec.zh}",
                                        _create_table_fn(base, tspec, seed, values)))
                todo = links.linked_fields(tspec)
                later.changes += [Change("add form", f"{spec.zh}/{tspec.zh}/{fm.zh}", _form_fn(base, tspec, fm))
                                  for fm in tspec.forms]
                later.changes += views.grouping_changes(base, tspec, f"{spec.zh}/{tspec.zh}")
            else:
                table = base.table(existing[tspec.name]["id"], existing[tspec.name]["title"])
                todo = links.missing(table, tspec)
                linking = frozenset(f.name for f in todo if f.ref in existing or f.ref in created)
                _plan_table(p, table, tspec, values, later, base, linking)
            specs_by_name = {t.name: t for t in spec.tables}
            for f in todo:
                if f.ref in existing or f.ref in created:
                    p.changes.append(Change("add link", f"{spec.zh}/{tspec.zh}.{f.zh} → {specs_by_name[f.ref].zh}",
                                            links.add_link_fn(base, tspec, f, specs_by_name[f.ref])))
        p.changes += later.changes
    return p


def _form_fn(base: Base, tspec: TableSpec, form: FormSpec) -> Callable[[], None]:
    def run() -> None:
        t = base.table_by_name(tspec.name)
        _create_form(t, form, tspec)

    return run


def _setting_values(api: Api, specs: tuple[BaseSpec, ...], prefix: str, rows: dict[str, dict[str, Any]]) -> SettingValues:
    """Defaults from the settings seed rows, over them the live 系统设置 rows if the table exists."""
    for spec in specs:
        for t in spec.tables:
            if t.name != SETTINGS_TABLE:
                continue
            defaults = default_settings(t.rows)
            row = rows.get(base_title(spec, prefix))
            table = api.base(row["id"]).table_by_name(SETTINGS_TABLE) if row else None
            if table is None:
                return SettingValues(defaults)
            titles = table.titles_by_column_name()
            key, value = titles.get("key", t.field("key").zh), titles.get("value", t.field("value").zh)
            return SettingValues.from_rows(defaults, ((r.get(key), r.get(value)) for r in table.all(fields=[key, value])))
    return SettingValues({})


def _resolved_rows(p: Plan, tspec: TableSpec, rows: Iterable[dict[str, Any]], values: SettingValues) -> list[dict[str, Any]]:
    types = {f.name: f.type for f in tspec.fields}
    out = []
    for r in rows:
        resolved, notes = values.row(r, types)
        p.drift += [f"{tspec.zh} seed row {r[tspec.key]}: {n}" for n in notes]
        out.append(resolved)
    return out


def _deferred_base(api: Api, spec: BaseSpec, prefix: str, tables: list[TableSpec],
                   seeds: dict[str, list[dict[str, Any]]], values: SettingValues) -> Callable[[], None]:
    def run() -> None:
        base = api.create_base(base_title(spec, prefix), description=payload.describe(spec.description) or "")
        for tspec in tables:
            _create_table_fn(base, tspec, seeds[tspec.name], values)()
        names = {t.name: t for t in spec.tables}
        in_scope = {t.name for t in tables}
        for tspec in tables:
            for f in links.linked_fields(tspec):
                if f.ref in in_scope:
                    links.add_link_fn(base, tspec, f, names[f.ref])()
        for tspec in tables:
            for form in tspec.forms:
                _form_fn(base, tspec, form)()
        for tspec in tables:
            for change in views.grouping_changes(base, tspec, tspec.zh):
                change.run()

    return run


def _create_table_fn(base: Base, tspec: TableSpec, seed: list[dict[str, Any]],
                     values: SettingValues) -> Callable[[], None]:
    def run() -> None:
        plain = [column_payload(f) for f in tspec.fields if not f.computed]
        table = base.create_table(tspec.name, tspec.zh, plain, description=payload.describe(tspec.description))
        for f in tspec.fields:
            if f.computed:
                _add_column(table, f)
        meta = table.meta(refresh=True)
        if not any(c.get("pv") and c.get("column_name") == tspec.display_field for c in meta["columns"]):
            upkeep.set_display(table, tspec.field(tspec.display_field))
        for view in tspec.views:
            _create_view(table, view, tspec, values)
        if seed:
            _insert_rows(table, tspec, seed)

    return run


def _plan_table(p: Plan, table: Table, tspec: TableSpec, values: SettingValues, later: Plan, base: Base,
                linking: frozenset[str] = frozenset()) -> None:
    meta = table.meta(refresh=True)
    by_name = {c.get("column_name"): c for c in meta["columns"] if c.get("column_name")}
    by_title = {c["title"]: c for c in meta["columns"]}
    where = f"{tspec.zh}"
    upkeep.table_description(p, table, meta, tspec)
    for f in tspec.fields:
        col = by_name.get(f.name) or (by_title.get(f.zh) if f.computed else None) or _created_by(meta, f)
        if col is None:
            p.changes.append(Change("add field", f"{where}.{f.zh}", lambda t=table, f=f: _add_column(t, f)))
            continue
        if col["uidt"] != f.uidt:
            p.drift.append(f"{where}.{col['title']}: type is {col['uidt']}, schema says {f.uidt}")
        if col["title"] != f.key_column_title and not (f.link and col["title"] == f.zh):
            p.drift.append(f"{where}.{f.name}: titled {col['title']!r}, schema says {f.key_column_title!r}")
        upkeep.column(p, table, col, f, where)
    known = {f.name for f in tspec.fields} | {f.zh for f in tspec.fields}
    for c in meta["columns"]:
        if c.get("system") or c.get("pk") or c["uidt"] in ("ID", "CreatedTime", "LastModifiedTime", "CreatedBy", "LastModifiedBy", "Order",
                                                          "ForeignKey", "Lookup", *links.LINK_TYPES):
            continue
        if c.get("column_name") not in known and c["title"] not in known:
            p.drift.append(f"{where}.{c['title']}: not in schema (kept)")
    live_views = {v["title"]: v for v in meta.get("views", [])}
    for view in tspec.views:
        if view.zh not in live_views:
            p.changes.append(Change("add view", f"{where}/{view.zh}",
                                    lambda t=table, v=view: _create_view(t, v, tspec, values)))
            if view.group_by:
                later.changes.append(Change("group view", f"{where}/{view.zh}",
                                            views.grouping_fn(base, tspec, view)))
        elif live_views[view.zh].get("type") == VIEW_GRID:
            views.plan_view(p, later, table, base, live_views[view.zh], tspec, view, values, linking)
    for form in tspec.forms:
        if form.zh not in live_views:
            later.changes.append(Change("add form", f"{where}/{form.zh}",
                                        lambda t=table, fm=form, ts=tspec: _create_form(t, fm, ts)))
    upkeep.display_column(p, table, meta, tspec)
    upkeep.view_descriptions(p, table, live_views, tspec)
    upkeep.derived_filters(p, table, live_views, tspec, values)
    if tspec.rows:
        key_title = by_name[tspec.key]["title"] if tspec.key in by_name else tspec.field(tspec.key).zh
        have = {str(k) for k in table.ids_by_key(key_title)}  # keys compare as text: "5" == 5
        missing_rows = [r for r in tspec.rows if str(r[tspec.key]) not in have]
        if missing_rows:
            seed = _resolved_rows(p, tspec, missing_rows, values)
            p.changes.append(Change(
                "add seed rows", f"{where} ({len(missing_rows)})",
                lambda t=table, ts=tspec, rows=seed: _insert_rows(t, ts, rows),
            ))


def _created_by(meta: dict[str, Any], f: FieldSpec) -> dict[str, Any] | None:
    """The table's own CreatedBy (LastModifiedBy) field for a ``created_by`` (``modified_by``)
    spec field.

    NocoDB gives such a field no column name (it reads the system ``created_by`` column), so
    it is found by type: one renamed in the grid is still the same field, not a missing one.
    """
    if f.type not in ("created_by", "modified_by"):
        return None
    return next((c for c in meta["columns"] if c["uidt"] == f.uidt and not c.get("system")), None)


def _add_column(table: Table, f: FieldSpec) -> None:
    body = table.api.request("POST", f"/api/v2/meta/tables/{table.id}/columns", json=column_payload(f),
                             retry=False, table=table.title)
    meta = table.meta(refresh=True)
    if f.type in ("created_by", "modified_by"):
        col = _created_by(meta, f)
        _hide_in_forms(table, meta, col["id"] if col else (body or {}).get("id"))


def _hide_in_forms(table: Table, meta: dict[str, Any], column_id: str | None) -> None:
    """A field added to a table with forms shows in them; one NocoDB fills is no question to ask."""
    if not column_id:
        return
    for view in meta.get("views", []):
        if view.get("type") != VIEW_FORM:
            continue
        detail = table.api.request("GET", f"/api/v2/meta/forms/{view['id']}", table=table.title)
        for fc in detail.get("columns", []):
            if fc.get("fk_column_id") == column_id and fc.get("show"):
                table.api.request("PATCH", f"/api/v2/meta/form-columns/{fc['id']}", json={"show": False},
                                  table=table.title)


def _create_view(table: Table, view: ViewSpec, tspec: TableSpec, values: SettingValues) -> None:
    body = table.api.request(
        "POST", f"/api/v2/meta/tables/{table.id}/grids",
        json={"title": view.zh, "description": payload.describe(view.description)},
        retry=False, table=table.title,
    )
    views.create_filters_and_sorts(table, body["id"], view, tspec, values)


def _create_form(table: Table, form: FormSpec, tspec: TableSpec) -> None:
    body = table.api.request(
        "POST", f"/api/v2/meta/tables/{table.id}/forms",
        json={"title": form.zh, "heading": form.heading or form.zh, "success_msg": form.success,
              "description": payload.describe(form.description)},
        retry=False, table=table.title,
    )
    detail = table.api.request("GET", f"/api/v2/meta/forms/{body['id']}", table=table.title)
    table.meta(refresh=True)
    wanted = {}
    for n in form.fields:
        f = tspec.field(n)
        link = links.link_column(table, f) if f.link else None
        wanted[(link or table.column(n))["id"]] = n
    order = {n: i for i, n in enumerate(form.fields)}
    for fc in detail.get("columns", []):
        name = wanted.get(fc["fk_column_id"])
        show = name is not None
        if bool(fc.get("show")) == show and not show:
            continue
        fc_payload: dict[str, Any] = {"show": show}
        if show:
            fc_payload["required"] = name in form.required
            fc_payload["order"] = order[name] + 1
            fc_payload["description"] = tspec.field(name).help or None
        table.api.request("PATCH", f"/api/v2/meta/form-columns/{fc['id']}", json=fc_payload, table=table.title)


def _insert_rows(table: Table, tspec: TableSpec, rows: Iterable[dict[str, Any]]) -> None:
    """Insert seed rows whose {setting: …} values are already resolved."""
    # Live titles: a column renamed in the grid must still receive its seed value.
    live = table.titles_by_column_name()
    title = {f.name: live.get(f.name, f.zh) for f in tspec.fields}
    table.create([{title[k]: v for k, v in r.items()} for r in rows], key=title[tspec.key])


def apply(api: Api, specs: Iterable[BaseSpec], prefix: str = "", only: set[str] | None = None,
          dry_run: bool = False, log: Callable[[str], None] = print) -> Plan:
    p = plan(api, specs, prefix, only)
    if not dry_run:
        p.apply(log)
    return p
