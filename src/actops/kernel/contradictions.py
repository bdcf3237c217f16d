"""TEMPORARY: replaced by the shared REL-2 rule set at merge."""

from __future__ import annotations

from actops.kernel.org import CHANNEL_WECOM  # noqa: F401
from actops.records import Issue


def duplicate_keys(spec, records):
    by: dict[str, list[int]] = {}
    for r in records:
        k = getattr(r, spec.key, None)
        if k not in (None, ""):
            by.setdefault(str(k), []).append(r.Id)
    issues, amb = [], set()
    for k, ids in by.items():
        if len(ids) > 1:
            amb.add(k)
            for i in ids:
                others = "、".join(str(o) for o in ids if o != i)
                issues.append(Issue(spec.zh, i, spec.field(spec.key).zh, k, f"与第 {others} 行重复；请删除多余的行或改号"))
    return issues, amb


def calendar_conflicts(rows, spec):
    by: dict[str, set] = {}
    ids: dict[str, list[int]] = {}
    for r in rows:
        d = str(r.get("date"))[:10]
        by.setdefault(d, set()).add(bool(r.get("is_workday")))
        ids.setdefault(d, []).append(r["Id"])
    bad = {d for d, v in by.items() if len(v) > 1}
    issues = [Issue(spec.zh, i, "日期", d, "同一日期有多行且是否工作日不一致；请删除多余的行") for d in bad for i in ids[d]]
    return issues, bad


def employee_contact_issues(emps, spec):
    return []


def setting_names_employee(setting_rows, emps, spec):
    active = {e.code for e in emps if e.active}
    out = []
    for r in setting_rows:
        if r.key == "general_manager" and (r.value or "").strip() and r.value.strip() not in active:
            out.append(Issue(spec.zh, r.Id, "取值", r.value, "不是在职员工的工号"))
    return out
