"""The five staff forms and what the system fills on a row that came through one (STF-1).

A row "came through a form" when its key is blank: forms leave the key out, while rows
the engine or the sample creates always carry one. Such a row gets its key
(:mod:`~actops.jobs.intake.numbering`), its submitted time (CreatedAt) and, when blank,
its person field from the account that created it (:mod:`~actops.jobs.intake.submitters`).
What is still wrong afterwards becomes a 数据问题 line worded for the person who fixes it.
Rows keep being checked while they carry such a line, so the line goes once it is fixed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from actops.jobs.intake.submitters import Directory, Person, identify
from actops.records import Issue, check_refs, from_row
from actops.schema.spec import TableSpec

ACCOUNT = "account"  # the created_by field every form table has
SELF_EVAL_KIND, OPEN_CYCLE = "月度自评", "已开启"


@dataclass(frozen=True)
class FormTable:
    table: str
    person: str  # filled with the submitter when blank
    person_value: str = "code"  # "code" (工号) or "name" (姓名, a free-text field)
    person_required: bool = True  # no person and no usable account → a note
    self_only: bool = False  # the person must be the submitter (EVA-7: a self-evaluation)
    submitted: str | None = None  # stamped from CreatedAt when the key is given
    defaults: tuple[tuple[str, Any], ...] = ()  # set on a new row where blank


FORMS: tuple[FormTable, ...] = (
    FormTable("activities", person="owner", defaults=(("stage", "立项申请"),)),
    FormTable("reports", person="employee", submitted="submitted_at"),
    FormTable("expenses", person="employee"),
    FormTable("feedback", person="respondent", person_value="name", person_required=False, submitted="submitted_at"),
    FormTable("evaluations", person="employee", self_only=True, submitted="submitted_at"),
)
BY_TABLE = {f.table: f for f in FORMS}


@dataclass
class Known:
    """What the rows are checked against: people, the keys their references name, the open
    self-evaluation cycles and who already has a row in them."""

    directory: Directory = field(default_factory=Directory)
    keys: dict[str, set[str]] = field(default_factory=dict)  # target table → keys found of those asked
    cycles: list[Mapping[str, Any]] = field(default_factory=list)
    evaluated: dict[tuple[str, str], list[int]] = field(default_factory=dict)  # (cycle, 工号) → row Ids


def blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def created_at(row: Mapping[str, Any]) -> datetime | None:
    raw = row.get("CreatedAt")
    if isinstance(raw, datetime):
        return raw
    try:
        return datetime.fromisoformat(str(raw).replace(" ", "T", 1)) if raw else None
    except ValueError:
        return None


def choose_cycle(cycles: list[Mapping[str, Any]], day: date) -> tuple[str | None, str | None]:
    """The open 月度自评 cycle a self-evaluation submitted on ``day`` belongs to: the one
    due first on or after that day, else the one due last; (code, None) or (None, why)."""
    open_ = [c for c in cycles if c.get("kind") == SELF_EVAL_KIND and c.get("status") == OPEN_CYCLE and c.get("code")]
    if len(open_) == 1:
        return str(open_[0]["code"]), None
    if not open_:
        return None, "没有已开启的月度自评周期，无法确定考评周期；请人事在「考评周期」中开启周期，或在本行填写「考评周期」"
    dated = sorted((str(c["due_date"])[:10], str(c["code"])) for c in open_ if c.get("due_date"))
    later = [c for d, c in dated if d >= day.isoformat()]
    if later:
        return later[0], None
    if dated:
        return dated[-1][1], None
    return None, "有多个已开启的月度自评周期且都没有截止日期，无法确定本行属于哪一个；请在本行填写「考评周期」"


def accept(ft: FormTable, spec: TableSpec, row: Mapping[str, Any], key: str | None, known: Known,
           now: datetime) -> tuple[dict[str, Any], list[Issue]]:
    """Values to write on one form row (field name → value) and what is still wrong with it."""
    up: dict[str, Any] = {}
    said: list[tuple[str | None, Any, str]] = []  # (field, value, reason)
    when = created_at(row) or now
    if key is not None:
        up[spec.key] = key
        if ft.submitted and blank(row.get(ft.submitted)):
            up[ft.submitted] = when
        up.update({f: v for f, v in ft.defaults if blank(row.get(f))})
    sub = identify(row.get(ACCOUNT), known.directory)
    typed = row.get(ft.person)
    if blank(typed):
        if sub.person is not None:
            up[ft.person] = sub.person.code if ft.person_value == "code" else sub.person.name
        elif ft.person_required:
            said.append((ft.person, None, f"{sub.problem}；请填写「{spec.field(ft.person).zh}」"))
    elif ft.self_only:
        if sub.person is not None and str(typed).strip() != sub.person.code:
            said.append((ft.person, typed, f"自评只能本人提交：提交账号 {sub.email} 是员工 {sub.person.code}，"
                                           f"与填写的工号不符；请本人登录后提交"))
        elif sub.person is None:
            said.append((ft.person, typed, f"{sub.problem}，无法核实是否本人提交（自评须本人登录后提交）；请人事核实"))
    merged = {**row, **up}
    if ft.table == "activities":
        _activity(merged, up, known)
    elif ft.table == "evaluations":
        said += _evaluation(row, merged, up, known, when)
    issues = [Issue(spec.zh, row["Id"], spec.field(f).zh if f else None, v, why) for f, v, why in said]
    issues += _validate(spec, merged, known)
    return up, issues


def _fill(merged: dict[str, Any], up: dict[str, Any], name: str, value: Any) -> None:
    if blank(merged.get(name)) and not blank(value):
        up[name] = merged[name] = value


def _activity(merged: dict[str, Any], up: dict[str, Any], known: Known) -> None:
    owner = known.directory.person(merged.get("owner"))
    if owner is not None:
        _fill(merged, up, "department", owner.department)


def _evaluation(row: Mapping[str, Any], merged: dict[str, Any], up: dict[str, Any], known: Known,
                when: datetime) -> list[tuple[str | None, Any, str]]:
    said: list[tuple[str | None, Any, str]] = []
    if blank(merged.get("cycle")):
        code, why = choose_cycle(known.cycles, when.date())
        if code is None:
            said.append(("cycle", None, str(why)))
        _fill(merged, up, "cycle", code)
    who: Person | None = known.directory.person(merged.get("employee"))
    if who is None and not blank(merged.get("employee")):
        said.append(("employee", merged.get("employee"), "「员工」表中没有这个工号（或有多行）；请填写本人工号"))
    if who is not None:
        _fill(merged, up, "employee_name", who.name)
        _fill(merged, up, "department", who.department)
        _fill(merged, up, "supervisor", who.manager)
        others = [i for i in known.evaluated.get((str(merged.get("cycle")), who.code), []) if i != row["Id"]]
        if others:
            said.append(("employee", who.code, f"考评周期 {merged.get('cycle')} 中已有该员工的考评记录（第{others[0]}行）；"
                                               "请人事将自评内容合并到一行后删除多余的行"))
    return said


def _validate(spec: TableSpec, merged: Mapping[str, Any], known: Known) -> list[Issue]:
    """Required fields, types and plausible values, then references that name no row."""
    names = {f.name: f.name for f in spec.fields}
    rec, issues = from_row(spec, {k: v for k, v in merged.items() if k in names or k == "Id"}, names)
    if rec is not None:
        issues += check_refs(spec, [rec], known.keys)
    return issues
