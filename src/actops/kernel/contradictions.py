"""Contradictions are reported, never resolved silently (REL-2).

Pure rules over rows already read (typed records, or dicts keyed by field name): two rows
with one key, two calendar rows for one date that disagree, a setting naming nobody, a WeCom
id that would mention everyone, a reference to someone who has left. Each returns
:class:`~actops.records.Issue` objects worded for the person who fixes the row.

`actops check` and the jobs call the same entry points, :func:`table_rules` (one table) and
:func:`base_rules` (all tables read, plus dangling references), so both judge rows alike.
Implausible amounts and dates are judged while typing rows (:func:`actops.records.implausible`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from actops.kernel.org import WECOM_EVERYONE, manager_loops, valid_wecom_id
from actops.kernel.settings import EMPLOYEE, SETTINGS, VALUE_ZH, Settings
from actops.kernel.settings import TABLE_ZH as SETTINGS_ZH
from actops.records import Issue, check_refs
from actops.schema.spec import TableSpec

# zh titles of the tables and fields the fixed rules speak about (a unit test holds them to schema/)
EMPLOYEES_ZH, CODE_ZH, WECOM_ZH = "员工", "工号", "企业微信号"
CALENDAR_ZH, DATE_ZH, WORKDAY_ZH = "工作日历", "日期", "是否工作日"


# What a blank value of a setting naming an employee means (for the message).
_BLANK_MEANS = {"general_manager": "自动取角色为“总经理”的在职员工"}

# A row is history, not work in progress, when its status (or stage) says so, when it has a
# "done" mark, or when its table only records what happened; people on history rows may leave.
TERMINAL = frozenset({
    "已完成", "已取消", "已通过", "已驳回", "已撤回", "已跳过", "已关闭", "已解决", "已整改", "已复查",
    "已支付", "已发布", "归档", "sent", "failed",
})
DONE_MARKS = ("submitted_at", "minutes_submitted_at", "done_at", "closed_at", "published_at", "checked")
HISTORY_TABLES = frozenset({"approval_decisions", "risk_history", "run_log"})


@dataclass
class Findings:
    """What the rules found in one table."""

    issues: list[Issue] = field(default_factory=list)
    ambiguous: set[str] = field(default_factory=set)  # natural keys on more than one row: skip them
    unknown_dates: set[date] = field(default_factory=set)  # calendar: decide by the Mon–Fri fallback


# ------------------------------------------------------------------------ the rules


def duplicate_keys(spec: TableSpec, records: Iterable[Any]) -> tuple[list[Issue], set[str]]:
    """Rows sharing a natural key (``spec.key``): an issue on every one, naming the others.

    Returns the issues and the ambiguous keys (as text), which callers must not resolve to
    either row. Rows with a blank key are left to the required-field check.
    """
    ids_by_key: dict[str, list[int | None]] = {}
    for rec in records:
        key = key_text(_get(rec, spec.key))
        if key:
            ids_by_key.setdefault(key, []).append(_get(rec, "Id"))
    kzh = spec.field(spec.key).zh
    issues, ambiguous = [], set()
    for key, ids in ids_by_key.items():
        if len(ids) < 2:
            continue
        ambiguous.add(key)
        for rid in ids:
            issues.append(Issue(spec.zh, rid, kzh, key, (
                f"{kzh} {key} 与{_rows(ids, rid)}重复，无法确定以哪一行为准；"
                f"请删除多余的行或修改「{kzh}」")))
    return issues, ambiguous


def calendar_conflicts(rows: Iterable[Any]) -> tuple[list[Issue], set[date]]:
    """Calendar rows for one date that disagree on 是否工作日: an issue on each of them.

    Returns the issues and the dates in conflict; callers treat those dates as unknown (the
    Mon–Fri fallback of :class:`~actops.kernel.calendar.WorkCalendar`), never as either row.
    """
    by_date: dict[date, list[tuple[int | None, bool]]] = {}
    for row in rows:
        d = _as_date(_get(row, "date"))
        if d is not None:
            by_date.setdefault(d, []).append((_get(row, "Id"), _flag(_get(row, "is_workday"))))
    issues, dates = [], set()
    for d, entries in sorted(by_date.items()):
        if len({w for _, w in entries}) < 2:
            continue
        dates.add(d)
        said = "；".join(f"第 {rid} 行：{'是' if w else '否'}" for rid, w in entries)
        for rid, w in entries:
            issues.append(Issue(CALENDAR_ZH, rid, WORKDAY_ZH, "是" if w else "否", (
                f"{DATE_ZH} {d.isoformat()} 有 {len(entries)} 行且「{WORKDAY_ZH}」不一致（{said}），"
                "无法确定当天是否上班，系统暂按普通周一至周五推算；请删除错误的行")))
    return issues, dates


def setting_names_employee(settings_rows: Iterable[Any], employees: Iterable[Any]) -> list[Issue]:
    """A setting that names an employee (today general_manager) naming a 工号 that is
    missing, on two rows of 员工 or inactive: an issue on that settings row."""
    keys = {d.key for d in SETTINGS if d.parse is EMPLOYEE}
    people, twice = _people(employees)
    issues = []
    for row in settings_rows:
        key = str(_get(row, "key") or "").strip()
        code = str(_get(row, "value") or "").strip()
        if key not in keys or not code:
            continue
        person = people.get(code)
        if code in twice:
            problem = f"在「{EMPLOYEES_ZH}」表中有多行，无法确定是谁"
        elif person is None:
            problem = f"不在「{EMPLOYEES_ZH}」表中"
        elif not _active(person):
            problem = f"对应的员工 {_get(person, 'name') or ''} 已不在职"
        else:
            continue
        blank = f"，或留空（{_BLANK_MEANS[key]}）" if key in _BLANK_MEANS else ""
        issues.append(Issue(SETTINGS_ZH, _get(row, "Id"), VALUE_ZH, code, (
            f"参数 {key} 指定的工号 {code} {problem}；请改为在职员工的工号{blank}")))
    return issues


def employee_contact_issues(employees: Iterable[Any]) -> list[Issue]:
    """WeCom ids that must not be used: "all"/"@all" (mentions the whole group) or ids
    with characters WeCom does not allow. The channel ignores such ids (no mention)."""
    issues = []
    for e in employees:
        raw = _get(e, "wecom_id")
        text = str(raw or "").strip()
        if not text or valid_wecom_id(text):
            continue
        if text.lower() in WECOM_EVERYONE:
            why = f"企业微信号 {text} 会提醒群内所有人，已忽略；请填写本人的企业微信账号"
        else:
            why = (f"企业微信号 {text} 格式不对（只能包含字母、数字和 _ . @ -，最长 64 位），已忽略；"
                   "请填写本人的企业微信账号")
        issues.append(Issue(EMPLOYEES_ZH, _get(e, "Id"), WECOM_ZH, raw, why))
    return issues


def inactive_references(spec: TableSpec, records: Iterable[Any], employees: Iterable[Any]) -> list[Issue]:
    """References to employees who have left, on rows still in progress (see :func:`is_open`).

    An employee who has left is not judged on their own row; a 工号 on two rows is left to
    :func:`duplicate_keys`, a missing one to :func:`~actops.records.check_refs`.
    """
    fields = [f for f in spec.fields if f.type == "ref" and f.ref == "employees"]
    if not fields:
        return []
    people, twice = _people(employees)
    issues = []
    for rec in records:
        if not is_open(spec, rec) or (spec.name == "employees" and not _active(rec)):
            continue
        for f in fields:
            code = str(_get(rec, f.name) or "").strip()
            person = people.get(code) if code not in twice else None
            if person is not None and not _active(person):
                issues.append(Issue(spec.zh, _get(rec, "Id"), f.zh, code, (
                    f"{f.zh} {_get(person, 'name') or ''}（{code}）已不在职；请改为在职员工")))
    return issues


# ACT-4: the customer signs the plan (《活动策划方案确认表》) before execution starts.
CONFIRMED_BEFORE = ("执行", "结项验收", "归档")


def unconfirmed_execution(spec: TableSpec, records: Iterable[Any]) -> list[Issue]:
    """Activities past 客户确认 without a 客户确认时间 (ACT-4)."""
    out = []
    for r in records:
        stage = _get(r, "stage")
        if stage in CONFIRMED_BEFORE and not _get(r, "plan_confirmed_at"):
            out.append(Issue(spec.zh, _get(r, "Id"), spec.field("plan_confirmed_at").zh, None, (
                f"阶段为「{stage}」，但没有客户确认时间：执行前须由客户签署《活动策划方案确认表》（ACT-4）。"
                "请填写客户确认时间并上传确认表，或把阶段改回「客户确认」")))
    return out


def is_open(spec: TableSpec, rec: Any) -> bool:
    """Whether a row is work in progress (people on it still have to act)."""
    names = {f.name for f in spec.fields}
    if spec.name in HISTORY_TABLES:
        return False
    if "status" in names:
        return _get(rec, "status") not in TERMINAL
    if "stage" in names:
        return _get(rec, "stage") not in TERMINAL
    return not any(_get(rec, m) for m in DONE_MARKS if m in names)


# ------------------------------------------------------------------------ entry points


def table_rules(spec: TableSpec, records: Sequence[Any], employees: Sequence[Any] | None = None) -> Findings:
    """Every rule that needs one table (and the employees, when given) — for check and jobs.

    Settings rows are typed (bad, unknown, duplicate, contradicting values); other tables
    get the duplicate-key rule; the calendar its conflict rule; employees their contact and
    manager-loop rules; every table the inactive-reference rule when ``employees`` is given.
    """
    found = Findings()
    dup, found.ambiguous = duplicate_keys(spec, records)
    if spec.name == "settings":
        found.issues += Settings.from_rows(records)[1]  # reports duplicate keys in its own words
        if employees is not None:
            found.issues += setting_names_employee(records, employees)
    elif spec.name == "calendar":
        conflicts, found.unknown_dates = calendar_conflicts(records)
        told = {i.row_id for i in conflicts}
        found.issues += conflicts + [i for i in dup if i.row_id not in told]
    else:
        found.issues += dup
    if spec.name == "employees":
        found.issues += employee_contact_issues(records)
        managers = {str(_get(r, "code")): _get(r, "manager") for r in records}
        row_ids = {str(_get(r, "code")): _get(r, "Id") for r in records}
        found.issues += manager_loops(managers, row_ids, spec.zh, spec.field("manager").zh)
    if spec.name == "activities":
        found.issues += unconfirmed_execution(spec, records)
    if employees is not None:
        found.issues += inactive_references(spec, records, employees)
    return found


def base_rules(specs: Mapping[str, TableSpec], records: Mapping[str, Sequence[Any]]) -> dict[str, Findings]:
    """:func:`table_rules` for every table read, plus references that name no row.

    ``records`` maps table name → typed records (as :meth:`BoundTable.read` gives them);
    rules that need another table (employees, a reference's target) run when it was read.
    """
    employees = records.get("employees")
    keys = {name: {key_text(_get(r, specs[name].key)) for r in recs} for name, recs in records.items()}
    out = {}
    for name, recs in records.items():
        found = table_rules(specs[name], recs, employees)
        found.issues += check_refs(specs[name], list(recs), keys)
        out[name] = found
    return out


# ------------------------------------------------------------------------ helpers


def key_text(v: Any) -> str:
    """A natural key as text, the way rows refer to it ("" for blank)."""
    if v is None:
        return ""
    if isinstance(v, (date, datetime)):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _get(row: Any, name: str) -> Any:
    return row.get(name) if isinstance(row, Mapping) else getattr(row, name, None)


def _rows(ids: Sequence[int | None], me: int | None) -> str:
    others = [str(i) for i in ids if i is not None and i != me]
    return f"第 {'、'.join(others)} 行" if others else "其他行"


def _flag(v: Any) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in {"true", "1", "yes", "y", "是", "✓"}
    return bool(v)


def _active(e: Any) -> bool:
    """An employee's 在职 flag; a dict read without that field counts as active."""
    if isinstance(e, Mapping) and "active" not in e:
        return True
    return _flag(_get(e, "active"))


def _as_date(v: Any) -> date | None:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    try:
        return date.fromisoformat(str(v).strip()[:10])
    except ValueError:
        return None


def _people(employees: Iterable[Any]) -> tuple[dict[str, Any], set[str]]:
    """Employees by 工号, and the 工号 on more than one row."""
    people: dict[str, Any] = {}
    twice: set[str] = set()
    for e in employees:
        code = key_text(_get(e, "code"))
        if code in people:
            twice.add(code)
        people[code] = e
    return people, twice
