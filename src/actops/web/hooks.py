"""``POST /hooks/<rule>`` in `actops serve`: a NocoDB webhook wakes the rule's job (SEC-2).

The request must carry the shared secret (``X-Actops-Webhook-Secret``, compared in constant
time); anything else gets 401 and one log line that never holds the secret. The secret is
checked before the rule name, so nobody without it learns which rules exist; a known secret
with an unknown rule gets 404. The answer is 202 at once: the job never runs inside the
request. A :class:`Waker` per job runs it in the background and coalesces — hooks that arrive
while a run is under way cause exactly one more run after it, so a burst of N hooks costs at
most two runs. Every run takes the job's lease (:mod:`actops.kernel.lease`), so a webhook run
and a scheduled run never both act; when the scheduled run holds the lease, the waker tries
again a few times (the edit may have come after that run read its tables).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from actops.automations.hooks import HEADER
from actops.automations.rules import Rule

log = logging.getLogger("actops.web.hooks")

MAX_BODY = 8 * 1024 * 1024  # a bulk edit of 100 wide rows is well under 1 MB
BUSY_DELAY = 10.0  # seconds before trying again when another run holds the job's lease
BUSY_TRIES = 6
SAFE_NAME = re.compile(r"^[a-z0-9-]{1,48}$")


def secret_matches(given: str | None, secret: str | None) -> bool:
    """Constant-time comparison (of digests, so not even the length leaks)."""
    if not given or not secret:
        return False
    return hmac.compare_digest(hashlib.sha256(given.encode("utf-8", "surrogateescape")).digest(),
                               hashlib.sha256(secret.encode()).digest())


class Waker:
    """Runs ``run()`` in a background thread when woken; wakes during a run make exactly one
    more run afterwards. ``run`` returns True when the job yielded to another run's lease:
    the waker then tries again after ``busy_delay`` seconds, at most ``busy_tries`` times."""

    def __init__(self, name: str, run: Callable[[], bool | None], *, busy_delay: float = BUSY_DELAY,
                 busy_tries: int = BUSY_TRIES) -> None:
        self.name, self._run = name, run
        self.busy_delay, self.busy_tries = busy_delay, busy_tries
        self._cond = threading.Condition()
        self._pending = self._running = self._closed = False
        self._thread: threading.Thread | None = None
        self.runs = 0  # runs started, for tests and the log

    def wake(self) -> str:
        """Ask for a run now; returns "started", "queued" (after the current run) or
        "already queued"."""
        with self._cond:
            if self._closed:
                return "closed"
            said = "already queued" if self._pending else ("queued" if self._running else "started")
            self._pending = True
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=f"waker-{self.name}", daemon=True)
                self._thread.start()
            self._cond.notify_all()
            return said

    def _loop(self) -> None:
        busy = 0
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                self._pending, self._running = False, True
                self.runs += 1
            yielded = False
            try:
                yielded = bool(self._run())
            except Exception:  # noqa: BLE001 - a failed run is logged; the next wake or poll retries
                log.exception("webhook run of %s failed", self.name)
            with self._cond:
                self._running = False
                self._cond.notify_all()
                if yielded and busy < self.busy_tries and not self._pending:
                    busy += 1
                    self._cond.wait_for(lambda: self._closed or self._pending, timeout=self.busy_delay)
                    self._pending = True
                elif not yielded:
                    busy = 0

    def idle(self, timeout: float | None = None) -> bool:
        """Wait until no run is under way or queued (tests, shutdown); False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._running and not self._pending, timeout=timeout)

    def close(self, timeout: float = 30.0) -> None:
        """No new runs; wait up to ``timeout`` for the one under way (a kill is safe too: the
        runner repairs a dead run on the next one)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)


class HookEndpoint:
    """The rules ``actops serve`` answers for, one :class:`Waker` per woken job."""

    def __init__(self, rules: Iterable[Rule], secret: str | None, run_job: Callable[[str], bool | None],
                 *, jobs: Iterable[str], **waker_options: Any) -> None:
        known = set(jobs)
        self.rules = {r.name: r for r in rules}
        self.secret = secret
        self.unrunnable = {r.name: r.wake for r in self.rules.values() if r.wake not in known}
        self.wakers = {job: Waker(job, (lambda j=job: run_job(j)), **waker_options)
                       for job in sorted({r.wake for r in self.rules.values() if r.wake in known})}

    def routes(self) -> list[Route]:
        return [Route("/hooks/{rule}", self.receive, methods=["POST"])]

    async def receive(self, request: Request) -> JSONResponse:
        name = request.path_params["rule"]
        shown = name if SAFE_NAME.match(name) else "<invalid name>"
        client = request.client.host if request.client else "?"
        given = request.headers.get(HEADER)
        if not secret_matches(given, self.secret):
            why = ("webhooks are off: ACTOPS_WEBHOOK_SECRET is not set" if not self.secret
                   else f"{'missing' if given is None else 'wrong'} {HEADER} header")
            log.warning("refused POST /hooks/%s from %s: %s", shown, client, why)
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        rule = self.rules.get(name)
        if rule is None or rule.name in self.unrunnable:
            why = "no such rule" if rule is None else f"its job {rule.wake!r} is not in the registry"
            log.warning("POST /hooks/%s from %s: %s", shown, client, why)
            return JSONResponse({"error": why}, status_code=404)
        body = await _body(request)
        if body is None:
            log.warning("POST /hooks/%s: body over %d bytes refused", name, MAX_BODY)
            return JSONResponse({"error": "body too large"}, status_code=413)
        event = _json(body)
        what = _describe(event)
        if not rule.wants(event):
            log.info("hook %s (%s): condition %s not met, %s not woken", name, what, rule.condition, rule.wake)
            return JSONResponse({"rule": name, "job": rule.wake, "woken": False}, status_code=202)
        said = self.wakers[rule.wake].wake()
        log.info("hook %s (%s): %s %s", name, what, rule.wake, said)
        return JSONResponse({"rule": name, "job": rule.wake, "woken": said}, status_code=202)

    def close(self, timeout: float = 30.0) -> None:
        for waker in self.wakers.values():
            waker.close(timeout)


async def _body(request: Request) -> bytes | None:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _json(body: bytes) -> Mapping[str, Any] | None:
    try:
        value = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, Mapping) else None


def _describe(event: Mapping[str, Any] | None) -> str:
    """What the log says about an event: type and row Ids, never field values."""
    if event is None:
        return "no JSON body"
    data = event.get("data") if isinstance(event.get("data"), Mapping) else {}
    rows = data.get("rows") if isinstance(data.get("rows"), list) else []
    ids = [r.get("Id") for r in rows if isinstance(r, Mapping)][:10]
    more = f" +{len(rows) - 10}" if len(rows) > 10 else ""
    return f"{event.get('type', '?')} rows {ids}{more}"


def hooks_from_env(prefix: str | None, clock: Callable[[], datetime]) -> HookEndpoint:
    """The endpoint for `actops serve`: rules from automations/, the secret from the
    environment, each job run here with the wall clock (not ``--now``)."""
    from actops.automations.hooks import secret_from_env
    from actops.automations.rules import load_rules
    from actops.kernel.runlog import SKIPPED
    from actops.registry import JOBS, job
    from actops.service import run_job, store_from_env

    def run(job: str) -> bool:
        store = store_from_env(prefix)
        try:
            result = run_job(job, clock(), store=store, log=lambda s: log.info("%s: %s", job, s))
        finally:
            store.api.close()
        log.info("webhook run of %s: %s%s, %s", job, result.status,
                 f" ({result.note})" if result.note else "", result.run_id)
        return result.status == SKIPPED  # it yielded to a run holding the lease

    endpoint = HookEndpoint(load_rules(), secret_from_env(), run, jobs=[j.name for j in JOBS])
    for name in endpoint.wakers:  # imported now, so the first hook does not wait for it
        job(name).load()
    return endpoint
