"""Whole-base validation: every row typed, every reference resolved, no manager loops."""

from __future__ import annotations

from actops.records import Issue, check_refs
from actops.kernel.org import manager_loops
from actops.store import Store


def check_all(store: Store, mark: bool = False, tables: list[str] | None = None) -> list[Issue]:
    names = tables or [t.name for b in store.specs for t in b.tables]
    records = {}
    issues: list[Issue] = []
    for name in names:
        bound = store.table(name)
        recs, probs = bound.read()
        records[name] = (recs, probs)
    keys = {n: {str(getattr(r, store.table(n).spec.key)) for r in recs} for n, (recs, _) in records.items()}
    for name, (recs, probs) in records.items():
        bound = store.table(name)
        found = probs + check_refs(bound.spec, recs, keys)
        if name == "employees":
            found += manager_loops({r.code: r.manager for r in recs}, {r.code: r.Id for r in recs},
                                   bound.spec.zh, bound.spec.field("manager").zh)
        issues += found
        if mark:
            bound.mark_issues(found, [r.Id for r in recs], tag="数据检查")
    return issues
