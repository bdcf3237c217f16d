"""The bound schema: spec tables found in NocoDB, read as typed records, written by field name.

Titles are looked up from NocoDB's meta at first use (one call per table), so a column a
manager renamed in the grid keeps working: the engine addresses fields by column name.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from actops.errors import RecordValidationError, SchemaError
from actops.keymaps import KeyMaps
from actops.nocodb import Api, Base, Table
from actops.nocodb._base import short_name
from actops.records import Issue, Record, check_values, to_row, validate_rows
from actops.schema.spec import BaseSpec, FieldSpec, TableSpec, load_schema
from actops.schema.sync import base_title


class BoundTable:
    def __init__(self, spec: TableSpec, table: Table, store: Store | None = None) -> None:
        self.spec = spec
        self.table = table
        self.store = store
        self._titles: dict[str, str] | None = None
        self._links: dict[str, FieldSpec] | None = None
        self.notes: dict[int, str | None] = {}  # 数据问题 as last read, to skip unchanged writes
        # Key columns found out of step with their links while reading: {Id: {field: value}}.
        self.ref_fixes: dict[int, dict[str, Any]] = {}

    @property
    def links(self) -> dict[str, FieldSpec]:
        """Linked reference fields whose foreign-key column exists live (see schema/links.py)."""
        if self._links is None:
            have = {c["title"] for c in self.table.columns()}
            self._links = {f.name: f for f in self.spec.fields
                           if f.type == "ref" and f.link and f.fk_title in have}
        return self._links

    def _request_titles(self, fields: Sequence[str] | None, links: bool = True) -> list[str]:
        """Always an explicit list: NocoDB 0.301 computes link and lookup columns row by row
        in a list read (500 rows: 26 s with them, 0.15 s without), so they are never asked for;
        a link is read as its foreign key and turned into a key here (``links=False``: the key
        column alone, as typed)."""
        names = list(fields) if fields is not None else [f.name for f in self.spec.fields]
        system = ["CreatedAt", "UpdatedAt"] if fields is None else []
        fks = [self.links[n].fk_title for n in names if n in self.links] if links else []
        return [*system, *(self.title(n) for n in names), *fks]

    def _keys_from_links(self, rows: list[dict[str, Any]], few: bool = False) -> None:
        """What a person picked wins: the linked row's key replaces a stale key column; a key
        written without its link gets the link. Both fixes are remembered in ``ref_fixes`` for
        the runner to write back in batches. The linked keys come from rows this store read,
        else from the linked table's key column (one paged read per store), or, for the rows
        of a filtered read (``few``), from the few linked rows themselves (:meth:`Store.keys_of`)."""
        for f in self.links.values():
            text = self.title(f.name)
            picked_by: dict[int, str] = {}
            typed_ids: dict[str, int] = {}
            if self.store is not None:
                fks = {r[f.fk_title] for r in rows if r.get(f.fk_title) is not None}
                picked_by = self.store.keys_of(f.ref, fks, few=few) if fks else {}
                alone = {str(r[text]) for r in rows
                         if f.fk_title in r and r[f.fk_title] is None and r.get(text) not in (None, "")}
                typed_ids = self.store.ids_of(f.ref, alone) if alone else {}
            for r in rows:
                if f.fk_title not in r:
                    continue
                fk = r.pop(f.fk_title)
                typed = r.get(text)
                picked = picked_by.get(fk) if fk is not None else None
                if picked is not None and picked != typed:
                    r[text] = picked
                    self.ref_fixes.setdefault(r["Id"], {})[f.name] = picked
                elif fk is None and typed not in (None, "") and str(typed) in typed_ids:
                    self.ref_fixes.setdefault(r["Id"], {})[f.name] = typed  # gets its link

    def write_ref_fixes(self) -> int:
        fixes, self.ref_fixes = self.ref_fixes, {}
        return self.update([{"Id": i, **v} for i, v in fixes.items()]) if fixes else 0

    def _with_links(self, row: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        """A key written by the engine moves the link with it (FK column, in the same batch)."""
        for name, f in self.links.items():
            if name in values and self.store is not None:
                key = values[name]
                row[f.fk_title] = None if key in (None, "") else self.store.ids_of(f.ref, [str(key)]).get(str(key))
        return row

    @property
    def titles(self) -> dict[str, str]:
        if self._titles is None:
            by_col = self.table.titles_by_column_name()
            self._titles = {f.name: by_col.get(f.name, f.zh) for f in self.spec.fields}
        return self._titles

    def title(self, name: str) -> str:
        return self.titles[name]

    def where(self, *clauses: Any) -> str | None:
        """Build a where-clause from clauses joined by ~and.

        A clause is a (field name, op, value…) tuple, a where string in titles, or a filter
        from ``actops.nocodb.F`` written with field *names* (``F("status") == "待审批"``),
        rendered with this table's titles. With a filter among the clauses the whole result
        is rendered and checked by ``actops.nocodb.where``; without one it is joined as before.
        """
        from actops.nocodb.where import Expr, Raw, and_

        parts: list[str | Expr] = []
        for c in clauses:
            if isinstance(c, str | Expr):
                parts.append(c)
            else:
                name, op, *value = c
                parts.append(f"({self._filter_title(name)},{op}" + "".join(f",{v}" for v in value) + ")")
        if any(isinstance(p, Expr) for p in parts):
            both = and_(*(p if isinstance(p, Expr) else Raw(p) for p in parts))
            return both.render(self._filter_title)
        return "~and".join(parts) if parts else None  # type: ignore[arg-type]  # only strings here

    def _filter_title(self, name: str) -> str:
        """What a filter on ``name`` compares: its column (for a linked reference the key
        column, which every run that reads the row keeps in step with the pick)."""
        return self.title(name) if name in self.titles else name

    def read(self, where: str | None = None, fields: Sequence[str] | None = None,
             salvage: bool = False, links: bool = True) -> tuple[list[Record], list[Issue]]:
        good: list[Record] = []
        issues: list[Issue] = []
        for recs, probs in self.stream(where, fields, salvage, links):
            good += recs
            issues += probs
        return good, issues

    def stream(self, where: str | None = None, fields: Sequence[str] | None = None, salvage: bool = False,
               links: bool = True, keep_keys: bool = True) -> Iterator[tuple[list[Record], list[Issue]]]:
        """``read`` a page at a time, so a job folding a large table into a small state holds one
        page of rows, never the table (OPS-4).

        A narrowed read still gets 数据问题: a row's issue note is rewritten knowing what it held
        (another job's lines are kept). ``links=False`` reads a reference's key column as typed,
        without the link: for reads filtered on that key column (``in`` lookups of a few rows),
        where mapping the link would read every key of the linked table. ``keep_keys=False``:
        the store does not remember the rows' keys (a fold over a table too large for that)."""
        every = self._every(where, fields)
        if fields is not None and "data_issue" in self.titles and "data_issue" not in fields:
            fields = [*fields, "data_issue"]
        for page in self.table.pages(where, self._request_titles(fields, links)):
            if keep_keys:
                self._learn_keys(page)
            yield self.finish(page, salvage, few=where is not None, links=links)
        if every and keep_keys and self.store is not None:
            self.store.learned_every(self.spec.name)

    def fetch(self, where: str | None = None, fields: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """The rows as NocoDB gives them (links not yet turned into keys, see :meth:`finish`).
        Their keys are remembered by the store (all of them when every row was read), so rows
        read next that link to these cost no read of this table's keys."""
        rows = self.table.all(where, self._request_titles(fields))
        self._learn_keys(rows, every=self._every(where, fields))
        return rows

    def finish(self, rows: list[dict[str, Any]], salvage: bool = False, few: bool = False,
               links: bool = True) -> tuple[list[Record], list[Issue]]:
        """Rows from :meth:`fetch` as validated records (``few``: they came from a filtered read)."""
        if links:
            self._keys_from_links(rows, few)
        note = self.titles.get("data_issue")
        if note is not None:
            self._remember_notes(rows, note)
        return validate_rows(self.spec, rows, self.titles, salvage)

    def _remember_notes(self, rows: list[dict[str, Any]], note: str) -> None:
        for r in rows:  # only notes that say something: a blank one is the same as an unknown one
            if r.get(note):
                self.notes[r["Id"]] = r[note]
            else:
                self.notes.pop(r["Id"], None)

    def _every(self, where: str | None, fields: Sequence[str] | None) -> bool:
        """Does a read give every row's key (so its keys are the table's key map)?"""
        return where is None and (fields is None or self.spec.key in fields)

    def _learn_keys(self, rows: list[dict[str, Any]], every: bool = False) -> None:
        key = self.title(self.spec.key) if self.spec.key in self.titles else None
        if self.store is not None and key is not None and all(key in r for r in rows):
            self.store.learn_keys(self.spec.name, ((r["Id"], r.get(key)) for r in rows), every=every)

    def rows(self, where: str | None = None, fields: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Raw rows re-keyed by field name, unvalidated (for keys and cheap scans)."""
        inv = {t: n for n, t in self.titles.items()}
        out = []
        for page in self.table.pages(where, self._request_titles(fields)):
            self._learn_keys(page)
            self._keys_from_links(page, few=where is not None)
            out += [{inv.get(k, k): v for k, v in r.items()} for r in page]
        return out

    def split_valid(self, rows: Iterable[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[Issue]]:
        """Rows safe to write, and the issues of the others (validation before any I/O)."""
        good, issues = [], []
        for r in rows:
            found = check_values(self.spec, r, r.get("Id"))
            if found:
                issues.extend(found)
            else:
                good.append(r)
        return good, issues

    def _titled(self, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        rows = list(rows)
        _, issues = self.split_valid(rows)
        if issues:
            raise RecordValidationError(issues)
        return [self._with_links(to_row(self.spec, r, self.titles), r) for r in rows]

    def create(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        ids = self.table.create(self._titled(rows), key=self.title(self.spec.key))
        if self.store is not None and ids:
            self.store.forget_keys(self.spec.name)  # new rows can be linked to from now on
        return ids

    def update(self, rows: Sequence[dict[str, Any]]) -> int:
        return self.table.update(self._titled(rows))

    def ids_by_key(self) -> dict[str, int]:
        return {str(k): v for k, v in self.table.ids_by_key(self.title(self.spec.key)).items()}

    def create_missing(self, rows: Sequence[dict[str, Any]]) -> tuple[int, int]:
        """Insert rows whose natural key is not there yet; leave existing rows as staff left them."""
        have = self.ids_by_key()
        new = [r for r in rows if str(r[self.spec.key]) not in have]
        self.create(new)
        return len(new), len(rows) - len(new)

    def create_new(self, rows: Sequence[dict[str, Any]]) -> int:
        """Insert the rows whose natural key is not in the table yet, so a rerun or a resumed
        run inserts nothing twice. The keys are looked up with ``in`` filters (50 keys a call;
        each call scans the table for its unindexed key column), or, when that takes more
        calls than reading the table's key column in pages of 1,000, by reading that."""
        from actops.nocodb import F

        key = self.spec.key
        wanted = list(dict.fromkeys(str(r[key]) for r in rows))
        lookups = -(-len(wanted) // 50)
        have: set[str] = set()
        if lookups > 2 and self.table.count() // 1000 + 1 < lookups:
            have = set(self.ids_by_key())  # the key column, page by page
        else:
            for i in range(0, len(wanted), 50):
                found = self.rows(self.where(F(key).in_(wanted[i:i + 50])), fields=[key])
                have |= {str(r[key]) for r in found}
        new = [r for r in rows if str(r[key]) not in have]
        self.create(new)
        return len(new)

    def mark_issues(self, issues: Sequence[Issue], checked: Iterable[int] = (), tag: str = "数据检查") -> int:
        """Put each issue into its row's 数据问题 field, as lines starting with 【tag】.

        Rows in ``checked`` without an issue lose their 【tag】 lines. Lines of other tags
        (another job's) are kept, so two jobs never undo each other's notes; notes equal
        to what was last read are not written again, so a rerun costs nothing.
        """
        prefix = f"【{tag}】"
        mine: dict[int, list[str]] = {}
        for i in issues:
            if i.row_id is not None:
                mine.setdefault(i.row_id, []).append(prefix + str(i))
        updates = []
        for rid in dict.fromkeys([*mine, *checked]):
            if rid not in self.notes and rid not in mine:
                continue  # note unknown and nothing to say: leave the row alone
            old = self.notes.get(rid) or None
            others = [line for line in (old or "").splitlines() if line and not line.startswith(prefix)]
            note = "\n".join([*others, *dict.fromkeys(mine.get(rid, []))]) or None
            if note != old:
                updates.append({"Id": rid, "data_issue": note})
                self.notes[rid] = note
        return self.update(updates) if updates else 0

    def tagged(self, tag: str) -> list[int]:
        """Ids of rows carrying 【tag】 notes (their notes are remembered for mark_issues)."""
        note = self.title("data_issue")
        rows = self.table.all(f"({note},like,%【{tag}】%)", [note])
        self.notes.update({r["Id"]: r.get(note) for r in rows})
        return [r["Id"] for r in rows]


class Store(KeyMaps):
    """All bases of the schema, found by title (with an optional prefix for tests)."""

    def __init__(self, api: Api, prefix: str = "", specs: tuple[BaseSpec, ...] | None = None) -> None:
        self.api = api
        self.prefix = prefix
        self.specs = specs or load_schema()
        self._bases: dict[str, tuple[Base, dict[str, dict[str, Any]]]] = {}
        self._tables: dict[str, BoundTable] = {}
        KeyMaps.__init__(self)

    def _base(self, spec: BaseSpec) -> tuple[Base, dict[str, dict[str, Any]]]:
        if spec.name not in self._bases:
            base = self.api.base_by_title(base_title(spec, self.prefix))
            if base is None:
                raise SchemaError(
                    f"base {base_title(spec, self.prefix)!r} does not exist in NocoDB at {self.api.url}; "
                    "run `actops schema apply`"
                )
            tables = {short_name(t.get("table_name", "")): t for t in base.tables()}
            self._bases[spec.name] = (base, tables)
        return self._bases[spec.name]

    def bound_tables(self) -> dict[str, BoundTable]:
        """The tables this store has bound so far."""
        return dict(self._tables)

    def base_of(self, name: str) -> str:
        """The schema base table ``name`` belongs to."""
        return next(spec.name for spec in self.specs if any(t.name == name for t in spec.tables))

    def table(self, name: str) -> BoundTable:
        if name not in self._tables:
            for spec in self.specs:
                for tspec in spec.tables:
                    if tspec.name == name:
                        base, tables = self._base(spec)
                        if name not in tables:
                            raise SchemaError(f"table {tspec.zh} ({name}) is missing; run `actops schema apply`")
                        self._tables[name] = BoundTable(tspec, base.table(tables[name]["id"], tables[name]["title"]), self)
                        break
            if name not in self._tables:
                raise SchemaError(f"no table {name!r} in schema/")
        return self._tables[name]

    def write_ref_fixes(self) -> dict[str, int]:
        """Write back the key/link fixes the reads found, per table (batches of 100)."""
        return {name: n for name, t in list(self._tables.items()) if (n := t.write_ref_fixes())}

    def settings(self) -> dict[str, str]:
        return {r["key"]: str(r.get("value") or "") for r in self.table("settings").rows(fields=["key", "value"])}

