"""What every job reads first: settings, the workday calendar and the org, with their issues.

One read of 系统设置, 工作日历, 员工 and 部门 per run, turned into typed objects by the shared
rule set (:mod:`actops.kernel.contradictions`, the same rules `actops check` runs): a bad
setting keeps its default, a date the calendar contradicts itself on falls back to Mon–Fri,
a 工号 on two rows is messaged under neither — each reported on its rows (REL-2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from actops.kernel import contradictions as rules
from actops.kernel.calendar import WorkCalendar
from actops.kernel.org import Org, build_org, manager_loops
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
    st = store.table("settings")
    setting_rows, probs = st.read()
    issues += probs
    settings, found = Settings.from_rows(setting_rows)
    issues += found
    cal_t = store.table("calendar")
    cal_recs, probs = cal_t.read()
    issues += probs
    cal_rows = [{"Id": r.Id, "date": r.date, "is_workday": r.is_workday} for r in cal_recs]
    found, conflicting = rules.calendar_conflicts(cal_rows, cal_t.spec)
    issues += found
    cal, warnings = WorkCalendar.from_rows(r for r in cal_rows if str(r.get("date"))[:10] not in conflicting)
    if conflicting:
        warnings.append(f"工作日历中 {len(conflicting)} 个日期有相互矛盾的行（如 {sorted(conflicting)[0]}），"
                        "这些日期已按周一至周五计算；请删除多余的行")
    # Salvaged: a mistyped e-mail must not drop a person out of every escalation chain.
    et, dt = store.table("employees"), store.table("departments")
    emps, eprobs = et.read(salvage=True)
    depts, dprobs = dt.read(salvage=True)
    issues += eprobs + dprobs
    dup_e, ambiguous = rules.duplicate_keys(et.spec, emps)
    dup_d, _ = rules.duplicate_keys(dt.spec, depts)
    issues += dup_e + dup_d
    issues += rules.employee_contact_issues(emps, et.spec)
    issues += manager_loops({e.code: e.manager for e in emps if e.code not in ambiguous},
                            {e.code: e.Id for e in emps}, et.spec.zh, et.spec.field("manager").zh)
    gm_issues = rules.setting_names_employee(setting_rows, emps, st.spec)
    issues += gm_issues
    gm = settings.general_manager if not gm_issues else None
    org = build_org(emps, depts, gm, ambiguous)
    return Snapshot(settings=settings, calendar=cal, org=org, employees=emps, departments=depts,
                    issues=issues, warnings=warnings,
                    checked={"employees": [e.Id for e in emps], "departments": [d.Id for d in depts],
                             "settings": [s.Id for s in setting_rows], "calendar": [r.Id for r in cal_recs]})
