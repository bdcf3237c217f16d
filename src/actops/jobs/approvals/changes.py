"""Reading only what changed (OPS-3): after a first full read, an approvals run reads the
requests an insert or an edit touched, not every request and every decision.

What can give a request something to do, or change what is said about it:

* the request itself inserted or edited (routed, 特批 ticked, a 计划调整 completed);
* one of its steps inserted or edited (a grid decision, a 代理审批人, a step a killed run left);
* one of its decisions inserted or edited (the link page's decision, a sealed row tampered with);
* an activity inserted or edited: in 立项申请 it becomes its 立项 request; past 客户确认 its
  gate (ACT-2) is judged against its 立项 request's status, so the request it names is read;
  a request inserted or edited (its status may have moved; a run's own outcome is read back by
  the next run) is judged again for the gated activities that name it
  (``initiation_request in …``).

The run reads those requests (``code in …``, 50 a call), the steps of the open ones and the
decisions of all of them, the way a full read sees them.

Why not every open request (``_open``) on every run: nothing in :func:`~.job.plan` moves with
time alone. ``advance`` opens a step (and takes its due time from ``now``) only when a decision
or an edit arrives; who is on leave counts only at that moment; chasing a step that waits too
long is the escalations job's work, not this one's; the history check and the gate compare
stored values. So a request nobody touched since a run that read it is planned the same way
again: no write, no message, the same notes (left on its rows). What the rules take from the
routes, settings, calendar, employees and departments can change that answer without an edit
to the request (an applicant made active again can be routed, a new director's 特批 counts):
when it changes (:func:`context_fingerprint`), the run reads everything. So it does on a first
run, with job options or ``--full``, every ``full_scan_hours`` (the safety net: a link picked in
a grid does not move UpdatedAt, see STACK.md), and when requests, steps or decisions were
deleted: a deleted decision leaves no row naming its request, and only the whole history finds
the broken chain (SEC-4), a deleted step may be put back (a killed run's), a deleted request
leaves its gated activity without its 立项. Likewise when a row is edited to name another
request: a step whose code does not start with its request's, a sealed decision no longer in
the chain of the request it names (no successor's 前序校验 is its hash, 记录校验 does not end
with it) — the request it left is named by no row. Tampering beyond that (moving a whole
history and rewriting 记录校验 to match) waits for the next full read (``full_scan_hours``).

One staff edit therefore costs a few ``in`` reads besides the marks; an idle run none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from actops.kernel import full_read
from actops.kernel.changed_rows import ReadAll, changed, read_in
from actops.kernel.full_read import Scope
from actops.kernel.runner import RunContext
from actops.kernel.snapshot import Snapshot
from actops.nocodb.where import Expr
from actops.records import Issue, Record, dedupe_issues


def context_fingerprint(base: Snapshot, routes: Iterable[Any], route_issues: Iterable[Issue]) -> str:
    """A digest of what the rules take from routes, settings, calendar and org: equal digests,
    equal routing, deadlines, deputies and accounts."""
    return full_read.fingerprint([
        [repr(r) for r in routes], sorted(repr(i) for i in route_issues),
        sorted((d.isoformat(), w) for d, w in base.calendar.days.items()),
        *full_read.org_parts(base),
        sorted((e.code or "", bool(e.active), str(e.email or ""), str(e.on_leave_until or ""), e.deputy or "")
               for e in base.employees),
    ])


def why_full(ctx: RunContext, full_scan_hours: int, context: str) -> str | None:
    """Why this run must read everything, or None: reading changes is enough (deletes are
    found later, by :func:`load_changes`)."""
    return full_read.why_full(ctx, full_scan_hours, context,
                              "routes, settings, the calendar, employees or departments")


@dataclass
class Changes:
    requests: list[Record]
    steps: list[Record]  # of the open requests read
    decisions: list[Record]  # of every request read
    applying: list[Record]
    gated: list[Record]
    issues: list[Issue]


def _moved_steps(edited: list[dict[str, Any]]) -> None:
    """A step edited to name another request (its code starts with its request's): the one it
    left is not named by any row, so the run reads everything."""
    if any(not str(r.get("code") or "").startswith(f"{r.get('request') or ''}-") for r in edited):
        raise ReadAll("a step names another request than its code says")


def _moved_decisions(edited: list[dict[str, Any]], decisions: list[Record], requests: list[Record]) -> None:
    """A sealed decision edited (SEC-4) is found in the request it names; if it was moved from
    another request, that one's chain is broken too and no row names it. A row still in its
    chain has a successor whose 前序校验 is its hash, or is the one 记录校验 ends with; a row that
    is in neither (or was unsealed, or names no request) makes the run read everything."""
    nxt = {d.prev_hash for d in decisions if d.prev_hash}
    heads = {str(r.history_check or "").rpartition(":")[2] for r in requests}
    for r in edited:
        h = r.get("hash")
        if not h or not r.get("request") or (h not in nxt and h not in heads):
            raise ReadAll("a sealed decision was unsealed or may have been moved from another request")


def load_changes(store: Any, ctx: RunContext, *, requests: str, steps: str, decisions: str,
                 is_open: Any, applying: Expr, gated: Expr, initiation_code: Any) -> Changes:
    """The rows of the requests changes name (see the module docstring); :class:`ReadAll`
    when only a full read will do."""
    since = ctx.since
    assert since is not None
    codes: set[str] = set()
    got, req_where, _ = changed(store, since, requests, "code")
    codes |= got
    gate_codes = set(got)  # statuses that may have moved (a run's own outcome is read back next run)
    got, _, edited_steps = changed(store, since, steps, "request", ("code",))
    _moved_steps(edited_steps)
    codes |= got  # (steps are read for the open requests only, as in a full read)
    got, dec_where, edited_decisions = changed(store, since, decisions, "request", ("hash",))
    codes |= got
    issues: list[Issue] = []
    acts = store.table("activities")
    new_applying: list[Record] = []
    gated_rows: dict[int, Record] = {}
    if since.changed("activities"):
        moved = since.where("activities")
        new_applying, probs = acts.read(acts.where(applying & moved))
        issues += probs
        codes |= {initiation_code(a) for a in new_applying}
        gate_codes |= {initiation_code(a) for a in new_applying}
        recs, probs = acts.read(acts.where(gated & moved))
        issues += probs
        gated_rows.update({a.Id: a for a in recs})
        codes |= {a.initiation_request for a in recs if a.initiation_request}
    if gate_codes:  # a request whose status moved (or was made) is judged again for the gates naming it
        recs, probs = read_in(acts, "initiation_request", gate_codes, gated)
        issues += probs
        gated_rows.update({a.Id: a for a in recs})
    reqs, probs = read_in(store.table(requests), "code", codes, also=req_where) if codes or req_where else ([], [])
    issues += probs
    codes |= {r.code for r in reqs if r.code}
    open_codes = {r.code for r in reqs if r.code and is_open(r)}
    step_recs, probs = read_in(store.table(steps), "request", open_codes) if open_codes else ([], [])
    issues += probs
    dec_recs, probs = (read_in(store.table(decisions), "request", codes, also=dec_where)
                       if codes or dec_where else ([], []))
    issues += probs
    _moved_decisions(edited_decisions, dec_recs, reqs)
    return Changes(reqs, step_recs, dec_recs, new_applying, sorted(gated_rows.values(), key=lambda a: a.Id),
                   dedupe_issues(issues))


__all__ = ["Changes", "ReadAll", "Scope", "context_fingerprint", "load_changes", "why_full"]
