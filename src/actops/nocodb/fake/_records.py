"""The data half of the fake: ``/api/v2/tables/{id}/records`` as NocoDB 0.301.3 answers it.

Lists: ``where`` (see ``_eval``), ``sort`` (comma list, ``-`` descending, NULL smallest, then
Id), ``fields``, ``limit`` (default 25, clamped to 1..1000), ``offset`` (an offset at or past
the end is a 422), ``pageInfo`` with ``totalRows`` and ``isLastPage``. Writes: more than 100
records in one request is a 422 ``ERR_MAX_PAYLOAD_LIMIT_EXCEEDED``; unknown and system fields
are ignored; an unknown select option is a 400 and nothing is written; a PATCH or DELETE of a
missing Id is a 404 and nothing is written. ``UpdatedAt`` stays NULL until a row's first
update; time stamps read ``YYYY-MM-DD HH:MM:SS+00:00``. Formula fields read as None.
"""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any

from actops.nocodb.fake._eval import DATES, Refused, compile_where, parse_when, sort_key
from actops.nocodb.fake._meta import FakeTable

PAYLOAD_LIMIT = 100
MAX_LIMIT, DEFAULT_LIMIT = 1000, 25
HIDDEN = {"CreatedBy", "LastModifiedBy", "Order"}  # system columns a v2 list leaves out
READ_ONLY = {"ID", "CreatedTime", "LastModifiedTime", "CreatedBy", "LastModifiedBy", "Order", "Formula",
             "LinkToAnotherRecord", "Links", "Lookup"}


