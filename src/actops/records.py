"""Typed records: NocoDB rows (keyed by title) → pydantic models (keyed by field name).

The models are built from ``schema/`` so there is one source of truth. A row that fails
validation becomes an :class:`Issue` — table, Id, field, value, reason — and the run goes on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationError,
    create_model,
)

from actops.schema.spec import FieldSpec, TableSpec

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

REASONS_ZH = {
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "date_from_datetime_parsing": "不是有效日期（格式 YYYY-MM-DD）",
    "date_parsing": "不是有效日期（格式 YYYY-MM-DD）",
    "date_from_datetime_inexact": "不是有效日期",
    "datetime_parsing": "不是有效时间",
    "datetime_from_date_parsing": "不是有效时间",
    "literal_error": "不是允许的选项",
    "missing": "必填项为空",
    "value_error": "取值无效",
    "bool_parsing": "应为是/否",
}


@dataclass(frozen=True)
class Issue:
    """One problem with one row, worded for the person who will fix it."""

    table: str  # zh title of the table
    row_id: int | None
    field: str | None  # zh title of the field
    value: Any
    reason: str

    def __str__(self) -> str:
        where = f"{self.table} 第{self.row_id}行" if self.row_id is not None else self.table
        if self.field:
            where += f"「{self.field}」"
        value = "" if self.value is None else f"（当前值：{str(self.value)[:60]}）"
        return f"{where}：{self.reason}{value}"


def dedupe_issues(issues: list[Issue]) -> list[Issue]:
    """Issues in order, each (table, row, field, reason) once: two rules may see one fault."""
    seen: set[tuple[Any, ...]] = set()
    out = []
    for i in issues:
        k = (i.table, i.row_id, i.field, i.reason)
        if k not in seen:
            seen.add(k)
            out.append(i)
    return out


class Record(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    Id: int
    CreatedAt: datetime | None = None
    UpdatedAt: datetime | None = None


def _blank_to_none(v: Any) -> Any:
    if isinstance(v, str) and not v.strip():
        return None
    return v


def _as_text(v: Any) -> Any:
    v = _blank_to_none(v)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    return v


def _as_bool(v: Any) -> Any:
    return False if v is None else v


def _email(v: Any) -> Any:
    v = _blank_to_none(v)
    if v is not None and not EMAIL_RE.match(str(v)):
        raise ValueError("不是有效的邮箱地址")
    return v


def _nocodb_datetime(v: Any) -> Any:
    v = _blank_to_none(v)
    if isinstance(v, str):
        if v == "Invalid Date":
            raise ValueError("不是有效时间")
        return v.replace(" ", "T", 1)
    return v


def _aware(v: datetime | None) -> datetime | None:
    # NocoDB stores UTC; a time without an offset (typed through the API) is read as UTC.
    if v is not None and v.tzinfo is None:
        return v.replace(tzinfo=UTC)
    return v


def _multi(v: Any) -> Any:
    v = _blank_to_none(v)
    if v is None:
        return ()
    if isinstance(v, str):
        return tuple(s.strip() for s in v.split(",") if s.strip())
    return v


# Plausible values (REL-2): an amount or a date outside these is a typo, reported, not used.
# Checked after typing (from_row, check_values), not in the model, so code may still build
# a record by hand; every row read from NocoDB goes through from_row.
AMOUNT_MIN, AMOUNT_MAX = 0.0, 1_000_000_000.0  # CNY; a field may set its own min/max in yaml
DATE_MIN, DATE_MAX = date(2000, 1, 1), date(2100, 12, 31)


def implausible(f: FieldSpec, v: Any) -> str | None:
    """Why the typed value ``v`` of field ``f`` cannot be right, or None."""
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, (date, datetime)) and f.type in ("date", "datetime"):
        d = v.date() if isinstance(v, datetime) else v
        if DATE_MIN <= d <= DATE_MAX:
            return None
        what, shown = ("时间", v.strftime("%Y-%m-%d %H:%M")) if isinstance(v, datetime) else ("日期", v.isoformat())
        return f"{what} {shown} 超出 {DATE_MIN.year}–{DATE_MAX.year} 年；请核对"
    if not isinstance(v, (int, float)):
        return None
    lo, hi = f.min, f.max
    if f.type == "currency":
        lo, hi = (AMOUNT_MIN if lo is None else lo), (AMOUNT_MAX if hi is None else hi)
    if (lo is None or v >= lo) and (hi is None or v <= hi):
        return None  # NaN fails both comparisons, so it is refused
    unit = " 元" if f.type == "currency" else ""
    if lo is not None and hi is not None:
        rng = f"应在 {_limit(lo)} 至 {_limit(hi)}{unit or ' '}之间"
    else:
        rng = f"应不小于 {_limit(lo)}{unit}" if lo is not None else f"应不大于 {_limit(hi)}{unit}"
    what = "金额" if f.type == "currency" else "数值"
    return f"{what} {_num(v)} 不合理：{rng}；请核对"


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e21 else f"{v:g}"


def _limit(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,}"


def _annotation(f: FieldSpec) -> tuple[Any, Any]:
    t = f.type
    if t in ("text", "longtext", "phone", "url", "ref"):
        return Annotated[str | None, BeforeValidator(_as_text)], None
    if t in ("number", "rating"):
        return Annotated[int | None, BeforeValidator(_blank_to_none)], None
    if t in ("decimal", "currency", "percent"):
        return Annotated[float | None, BeforeValidator(_blank_to_none)], None
    if t == "date":
        return Annotated[date | None, BeforeValidator(lambda v: None if _blank_to_none(v) is None else (_reject_invalid(v)))], None
    if t == "datetime":
        return Annotated[datetime | None, BeforeValidator(_nocodb_datetime), AfterValidator(_aware)], None
    if t == "checkbox":
        return Annotated[bool, BeforeValidator(_as_bool)], False
    if t == "select":
        return Annotated[Literal[f.options] | None, BeforeValidator(_blank_to_none)], None  # type: ignore[valid-type]
    if t == "multiselect":
        return Annotated[tuple[Literal[f.options], ...], BeforeValidator(_multi)], ()  # type: ignore[valid-type]
    if t == "email":
        return Annotated[str | None, BeforeValidator(_email)], None
    return Any, None


def _reject_invalid(v: Any) -> Any:
    if v == "Invalid Date":
        raise ValueError("不是有效日期")
    return v


_MODELS: dict[int, tuple[TableSpec, type[Record]]] = {}
_ADAPTERS: dict[tuple[int, str], Any] = {}


def model_for(spec: TableSpec) -> type[Record]:
    # Keyed by identity: specs hold seed rows (dicts), so they are not hashable.
    hit = _MODELS.get(id(spec))
    if hit is None or hit[0] is not spec:
        hit = _MODELS[id(spec)] = (spec, _build_model(spec))
    return hit[1]


def _build_model(spec: TableSpec) -> type[Record]:
    fields: dict[str, Any] = {}
    for f in spec.fields:
        ann, default = _annotation(f)
        fields[f.name] = (ann, default)
    return create_model(f"{spec.name.title().replace('_', '')}Record", __base__=Record, **fields)


def _reason(err: dict[str, Any]) -> str:
    zh = REASONS_ZH.get(err["type"])
    if err["type"] == "value_error":
        return str(err.get("ctx", {}).get("error") or err["msg"])
    if err["type"] == "literal_error":
        return f"不是允许的选项（{err['msg'].split('Input should be ', 1)[-1]}）"
    return zh or err["msg"]


def from_row(spec: TableSpec, row: dict[str, Any], titles: dict[str, str] | None = None,
             salvage: bool = False) -> tuple[Record | None, list[Issue]]:
    """Validate one row keyed by NocoDB title. ``titles`` maps field name → current title.

    With ``salvage`` a row with bad values is still returned, those fields emptied, for
    tables where losing the whole row hurts more than one blank field (a person with a
    mistyped e-mail still has a manager and a WeCom id).
    """
    titles = titles or {f.name: f.zh for f in spec.fields}
    data: dict[str, Any] = {"Id": row.get("Id"), "CreatedAt": _nocodb_datetime(row.get("CreatedAt")),
                            "UpdatedAt": _nocodb_datetime(row.get("UpdatedAt"))}
    for f in spec.fields:
        title = titles.get(f.name, f.zh)
        if title in row:
            data[f.name] = row[title]
    issues: list[Issue] = []
    try:
        rec = model_for(spec)(**data)
    except ValidationError as exc:
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else None
            fspec = _field_or_none(spec, name)
            issues.append(Issue(spec.zh, row.get("Id"), fspec.zh if fspec else name, data.get(name) if name else None, _reason(err)))
        if not salvage:
            return None, issues
        bad = {str(err["loc"][0]) for err in exc.errors() if err["loc"]}
        try:
            rec = model_for(spec)(**{k: v for k, v in data.items() if k not in bad})
        except ValidationError:
            return None, issues
        return rec, issues
    blanked: dict[str, None] = {}
    for f in spec.fields:
        # Only fields that were read: a read with a field subset cannot judge the others.
        if titles.get(f.name, f.zh) not in row:
            continue
        if why := implausible(f, getattr(rec, f.name)):
            issues.append(Issue(spec.zh, rec.Id, f.zh, data.get(f.name), why))
            blanked[f.name] = None
        elif f.required and getattr(rec, f.name) in (None, (), ""):
            what = "缺少必填的关联" if f.type == "ref" else "必填项为空"
            issues.append(Issue(spec.zh, rec.Id, f.zh, None, f"{what}，请在该行补填「{f.zh}」"))
    if salvage and blanked and len(blanked) == len(issues):
        return rec.model_copy(update=blanked), issues
    return (None if issues else rec), issues


def _field_or_none(spec: TableSpec, name: str | None) -> FieldSpec | None:
    try:
        return spec.field(name) if name else None
    except KeyError:
        return None


def validate_rows(spec: TableSpec, rows: list[dict[str, Any]], titles: dict[str, str] | None = None,
                  salvage: bool = False) -> tuple[list[Record], list[Issue]]:
    good: list[Record] = []
    issues: list[Issue] = []
    for row in rows:
        rec, problems = from_row(spec, row, titles, salvage)
        issues.extend(problems)
        if rec is not None:
            good.append(rec)
    return good, issues


def check_refs(spec: TableSpec, records: list[Record], keys_by_table: dict[str, set[str]]) -> list[Issue]:
    """Dangling references (a code that matches no row of the target table)."""
    issues = []
    for f in spec.fields:
        if f.type != "ref" or f.ref not in keys_by_table:
            continue
        known = keys_by_table[f.ref]
        for rec in records:
            v = getattr(rec, f.name)
            if v is not None and v not in known:
                issues.append(Issue(spec.zh, rec.Id, f.zh, v, "关联的记录不存在，请填写有效的编号"))
    return issues


def to_row(spec: TableSpec, values: dict[str, Any], titles: dict[str, str] | None = None) -> dict[str, Any]:
    """Field-name keyed values → a NocoDB row keyed by title, ready to write."""
    titles = titles or {f.name: f.zh for f in spec.fields}
    out: dict[str, Any] = {}
    for k, v in values.items():
        if k == "Id":
            out["Id"] = v
            continue
        f = spec.field(k)
        if f.computed:
            continue
        out[titles.get(k, f.zh)] = _out_value(f, v)
    return out


def _out_value(f: FieldSpec, v: Any) -> Any:
    if v is None:
        return None
    if f.type == "datetime" and isinstance(v, datetime):
        return v.isoformat(sep=" ", timespec="seconds")
    if f.type == "date" and isinstance(v, (date, datetime)):
        return v.strftime("%Y-%m-%d")
    if f.type == "multiselect" and isinstance(v, (tuple, list)):
        return ",".join(v)
    return v


def _field_adapter(spec: TableSpec, name: str):
    from pydantic import TypeAdapter

    key = (id(model_for(spec)), name)
    if key not in _ADAPTERS:
        _ADAPTERS[key] = TypeAdapter(_annotation(spec.field(name))[0])
    return _ADAPTERS[key]


def check_values(spec: TableSpec, values: dict[str, Any], row_id: int | None = None) -> list[Issue]:
    """Validate values before they are written: NocoDB itself stores "abc" in a Number field
    and rolls "2026-13-45" over into 2027-02-14, so after the write it is too late."""
    issues = []
    for name, v in values.items():
        if name == "Id":
            continue
        try:
            f = spec.field(name)
        except KeyError:
            issues.append(Issue(spec.zh, row_id, name, v, "表中没有这个字段"))
            continue
        if f.computed or v is None:
            continue
        if f.type in ("date", "datetime") and isinstance(v, (date, datetime)):
            if why := implausible(f, v):
                issues.append(Issue(spec.zh, row_id, f.zh, v, why))
            continue
        try:
            out = _field_adapter(spec, name).validate_python(v)
        except ValidationError as exc:
            issues.append(Issue(spec.zh, row_id, f.zh, v, _reason(exc.errors()[0])))
            continue
        if why := implausible(f, out):
            issues.append(Issue(spec.zh, row_id, f.zh, v, why))
            continue
        if f.type == "date" and isinstance(v, str) and out.isoformat() != v[:10]:
            issues.append(Issue(spec.zh, row_id, f.zh, v, "不是有效日期（格式 YYYY-MM-DD）"))
    return issues
