"""A full read of the approvals, streamed (issue 12: a million decisions in bounded memory).

A full read needs every request (its history is checked and its status gates activities) and
every decision (each request's chain is verified, SEC-4), but the rules move only the open
requests. So requests and decisions are read a page at a time:

* an open request is kept whole; any other as a :class:`Closed` tuple of what a run still
  reads of it (its 记录校验, 审计关注, status and kind);
* every decision is folded into its request's :class:`~.history.Chain`, which keeps only the
  unsealed rows' content; the decisions of the open requests are kept whole (the rules read
  them). A decision's Id is kept, so its 数据问题 note can be cleared when its chain is whole.

The same fold serves a read of changes (its few rows as one page) and ``actops approvals verify``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from actops.jobs.approvals import history
from actops.records import Issue, Record

# What the rules and the chain read of a decision: a full read asks for these columns only
# (not its formula 记录名称, which PostgreSQL computes for every row of every page).
DECISION_FIELDS = ["code", "request", "step", "decision", "by", "to", "at", "comment", "prev_hash", "hash"]


class Closed(NamedTuple):
    """A request no step can move any more, as a full read keeps it (the fields its plan reads)."""

    Id: int
    code: str | None
    status: str | None
    kind: str | None
    emergency: bool | None
    posthoc_done_at: Any
    history_check: str | None
    audit_flag: str | None
    title: str | None
    amount: Any
    applicant: str | None
    plan_task: str | None
    new_due_date: Any


def closed(r: Any) -> Closed:
    return Closed(*(getattr(r, f) for f in Closed._fields))


def requests_of(pages: Iterable[tuple[list[Record], list[Issue]]],
                is_open: Callable[[Any], bool]) -> tuple[list[Any], list[Issue]]:
    """Every request: the open ones whole, the rest as :class:`Closed`."""
    out: list[Any] = []
    issues: list[Issue] = []
    for recs, probs in pages:
        out += [r if r.code and is_open(r) else closed(r) for r in recs]
        issues += probs
    return out, issues


@dataclass
class Decisions:
    chains: dict[str, history.Chain] = field(default_factory=dict)  # request code → its chain so far
    kept: dict[str, list[Record]] = field(default_factory=dict)  # request code → its rows (the open ones')
    ids: list[int] = field(default_factory=list)  # every row folded
    issues: list[Issue] = field(default_factory=list)

    def verdict(self, code: str | None, stored_head: str | None) -> history.Verdict:
        """Request ``code``'s history check against its 记录校验 (:func:`.history.check` of all its rows)."""
        chain = self.chains.get(code) if code else None
        return (chain or history.Chain()).verdict(stored_head)


def fold(pages: Iterable[tuple[list[Record], list[Issue]]], keep: set[str]) -> Decisions:
    """Decision rows, page by page in Id order, into their requests' chains; the rows of the
    requests in ``keep`` are kept whole."""
    out = Decisions()
    for recs, probs in pages:
        out.issues += probs
        for d in sorted(recs, key=lambda d: d.Id):
            out.ids.append(d.Id)
            code = d.request
            chain = out.chains.get(code)
            if chain is None:
                chain = out.chains[code] = history.Chain()
            chain.add(d)
            if code in keep:
                out.kept.setdefault(code, []).append(d)
    return out


__all__ = ["DECISION_FIELDS", "Closed", "Decisions", "closed", "fold", "requests_of"]
