from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from actops import errors

if TYPE_CHECKING:
    from actops.nocodb._base import Base


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 0.25
    max_delay: float = 8.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(retry_after, 60.0)
        # Full jitter: concurrent flows that failed together do not retry together.
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))


def _retry_after(resp: httpx.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _detail(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:300]
    if isinstance(body, dict):
        return str(body.get("msg") or body.get("message") or body.get("error") or body)[:300]
    return str(body)[:300]


class Api:
    """Connection to one NocoDB server with an API token.

    ``transport`` is the test seam (httpx.MockTransport); ``calls`` counts requests
    by method so benchmarks and tests can assert the cost of a run.
    """

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.calls: Counter[str] = Counter()
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=self.url,
            headers={"xc-token": token, "accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    def watch(self, fn: Callable[[httpx.Request], None]) -> None:
        """Call ``fn`` with every request as it is sent, retries included (a benchmark records
        the very pages a run read, to replay them raw)."""
        self._http.event_hooks["request"].append(fn)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        retry: bool | None = None,
        table: str | None = None,
    ) -> Any:
        """Send one request; retry transient failures unless ``retry`` is False.

        Inserts pass ``retry=False``: NocoDB on SQLite can commit a bulk insert and
        still answer an error, so a blind retry would duplicate rows.
        """
        method = method.upper()
        if retry is None:
            retry = True
        attempts = self.retry.attempts if retry else 1
        last: errors.TransientError | None = None
        for attempt in range(attempts):
            if attempt:
                self._sleep(self.retry.delay(attempt, getattr(last, "retry_after", None)))
            self.calls[method] += 1
            try:
                resp = self._http.request(method, path, params=params, json=json)
            except httpx.TransportError as exc:
                last = errors.ConnectError(
                    f"NocoDB at {self.url} is unreachable ({type(exc).__name__}); "
                    "is it running? try `actops status`",
                    table=table,
                )
                continue
            if resp.status_code < 400:
                if not resp.content:
                    return None
                return resp.json()
            err = self._error(resp, table)
            if isinstance(err, errors.TransientError):
                last = err
                continue
            raise err
        assert last is not None
        raise last

    def _error(self, resp: httpx.Response, table: str | None) -> errors.NocoDBError:
        status = resp.status_code
        detail = _detail(resp)
        where = f"{resp.request.method} {resp.request.url.path}"
        if status in (401, 403):
            return errors.AuthError(
                f"NocoDB refused the API token ({status}); check NOCODB_TOKEN in .env "
                "or create a token in NocoDB → Team & Settings → API Tokens",
                status=status, table=table, detail=detail,
            )
        if status == 404:
            return errors.NotFoundError(f"not found: {where}", status=status, table=table, detail=detail)
        if status == 429:
            return errors.RateLimited(
                f"rate limited: {where}", status=status, table=table, detail=detail,
                retry_after=_retry_after(resp),
            )
        if status >= 500:
            return errors.ServerError(f"NocoDB failed ({status}): {where}", status=status, table=table, detail=detail)
        return errors.RequestError(f"NocoDB refused {where} ({status})", status=status, table=table, detail=detail)

    def upload(self, filename: str, data: bytes, mimetype: str, folder: str = "actops") -> list[dict[str, Any]]:
        """Store a file in NocoDB (``POST /api/v2/storage/upload``); returns the attachment
        objects to write into an Attachment field. Not retried: a retry could store it twice."""
        self.calls["POST"] += 1
        try:
            resp = self._http.post("/api/v2/storage/upload", params={"path": folder},
                                   files={"files": (filename, data, mimetype)})
        except httpx.TransportError as exc:
            raise errors.ConnectError(f"NocoDB at {self.url} is unreachable ({type(exc).__name__}) while uploading "
                                      f"{filename}") from None
        if resp.status_code >= 400:
            raise self._error(resp, None)
        return resp.json()

    # --- meta -----------------------------------------------------------------------
    def bases(self) -> list[dict[str, Any]]:
        return self.request("GET", "/api/v2/meta/bases", params={"limit": 1000})["list"]

    def base(self, base_id: str) -> Base:
        from actops.nocodb._base import Base

        return Base(self, base_id)

    def base_by_title(self, title: str) -> Base | None:
        for b in self.bases():
            if b["title"] == title:
                return self.base(b["id"])
        return None

    def create_base(self, title: str, description: str = "") -> Base:
        # Not retried: a 5xx after the commit would leave two bases with one title.
        body = self.request("POST", "/api/v2/meta/bases", json={"title": title, "description": description},
                            retry=False)
        return self.base(body["id"])

    def health(self) -> bool:
        try:
            self._http.get("/api/v1/health", timeout=5)
            return True
        except httpx.TransportError:
            return False
