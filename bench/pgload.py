"""Benchmarks only: load generated rows straight into the local NocoDB's PostgreSQL tables.

A million rows through the API would take hours (bulk inserts are capped at 100 rows a call,
~0.3–3 s each); ``COPY`` takes seconds. The safety idea is fastload's (bench/fastload.py):

* the fullest of a table's first 1,000 rows goes through the store (validation, titles,
  links); the loader encodes the same row itself, lets PostgreSQL parse that encoding into a
  temporary copy of the table and refuses to go on unless every column equals what NocoDB
  stored;
* every other row is validated by the store's rules (``split_valid``), turned into API values
  (``to_row``), encoded the same way and streamed to a CSV file that ``\\copy`` loads in one
  transaction: Ids after the table's highest, ``nc_order`` = Id, CreatedAt now, the creator
  of the row NocoDB wrote, each link's foreign key looked up in the linked table as it was
  when the table's load began (load parents first; a key it lacks gets no link, as in a grid);
  then the Id sequence is moved past the new rows (``setval``) and the table ANALYZEd;
* finally the last row is read back through the store, which must find nothing wrong with it.

Rows are streamed (an iterable per table), so a million rows never sit in memory at once.
It needs the local stack on PostgreSQL (``ACTOPS_DB=pg actops up``). NocoDB keeps a base's
tables in a schema named by the base id, under the physical name of the table's meta.
"""

from __future__ import annotations

import csv
import itertools
import json
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastload import SYSTEM, _same, encode

from actops import config
from actops.errors import RecordValidationError
from actops.records import to_row
from actops.store import BoundTable, Store
from actops_dev.postgres import PgCluster
from actops_dev.stack import LocalStack

NULL = "\\N"  # COPY's NULL marker (a text that is exactly \N would load as NULL: our rows have none)
PROBE_WINDOW = 1000  # the probe row is the fullest of this many first rows


def local_pg() -> tuple[PgCluster, str]:
    """The local stack's cluster and database; exits when the benches' NocoDB is not on it."""
    stack = LocalStack.default()
    if not config.nocodb().managed or stack.pg is None or not stack.pg.running():
        raise SystemExit("this bench loads its rows into the local NocoDB's PostgreSQL; start it with "
                         "`ACTOPS_DB=pg actops up` (and the same ACTOPS_DATA/ACTOPS_DB when running the bench)")
    return stack.pg, stack.database


class PgTable:
    """One table as PostgreSQL has it: schema (the base id), physical name, columns by title."""

    def __init__(self, bound: BoundTable) -> None:
        self.bound = bound
        meta = bound.table.meta()
        self.schema, self.name = meta["base_id"], meta["table_name"]
        self.qualified = f'"{self.schema}"."{self.name}"'
        self.by_title = {c["title"]: c for c in meta["columns"] if c.get("column_name")}
        self.fks = {name: self.by_title[f.fk_title]["column_name"] for name, f in bound.links.items()}

    def encode(self, row: dict[str, Any], fk_ids: Mapping[str, Mapping[str, int]]) -> dict[str, Any]:
        """One valid row as the CSV values of its columns (raises on a row the store refuses)."""
        _, issues = self.bound.split_valid([row])
        if issues:
            raise RecordValidationError(issues)
        titled = to_row(self.bound.spec, row, self.bound.titles)
        out = {self.by_title[t]["column_name"]: encode(self.by_title[t]["uidt"], v)
               for t, v in titled.items() if t in self.by_title}
        for name, col in self.fks.items():
            key = row.get(name)
            out[col] = None if key in (None, "") else fk_ids[name].get(str(key))
        return {c: _csv_value(v) for c, v in out.items()}


def _csv_value(v: Any) -> Any:
    if isinstance(v, bool):  # PostgreSQL's boolean takes true/false, not Python's True
        return "true" if v else "false"
    return v


def _names(cols: Iterable[str]) -> str:
    return ",".join(f'"{c}"' for c in cols)


def _psql_file(pg: PgCluster, database: str, script: str, single: bool = False) -> str:
    """Run a psql script (SQL and ``\\copy``) in one session; its output rows as text."""
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script)
    try:
        return pg._run("psql", *pg._conn(), "-d", database, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                       *(["-1"] if single else []), "-f", f.name).stdout
    finally:
        Path(f.name).unlink()


def _write_csv(path: Path, cols: list[str], rows: Iterable[list[Any]]) -> int:
    n = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        for r in rows:
            w.writerow([NULL if v is None else v for v in r])
            n += 1
    return n


def _key_ids(pg: PgCluster, database: str, parent: PgTable) -> dict[str, int]:
    key = parent.by_title[parent.bound.title(parent.bound.spec.key)]["column_name"]
    out = pg.psql(f'SELECT id, "{key}" FROM {parent.qualified} WHERE "{key}" IS NOT NULL', database)
    return {k: int(i) for i, k in (line.split("|", 1) for line in out.splitlines() if line)}


