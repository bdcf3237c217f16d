from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from actops.nocodb._api import Api
    from actops.nocodb._table import Table


def short_name(table_name: str) -> str:
    """Our table name from NocoDB's physical one (``nc_xxxx___employees`` → ``employees``)."""
    return table_name.split("___", 1)[1] if "___" in table_name else table_name


class Base:
    def __init__(self, api: Api, base_id: str) -> None:
        self.api = api
        self.id = base_id

    def tables(self, expect: set[str] | None = None, settle: int = 4) -> list[dict[str, Any]]:
        """List tables. With ``expect`` (short table names), re-list a few times while some
        are missing: right after a burst of creates NocoDB has been seen (rarely) to list a
        base without its newest tables, and a wrong "missing" would create a duplicate."""
        for attempt in range(settle + 1):
            found = self.api.request("GET", f"/api/v2/meta/bases/{self.id}/tables", params={"limit": 1000})["list"]
            if not expect or expect <= {short_name(t.get("table_name", "")) for t in found}:
                return found
            if attempt < settle:
                self.api._sleep(0.5 * (attempt + 1))
        return found

    def table(self, table_id: str, title: str | None = None) -> Table:
        from actops.nocodb._table import Table

        return Table(self.api, table_id, title=title)

    def table_by_name(self, name: str) -> Table | None:
        """Find a table by its database name (stable) or its title (staff may rename)."""
        for t in self.tables():
            # NocoDB prefixes physical names (nc_xxxx___name); titles are what staff see.
            tn = t.get("table_name") or ""
            if name in (tn, t.get("title")) or tn.endswith(f"___{name}"):
                return self.table(t["id"], t["title"])
        return None

    def create_table(self, table_name: str, title: str, columns: list[dict[str, Any]], description: str = "") -> Table:
        body = self.api.request(
            "POST",
            f"/api/v2/meta/bases/{self.id}/tables",
            json={"table_name": table_name, "title": title, "columns": columns, "description": description},
            retry=False,
        )
        return self.table(body["id"], body.get("title", title))
