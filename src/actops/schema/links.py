"""References as NocoDB links (STF-2): staff pick the row from a list, grids show its name.

For each ``ref`` field to a table of the same base, `schema apply` keeps three columns:
the key column the engine used to write (「负责人（工号）」), a many-to-one link titled as the
field (「负责人」, what staff see and pick), and the link's hidden foreign-key column, renamed
``<field>__fk`` so the store can write it in batches of 100 (NocoDB ignores the link field
itself in a records write; the FK column works, see STACK.md). The store reads the foreign key,
never the link: NocoDB 0.301 computes link and lookup columns row by row in a list read.

Migrating a base made before links is part of the same change: a key column still titled as
the field is renamed first, the link is created, the parent's reverse column gets a readable
title (「活动（负责人）」), existing keys are copied into the FK column in batches, and forms that
showed the key column show the link instead. Nothing is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from actops.nocodb import Base, Table
from actops.nocodb._base import short_name
from actops.schema import payload
from actops.schema.spec import FieldSpec, FormSpec, TableSpec

LINK = "LinkToAnotherRecord"
LINKS = "Links"  # how NocoDB types the reverse (has-many) side: a count in the grid
LINK_TYPES = (LINK, LINKS)


def linked_fields(tspec: TableSpec) -> list[FieldSpec]:
    return [f for f in tspec.fields if f.type == "ref" and f.link]


def fk_column(table: Table, f: FieldSpec) -> dict[str, Any] | None:
    return next((c for c in table.columns() if c["title"] == f.fk_title), None)


def link_column(table: Table, f: FieldSpec) -> dict[str, Any] | None:
    """The link column of ``f``: the one whose foreign key is ``<field>__fk``."""
    fk = fk_column(table, f)
    if fk is None:
        return None
    return next((c for c in table.columns() if c["uidt"] == LINK
                 and (c.get("colOptions") or {}).get("fk_child_column_id") == fk["id"]), None)


def missing(table: Table, tspec: TableSpec) -> list[FieldSpec]:
    titles = {c["title"] for c in table.columns()}
    return [f for f in linked_fields(tspec) if f.fk_title not in titles]


def add_link_fn(base: Base, tspec: TableSpec, f: FieldSpec, parent_spec: TableSpec) -> Callable[[], None]:
    """The change that links ``tspec.f`` to its target, migrating what is there. Each step
    checks whether it was done, so a run cut short is finished by the next apply."""

    def run() -> None:
        tables = {short_name(t.get("table_name", "")): t for t in base.tables()}
        child = base.table(_id(tables, tspec.name), tspec.zh)
        parent = base.table(_id(tables, parent_spec.name), parent_spec.zh)
        api = child.api
        cols = child.columns(refresh=True)
        if fk_column(child, f) is None:
            clash = next((c for c in cols if c["title"] == f.zh and c["uidt"] not in LINK_TYPES), None)
            if clash is not None:  # a base made before links: the key column had the plain title
                body = payload.column_update(clash)
                body["title"] = f.key_column_title
                api.request("PATCH", f"/api/v2/meta/columns/{clash['id']}", json=body, retry=False, table=child.title)
            api.request("POST", f"/api/v2/meta/tables/{child.id}/columns", retry=False, table=child.title,
                        json={"title": f.zh, "uidt": LINK, "type": "bt", "parentId": parent.id, "childId": child.id,
                              "description": payload.describe(f.help)})
            cols = child.columns(refresh=True)
            link = next(c for c in cols if c["uidt"] == LINK and c["title"] == f.zh)
            if f.help and not link.get("description"):  # NocoDB drops it when it creates a link
                api.request("PATCH", f"/api/v2/meta/columns/{link['id']}", retry=False, table=child.title,
                            json={**link, "description": payload.describe(f.help)})
            fk_id = link["colOptions"]["fk_child_column_id"]
            fk = next(c for c in cols if c["id"] == fk_id)
            api.request("PATCH", f"/api/v2/meta/columns/{fk_id}", json={**fk, "title": f.fk_title},
                        retry=False, table=child.title)
            reverse = next((c for c in parent.columns(refresh=True) if c["uidt"] in LINK_TYPES
                            and (c.get("colOptions") or {}).get("type") == "hm"
                            and c["colOptions"].get("fk_child_column_id") == fk_id), None)
            if reverse is not None:
                api.request("PATCH", f"/api/v2/meta/columns/{reverse['id']}", retry=False, table=parent.title,
                            json={**reverse, "title": f"{tspec.zh}（{f.zh}）"})
            child.meta(refresh=True)
            _backfill(child, parent, f, parent_spec)
            for form in tspec.forms:
                if f.name in form.fields:
                    show_link_in_form(child, form, f)
    return run


def _id(tables: dict[str, dict[str, Any]], name: str) -> str:
    return tables[name]["id"]


def _backfill(child: Table, parent: Table, f: FieldSpec, parent_spec: TableSpec) -> None:
    """Copy existing keys into the new foreign key, 100 rows a call."""
    key_title = parent.titles_by_column_name().get(parent_spec.key, parent_spec.field(parent_spec.key).zh)
    ids = {str(k): i for k, i in parent.ids_by_key(key_title).items()}
    text = child.titles_by_column_name().get(f.name, f.key_column_title)
    updates = [{"Id": r["Id"], f.fk_title: ids[str(r[text])]}
               for r in child.iterate(f"({text},notblank)", fields=[text]) if str(r[text]) in ids]
    child.update(updates)


def show_link_in_form(table: Table, form: FormSpec, f: FieldSpec) -> None:
    """In an existing form, the link takes the place of the key column."""
    view = next((v for v in table.meta(refresh=True).get("views", []) if v["title"] == form.zh), None)
    link = link_column(table, f)
    if view is None or link is None:
        return
    text_id = table.column(f.name)["id"]
    api = table.api
    detail = api.request("GET", f"/api/v2/meta/forms/{view['id']}", table=table.title)
    for fc in detail.get("columns", []):
        if fc["fk_column_id"] == text_id and fc.get("show"):
            api.request("PATCH", f"/api/v2/meta/form-columns/{fc['id']}", json={"show": False}, table=table.title)
        elif fc["fk_column_id"] == link["id"]:
            api.request("PATCH", f"/api/v2/meta/form-columns/{fc['id']}", table=table.title, json={
                "show": True, "required": f.name in form.required, "order": form.fields.index(f.name) + 1,
                "description": f.help or None})
