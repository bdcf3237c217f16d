from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from actops import errors

if TYPE_CHECKING:
    from actops.nocodb._api import Api

MAX_PAGE = 1000  # NocoDB clamps larger limits silently
MAX_BATCH = 100  # bulk writes above this answer 422 with an API token


def where_and(*parts: str | None) -> str | None:
    """Join NocoDB where-clauses with ~and, each parenthesised so ~or inside stays local."""
    kept = [p for p in parts if p]
    if not kept:
        return None
    if len(kept) == 1:
        return kept[0]
    return "~and".join(f"({p})" if "~" in p else p for p in kept)


def chunks(rows: Sequence[Any], size: int = MAX_BATCH) -> Iterator[Sequence[Any]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


@dataclass
class UpsertResult:
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changes(self) -> int:
        return len(self.created) + len(self.updated)


class Table:
    """One NocoDB table. Rows are plain dicts keyed by field *title*, as the API speaks."""

    def __init__(self, api: Api, table_id: str, title: str | None = None) -> None:
        self.api = api
        self.id = table_id
        self.title = title or table_id
        self._meta: dict[str, Any] | None = None

    def __repr__(self) -> str:
        return f"Table({self.title!r}, id={self.id!r})"

    # --- meta -----------------------------------------------------------------------
    @property
    def cached_meta(self) -> dict[str, Any] | None:
        """The meta if it was read already (no call)."""
        return self._meta

    def meta(self, refresh: bool = False) -> dict[str, Any]:
        if self._meta is None or refresh:
            self._meta = self.api.request("GET", f"/api/v2/meta/tables/{self.id}", table=self.title)
            self.title = self._meta.get("title", self.title)
        return self._meta

    def columns(self, refresh: bool = False) -> list[dict[str, Any]]:
        return self.meta(refresh)["columns"]

    def column(self, name: str) -> dict[str, Any]:
        for col in self.columns():
            if name in (col.get("column_name"), col.get("title"), col.get("id")):
                return col
        raise errors.NotFoundError(f"no field {name!r}; run `actops schema apply`", table=self.title, field=name)

    def titles_by_column_name(self) -> dict[str, str]:
        return {c["column_name"]: c["title"] for c in self.columns() if c.get("column_name")}

    # --- reads ----------------------------------------------------------------------
    def pages(
        self,
        where: str | None = None,
        fields: Sequence[str] | None = None,
        page_size: int = MAX_PAGE,
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield pages in Id order using keyset paging (stable under concurrent inserts).

        A page shorter than ``page_size`` ends the scan, so N rows cost ceil(N/page) calls
        (plus one empty page only when N is an exact multiple).
        """
        page_size = min(page_size, MAX_PAGE)
        if fields is not None and "Id" not in fields:
            fields = ["Id", *fields]
        last = 0
        while True:
            params: dict[str, Any] = {
                "limit": page_size,
                "sort": "Id",
                "where": where_and(f"(Id,gt,{last})", where),
            }
            if fields is not None:
                params["fields"] = ",".join(fields)
            body = self.api.request("GET", f"/api/v2/tables/{self.id}/records", params=params, table=self.title)
            rows = body.get("list", [])
            if rows:
                yield rows
                last = rows[-1]["Id"]
            if len(rows) < page_size or body.get("pageInfo", {}).get("isLastPage"):
                return

    def iterate(self, where: str | None = None, fields: Sequence[str] | None = None) -> Iterator[dict[str, Any]]:
        for page in self.pages(where, fields):
            yield from page

    def all(self, where: str | None = None, fields: Sequence[str] | None = None) -> list[dict[str, Any]]:
        return [row for page in self.pages(where, fields) for row in page]

    def first(self, sort: str, fields: Sequence[str], where: str | None = None) -> dict[str, Any] | None:
        """The first row in ``sort`` order (``-Field`` descending), or None; one call."""
        params: dict[str, Any] = {"limit": 1, "sort": sort, "fields": ",".join(fields)}
        if where:
            params["where"] = where
        rows = self.api.request("GET", f"/api/v2/tables/{self.id}/records", params=params, table=self.title)["list"]
        return rows[0] if rows else None

    def get(self, record_id: int) -> dict[str, Any]:
        return self.api.request("GET", f"/api/v2/tables/{self.id}/records/{record_id}", table=self.title)

    def count(self, where: str | None = None) -> int:
        params = {"where": where} if where else None
        return int(self.api.request("GET", f"/api/v2/tables/{self.id}/records/count", params=params, table=self.title)["count"])

    # --- writes ---------------------------------------------------------------------
    def create(self, rows: Sequence[dict[str, Any]], *, key: str | None = None) -> list[int]:
        """Insert in batches of 100. Never retried blindly.

        With ``key`` (a field title holding a natural key) a failed batch is re-checked:
        rows that did commit are kept, only the missing ones are sent again.
        """
        ids: list[int] = []
        for chunk in chunks(list(rows)):
            ids.extend(self._create_chunk(chunk, key))
        return ids

    def _create_chunk(self, chunk: Sequence[dict[str, Any]], key: str | None) -> list[int]:
        pending = list(chunk)
        found: dict[Any, int] = {}
        for _attempt in range(self.api.retry.attempts):
            try:
                body = self.api.request(
                    "POST", f"/api/v2/tables/{self.id}/records", json=pending, retry=False, table=self.title
                )
                new_ids = [r["Id"] for r in body]
                if key is None:
                    return new_ids
                found.update({row[key]: i for row, i in zip(pending, new_ids, strict=True)})
                return [found[row[key]] for row in chunk]
            except errors.NocoDBError as exc:
                if not exc.retryable and len(pending) == len(chunk) and exc.status and exc.status < 500:
                    # A 4xx on a batch of <=100 is a definite refusal (bad option, payload…);
                    # the commit-then-400 case in STACK.md needs >=1000 rows, which we never send.
                    raise
                if key is None:
                    raise errors.InsertUncertainError(
                        f"insert of {len(pending)} rows failed and may have partly committed; "
                        "not retried (no natural key given)",
                        table=self.title, detail=str(exc),
                    ) from exc
                existing = self.ids_by_key(key)
                found.update({row[key]: existing[row[key]] for row in pending if row[key] in existing})
                pending = [row for row in pending if row[key] not in existing]
                if not pending:
                    return [found[row[key]] for row in chunk]
                self.api._sleep(self.api.retry.delay(_attempt + 1))
        raise errors.InsertUncertainError(
            f"{len(pending)} rows still missing after retries", table=self.title,
            row=", ".join(str(r[key]) for r in pending[:5]) if key else None,
        )

    def update(self, rows: Sequence[dict[str, Any]]) -> int:
        """Patch rows (each with ``Id``) in batches of 100; safe to retry."""
        n = 0
        for chunk in chunks(list(rows)):
            self.api.request("PATCH", f"/api/v2/tables/{self.id}/records", json=list(chunk), table=self.title)
            n += len(chunk)
        return n

    def delete(self, ids: Iterable[int]) -> int:
        id_list = [{"Id": i} for i in ids]
        for chunk in chunks(id_list):
            self.api.request("DELETE", f"/api/v2/tables/{self.id}/records", json=list(chunk), table=self.title)
        return len(id_list)

    def ids_by_key(self, key: str, where: str | None = None) -> dict[Any, int]:
        return {row.get(key): row["Id"] for row in self.iterate(where, fields=[key]) if row.get(key) is not None}

    def upsert(
        self, rows: Sequence[dict[str, Any]], key: str, *, where: str | None = None
    ) -> UpsertResult:
        """Create or update by natural key; rows whose values already match cost nothing."""
        wanted_fields = sorted({f for row in rows for f in row} | {key})
        existing = {row.get(key): row for row in self.iterate(where, fields=wanted_fields)}
        to_create: list[dict[str, Any]] = []
        to_update: list[dict[str, Any]] = []
        result = UpsertResult()
        for row in rows:
            old = existing.get(row[key])
            if old is None:
                to_create.append(row)
            elif any(not _same(old.get(f), v) for f, v in row.items()):
                to_update.append({**row, "Id": old["Id"]})
            else:
                result.unchanged += 1
        result.created = self.create(to_create, key=key)
        self.update(to_update)
        result.updated = [r["Id"] for r in to_update]
        return result

    def link(self, link_field: str, record_id: int, child_ids: Sequence[int]) -> None:
        col = self.column(link_field)
        for chunk in chunks([{"Id": i} for i in child_ids]):
            self.api.request(
                "POST", f"/api/v2/tables/{self.id}/links/{col['id']}/records/{record_id}",
                json=list(chunk), table=self.title,
            )


def _same(old: Any, new: Any) -> bool:
    if old == new:
        return True
    if old in (None, "") and new in (None, ""):
        return True
    if isinstance(new, bool) or isinstance(old, bool):
        return bool(old) == bool(new)
    if isinstance(new, (int, float)) and isinstance(old, (int, float, str)):
        try:
            return float(old) == float(new)
        except ValueError:
            return False
    if isinstance(new, str) and isinstance(old, str):
        # NocoDB returns datetimes as "2026-01-02 03:04:05+00:00"; compare loosely on prefix.
        return old.replace("T", " ").startswith(new.replace("T", " ").rstrip("Z"))
    return False
