"""`actops approvals verify`: check every request's decision history (SEC-4) on demand.

The approvals job checks the same chains on every run; this is for an auditor who wants the
answer now, for all requests, open or closed. Each broken chain is said on its rows
(【审批记录校验】 in 数据问题) and the request is marked for the next audit sample (审计关注).
Nothing is sealed or healed here: a broken chain stays broken until someone looks at it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from actops.jobs.approvals import full
from actops.jobs.approvals.job import AUDIT_TAMPERED, DECISIONS, REQUESTS
from actops.records import Issue

TAG = "审批记录校验"


@dataclass
class Finding:
    request: str
    row: int | None  # the decision row, or None for the request itself
    why: str


def verify(store: Any, mark: bool = True) -> tuple[int, list[Finding]]:
    """(requests checked, findings); with ``mark`` the findings go on their rows."""
    rt, dt = store.table(REQUESTS), store.table(DECISIONS)
    requests = rt.rows(fields=["code", "history_check", "audit_flag", "data_issue"])
    folded = full.fold(dt.stream(fields=full.DECISION_FIELDS, keep_keys=False), set())  # a page at a time (issue 12)
    findings: list[Finding] = []
    issues: list[Issue] = []
    flags = []
    for r in requests:
        if not r.get("code"):
            continue
        verdict = folded.verdict(r["code"], r.get("history_check"))
        for rid, why in verdict.problems:
            findings.append(Finding(r["code"], rid, why))
            issues.append(Issue(rt.spec.zh, r["Id"], "记录校验", r.get("history_check"), why) if rid is None
                          else Issue(dt.spec.zh, rid, "本条校验", None, why))
        if verdict.problems:
            lines = [x for x in str(r.get("audit_flag") or "").splitlines() if x]
            if AUDIT_TAMPERED not in lines:
                flags.append({"Id": r["Id"], "audit_flag": "\n".join([*lines, AUDIT_TAMPERED])})
    if mark:
        rt.update(flags)
        rt.mark_issues([i for i in issues if i.table == rt.spec.zh], [r["Id"] for r in requests], tag=TAG)
        dt.mark_issues([i for i in issues if i.table == dt.spec.zh], folded.ids, tag=TAG)
    return len(requests), findings
