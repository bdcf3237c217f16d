"""Make NocoDB match ``schema/``: create what is missing, report drift, never drop.

The plan is computed from reads only, so ``--dry-run`` and a second run cost a handful of
meta calls and report "0 changes".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from actops.nocodb import Api, Base, Table
from actops.nocodb._base import short_name
from actops.schema.spec import BaseSpec, FieldSpec, FormSpec, TableSpec, ViewSpec

VIEW_GRID, VIEW_FORM = 3, 1


@dataclass
class Change:
    what: str  # "create base", "add field", …
    where: str  # base / table / field or view
    run: Callable[[], Any] = field(repr=False, default=lambda: None)

    def __str__(self) -> str:
        return f"+ {self.what}: {self.where}"


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)

    def apply(self, log: Callable[[str], None] = lambda s: None) -> None:
        for ch in self.changes:
            log(str(ch))
            ch.run()

    def render(self) -> str:
        lines = [str(c) for c in self.changes]
        lines += [f"! drift (left as is): {d}" for d in self.drift]
        lines.append(f"{len(self.changes)} changes, {len(self.drift)} drift notes")
        return "\n".join(lines)


def base_title(spec: BaseSpec, prefix: str = "") -> str:
    return f"{prefix}{spec.zh}"


def column_payload(f: FieldSpec) -> dict[str, Any]:
    body: dict[str, Any] = {
        "column_name": f.name,
        "title": f.zh,
        "uidt": f.uidt,
        "description": f"en: {f.en}" + (f" — {f.help}" if f.help else ""),
    }
    if f.options:
        body["colOptions"] = {"options": [{"title": o} for o in f.options]}
    if f.type == "formula":
        body["formula_raw"] = f.formula
    if f.default is not None and f.type in ("checkbox", "number", "decimal", "select", "text"):
        body["cdf"] = _cdf(f.default)
    if f.type == "rating":
        body["meta"] = {"max": 5}
    if f.type == "currency":  # NocoDB defaults to USD
        body["meta"] = {"currency_locale": "zh-CN", "currency_code": "CNY"}
    return body


def _cdf(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def find_base(api: Api, spec: BaseSpec, prefix: str = "") -> Base | None:
    return api.base_by_title(base_title(spec, prefix))


def plan(api: Api, specs: Iterable[BaseSpec], prefix: str = "", only: set[str] | None = None) -> Plan:
    p = Plan()
    for spec in specs:
        tables = [t for t in spec.tables if only is None or t.name in only]
        if not tables:
            continue
        base = find_base(api, spec, prefix)
        if base is None:
            p.changes.append(Change("create base", base_title(spec, prefix), _deferred_base(api, spec, prefix, tables)))
            continue
        existing = {short_name(t.get("table_name", "")): t for t in base.tables()}
        for tspec in tables:
            if tspec.name not in existing:
                p.changes.append(Change("create table", f"{spec.zh}/{tspec.zh}", _create_table_fn(base, tspec)))
                continue
            table = base.table(existing[tspec.name]["id"], existing[tspec.name]["title"])
            _plan_table(p, table, tspec)
    return p


def _deferred_base(api: Api, spec: BaseSpec, prefix: str, tables: list[TableSpec]) -> Callable[[], None]:
    def run() -> None:
        base = api.create_base(base_title(spec, prefix), description=f"en: {spec.en}")
        for tspec in tables:
            _create_table_fn(base, tspec)()

    return run


def _create_table_fn(base: Base, tspec: TableSpec) -> Callable[[], None]:
    def run() -> None:
        plain = [column_payload(f) for f in tspec.fields if not f.computed]
        table = base.create_table(tspec.name, tspec.zh, plain, description=f"en: {tspec.en}")
        for f in tspec.fields:
            if f.computed:
                _add_column(table, f)
        table.meta(refresh=True)
        for view in tspec.views:
            _create_view(table, view)
        for form in tspec.forms:
            _create_form(table, form, tspec)
        _seed_rows(table, tspec)

    return run


def _plan_table(p: Plan, table: Table, tspec: TableSpec) -> None:
    meta = table.meta(refresh=True)
    by_name = {c.get("column_name"): c for c in meta["columns"] if c.get("column_name")}
    by_title = {c["title"]: c for c in meta["columns"]}
    where = f"{tspec.zh}"
    for f in tspec.fields:
        col = by_name.get(f.name) or (by_title.get(f.zh) if f.computed else None)
        if col is None:
            p.changes.append(Change("add field", f"{where}.{f.zh}", lambda t=table, f=f: _add_column(t, f)))
            continue
        if col["uidt"] != f.uidt:
            p.drift.append(f"{where}.{col['title']}: type is {col['uidt']}, schema says {f.uidt}")
        if col["title"] != f.zh:
            p.drift.append(f"{where}.{f.name}: titled {col['title']!r}, schema says {f.zh!r}")
        if f.options:
            have = {o.get("title") for o in (col.get("colOptions") or {}).get("options", [])}
            missing = [o for o in f.options if o not in have]
            if missing:
                p.drift.append(f"{where}.{f.zh}: options missing {missing}")
    known = {f.name for f in tspec.fields} | {f.zh for f in tspec.fields}
    for c in meta["columns"]:
        if c.get("system") or c.get("pk") or c["uidt"] in ("ID", "CreatedTime", "LastModifiedTime", "CreatedBy", "LastModifiedBy", "Order"):
            continue
        if c.get("column_name") not in known and c["title"] not in known:
            p.drift.append(f"{where}.{c['title']}: not in schema (kept)")
    views = {v["title"]: v for v in meta.get("views", [])}
    for view in tspec.views:
        if view.zh not in views:
            p.changes.append(Change("add view", f"{where}/{view.zh}", lambda t=table, v=view: _create_view(t, v)))
    for form in tspec.forms:
        if form.zh not in views:
            p.changes.append(Change("add form", f"{where}/{form.zh}", lambda t=table, fm=form, ts=tspec: _create_form(t, fm, ts)))
    if tspec.rows:
        key_title = by_name[tspec.key]["title"] if tspec.key in by_name else tspec.field(tspec.key).zh
        have = {str(k) for k in table.ids_by_key(key_title)}  # keys compare as text: "5" == 5
        missing_rows = [r for r in tspec.rows if str(r[tspec.key]) not in have]
        if missing_rows:
            p.changes.append(Change(
                "add seed rows", f"{where} ({len(missing_rows)})",
                lambda t=table, ts=tspec, rows=missing_rows: _insert_rows(t, ts, rows),
            ))


def _add_column(table: Table, f: FieldSpec) -> None:
    table.api.request("POST", f"/api/v2/meta/tables/{table.id}/columns", json=column_payload(f), retry=False, table=table.title)
    table.meta(refresh=True)


def _col_id(table: Table, name: str) -> str:
    return table.column(name)["id"]


def _create_view(table: Table, view: ViewSpec) -> None:
    body = table.api.request(
        "POST", f"/api/v2/meta/tables/{table.id}/grids", json={"title": view.zh, "description": f"en: {view.en}"},
        retry=False, table=table.title,
    )
    vid = body["id"]
    for flt in view.filters:
        name, op, *rest = flt
        payload: dict[str, Any] = {"fk_column_id": _col_id(table, name), "comparison_op": op}
        if len(rest) == 2:
            payload["comparison_sub_op"], payload["value"] = rest[0], rest[1] or None
        elif len(rest) == 1:
            payload["value"] = rest[0]
        table.api.request("POST", f"/api/v2/meta/views/{vid}/filters", json=payload, retry=False, table=table.title)
    for s in view.sorts:
        table.api.request(
            "POST", f"/api/v2/meta/views/{vid}/sorts",
            json={"fk_column_id": _col_id(table, s.lstrip("-")), "direction": "desc" if s.startswith("-") else "asc"},
            retry=False, table=table.title,
        )


def _create_form(table: Table, form: FormSpec, tspec: TableSpec) -> None:
    body = table.api.request(
        "POST", f"/api/v2/meta/tables/{table.id}/forms",
        json={"title": form.zh, "heading": form.heading or form.zh, "success_msg": form.success,
              "description": f"en: {form.en}"},
        retry=False, table=table.title,
    )
    detail = table.api.request("GET", f"/api/v2/meta/forms/{body['id']}", table=table.title)
    wanted = {table.column(n)["id"]: n for n in form.fields}
    order = {n: i for i, n in enumerate(form.fields)}
    for fc in detail.get("columns", []):
        name = wanted.get(fc["fk_column_id"])
        show = name is not None
        if bool(fc.get("show")) == show and not show:
            continue
        payload: dict[str, Any] = {"show": show}
        if show:
            payload["required"] = name in form.required
            payload["order"] = order[name] + 1
            payload["description"] = tspec.field(name).help or None
        table.api.request("PATCH", f"/api/v2/meta/form-columns/{fc['id']}", json=payload, table=table.title)


def _insert_rows(table: Table, tspec: TableSpec, rows: Iterable[dict[str, Any]]) -> None:
    # Live titles: a column renamed in the grid must still receive its seed value.
    live = table.titles_by_column_name()
    title = {f.name: live.get(f.name, f.zh) for f in tspec.fields}
    table.create([{title[k]: v for k, v in r.items()} for r in rows], key=title[tspec.key])


def _seed_rows(table: Table, tspec: TableSpec) -> None:
    if tspec.rows:
        _insert_rows(table, tspec, tspec.rows)


def apply(api: Api, specs: Iterable[BaseSpec], prefix: str = "", only: set[str] | None = None,
          dry_run: bool = False, log: Callable[[str], None] = print) -> Plan:
    p = plan(api, specs, prefix, only)
    if not dry_run:
        p.apply(log)
    return p
