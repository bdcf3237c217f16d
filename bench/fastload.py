"""Benchmarks only: load generated rows straight into the local NocoDB's SQLite file.

Through the API, NocoDB 0.301.3 inserts rows with their links' foreign keys set at ~3 s per
100 (three links; 0.46 s without them), setting the keys afterwards by PATCH costs ~1.8 s per
100, and the links API is one call per row (measured here): 100,000 linked rows would take
about an hour, seeding the sample company ten times over more than one. This loader writes
them in seconds, and checks itself against NocoDB:

* each table's fullest row (most fields set) goes through the store first (the normal path:
  validation, titles, links); the loader encodes that same row itself and compares its
  encoding with what NocoDB stored, column by column, and refuses to load the table if any
  column differs;
* every other row is validated by the store's rules (``split_valid``), turned into the
  store's API values (``to_row``), encoded like the first and inserted with one
  ``executemany`` per table: Ids after the table's highest, ``nc_order`` = Id, CreatedAt now,
  the creator of the row NocoDB wrote;
* then every link gets its foreign key from its key column, looked up in the linked table
  (references may point either way, e.g. 活动 ↔ 立项审批单, so this comes last);
* finally the last row of each table is read back through the store, which must find
  nothing wrong with it.

It needs the local stack on SQLite (``actops up`` without NC_DB): NocoDB keeps the rows of
the bases it makes in the same file as its meta. It caches meta, not rows, so the API sees
the loaded rows at once (a later API insert gets the next Id).
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import time
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from actops import config
from actops.errors import RecordValidationError
from actops.records import to_row
from actops.store import BoundTable, Store

SYSTEM = {"id", "created_at", "updated_at", "created_by", "updated_by", "nc_order", "data_issue"}


def db_file() -> Path:
    """The SQLite file of the local NocoDB the benches talk to; exits when there is none."""
    from actops_dev.stack import LocalStack

    cfg, stack = config.nocodb(), LocalStack.default()
    path = stack.data_dir / "noco.db"
    if not cfg.managed or os.environ.get("NC_DB") or not path.exists():
        raise SystemExit(f"this bench loads its rows into the local NocoDB's SQLite file ({path}); start it with "
                         "`actops up` (without NC_DB), or see bench/fastload.py")
    return path


def encode(uidt: str, v: Any) -> Any:
    """An API value (as the store sends it) as NocoDB 0.301 stores it on SQLite."""
    if v is None:
        return None
    if uidt == "Checkbox":
        return 1 if v else 0
    if uidt == "DateTime":
        t = v if isinstance(v, datetime) else datetime.fromisoformat(str(v).replace("Z", "+00:00"))
        t = t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
        return t.strftime("%Y-%m-%d %H:%M:%S+00:00")
    if uidt == "Date" and isinstance(v, date):
        return v.isoformat()
    if uidt == "Attachment" and not isinstance(v, str):  # NocoDB gives each file an id
        v = [{**a, "id": a.get("id") or secrets.token_hex(8)} for a in v]
    if uidt in ("Attachment", "JSON") and not isinstance(v, str):
        return json.dumps(v, ensure_ascii=False, separators=(",", ":"))
    if uidt == "MultiSelect" and isinstance(v, list | tuple):
        return ",".join(v)
    return v


class _Table:
    """One table as the loader sees it: its physical name and columns, from NocoDB's meta."""

    def __init__(self, bound: BoundTable) -> None:
        self.bound = bound
        meta = bound.table.meta()
        self.physical = meta["table_name"]
        cols = [c for c in meta["columns"] if c.get("column_name")]
        self.by_title = {c["title"]: c for c in cols}
        self.fks = {name: self.by_title[f.fk_title]["column_name"] for name, f in bound.links.items()}

    def encoded(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        good, issues = self.bound.split_valid(rows)
        if issues:
            raise RecordValidationError(issues)
        out = []
        for r in good:
            titled = to_row(self.bound.spec, r, self.bound.titles)
            out.append({self.by_title[t]["column_name"]: encode(self.by_title[t]["uidt"], v)
                        for t, v in titled.items() if t in self.by_title})
        return out


def _check_first(con: sqlite3.Connection, t: _Table, first: dict[str, Any], row_id: int) -> dict[str, Any]:
    con.row_factory = sqlite3.Row
    stored = dict(con.execute(f'SELECT * FROM "{t.physical}" WHERE id = ?', (row_id,)).fetchone())
    con.row_factory = None
    wrong = {c: (v, stored.get(c)) for c, v in first.items() if c not in SYSTEM and not _same(v, stored.get(c))}
    if wrong:
        raise SystemExit(f"{t.bound.spec.name}: the loader's encoding differs from what NocoDB stored "
                         f"(column: (loader, NocoDB)) {wrong}; fix bench/fastload.py:encode")
    return stored


def _same(mine: Any, stored: Any) -> bool:
    """Equal as stored; attachments up to the ids NocoDB and the loader gave the files."""
    if mine == stored:
        return True
    try:
        a, b = json.loads(mine), json.loads(stored)
    except (TypeError, ValueError):
        return False
    return _no_ids(a) == _no_ids(b)


def _no_ids(files: Any) -> Any:
    return [{k: v for k, v in f.items() if k != "id"} for f in files] if isinstance(files, list) else files


def load(store: Store, data: Mapping[str, list[dict[str, Any]]], path: Path | None = None,
         log: Callable[[str], None] = print) -> dict[str, int]:
    """Insert ``data`` (table name → rows keyed by field name); rows per table."""
    path = path or db_file()
    t0 = time.perf_counter()
    tables = {name: _Table(store.table(name)) for name, rows in data.items() if rows}
    fullest = {name: max(range(len(data[name])), key=lambda i, rows=data[name]: len(rows[i])) for name in tables}
    via_api = {name: store.table(name).create([data[name][fullest[name]]])[0] for name in tables}
    parents = {name: {n: _Table(store.table(f.ref)) for n, f in t.bound.links.items()} for name, t in tables.items()}
    con = sqlite3.connect(path, timeout=120)  # from here until commit NocoDB cannot read its meta: no API calls
    try:
        for name, t in tables.items():
            encoded = t.encoded(data[name])
            stored = _check_first(con, t, encoded.pop(fullest[name]), via_api[name])
            start = con.execute(f'SELECT MAX(id) FROM "{t.physical}"').fetchone()[0] + 1
            cols = sorted({c for r in encoded for c in r})
            now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S+00:00")
            head = ["id", "created_at", "created_by", "nc_order", *cols]
            values = [(start + i, now, stored["created_by"], float(start + i), *(r.get(c) for c in cols))
                      for i, r in enumerate(encoded)]
            marks = ",".join("?" * len(head))
            con.executemany(f'INSERT INTO "{t.physical}" ({",".join(head)}) VALUES ({marks})', values)
        for name, t in tables.items():
            _link(con, t, parents[name])
        con.commit()
    finally:
        con.close()
    for name in tables:
        store.forget_keys(name)
        bound = store.table(name)
        last = bound.table.first("-Id", ["Id"])["Id"]
        _, issues = bound.read(f"(Id,eq,{last})")
        if issues or bound.ref_fixes:
            raise SystemExit(f"{name}: row {last} as loaded reads back wrong: {issues[:3]} {bound.ref_fixes}")
    log(f"loaded {sum(len(data[n]) for n in tables)} rows into {len(tables)} tables in "
        f"{time.perf_counter() - t0:.1f}s (SQLite, the first row of each through the API)")
    return {name: len(data[name]) for name in tables}


def _link(con: sqlite3.Connection, t: _Table, parents: dict[str, _Table]) -> None:
    """Every row's foreign key from its key column (NULL for a key the linked table lacks)."""
    for name, fk in t.fks.items():
        parent = parents[name]
        key = parent.bound.spec.key
        ids = dict(con.execute(f'SELECT CAST("{key}" AS TEXT), id FROM "{parent.physical}"').fetchall())
        rows = con.execute(f'SELECT id, CAST("{name}" AS TEXT) FROM "{t.physical}"').fetchall()
        con.executemany(f'UPDATE "{t.physical}" SET "{fk}" = ? WHERE id = ?',
                        [(ids.get(k) if k is not None else None, i) for i, k in rows])
