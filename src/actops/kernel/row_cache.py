"""A job's rows kept on local disk between runs, so that the run after one edit reads the edit,
not the whole period again (OPS-3).

Some jobs cannot work from the changed rows alone. Evaluations sums every row of a quarter per
person and department: when a row moves (another owner, another due date), the sum it left must
lose it, and that needs the row as it was. NocoDB keeps no old values, so the job keeps them: the
rows it read, as of the marks taken when the run began (:class:`~.watermarks.Watermarks`). The
next run reads only what changed since those marks (:class:`~.watermarks.Since`) and patches its
copy; a table with rows deleted is read again (a delete leaves no trace to patch from).

The copy is only a shortcut, never the truth: without it (first run, another worker's machine, new
periods, other columns, older than ``full_scan_hours``, unreadable) the job reads as it would
anyway, and a copy that cannot be written is skipped with a warning. One JSON file per job and
what it depends on (NocoDB's address, the tables' ids, the columns, the periods: a hash of them
names the file), in ``ACTOPS_CACHE_DIR`` (default ``~/.cache/actops/rows``; set it empty to keep
none). Files untouched for a week are removed when a copy is written.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from actops import config
from actops.kernel.changed_rows import changed_raw, read_keyed
from actops.kernel.full_read import fingerprint
from actops.kernel.watermarks import Since, Watermarks
from actops.nocodb.where import Expr
from actops.records import Issue

VERSION = 1
STALE_FILES = timedelta(days=7)
Slim = Callable[[list[Any]], list[tuple]]  # validated records → the job's small tuples, Id first


@dataclass
class Kept:
    """One table's part of the copy: the rows as small tuples (Id first), the problems found on
    rows, the 数据问题 notes those rows held (so a rerun does not write them again), and, for rows
    looked up by key, the keys asked for."""

    rows: dict[int, tuple] = field(default_factory=dict)
    issues: dict[int, list[Issue]] = field(default_factory=dict)
    notes: dict[int, str] = field(default_factory=dict)
    asked: set[str] = field(default_factory=set)

    def drop(self, ids: Iterable[int]) -> None:
        for i in ids:
            self.rows.pop(i, None)
            self.issues.pop(i, None)
            self.notes.pop(i, None)

    def add(self, rows: Iterable[tuple], issues: Iterable[Issue], notes: Mapping[int, Any]) -> None:
        for r in rows:
            self.rows[r[0]] = r
        for i in issues:
            rid = i.row_id if i.row_id is not None else 0
            self.issues.setdefault(rid, []).append(i)
            if notes.get(rid):
                self.notes[rid] = notes[rid]

    def sorted_rows(self) -> list[tuple]:
        return [self.rows[i] for i in sorted(self.rows)]

    def problems(self) -> list[Issue]:
        return [i for rid in sorted(self.issues) for i in self.issues[rid]]


def changed_keys(bound: Any, since: Since, table: str, key: str | None = None) -> dict[int, Any] | None:
    """Id → ``key`` (as NocoDB holds it now) of the rows of ``table`` inserted or edited since the
    marks, in one read of those columns; None when rows that were there are gone."""
    if not since.changed(table):
        return {}
    rows = changed_raw(bound, since, table, [key] if key else [])
    return None if rows is None else {r["Id"]: r.get(bound.title(key)) if key else None for r in rows}


def refresh(bound: Any, kept: Kept | None, since: Since | None, window: Expr, fields: Sequence[str],
            slim: Slim) -> Kept:
    """The rows ``window`` matches now: ``kept`` patched with the rows changed since its marks,
    or (no copy, rows deleted) the window read whole, a page at a time."""
    name = bound.spec.name
    ids = None if kept is None or since is None else changed_keys(bound, since, name)
    if ids is None:
        kept, where = Kept(), window
    elif not ids:
        return kept
    else:
        kept.drop(ids)  # each changed row is back below if the window still matches it
        where = window & since.where(name)
    for recs, probs in bound.stream(bound.where(where), fields=fields):
        kept.add(slim(recs), probs, bound.notes)
    return kept


def refresh_keyed(bound: Any, kept: Kept | None, since: Since | None, key: str, wanted: set[str],
                  fields: Sequence[str], slim: Slim) -> Kept:
    """The rows whose ``key`` is in ``wanted``: a key asked for before is asked again only when a
    row that had it, or has it now, changed. A problem row stays with the copy while its table is
    unchanged (its key is unknown); a change to any problem row drops the copy."""
    name, at = bound.spec.name, 1 + list(fields).index(key)
    changed = None if kept is None or since is None else changed_keys(bound, since, name, key)
    if changed is None or changed.keys() & kept.issues.keys():  # type: ignore[union-attr]
        kept = Kept()
    else:
        for rid, now in changed.items():
            old = kept.rows.get(rid)
            kept.asked -= {str(v) for v in (now, old[at] if old else None) if v not in (None, "")}
        kept.drop(changed)
    kept.rows = {i: r for i, r in kept.rows.items() if str(r[at]) in wanted}
    kept.asked &= wanted
    missing = wanted - kept.asked
    if missing:
        recs, probs = read_keyed(bound, key, missing, fields=fields)
        kept.add(slim(recs), probs, bound.notes)
        kept.asked |= missing
    return kept


def lend_notes(bound: Any, kept: Kept) -> None:
    """Tell ``bound`` the notes the copy's problem rows held, as if this run had read them."""
    for rid, note in kept.notes.items():
        bound.notes.setdefault(rid, note)


