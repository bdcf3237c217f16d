"""The run skeleton every job shares: run log, lease, change marks and idle skip, issues
on rows, outbox and sending, dry run.

A job supplies four things (:class:`Job`): the tables whose changes wake it, ``load``
(I/O: rows → typed inputs), ``plan`` (pure: inputs → :class:`Plan`), and two predicates the
sender asks (is this item still open, can this person still be reached). A job that changes
something besides table rows (NocoDB's members, for ``access``) also has ``apply_extra``,
which makes the calls in ``Plan.extra``. The runner does the rest, in this order, so that a
kill at any moment is repaired by the next run:

1. insert the 运行中 row and take the lease (:mod:`~actops.kernel.lease`); a second run stops;
2. skip when no watched table changed, no item falls due and no message waits;
3. load and plan; items covered by messages that a dead run enqueued count as notified (for
   jobs that ask: ``uses_enqueued``). The
   job is told what changed since the previous finished run (``RunContext.since``, a
   :class:`~actops.kernel.watermarks.Since`; None on a first run or a run with options) and
   may read only that (OPS-3); a job that ignores it reads everything every time;
4. confirm the lease, ``apply_extra`` (if the job has one), enqueue messages, insert new
   rows (those whose key is new), write row updates, put issues on their rows;
5. send due messages one by one, each marked sent as its channel accepts it;
6. finish the run-log row with stats, marks and the next wake-up time.

Which jobs read only what changed (OPS-3; the run log's stats say ``read`` and why):
``escalations`` (the 50,000-item case: changed rows, rows falling due, everything every
``full_scan_hours``), ``approvals`` (the requests that changed requests, steps, decisions and
activities name, with their steps and decisions: nothing there falls due with time alone;
everything after a delete, when routes, settings or org change, and every ``full_scan_hours``),
``watch`` (the lines and expenses of the activities, and the risks, that changed rows name),
``intake`` (documents created or edited since the previous run) and ``evaluations`` (the
operations rows of the scored periods from a local copy patched with the rows changed since its
marks, :mod:`~actops.kernel.row_cache`; the cycles' own rows, one per employee, each run). The
others read their period or their small working set on every run that is not idle:
``summaries`` (monthly), ``audit`` (per cycle) and ``access`` (employees against the bases'
members).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from actops.kernel.calendar import TZ, to_local
from actops.kernel.lease import Lease, LeaseLost
from actops.kernel.runlog import FAILED, FINISHED, SKIPPED, RunLog, new_run_id
from actops.kernel.watermarks import Since, Watermarks, take
from actops.messaging.outbox import (
    PENDING,
    Message,
    SendReport,
    covered_by_runs,
    enqueue,
    send_pending,
)
from actops.nocodb import F
from actops.records import Issue

NEVER = "never"
STATE = "state"  # the run log stats key of ``Plan.state``
MAX_EXTRA_LISTED = 500


@dataclass
class RunContext:
    run_id: str
    now: datetime
    dry_run: bool = False
    already_enqueued: frozenset[str] = frozenset()  # item keys a dead run put in the outbox
    params: Mapping[str, Any] = field(default_factory=dict)  # the job's own options (registry JobOption)
    # What changed since the previous finished run (OPS-3); None: first run, dry run or options
    # given, so the job reads everything.
    since: Since | None = None
    # The marks taken as this run began (None on a dry run): what a job's local copy of rows
    # (:mod:`~actops.kernel.row_cache`) is valid at.
    marks: Watermarks | None = None


@dataclass
class Plan:
    """What a job wants done. Pure data: the runner applies it."""

    issues: list[Issue] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    row_updates: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    # New rows per table, each with its natural key: a row whose key exists is not inserted
    # again (a run killed between two batches leaves the rest to the next run).
    inserts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    messages: list[Message] = field(default_factory=list)
    checked: dict[str, list[int]] = field(default_factory=dict)  # rows whose notes are refreshed
    wake_at: datetime | None = None  # the next moment something falls due without any edit
    stats: dict[str, Any] = field(default_factory=dict)
    extra: list[Any] = field(default_factory=list)  # changes outside table rows, for ``apply_extra``
    report: str | None = None  # markdown for people (a Prefect artifact when run as a flow)
    # What the job keeps for its next run (``ctx.since.previous_state``), e.g. when it last read
    # everything; kept in the run log's stats and carried over by runs skipped as idle.
    state: dict[str, Any] = field(default_factory=dict)

    def update(self, table: str, row_id: int, **values: Any) -> None:
        self.row_updates.setdefault(table, {}).setdefault(row_id, {}).update(values)

    def insert(self, table: str, row: dict[str, Any]) -> None:
        self.inserts.setdefault(table, []).append(row)


class Job(Protocol):
    name: str
    note_tag: str  # 【tag】 lines this job owns in 数据问题
    watched: tuple[str, ...]

    def load(self, store: Any, ctx: RunContext) -> Any: ...

    def plan(self, inputs: Any, ctx: RunContext) -> Plan: ...

    def still_open(self, inputs: Any) -> Callable[[str, int], bool]: ...

    def undeliverable(self, inputs: Any) -> Callable[[dict[str, Any]], str | None]: ...

    # Optional: ``apply_extra(store, inputs, plan) -> {what: count}`` makes the calls in
    # ``plan.extra`` before anything is enqueued or written; it may add warnings and drop the
    # messages of what failed. The counts go into the run log's 写入记录.


def _always_open(inputs: Any) -> Callable[[str, int], bool]:
    return lambda table, row_id: True


def _always_deliverable(inputs: Any) -> Callable[[dict[str, Any]], str | None]:
    return lambda row: None


def _never_held(inputs: Any) -> Callable[[dict[str, Any]], str | None]:
    return lambda row: None


@dataclass(frozen=True)
class FunctionJob:
    """A :class:`Job` made of a job module's functions: each job states only what differs.

    ``still_open(inputs)``, ``undeliverable(inputs)`` and ``hold(inputs)`` return the predicates
    the sender asks about each outbox row; by default every item stays open, every recipient
    is reachable and nothing is held. ``apply_extra`` is for changes outside table rows.
    """

    name: str
    note_tag: str
    watched: tuple[str, ...]
    load: Callable[[Any, RunContext], Any]
    plan: Callable[[Any, RunContext], Plan]
    still_open: Callable[[Any], Callable[[str, int], bool]] = _always_open
    undeliverable: Callable[[Any], Callable[[dict[str, Any]], str | None]] = _always_deliverable
    hold: Callable[[Any], Callable[[dict[str, Any]], str | None]] = _never_held
    apply_extra: Callable[[Any, Any, Plan], dict[str, int]] | None = None
    # Whether ``plan`` reads ``RunContext.already_enqueued``. A job whose messages' keys name
    # their items, so that a message a dead run enqueued is not enqueued again (approvals),
    # says False: the runner then reads neither the failed runs nor their outbox rows.
    uses_enqueued: bool = True


@dataclass
class Result:
    job: str
    run_id: str
    status: str
    plan: Plan
    enqueued: int = 0
    sent: SendReport = field(default_factory=SendReport)
    note: str = ""  # why a run did little: idle, lease held by another run


def run(job: Job, store: Any, now: datetime, *, dry_run: bool = False,
        channels: Mapping[str, Any] | None = None, log: Callable[[str], None] = lambda s: None,
        params: Mapping[str, Any] | None = None) -> Result:
    now = to_local(now)
    run_id = new_run_id(job.name, now)
    if dry_run:  # nothing is written, nothing sent, no lease needed
        ctx = RunContext(run_id, now, dry_run=True, params=dict(params or {}))
        return Result(job.name, run_id, "dry-run", job.plan(job.load(store, ctx), ctx))
    runlog = RunLog(store, job.name, run_id, now)
    runlog.start()
    lease = Lease(runlog)
    try:
        if not lease.held():
            return _yield_to_holder(job, runlog, log)
        previous = _last_finished(store, job.name)
        started = datetime.now(TZ)
        marks = take(store, job.watched, started)
        if previous is not None and not params and _idle(previous, marks, now, store, job.name):
            runlog.stats = {"skipped": "nothing changed and nothing falls due", "marks": marks.as_json(),
                            "wake_at": previous["stats"]["wake_at"], "started_at": started.isoformat(),
                            "api_calls": store.api.total_calls}
            if isinstance(previous["stats"].get(STATE), dict):  # the next run reads it from here
                runlog.stats[STATE] = previous["stats"][STATE]
            log(f"nothing changed since the last run and nothing falls due before {previous['stats']['wake_at']}")
            return Result(job.name, run_id, runlog.finish(_clock()), Plan(), note="idle")
        lease.start_heartbeat()
        covered: frozenset[str] = frozenset()
        dead = sorted(set(lease.marked_dead))
        if getattr(job, "uses_enqueued", True):  # two reads a job that never asks need not pay
            dead = _dead_runs(store, job.name, lease.marked_dead)
            covered = frozenset(covered_by_runs(store.table("outbox"), dead))
        ctx = RunContext(run_id, now, already_enqueued=covered, params=dict(params or {}),
                         since=_since(previous, marks) if not params else None, marks=marks)
        inputs = job.load(store, ctx)
        plan = job.plan(inputs, ctx)
        runlog.issues, runlog.warnings = plan.issues, plan.warnings
        if not lease.held():  # asked again: every run that raced ours has committed its row by now
            return _yield_to_holder(job, runlog, log)
        result = Result(job.name, run_id, "ok", plan)
        apply_extra = getattr(job, "apply_extra", None)
        if apply_extra is not None:
            for what, n in apply_extra(store, inputs, plan).items():
                runlog.wrote(what, n)
        new = enqueue(store.table("outbox"), plan.messages, run_id)
        result.enqueued = len(new)
        runlog.wrote("outbox", len(new))
        for table, n in store.write_ref_fixes().items():  # keys and links put back in step
            runlog.wrote(table, n)
        for table, rows in plan.inserts.items():  # in planning order: a row is inserted before rows linking to it
            runlog.wrote(table, store.table(table).create_new(rows))
        for table, changes in plan.row_updates.items():
            rows, refused = _writable(store.table(table), changes)
            plan.issues += refused  # a computed value NocoDB must not take: reported, the rest written
            runlog.wrote(table, store.table(table).update(rows))
        mark_issues(store, plan.issues, plan.checked, job.note_tag)
        result.sent = send_pending(store.table("outbox"), channels or {}, now, run_id,
                                   still_open=job.still_open(inputs), undeliverable=job.undeliverable(inputs),
                                   hold=getattr(job, "hold", lambda inputs: lambda row: None)(inputs),
                                   keep_going=lease.fresh, jobs=[job.name])
        runlog.wrote("outbox", result.sent.rows_marked)
        if result.sent.stopped:
            raise LeaseLost(f"{job.name}: the lease was taken from {run_id} while it was sending")
        for who, ch, err in result.sent.failures:
            runlog.warnings.append(f"发送给 {who} 的{ch}消息失败：{err}")
        runlog.stats = {
            **plan.stats, "enqueued": len(new), "messages_sent": len(result.sent.messages),
            "send_failures": len(result.sent.failures), "deferred": result.sent.deferred,
            "retired": result.sent.retired, "issues": len(plan.issues), "api_calls": store.api.total_calls,
            "marks": marks.as_json(), "wake_at": plan.wake_at.isoformat() if plan.wake_at else NEVER,
            "started_at": started.isoformat(), "recovered_from": dead,
        }
        runlog.stats.setdefault("read", "full")  # a job that reads only changes says so (OPS-3)
        if plan.state:
            runlog.stats[STATE] = plan.state
        if plan.extra:  # every change outside table rows, for the auditor (SEC-4)
            runlog.stats["extra"] = [str(x) for x in plan.extra][:MAX_EXTRA_LISTED]
        result.status = runlog.finish(_clock())
        return result
    except BaseException as exc:
        runlog.warnings.append(f"运行失败：{type(exc).__name__}: {exc}"[:500])
        if not lease.lost:  # a run that lost its lease leaves the status its taker wrote
            runlog.finish(_clock(), failed=True)
        raise
    finally:
        lease.stop_heartbeat()


def _yield_to_holder(job: Job, runlog: RunLog, log: Callable[[str], None]) -> Result:
    runlog.stats = {"skipped": "another run of this job is in progress"}
    runlog.issues, runlog.warnings = [], []
    log("another run of this job holds the lease; this run stops without writing or sending")
    return Result(job.name, runlog.run_id, runlog.finish(_clock(), status=SKIPPED), Plan(),
                  note="another run holds the lease")


def _clock() -> datetime:
    return datetime.now(TZ)


def _last_finished(store: Any, job: str) -> dict[str, Any] | None:
    """The last finished run of ``job`` with usable stats: ``{"Id", "stats"}``, or None."""
    t = store.table("run_log")
    row = t.table.first("-Id", ["Id", t.title("stats")],
                        t.where((F("flow") == job) & F("status").any_of(FINISHED)))
    raw = row.get(t.title("stats")) if row else None
    if not raw:
        return None
    try:
        stats = json.loads(raw) if isinstance(raw, str) else raw
        datetime.fromisoformat(stats["wake_at"]) if stats["wake_at"] != NEVER else None
    except (ValueError, TypeError, KeyError):
        return None  # stats edited by hand: not trusted, so this run looks at everything
    if not isinstance(stats.get("marks"), dict):
        return None
    return {"Id": row["Id"], "stats": stats}


def _since(previous: dict[str, Any] | None, marks: Watermarks) -> Since | None:
    if previous is None:
        return None
    earlier = Watermarks.from_json(previous["stats"]["marks"])
    state = previous["stats"].get(STATE)
    return Since(earlier, marks, state if isinstance(state, dict) else {}) if earlier is not None else None


def _idle(previous: dict[str, Any], marks: Watermarks, now: datetime, store: Any, job: str) -> bool:
    """Same marks, no item due before the stored wake-up time, and no message waiting."""
    stats = previous["stats"]
    if not marks.unchanged_since(Watermarks.from_json(stats["marks"])):
        return False
    wake = stats["wake_at"]
    if wake != NEVER and now >= datetime.fromisoformat(wake):
        return False
    outbox = store.table("outbox")
    return outbox.table.count(outbox.where((F("status") == PENDING) & (F("job") == job))) == 0


def _dead_runs(store: Any, job: str, just_marked: Iterable[str], limit: int = 200) -> list[str]:
    """Recent runs of ``job`` that died: their outbox rows may cover items whose rows never
    learned it. Any failed run counts, not only those since the last finished one: a later
    run may have finished without planning those items (one was mistyped then)."""
    t = store.table("run_log")
    rows = [r for page in t.table.pages(t.where((F("flow") == job) & (F("status") == FAILED)),
                                        [t.title("run_id")]) for r in page]
    ids = [r[t.title("run_id")] for r in sorted(rows, key=lambda r: r["Id"])[-limit:]]
    return sorted(set(ids) | set(just_marked))


def _writable(bound: Any, changes: Mapping[int, Mapping[str, Any]]) -> tuple[list[dict[str, Any]], list[Issue]]:
    """The updates as rows to write; a value validation refuses is left out of its row (the
    rest of the row, such as the ledger of notices sent, is still written) and reported."""
    from actops.records import check_values

    rows, refused = [], []
    for rid, vals in changes.items():
        bad = {name for name, v in vals.items() if check_values(bound.spec, {name: v}, rid)}
        for name in bad:
            refused += check_values(bound.spec, {name: vals[name]}, rid)
        kept = {k: v for k, v in vals.items() if k not in bad}
        if kept:
            rows.append({"Id": rid, **kept})
    return rows, refused


def mark_issues(store: Any, issues: Iterable[Issue], checked: Mapping[str, Iterable[int]], tag: str) -> int:
    """Put each issue on its row (【tag】 lines in 数据问题); clear ours from ``checked`` rows
    that are fine now. Issues on tables outside ``checked`` are added, never cleared."""
    by_zh: dict[str, list[Issue]] = {}
    for i in issues:
        by_zh.setdefault(i.table, []).append(i)
    names = {t.zh: t.name for b in store.specs for t in b.tables}
    tables = dict.fromkeys([*checked, *(names[zh] for zh in by_zh if zh in names)])
    n = 0
    for name in tables:
        bound = store.table(name)
        n += bound.mark_issues(by_zh.get(bound.spec.zh, []), list(checked.get(name, ())), tag=tag)
    return n
