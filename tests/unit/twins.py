"""Twin companies for the cost-follows-change tests (OPS-3) of every job that reads changes.

Two identical companies on the in-memory NocoDB go through the same edits at the same times:
``changes`` runs the job as it is, ``full`` with ``since`` taken away (every run reads all).
:func:`step` runs both and asserts they end in the same rows, outbox and messages.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from actops.kernel import runner
from actops.store import Store
from tests.unit.fake_world import fake_store


class Box:
    """A channel that keeps the keys of what it was given."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, msg) -> None:
        self.sent.append(msg.key)


@dataclass
class World:
    clock: dict[str, datetime]
    api: Any
    store: Store
    job: Any
    box: Box = field(default_factory=Box)
    loaded: list[Any] = field(default_factory=list)  # the Inputs of each run that was not idle
    results: list[Any] = field(default_factory=list)
    calls: list[int] = field(default_factory=list)  # API calls of each run
    span: tuple[int, int] = (0, 0)  # the last run's requests in the fake server's log

    def run(self) -> Any:
        before, start = self.api.total_calls, len(self.api.server.log)
        r = runner.run(self.job, self.store, self.clock["now"], channels={"邮件": self.box, "企业微信": self.box})
        self.calls.append(self.api.total_calls - before)
        self.span = (start, len(self.api.server.log))
        self.results.append(r)
        return r

    def stats(self) -> dict[str, Any]:
        return self.results[-1].plan.stats

    def reads(self, table: str) -> int:
        """Reads of ``table``'s rows in the last run, besides the two one-row reads of its mark."""
        tid = self.store.table(table).table.id
        log = self.api.server.log[self.span[0]:self.span[1]]
        return sum(1 for m, p in log if m == "GET" and f"/tables/{tid}/records" in p) - 2


def worlds(job: Any, build: Callable[[Store], None], start: datetime) -> tuple[World, World]:
    """The twins, built alike, before any run (the clock is shared)."""
    clock = {"now": start}
    out = []
    for always_full in (False, True):
        api, store = fake_store(clock)
        build(store)
        w = World(clock, api, store, None)

        def load(store, ctx, w=w, always_full=always_full):
            # Each twin keeps its own local row copies (kernel.row_cache): the fakes' ids are alike.
            shared = os.environ.get("ACTOPS_CACHE_DIR")
            if shared:
                os.environ["ACTOPS_CACHE_DIR"] = os.path.join(shared, "full" if always_full else "changes")
            try:
                inp = job.load(store, replace(ctx, since=None) if always_full else ctx)
            finally:
                if shared:
                    os.environ["ACTOPS_CACHE_DIR"] = shared
            w.loaded.append(inp)
            return inp

        w.job = replace(job, load=load)
        out.append(w)
    return out[0], out[1]


def step(changes: World, full: World, minutes: int, edit: Callable[[Store], None] | None = None, *,
         tables: Iterable[str], same_messages: bool = False) -> None:
    """Move the clock, make the same edit in both companies, run both, compare the outcome:
    notes, wake times, messages (``same_messages``: equal as planned, else by key, recipient and
    subject), row writes, what the channels took, and the rows of ``tables`` and the outbox."""
    changes.clock["now"] += timedelta(minutes=minutes)
    if edit is not None:
        edit(changes.store)
        edit(full.store)
    a, b = changes.run(), full.run()
    assert a.note == b.note and a.plan.wake_at == b.plan.wake_at
    if same_messages:
        assert a.plan.messages == b.plan.messages
    assert [m.key for m in a.plan.messages] == [m.key for m in b.plan.messages]
    assert [(m.recipient, m.subject) for m in a.plan.messages] == [(m.recipient, m.subject) for m in b.plan.messages]
    assert a.plan.row_updates == b.plan.row_updates and a.plan.inserts == b.plan.inserts
    assert changes.box.sent == full.box.sent
    assert state(changes.store, tables) == state(full.store, tables)


def state(store: Store, tables: Iterable[str]) -> dict[str, Any]:
    """Every row of ``tables`` and the outbox, without the run-dependent fields."""
    out: dict[str, Any] = {}
    for t in tables:
        out[t] = {r["Id"]: {k: v for k, v in r.items() if k not in ("CreatedAt", "UpdatedAt")}
                  for r in store.table(t).rows()}
    skip = ("CreatedAt", "UpdatedAt", "run_id", "sent_run", "html", "body")
    out["outbox"] = sorted(tuple(sorted((k, str(v)) for k, v in r.items() if k not in skip and k != "Id"))
                           for r in store.table("outbox").rows())
    return out


def row(store: Store, table: str, code: str) -> dict[str, Any]:
    return next(r for r in store.table(table).rows() if r["code"] == code)