def _check_probe(pg: PgCluster, database: str, t: PgTable, mine: dict[str, Any], row_id: int,
                 tmp: Path) -> dict[str, Any]:
    """Parse the loader's encoding of the probe row into a temporary copy of the table and
    compare it, column by column, with the row NocoDB stored; return the stored row."""
    cols = ["id", *mine]
    _write_csv(tmp, cols, [[row_id, *mine.values()]])
    out = _psql_file(pg, database, (
        f"CREATE TEMP TABLE probe (LIKE {t.qualified});\n"
        f"\\copy probe ({_names(cols)}) FROM '{tmp}' WITH (FORMAT csv, NULL '\\N')\n"
        "SELECT row_to_json(p) FROM probe p;\n"
        f"SELECT row_to_json(s) FROM {t.qualified} s WHERE id = {row_id};\n"))
    parsed, stored = (json.loads(line) for line in out.splitlines() if line.startswith("{"))
    wrong = {c: (parsed[c], stored[c]) for c in mine if c not in SYSTEM and not _same(parsed[c], stored[c])}
    if wrong:
        raise SystemExit(f"{t.bound.spec.name}: the loader's encoding differs from what NocoDB stored "
                         f"(column: (loader, NocoDB)) {wrong}; fix bench/pgload.py")
    return stored


def load_table(store: Store, name: str, rows: Iterable[dict[str, Any]], pg: PgCluster, database: str,
               log: Callable[[str], None] = print) -> int:
    """Stream ``rows`` (by field name) into one table; the number of rows loaded."""
    t0 = time.perf_counter()
    bound = store.table(name)
    t = PgTable(bound)
    it = iter(rows)
    head = list(itertools.islice(it, PROBE_WINDOW))
    if not head:
        return 0
    probe = max(range(len(head)), key=lambda i: len(head[i]))
    probe_id = bound.create([head[probe]])[0]
    fk_ids = {n: _key_ids(pg, database, PgTable(store.table(f.ref))) for n, f in bound.links.items()}
    with tempfile.TemporaryDirectory(prefix="pgload-") as d:
        tmp = Path(d) / "rows.csv"
        stored = _check_probe(pg, database, t, t.encode(head[probe], fk_ids), probe_id, tmp)
        physical = set(pg.psql("SELECT column_name FROM information_schema.columns "
                               f"WHERE table_schema = '{t.schema}' AND table_name = '{t.name}'", database).split())
        cols = [c["column_name"] for c in t.by_title.values()  # a formula has a column_name, not a column
                if c["column_name"] not in SYSTEM and c["column_name"] in physical]
        start = int(pg.psql(f"SELECT COALESCE(MAX(id), 0) FROM {t.qualified}", database)) + 1
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
        rest = itertools.chain(head[:probe], head[probe + 1:], it)

        def lines() -> Iterable[list[Any]]:
            for i, r in enumerate(rest):
                enc = t.encode(r, fk_ids)
                yield [start + i, now, stored["created_by"], start + i, *(enc.get(c) for c in cols)]

        head_cols = ["id", "created_at", "created_by", "nc_order", *cols]
        n = _write_csv(tmp, head_cols, lines())
        encoded_s = time.perf_counter() - t0
        _psql_file(pg, database, (
            f"\\copy {t.qualified} ({_names(head_cols)}) FROM '{tmp}' WITH (FORMAT csv, NULL '\\N')\n"
            f"SELECT setval(pg_get_serial_sequence('{t.qualified}', 'id'), (SELECT MAX(id) FROM {t.qualified}));\n"
            f"ANALYZE {t.qualified};\n"), single=True)
    store.forget_keys(name)
    last = bound.table.first("-Id", ["Id"])["Id"]
    _, issues = bound.read(f"(Id,eq,{last})")
    if last != start + n - 1 or issues or bound.ref_fixes:
        raise SystemExit(f"{name}: row {last} as loaded reads back wrong (expected Id {start + n - 1}): "
                         f"{issues[:3]} {bound.ref_fixes}")
    log(f"loaded {n + 1} rows into {name} in {time.perf_counter() - t0:.1f}s "
        f"(encoding {encoded_s:.1f}s; the probe row through the API, the rest by COPY)")
    return n + 1


def load(store: Store, data: Mapping[str, Iterable[dict[str, Any]]],
         log: Callable[[str], None] = print) -> dict[str, int]:
    """Load ``data`` (table name → rows by field name) in its order: parents before children."""
    pg, database = local_pg()
    return {name: load_table(store, name, rows, pg, database, log) for name, rows in data.items()}


def link_after(store: Store, name: str, field: str, log: Callable[[str], None] = print) -> int:
    """Make the links of ``name``'s reference ``field`` from its key column, for a link to a table
    loaded after this one (a cycle: an activity names its 立项 request, a request its activity):
    at load time the keys had nothing to point at, so they were stored without their links."""
    pg, database = local_pg()
    t = PgTable(store.table(name))
    parent = PgTable(store.table(t.bound.links[field].ref))
    key = t.by_title[t.bound.title(field)]["column_name"]
    pkey = parent.by_title[parent.bound.title(parent.bound.spec.key)]["column_name"]
    n = int(pg.psql(f'WITH u AS (UPDATE {t.qualified} c SET "{t.fks[field]}" = p.id FROM {parent.qualified} p '
                    f'WHERE p."{pkey}" = c."{key}" AND c."{t.fks[field]}" IS DISTINCT FROM p.id RETURNING 1) '
                    'SELECT count(*) FROM u', database))
    pg.psql(f"ANALYZE {t.qualified}", database)
    log(f"linked {n} rows of {name}.{field} by key")
    return n
