"""What every job reads first: settings, the workday calendar and the org, with their issues.

One read of 系统设置, 工作日历, 员工 and 部门 per run, judged by the shared rule set
(:func:`actops.kernel.contradictions.table_rules`, the same rules `actops check` runs): a bad
setting keeps its default, a date the calendar contradicts itself on falls back to Mon–Fri,
a 工号 on two rows is messaged under neither, a WeCom id such as ``all`` is no address —
each reported on its rows (REL-2), never resolved last-one-wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from actops.kernel import contradictions as rules
from actops.kernel.calendar import WorkCalendar
from actops.kernel.org import Org, build_org
from actops.kernel.settings import Settings
from actops.records import Issue, Record


@dataclass
class Snapshot:
    settings: Settings
    calendar: WorkCalendar
    org: Org
    employees: list[Record]
    departments: list[Record]
    issues: list[Issue] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    checked: dict[str, list[int]] = field(default_factory=dict)  # rows whose notes this run refreshes

    @staticmethod
    def duplicates(spec: Any, records: list[Record]) -> tuple[list[Issue], set[str]]:
        """Issues on every row sharing a natural key, and the keys that are ambiguous."""
        return rules.duplicate_keys(spec, records)


def load_snapshot(store: Any, now: datetime) -> Snapshot:
    issues: list[Issue] = []
    st, ct = store.table("settings"), store.table("calendar")
    et, dt = store.table("employees"), store.table("departments")
    setting_rows, probs = st.read()
    issues += probs
    cal_recs, probs = ct.read()
    issues += probs
    # Employees and departments link to each other: the departments are fetched first, so that
    # each table's keys come from its own rows, not from another read of its key column.
    # Salvaged: a mistyped e-mail must not drop a person out of every escalation chain.
    dept_rows = dt.fetch()
    emps, probs = et.read(salvage=True)
    issues += probs
    depts, probs = dt.finish(dept_rows, salvage=True)
    issues += probs
    found = {name: rules.table_rules(t.spec, recs, emps)
             for name, t, recs in (("settings", st, setting_rows), ("calendar", ct, cal_recs),
                                   ("employees", et, emps), ("departments", dt, depts))}
    for f in found.values():
        issues += f.issues
    settings, _ = Settings.from_rows(setting_rows)  # its issues came with the rules above
    unknown = found["calendar"].unknown_dates
    cal, warnings = WorkCalendar.from_rows({"date": r.date, "is_workday": r.is_workday}
                                           for r in cal_recs if r.date not in unknown)
    if unknown:
        warnings.append(f"工作日历中 {len(unknown)} 个日期有相互矛盾的行（如 {min(unknown)}），"
                        "这些日期已按周一至周五计算；请删除多余的行")
    gm = settings.general_manager
    if gm and any(i.table == st.spec.zh and gm in str(i.value) for i in found["settings"].issues):
        gm = None  # reported on the settings row; the active 总经理 is used meanwhile
    org = build_org(emps, depts, gm, found["employees"].ambiguous)
    return Snapshot(settings=settings, calendar=cal, org=org, employees=emps, departments=depts,
                    issues=issues, warnings=warnings,
                    checked={"employees": [e.Id for e in emps], "departments": [d.Id for d in depts],
                             "settings": [s.Id for s in setting_rows], "calendar": [r.Id for r in cal_recs]})
