from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from actops.nocodb._api import Api
    from actops.nocodb._table import Table


_PHYSICAL = re.compile(r"^nc_[a-z0-9_]{4}___(.+)$")


def short_name(table_name: str) -> str:
    """Our table name from NocoDB's physical one (``nc_xxxx___employees`` → ``employees``).

    The four random characters may themselves contain "_" (``nc_if5____calendar``), so the
    prefix is matched by its shape, not by splitting at the first "___".
    """
    m = _PHYSICAL.match(table_name)
    return m.group(1) if m else table_name


class Base:
    def __init__(self, api: Api, base_id: str) -> None:
        self.api = api
        self.id = base_id

    def tables(self) -> list[dict[str, Any]]:
        return self.api.request("GET", f"/api/v2/meta/bases/{self.id}/tables", params={"limit": 1000})["list"]

    def table(self, table_id: str, title: str | None = None) -> Table:
        from actops.nocodb._table import Table

        return Table(self.api, table_id, title=title)

    def table_by_name(self, name: str) -> Table | None:
        """Find a table by its database name (stable) or its title (staff may rename)."""
        for t in self.tables():
            # NocoDB prefixes physical names (nc_xxxx___name); titles are what staff see.
            if name in (short_name(t.get("table_name") or ""), t.get("title")):
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
