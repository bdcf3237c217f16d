"""An in-memory NocoDB behind the real client, for unit tests (after pyairtable's testing.py).

``FakeApi`` *is* an ``actops.nocodb.Api``: its ``request()`` — retries, error classes, call
counting — is the real one, and only the HTTP transport is replaced by ``FakeNocoDB``, so
``Store``, ``BoundTable``, ``schema.sync.apply`` and raw ``api.request(...)`` calls all work::

    api = FakeApi(now=lambda: datetime(2026, 10, 9, 8, tzinfo=UTC))
    apply(api, load_schema(), prefix="t-", log=lambda s: None)
    store = Store(api, "t-")
    store.table("employees").create([...])          # 250 rows → api.calls["POST"] == 3
    api.fail_next("PATCH", "/records", status=503)   # the next matching call answers 503

Test code only: nothing at runtime imports this package.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from actops.nocodb._api import Api, RetryPolicy
from actops.nocodb.fake._eval import Refused
from actops.nocodb.fake._meta import FakeTable, MetaRoutes
from actops.nocodb.fake._records import RecordRoutes

__all__ = ["Fault", "FakeApi", "FakeNocoDB", "FakeTable"]


@dataclass
class Fault:
    """Answer the matching request with ``status`` (or raise ``exc``) instead of serving it.

    ``after`` matching requests are served first; ``times`` requests fail; with ``commit``
    the request is carried out before the failure is answered (NocoDB on SQLite can commit a
    bulk insert and still answer an error).
    """

    method: str
    path_contains: str
    status: int = 500
    exc: BaseException | None = None
    body: Any = None
    commit: bool = False
    after: int = 0
    times: int = 1
    hits: int = 0

    def matches(self, request: httpx.Request) -> bool:
        return self.method in ("*", request.method) and self.path_contains in request.url.path


class FakeNocoDB(MetaRoutes, RecordRoutes):
    """The server state; ``handle`` is an ``httpx.MockTransport`` handler."""

    def __init__(self, now: Callable[[], datetime] | None = None, seed: int = 0) -> None:
        self.now = now or (lambda: datetime.now(UTC))
        self._init_meta(seed)
        self.faults: list[Fault] = []
        self.log: list[tuple[str, str]] = []  # (method, path) of every request served or failed
        self.files: dict[str, bytes] = {}  # uploaded, by file name
        self._routes = [(m, re.compile(p), f) for m, p, f in (*self.meta_routes(), *self.record_routes())]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.log.append((request.method, request.url.path))
        fault = next((f for f in self.faults if f.matches(request)), None)
        if fault is not None and fault.after:
            fault.after -= 1
            fault = None
        if fault is None:
            return self._serve(request)
        fault.hits += 1
        if fault.hits >= fault.times:
            self.faults.remove(fault)
        if fault.commit:
            self._serve(request)
        if fault.exc is not None:
            raise fault.exc
        return httpx.Response(fault.status, json=fault.body or {"msg": f"fake failure ({fault.status})"})

    def _serve(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "GET" and path == "/api/v1/health":
            return httpx.Response(200, json={"message": "OK"})
        if request.method == "POST" and path == "/api/v2/storage/upload":  # multipart: one file kept as sent
            name = re.search(rb'filename="([^"]*)"', request.content)
            title = name.group(1).decode() if name else "file"
            self.files[title] = request.content
            return httpx.Response(200, json=[{"path": f"download/{title}", "title": title, "size": len(request.content),
                                              "mimetype": "application/octet-stream"}])
        body = json.loads(request.content) if request.content else None
        for method, pattern, fn in self._routes:
            m = pattern.fullmatch(path)
            if m and method == request.method:
                try:
                    return httpx.Response(200, json=fn(m, dict(request.url.params), body))
                except Refused as exc:
                    return httpx.Response(exc.status, json=exc.body)
        return httpx.Response(404, json={"msg": f"the fake NocoDB has no route for {request.method} {path}"})

    # --- for tests to look inside ---
    def table_named(self, name: str, base_title: str | None = None) -> FakeTable:
        """A table by our name (``employees``) or title, optionally within one base."""
        for t in self.tables.values():
            if name in (t.table_name.split("___", 1)[-1], t.title) and (
                    base_title is None or self.bases[t.base_id]["title"] == base_title):
                return t
        raise KeyError(name)

    def records(self, table: FakeTable) -> list[dict[str, Any]]:
        """Every row as the API shows it (titles), in Id order."""
        return [self._present(table, r) for _, r in sorted(table.rows.items())]


class FakeApi(Api):
    """``actops.nocodb.Api`` over a ``FakeNocoDB``; ``sleeps`` records retry back-offs."""

    def __init__(self, *, now: Callable[[], datetime] | None = None, retry: RetryPolicy | None = None,
                 server: FakeNocoDB | None = None, seed: int = 0) -> None:
        self.server = server or FakeNocoDB(now=now, seed=seed)
        self.sleeps: list[float] = []
        super().__init__("http://nocodb.fake", "fake-token", retry=retry or RetryPolicy(),
                         transport=httpx.MockTransport(self.server.handle), sleep=self.sleeps.append)

    def fail_next(self, method: str = "*", path_contains: str = "", *, status: int = 500,
                  exc: BaseException | None = None, body: Any = None, commit: bool = False,
                  after: int = 0, times: int = 1) -> Fault:
        """Make the next (or the ``after``+1-th) request whose method and path match fail."""
        fault = Fault(method.upper(), path_contains, status, exc, body, commit, after, times)
        self.server.faults.append(fault)
        return fault
