"""Reading only what changed (OPS-3): after a first full read, a watch run reads the budget
lines and expenses of the activities an insert or an edit names, and the risks named, not
every line, expense and risk.

What can give a line, an expense or a risk something to do:

* an expense inserted or edited (a claim approved or paid, an amount corrected): its
  activity's lines are judged again from all of that activity's expenses;
* a line inserted or edited (a budget raised, 已用金额 typed over): its activity, likewise;
* an activity inserted or edited (moved to 结项验收 or 归档, its owner changed): likewise, and
  its 预算差异 is written when it reaches closing;
* a risk inserted or edited, or a 风险变更记录 row inserted or edited: that risk.

The activities themselves are read whole on every run (a few columns: every code is needed
to tell an expense of an unknown activity, and two activities sharing a code, REL-2); they are
the small table, the expenses the large one.

Why not everything on every run: nothing in :func:`~.job.plan` moves with time alone. A line's
已用金额 and 预警 come from stored rows; an alert is sent when the level rises above the one the
job last wrote; a risk is warned when its stored scores reach the level. So a line or risk
nobody touched since a run that read it is planned the same way again: no write, no message,
the same notes. What the rules take from settings (budget_warn_ratio, risk_warn_level, quiet
hours) and the org (owners, finance, managers, who is reachable) can change that answer: when it
changes (:func:`context_fingerprint`) the run reads everything. So it does on a first run, with
job options or ``--full``, every ``full_scan_hours``, and when rows of the five tables were
deleted (a deleted expense lowers a sum that no remaining row names).

An expense or a line edited to name another activity also wakes the activity it left: the
job keeps which activity each row named (:mod:`.homes`). Not seen until the next full read
(``full_scan_hours``, 24 h by default): a link picked in a grid without its key column
(STACK.md: a pick does not move UpdatedAt).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from actops.kernel import full_read
from actops.kernel.changed_rows import changed, changed_records, read_in
from actops.kernel.runner import RunContext
from actops.kernel.snapshot import Snapshot
from actops.records import Issue, Record, dedupe_issues


def context_fingerprint(base: Snapshot) -> str:
    """A digest of what the rules take from settings and the org: equal digests, equal levels,
    recipients and quiet hours."""
    return full_read.fingerprint(full_read.org_parts(base))


def why_full(ctx: RunContext, full_scan_hours: int, context: str) -> str | None:
    """Why this run must read everything, or None (deletes are found by :func:`load_changes`)."""
    return full_read.why_full(ctx, full_scan_hours, context, "settings, employees or departments")


@dataclass
class Changes:
    lines: list[Record]
    expenses: list[Record]
    risks: list[Record]
    history: list[Record]
    issues: list[Issue]


def load_changes(store: Any, ctx: RunContext, *, lines: str, expenses: str, activities: str, risks: str,
                 history: str, history_fields: list[str], expense_fields: list[str] | None = None,
                 left: set[str] = frozenset()) -> Changes:  # type: ignore[assignment]
    """The rows changes name (see the module docstring), and the lines and expenses of the
    activities in ``left`` (those edited rows named before, :mod:`.homes`);
    :class:`~actops.kernel.changed_rows.ReadAll` when only a full read will do."""
    since = ctx.since
    assert since is not None
    acts: set[str] = set(left)
    for table in (expenses, lines):
        got, _, _ = changed(store, since, table, "activity")
        acts |= got
    got, _, _ = changed(store, since, activities, "code")
    acts |= got
    risk_recs, issues = changed_records(store, since, risks)  # the changed risks are the ones wanted
    got, _, _ = changed(store, since, history, "risk")
    out = Changes([], [], [], [], issues)
    if acts:
        out.lines, probs = read_in(store.table(lines), "activity", acts)
        issues += probs
        out.expenses, probs = read_in(store.table(expenses), "activity", acts, fields=expense_fields)
        issues += probs
    more = got - {r.code for r in risk_recs if r.code}
    if more:
        recs, probs = read_in(store.table(risks), "code", more)
        issues += probs
        risk_recs = sorted({r.Id: r for r in [*risk_recs, *recs]}.values(), key=lambda r: r.Id)
    out.risks = risk_recs
    if risk_recs:
        named = {r.code for r in out.risks if r.code}
        if named:
            out.history, probs = read_in(store.table(history), "risk", named, fields=history_fields)
            issues += probs
    out.issues = dedupe_issues(issues)
    return out


__all__ = ["Changes", "context_fingerprint", "load_changes", "why_full"]
