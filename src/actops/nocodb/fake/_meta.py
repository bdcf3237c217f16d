"""The meta half of the fake: bases, tables, columns, grid and form views, filters, sorts, hooks.

Shapes follow NocoDB 0.301.3's v2 meta API as far as actops reads them: a table answers with
its ``columns`` (system ones included: Id, CreatedAt, UpdatedAt, nc_created_by, nc_updated_by,
nc_order) and ``views``; physical names are ``nc_xxxx___<name>`` with four random characters
that may include ``_``; a new form shows every non-system column.
"""

from __future__ import annotations

import itertools
import json
import random
import string
from dataclasses import dataclass, field
from typing import Any

from actops.nocodb.fake._eval import Refused

_HOOK_SEQ = itertools.count(1)  # hooks' created_at: the order they were made in

SYSTEM_COLUMNS = (  # title, column_name, uidt, pk
    ("Id", "id", "ID", True), ("CreatedAt", "created_at", "CreatedTime", False),
    ("UpdatedAt", "updated_at", "LastModifiedTime", False), ("nc_created_by", "created_by", "CreatedBy", False),
    ("nc_updated_by", "updated_by", "LastModifiedBy", False), ("nc_order", "nc_order", "Order", False),
)
VIEW_TYPES = {"grid": 3, "form": 1}


def not_found(kind: str, ident: Any) -> Refused:
    return Refused(404, {"error": f"ERR_{kind.upper()}_NOT_FOUND", "message": f"{kind.title()} '{ident}' not found"})


@dataclass
class FakeTable:
    id: str
    base_id: str
    title: str
    table_name: str
    description: str = ""
    columns: list[dict[str, Any]] = field(default_factory=list)
    views: list[dict[str, Any]] = field(default_factory=list)
    hooks: list[dict[str, Any]] = field(default_factory=list)
    rows: dict[int, dict[str, Any]] = field(default_factory=dict)  # Id → {column id: value}
    next_id: int = 1

    def column(self, key: str) -> dict[str, Any] | None:
        """By title or id, as NocoDB's alias map finds a column for where/sort/fields."""
        return next((c for c in self.columns if key in (c["title"], c["id"])), None)

    def by_alias(self) -> dict[str, dict[str, Any]]:
        return {k: c for c in self.columns for k in (c["id"], c["title"])}

    def meta(self) -> dict[str, Any]:
        return {"id": self.id, "base_id": self.base_id, "title": self.title, "table_name": self.table_name,
                "description": self.description, "type": "table", "columns": [dict(c) for c in self.columns],
                "views": [{k: v for k, v in view.items() if k not in ("filters", "sorts", "columns")}
                          for view in self.views]}


