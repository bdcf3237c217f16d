"""Whole-base validation: every row typed, then the rules the jobs use too (REL-2).

The rules live in :mod:`actops.kernel.contradictions` (duplicate keys, calendar conflicts,
settings, contacts, people who left, manager loops, dangling references); this module only
reads the tables and writes each issue onto its row.
"""

from __future__ import annotations

from actops.kernel.contradictions import base_rules
from actops.records import Issue, dedupe_issues
from actops.store import Store


def check_all(store: Store, mark: bool = False, tables: list[str] | None = None) -> list[Issue]:
    names = tables or [t.name for b in store.specs for t in b.tables]
    specs, records, problems = {}, {}, {}
    for name in names:
        bound = store.table(name)
        specs[name] = bound.spec
        # Salvaged: a row with one bad value keeps its key, references and people, so the
        # rules still see it (a duplicate of it is found; a reference to it is not dangling).
        records[name], problems[name] = bound.read(salvage=True)
    found = base_rules(specs, records)
    issues: list[Issue] = []
    for name in names:
        mine = dedupe_issues(problems[name] + found[name].issues)
        issues += mine
        if mark:
            store.table(name).mark_issues(mine, [r.Id for r in records[name]], tag="数据检查")
    return issues