@dataclass
class LocalCopy:
    """One job's copy at its file: read at the start of a run, written at its end.

    ``built`` is when the copy was last made from a read of everything; patching keeps it, so
    every ``max_age`` (``full_scan_hours``) the job reads everything again, copy or not."""

    path: Path | None
    marks: Watermarks  # taken as this run began
    now: datetime
    max_age: timedelta
    loaded: Watermarks | None = None
    built: datetime | None = None
    why: str = ""  # why no copy was used (for the run log), once :meth:`read` has run
    read_whole: list[str] = field(default_factory=list)  # tables read whole for the periods (by the job)

    @classmethod
    def for_job(cls, job: str, parts: list[Any], marks: Watermarks, now: datetime, max_age: timedelta) -> LocalCopy:
        where = config.get("ACTOPS_CACHE_DIR", str(Path.home() / ".cache" / "actops" / "rows"))
        path = Path(where) / f"{job}-{fingerprint([VERSION, *parts])[:24]}.json" if where else None
        return cls(path, marks, now, max_age)

    def read(self) -> tuple[Since, Any] | None:
        """What changed since the copy's marks and what the job kept; None without a usable copy
        (:attr:`why` says why)."""
        if self.path is None:
            self.why = "no local copy is kept (ACTOPS_CACHE_DIR is empty)"
            return None
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"), object_hook=_decode)
            if raw["version"] != VERSION:
                self.why = "the local copy is of another version"
                return None
            if not timedelta(0) <= self.now - raw["built"] < self.max_age:
                self.why = f"the local copy was made at {raw['built'].isoformat()}: read again (full_scan_hours)"
                return None
            marks = Watermarks.from_json(raw["marks"])
        except FileNotFoundError:
            self.why = "no local copy of these rows yet"
            return None
        except (OSError, ValueError, KeyError, TypeError) as err:
            self.why = f"the local copy cannot be read ({type(err).__name__})"
            return None
        if marks is None or _went_back(marks, self.marks):
            self.why = "the tables are older than the local copy (a restored base?)"
            return None
        self.loaded, self.built = marks, raw["built"]
        return Since(marks, self.marks, {}), raw["data"]

    def write(self, data: Any, tables: Iterable[str]) -> str | None:
        """Keep ``data`` as of this run's marks of ``tables`` (JSON, with dates and decimals),
        unless it is the copy read; a warning for the run log when it cannot be written."""
        marks = Watermarks({n: m for n, m in self.marks.marks.items() if n in set(tables)})
        if self.path is None or (self.loaded is not None and self.loaded.marks == marks.marks):
            return None
        body = {"version": VERSION, "built": self.built or self.now, "marks": marks.as_json(), "data": data}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(body, ensure_ascii=False, default=_encode), encoding="utf-8")
            os.replace(tmp, self.path)  # a run killed while writing leaves the old copy whole
            _prune(self.path.parent)
        except (OSError, TypeError, ValueError) as err:
            return f"本地行副本未能写入（{self.path}：{err}）；下次运行将重新读取"
        return None

    def open(self, make: Mapping[str, Callable[..., tuple]]) -> tuple[Since | None, dict[str, Kept]]:
        """:meth:`read` for copies of :class:`Kept` tables (``make``: each table's tuple type);
        (None, {}) without a usable copy."""
        got = self.read()
        if got is None:
            return None, {}
        try:
            return got[0], {n: _kept(t, make[n.split(":")[0]]) for n, t in got[1].items()}
        except (KeyError, TypeError, ValueError) as err:
            self.loaded, self.built = None, None
            self.why = f"the local copy cannot be read ({type(err).__name__})"
            return None, {}

    def save(self, tables: Mapping[str, Kept]) -> str | None:
        return self.write({n: {"rows": list(k.rows.values()), "issues": [_issue(i) for i in k.problems()],
                               "notes": list(k.notes.items()), "asked": sorted(k.asked)} for n, k in tables.items()},
                          {n.split(":")[0] for n in tables})


def _went_back(kept: Watermarks, now: Watermarks) -> bool:
    """Is a table older than the copy (a base restored from a dump): its rows may differ from the
    copy's without any change since the copy's marks."""
    for name, k in kept.marks.items():
        n = now.marks.get(name)
        if n is None or (n.last_id or 0) < (k.last_id or 0) or (n.newest_update or "") < (k.newest_update or ""):
            return True
    return False


def _kept(raw: Mapping[str, Any], make: Callable[..., tuple]) -> Kept:
    k = Kept(asked=set(raw["asked"]), notes={int(i): n for i, n in raw["notes"]})
    k.rows = {r[0]: make(*r) for r in raw["rows"]}
    for t, rid, f, v, why in raw["issues"]:
        k.issues.setdefault(rid if rid is not None else 0, []).append(Issue(t, rid, f, v, why))
    return k


def _issue(i: Issue) -> list[Any]:
    v = i.value if i.value is None or isinstance(i.value, str | int | float | date | Decimal) else str(i.value)
    return [i.table, i.row_id, i.field, v, i.reason]


def _encode(v: Any) -> Any:
    if isinstance(v, datetime):
        return {"$t": v.isoformat()}
    if isinstance(v, date):
        return {"$d": v.isoformat()}
    if isinstance(v, Decimal):
        return {"$n": str(v)}
    raise TypeError(f"{type(v).__name__} cannot be kept")


def _decode(d: dict[str, Any]) -> Any:
    if len(d) == 1:
        (k, v), = d.items()
        if k == "$t":
            return datetime.fromisoformat(v)
        if k == "$d":
            return date.fromisoformat(v)
        if k == "$n":
            return Decimal(v)
    return d


def _prune(folder: Path) -> None:
    old = time.time() - STALE_FILES.total_seconds()
    for f in (*folder.glob("*.json"), *folder.glob("*.tmp")):  # a run killed mid-write leaves a .tmp
        try:
            if f.stat().st_mtime < old:
                f.unlink()
        except OSError:
            pass