class MetaRoutes:
    def _init_meta(self, seed: int) -> None:
        self.bases: dict[str, dict[str, Any]] = {}
        self.tables: dict[str, FakeTable] = {}
        self.views: dict[str, tuple[FakeTable, dict[str, Any]]] = {}
        self._rand = random.Random(seed)
        self._ids = 0

    def _new_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}fake{self._ids:06d}"

    def table(self, table_id: str) -> FakeTable:
        if table_id not in self.tables:
            raise not_found("table", table_id)
        return self.tables[table_id]

    def meta_routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("GET", r"/api/v2/meta/bases", self.list_bases),
            ("POST", r"/api/v2/meta/bases", self.create_base),
            ("GET", r"/api/v2/meta/bases/(?P<base>[^/]+)/tables", self.list_tables),
            ("POST", r"/api/v2/meta/bases/(?P<base>[^/]+)/tables", self.create_table),
            ("GET", r"/api/v2/meta/tables/(?P<table>[^/]+)", lambda m, p, b: self.table(m["table"]).meta()),
            ("POST", r"/api/v2/meta/tables/(?P<table>[^/]+)/columns", self.create_column),
            ("PATCH", r"/api/v2/meta/columns/(?P<column>[^/]+)", self.update_column),
            ("POST", r"/api/v2/meta/columns/(?P<column>[^/]+)/primary", self.set_primary),
            ("GET", r"/api/v2/meta/tables/(?P<table>[^/]+)/views", self.list_views),
            ("POST", r"/api/v2/meta/tables/(?P<table>[^/]+)/(?P<kind>grids|forms)", self.create_view),
            ("GET", r"/api/v2/meta/forms/(?P<view>[^/]+)", self.get_form),
            ("PATCH", r"/api/v2/meta/form-columns/(?P<fc>[^/]+)", self.update_form_column),
            ("GET", r"/api/v2/meta/views/(?P<view>[^/]+)/(?P<kind>filters|sorts)", self.list_view_items),
            ("POST", r"/api/v2/meta/views/(?P<view>[^/]+)/(?P<kind>filters|sorts)", self.create_view_item),
            ("DELETE", r"/api/v2/meta/filters/(?P<item>[^/]+)", self.delete_filter),
            ("PATCH", r"/api/v2/meta/filters/(?P<item>[^/]+)", self.update_filter),
            ("GET", r"/api/v2/meta/grids/(?P<view>[^/]+)/grid-columns", self.list_grid_columns),
            ("PATCH", r"/api/v2/meta/grid-columns/(?P<gc>[^/]+)", self.update_grid_column),
            ("GET", r"/api/v2/meta/tables/(?P<table>[^/]+)/hooks", self.list_hooks),
            ("POST", r"/api/v2/meta/tables/(?P<table>[^/]+)/hooks", self.create_hook),
            ("PATCH", r"/api/v2/meta/hooks/(?P<hook>[^/]+)", self.update_hook),
            ("DELETE", r"/api/v2/meta/hooks/(?P<hook>[^/]+)", self.delete_hook),
        ]

    # --- bases and tables ---
    def list_bases(self, m, params, body):
        bases = [{"id": b["id"], "title": b["title"], "description": b["description"]} for b in self.bases.values()]
        return {"list": bases, "pageInfo": {"totalRows": len(bases)}}

    def create_base(self, m, params, body):
        base = {"id": self._new_id("p"), "title": body["title"], "description": body.get("description", "")}
        self.bases[base["id"]] = base
        return dict(base)

    def list_tables(self, m, params, body):
        if m["base"] not in self.bases:
            raise not_found("base", m["base"])
        tables = [{k: v for k, v in t.meta().items() if k not in ("columns", "views")}
                  for t in self.tables.values() if t.base_id == m["base"]]
        return {"list": tables, "pageInfo": {"totalRows": len(tables)}}

    def create_table(self, m, params, body):
        if m["base"] not in self.bases:
            raise not_found("base", m["base"])
        name = body["table_name"]
        if any(t.base_id == m["base"] and t.table_name.endswith(f"___{name}") for t in self.tables.values()):
            raise Refused(400, {"msg": f"Duplicate table name '{name}'"})
        prefix = "".join(self._rand.choice(string.ascii_lowercase + string.digits + "_") for _ in range(4))
        table = FakeTable(self._new_id("m"), m["base"], body.get("title") or name, f"nc_{prefix}___{name}",
                          body.get("description", ""))
        self.tables[table.id] = table
        for title, column_name, uidt, pk in SYSTEM_COLUMNS:
            table.columns.append(self._column(table, {"title": title, "column_name": column_name, "uidt": uidt},
                                              pk=pk, ai=pk, system=not pk))
        for spec in body.get("columns", []):
            self._add_column(table, spec)
        self._add_view(table, "grid", {"title": table.title})
        return table.meta()

    def _column(self, table: FakeTable, spec: dict[str, Any], **flags: Any) -> dict[str, Any]:
        options = (spec.get("colOptions") or {}).get("options") or []
        col = {"id": self._new_id("c"), "fk_model_id": table.id, "title": spec.get("title") or spec["column_name"],
               "column_name": spec.get("column_name") or spec["title"], "uidt": spec["uidt"],
               "description": spec.get("description"), "cdf": spec.get("cdf"), "meta": spec.get("meta") or {},
               "pk": False, "ai": False, "system": False, "pv": False, "rqd": False, **flags}
        if options:
            col["colOptions"] = {"options": [{"id": self._new_id("sl"), "title": o["title"], "order": i + 1}
                                             for i, o in enumerate(options)]}
        if spec.get("formula_raw"):
            col["colOptions"] = {"formula_raw": spec["formula_raw"]}  # kept, never computed: reads give None
        return col

    def _add_column(self, table: FakeTable, spec: dict[str, Any]) -> dict[str, Any]:
        title, name = spec.get("title") or spec.get("column_name"), spec.get("column_name") or spec.get("title")
        for c in table.columns:
            if c["title"] == title or c["column_name"] == name:
                raise Refused(400, {"msg": f"Duplicate column name '{name}' / alias '{title}'"})
        col = self._column(table, spec)
        col["pv"] = not any(c["pv"] for c in table.columns)
        table.columns.append(col)
        for _, view in (v for v in self.views.values() if v[0] is table and v[1]["type"] == VIEW_TYPES["form"]):
            view["columns"].append(self._form_column(view, col))
        return col

    def create_column(self, m, params, body):
        table = self.table(m["table"])
        if body.get("uidt") == "LinkToAnotherRecord" and body.get("type") == "bt":
            self._add_link(table, self.table(body["parentId"]), body)
        elif body.get("uidt") == "Lookup":
            col = self._add_column(table, {"title": body["title"], "uidt": "Lookup"})
            col["colOptions"] = {"fk_relation_column_id": body["fk_relation_column_id"],
                                 "fk_lookup_column_id": body["fk_lookup_column_id"]}
        else:
            self._add_column(table, body)
        return table.meta()

    def _add_link(self, child: FakeTable, parent: FakeTable, body: dict[str, Any]) -> None:
        """A many-to-one link as NocoDB makes it: a ForeignKey column in the child, the link,
        and a has-many ``Links`` column on the parent."""
        n = sum(c["uidt"] == "ForeignKey" for c in child.columns)
        name = f"{parent.table_name}_id" + (str(n) if n else "")
        fk = self._add_column(child, {"title": name, "column_name": name, "uidt": "ForeignKey"})
        link = self._add_column(child, {"title": body["title"], "uidt": "LinkToAnotherRecord"})
        link["colOptions"] = {"type": "bt", "fk_child_column_id": fk["id"], "fk_related_model_id": parent.id}
        back = self._add_column(parent, {"title": f"{child.title}s" + (str(n) if n else ""), "uidt": "Links"})
        back["colOptions"] = {"type": "hm", "fk_child_column_id": fk["id"], "fk_related_model_id": child.id}

    def update_column(self, m, params, body):
        for table in self.tables.values():
            for col in table.columns:
                if col["id"] == m["column"]:
                    col.update({k: v for k, v in body.items() if k in ("title", "description", "meta", "cdf")})
                    return table.meta()
        raise Refused(404, {"error": "ERR_FIELD_NOT_FOUND", "message": f"Field '{m['column']}' not found"})

    def set_primary(self, m, params, body):
        """The table's display column ("primary value"): one column has ``pv``."""
        for table in self.tables.values():
            if any(c["id"] == m["column"] for c in table.columns):
                for c in table.columns:
                    c["pv"] = c["id"] == m["column"]
                return True
        raise Refused(404, {"error": "ERR_FIELD_NOT_FOUND", "message": f"Field '{m['column']}' not found"})

    # --- views ---
    def _add_view(self, table: FakeTable, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        view = {"id": self._new_id("vw"), "fk_model_id": table.id, "title": body["title"],
                "description": body.get("description"), "type": VIEW_TYPES[kind], "filters": [], "sorts": [],
                "columns": []}
        if kind == "form":
            view.update({k: body.get(k) for k in ("heading", "success_msg")})
            view["columns"] = [self._form_column(view, c) for c in table.columns]
        table.views.append(view)
        self.views[view["id"]] = (table, view)
        return view

    def _form_column(self, view: dict[str, Any], col: dict[str, Any]) -> dict[str, Any]:
        return {"id": self._new_id("fvc"), "fk_view_id": view["id"], "fk_column_id": col["id"],
                "show": not (col["system"] or col["pk"]), "required": False, "order": len(view["columns"]) + 1}

    def list_views(self, m, params, body):
        return {"list": self.table(m["table"]).meta()["views"]}

    def create_view(self, m, params, body):
        table = self.table(m["table"])
        if any(v["title"] == body["title"] for v in table.views):
            raise Refused(400, {"msg": f"Duplicate view name '{body['title']}'"})
        view = self._add_view(table, "grid" if m["kind"] == "grids" else "form", body)
        return {k: v for k, v in view.items() if k not in ("filters", "sorts", "columns")}

    def _view(self, view_id: str) -> tuple[FakeTable, dict[str, Any]]:
        if view_id not in self.views:
            raise not_found("view", view_id)
        return self.views[view_id]

    def get_form(self, m, params, body):
        table, view = self._view(m["view"])
        if view["type"] != VIEW_TYPES["form"]:
            raise not_found("view", m["view"])
        return {**{k: v for k, v in view.items() if k not in ("filters", "sorts")},
                "columns": [dict(c) for c in view["columns"]]}

    def update_form_column(self, m, params, body):
        for _, view in self.views.values():
            for fc in view["columns"]:
                if fc["id"] == m["fc"]:
                    fc.update(body)
                    return dict(fc)
        raise Refused(404, {"msg": f"Form view column '{m['fc']}' not found"})

    def list_view_items(self, m, params, body):
        return {"list": [dict(x) for x in self._view(m["view"])[1][m["kind"]]]}

    def create_view_item(self, m, params, body):
        table, view = self._view(m["view"])
        if not any(c["id"] == body.get("fk_column_id") for c in table.columns):
            raise Refused(404, {"error": "ERR_FIELD_NOT_FOUND", "message": f"Field '{body.get('fk_column_id')}' not found"})
        item = {"id": self._new_id("fi" if m["kind"] == "filters" else "so"), "fk_view_id": view["id"], **body}
        view[m["kind"]].append(item)
        return dict(item)

    def delete_filter(self, m, params, body):
        for _, view in self.views.values():
            for item in view["filters"]:
                if item["id"] == m["item"]:
                    view["filters"].remove(item)
                    return 1
        raise Refused(404, {"msg": f"Filter '{m['item']}' not found"})

    def update_filter(self, m, params, body):
        """As 0.301.3: the body's fields replace the filter's (meta as sent); answers 1."""
        for _, view in self.views.values():
            for item in view["filters"]:
                if item["id"] == m["item"]:
                    item.update({k: v for k, v in body.items() if k not in ("id", "fk_view_id")})
                    return 1
        raise Refused(404, {"msg": f"Filter '{m['item']}' not found"})

    # --- a grid's columns hold its grouping (group_by, group_by_order, group_by_sort) ---
    def list_grid_columns(self, m, params, body):
        table, view = self._view(m["view"])
        if view["type"] != VIEW_TYPES["grid"]:
            raise not_found("view", m["view"])
        have = {gc["fk_column_id"] for gc in view["columns"]}
        for col in table.columns:  # made on first read, as NocoDB fills them in lazily too
            if col["id"] not in have and not col["system"]:
                view["columns"].append({"id": self._new_id("nc"), "fk_view_id": view["id"], "fk_column_id": col["id"],
                                        "show": True, "group_by": None, "group_by_order": None, "group_by_sort": None})
        return [dict(gc) for gc in view["columns"]]

    def update_grid_column(self, m, params, body):
        for _, view in self.views.values():
            for gc in view["columns"] if view["type"] == VIEW_TYPES["grid"] else ():
                if gc["id"] == m["gc"]:
                    gc.update({k: v for k, v in body.items() if k in ("show", "group_by", "group_by_order", "group_by_sort")})
                    return 1
        raise Refused(404, {"msg": f"Grid view column '{m['gc']}' not found"})

    # --- hooks: stored and listed, never fired. As in 0.301.3: only v3 hooks are taken, a
    # change is the whole hook (a partial PATCH is refused), the notification reads back as JSON text.
    def list_hooks(self, m, params, body):
        return {"list": [dict(h) for h in self.table(m["table"]).hooks]}

    @staticmethod
    def _hook_body(body):
        if body.get("version") != "v3":
            raise Refused(400, {"msg": "hook version is deprecated / not supported anymore"})
        if not isinstance(body.get("notification"), dict) or not body.get("title") or not body.get("operation"):
            raise Refused(400, {"msg": "Invalid request body"})
        return {**body, "notification": json.dumps(body["notification"], ensure_ascii=False)}

    def _hook(self, hook_id):
        for t in self.tables.values():
            for i, h in enumerate(t.hooks):
                if h["id"] == hook_id:
                    return t, i
        raise Refused(404, {"msg": f"Hook '{hook_id}' not found"})

    def create_hook(self, m, params, body):
        hook = {"id": self._new_id("hk"), "fk_model_id": m["table"], "active": True, "description": None,
                "created_at": f"{next(_HOOK_SEQ):08d}", **self._hook_body(body)}
        self.table(m["table"]).hooks.append(hook)
        return dict(hook)

    def update_hook(self, m, params, body):
        t, i = self._hook(m["hook"])
        t.hooks[i] = {**t.hooks[i], **self._hook_body(body)}
        return dict(t.hooks[i])

    def delete_hook(self, m, params, body):
        t, i = self._hook(m["hook"])
        del t.hooks[i]
        return True