def _stamp(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S+00:00")


class RecordRoutes:
    def record_routes(self) -> list[tuple[str, str, Any]]:
        base = r"/api/v2/tables/(?P<table>[^/]+)/records"
        return [
            ("GET", base, self.list_records),
            ("GET", base + r"/count", self.count_records),
            ("GET", base + r"/(?P<row>\d+)", self.read_record),
            ("POST", base, self.insert_records),
            ("PATCH", base, self.update_records),
            ("DELETE", base, self.delete_records),
        ]

    # --- reads ---
    def _matching(self, table: FakeTable, params: dict[str, str]) -> list[dict[str, Any]]:
        keep = compile_where(params.get("where"), table.by_alias(), self.now())
        virtual = [c for c in table.columns if c["uidt"] == "Lookup"]  # filters see lookups too
        return [r for r in table.rows.values() if keep(self._with_lookups(table, r, virtual))]

    def _with_lookups(self, table: FakeTable, row: dict[str, Any], virtual: list[dict[str, Any]]) -> dict:
        if not virtual:
            return row
        return {**row, **{c["id"]: self._value(table, row, c) for c in virtual}}

    def _present(self, table: FakeTable, row: dict[str, Any], fields: list[dict[str, Any]] | None = None) -> dict:
        cols = fields if fields is not None else [c for c in table.columns if c["uidt"] not in HIDDEN]
        return {c["title"]: self._value(table, row, c) for c in cols}

    def _value(self, table: FakeTable, row: dict[str, Any], col: dict[str, Any]) -> Any:
        """Stored values as they are; links and lookups followed through the foreign key."""
        uidt, opts = col["uidt"], col.get("colOptions") or {}
        if uidt == "LinkToAnotherRecord":
            parent, pid = self._followed(table, row, col)
            if parent is None:
                return None
            pv = next((c for c in parent.columns if c.get("pv")), None)
            return {"Id": pid, **({pv["title"]: parent.rows[pid].get(pv["id"])} if pv else {})}
        if uidt == "Lookup":
            link = next(c for c in table.columns if c["id"] == opts["fk_relation_column_id"])
            parent, pid = self._followed(table, row, link)
            return None if parent is None else parent.rows[pid].get(opts["fk_lookup_column_id"])
        if uidt == "Links":
            return sum(r.get(opts["fk_child_column_id"]) == row.get(self._pk(table))
                       for r in self.table(opts["fk_related_model_id"]).rows.values())
        return row.get(col["id"])

    def _followed(self, table: FakeTable, row: dict[str, Any], link: dict[str, Any]):
        opts = link["colOptions"]
        pid = row.get(opts["fk_child_column_id"])
        parent = self.table(opts["fk_related_model_id"])
        return (parent, pid) if pid in parent.rows else (None, None)

    def _pk(self, table: FakeTable) -> str:
        return next(c["id"] for c in table.columns if c.get("pk"))

    def list_records(self, m, params, body):
        table = self.table(m["table"])
        if params.get("viewId"):
            raise Refused(400, {"msg": "the fake NocoDB does not read through views (viewId)"})
        rows = self._matching(table, params)
        for spec in reversed([s for s in re.split(r"\s*,\s*", params.get("sort") or "") if s]):
            desc, name = spec.startswith("-"), spec.lstrip("+-~")
            col = table.column(name)
            if col is None:
                raise Refused(404, {"error": "ERR_FIELD_NOT_FOUND", "message": f"Field '{name}' not found"})
            rows.sort(key=lambda r, c=col: sort_key(r.get(c["id"]), c["uidt"]), reverse=desc)
        fields = None
        if params.get("fields") and params["fields"] != "*":
            names = params["fields"].split(",")
            missing = [n for n in names if table.column(n) is None]
            if missing:
                raise Refused(404, {"error": "ERR_FIELD_NOT_FOUND", "message": f"Field '{', '.join(missing)}' not found"})
            fields = [c for c in table.columns if c["title"] in names or c["id"] in names]
        try:
            limit = int(params.get("limit") or 0)
        except ValueError:
            limit = 0
        limit = min(max(limit if limit > 0 else DEFAULT_LIMIT, 1), MAX_LIMIT)
        try:
            offset = max(int(params.get("offset") or 0), 0)
        except ValueError:
            offset = 0
        total = len(rows)
        if offset and offset >= total:
            raise Refused(422, {"error": "ERR_INVALID_OFFSET_VALUE", "message": f"Offset value '{offset}' is invalid"})
        page = offset / limit + 1 if offset else 1
        info: dict[str, Any] = {"totalRows": total, "page": page, "pageSize": limit, "isFirstPage": page == 1,
                                "isLastPage": page >= (math.ceil(total / limit) or 1)}
        if page % 1:
            info["offset"] = offset
            del info["page"]
        else:
            info["page"] = int(page)
        return {"list": [self._present(table, r, fields) for r in rows[offset : offset + limit]], "pageInfo": info}

    def count_records(self, m, params, body):
        return {"count": len(self._matching(self.table(m["table"]), params))}

    def read_record(self, m, params, body):
        table = self.table(m["table"])
        row = table.rows.get(int(m["row"]))
        if row is None:
            raise Refused(404, {"error": "ERR_RECORD_NOT_FOUND", "message": f"Record '{m['row']}' not found"})
        return self._present(table, row)

    # --- writes ---
    def _batch(self, body: Any) -> list[dict[str, Any]]:
        if isinstance(body, list) and len(body) > PAYLOAD_LIMIT:
            raise Refused(422, {"error": "ERR_MAX_PAYLOAD_LIMIT_EXCEEDED",
                                "message": f"Maximum {PAYLOAD_LIMIT} entities are allowed per request"})
        return body if isinstance(body, list) else [body]

    def _values(self, table: FakeTable, record: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for key, value in record.items():
            col = table.column(key)
            if col is None or col["uidt"] in READ_ONLY:
                continue  # NocoDB ignores what it does not know
            out[col["id"]] = self._stored(col, value)
        return out

    def _stored(self, col: dict[str, Any], value: Any) -> Any:
        uidt = col["uidt"]
        if value is None or (value == "" and uidt in DATES):
            return None
        if uidt in ("SingleSelect", "MultiSelect"):
            options = {o["title"] for o in (col.get("colOptions") or {}).get("options", [])}
            picked = value if isinstance(value, list) else str(value).split(",") if uidt == "MultiSelect" else [value]
            bad = [p for p in picked if p not in options and p != ""]
            if bad:
                raise Refused(400, {"msg": f"Invalid option(s) \"{', '.join(map(str, bad))}\" provided for column "
                                           f"\"{col['title']}\""})
            return ",".join(picked) if uidt == "MultiSelect" else value
        if uidt == "Checkbox":
            return value in (True, 1, "1", "true", "True")
        if uidt == "Date":
            try:
                return date.fromisoformat(str(value)[:10]).isoformat()
            except ValueError:
                return "Invalid Date"  # SQLite keeps anything; NocoDB reads it back like this
        if uidt == "DateTime":
            when = parse_when(str(value))
            return _stamp(when) if when else "Invalid Date"
        return value

    def _defaults(self, table: FakeTable) -> dict[str, Any]:
        out = {}
        for c in table.columns:
            if c.get("cdf") is not None and c["uidt"] not in READ_ONLY:
                cdf = c["cdf"]
                out[c["id"]] = (cdf == "true") if c["uidt"] == "Checkbox" else self._stored(c, cdf)
        return out

    def _system(self, table: FakeTable, uidt: str) -> str:
        return next(c["id"] for c in table.columns if c["uidt"] == uidt)

    def insert_records(self, m, params, body):
        table = self.table(m["table"])
        records = [self._values(table, r) for r in self._batch(body)]  # all checked before any is written
        stamp = _stamp(self.now())
        ids = []
        for values in records:
            rid, table.next_id = table.next_id, table.next_id + 1
            table.rows[rid] = {self._system(table, "ID"): rid, self._system(table, "CreatedTime"): stamp,
                               self._system(table, "LastModifiedTime"): None, **self._defaults(table), **values}
            ids.append({"Id": rid})
        return ids if isinstance(body, list) else ids[0]

    def _existing(self, table: FakeTable, body: Any) -> list[tuple[int, dict[str, Any]]]:
        out = []
        for r in self._batch(body):
            rid = r.get("Id") if isinstance(r, dict) else None
            if rid is None or int(rid) not in table.rows:
                raise Refused(404, {"error": "ERR_RECORD_NOT_FOUND", "message": f"Record '{rid}' not found"})
            out.append((int(rid), r))
        return out

    def update_records(self, m, params, body):
        table = self.table(m["table"])
        changes = [(rid, self._values(table, r)) for rid, r in self._existing(table, body)]
        stamp = _stamp(self.now())
        for rid, values in changes:
            table.rows[rid].update(values)
            table.rows[rid][self._system(table, "LastModifiedTime")] = stamp
        ids = [{"Id": rid} for rid, _ in changes]
        return ids if isinstance(body, list) else ids[0]

    def delete_records(self, m, params, body):
        table = self.table(m["table"])
        gone = [rid for rid, _ in self._existing(table, body)]
        for rid in gone:
            table.rows.pop(rid, None)
        ids = [{"Id": rid} for rid in gone]
        return ids if isinstance(body, list) else ids[0]
