"""Typed settings: every key of SPEC's "Settings and their defaults", one line each (REL-2).

Staff edit the 系统设置 table by hand, so every value is checked: a value that is not of the
right kind, is out of range or contradicts another setting keeps the default and becomes an
:class:`~actops.records.Issue` on its row (table 系统设置, field 取值) saying what is wrong,
what is allowed, which default is used and what to do. Unknown keys and keys on two rows are
reported too. Only a key that is absent (or left blank) takes its default silently.

Adding a setting is one line in :data:`SETTINGS` (plus its seed row in schema/actops/system.yaml).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from actops.kernel.calendar import TZ, to_local
from actops.records import Issue

TABLE_ZH = "系统设置"
KEY_ZH = "参数"
VALUE_ZH = "取值"
FIX = f"请在「{TABLE_ZH}」表中修改该行的「{VALUE_ZH}」"


# ------------------------------------------------------------------------ parsers
# A parser turns what staff typed into a value or raises ValueError("<what is wrong>"),
# describes what is allowed (for the message) and shows a value the way staff write it.


def _text(raw: object) -> str:
    if isinstance(raw, bool):
        raise ValueError("不是数字")
    return str(raw).strip()


def _number(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise ValueError("不是数字") from None
    if not math.isfinite(v):
        raise ValueError("不是数字")
    return v


def _in_range(v: float, d: SettingDef) -> None:
    if (d.lo is not None and v < d.lo) or (d.hi is not None and v > d.hi):
        raise ValueError("超出允许范围")


class _Int:
    def __call__(self, raw: object, d: SettingDef) -> int:
        v = _number(_text(raw))
        if not v.is_integer():
            raise ValueError("不是整数")
        _in_range(v, d)
        return int(v)

    def describe(self, d: SettingDef) -> str:
        if d.hi is None:
            return f"不小于 {d.lo} 的整数（单位：{d.unit_zh}）"
        return f"{d.lo}–{d.hi} 之间的整数（单位：{d.unit_zh}）"

    def show(self, v: Any, d: SettingDef) -> str:
        return f"{v} {d.unit_zh}"


class _Ratio:
    """"80%" and "0.8" are the same value; "80" is not (it would be 8000 %)."""

    def __call__(self, raw: object, d: SettingDef) -> float:
        text = _text(raw).replace("％", "%")
        v = _number(text[:-1].strip()) / 100 if text.endswith("%") else _number(text)
        _in_range(v, d)
        return v

    def describe(self, d: SettingDef) -> str:
        return f"{_pct(d.lo)}–{_pct(d.hi)} 之间的比例（可写 {_pct(d.default)} 或 {d.default:g}）"

    def show(self, v: Any, d: SettingDef) -> str:
        return _pct(v)


class _Amount:
    """CNY as staff write it: "10000", "10,000", "1万", "10万", "¥10,000", "10000元"."""

    _UNITS = {"万": 10_000, "亿": 100_000_000}

    def __call__(self, raw: object, d: SettingDef) -> float:
        text = re.sub(r"[\s,，¥￥]", "", _text(raw)).removesuffix("元")
        factor = 1
        if text[-1:] in self._UNITS:
            text, factor = text[:-1], self._UNITS[text[-1]]
        v = _number(text) * factor
        _in_range(v, d)
        return v

    def describe(self, d: SettingDef) -> str:
        return f"{_yuan(d.lo)} 至 {_yuan(d.hi)} 之间的金额（可写 10000、10,000 或 1万）"

    def show(self, v: Any, d: SettingDef) -> str:
        return _yuan(v)


class _Level:
    """A risk score 1–25, or the band name the 风险等级 formula gives (低/中/高/极高)."""

    NAMES = {"低": 1, "中": 5, "高": 10, "极高": 15}

    def __call__(self, raw: object, d: SettingDef) -> int:
        text = _text(raw)
        return self.NAMES[text] if text in self.NAMES else INT(text, d)

    def describe(self, d: SettingDef) -> str:
        return f"{d.lo}–{d.hi} 之间的风险值，或等级名称 低/中/高/极高（即 1/5/10/15）"

    def show(self, v: Any, d: SettingDef) -> str:
        names = {n: k for k, n in self.NAMES.items()}
        return f"{v}（{names[v]}）" if v in names else str(v)


_WINDOW = re.compile(
    r"^\s*(\d{1,2})[:：](\d{2})\s*(?:-|–|—|~|～|至|到)\s*(\d{1,2})[:：](\d{2})\s*$"
)


class _Window:
    def __call__(self, raw: object, d: SettingDef) -> tuple[time, time]:
        m = _WINDOW.match(_text(raw))
        if m:
            h1, m1, h2, m2 = (int(g) for g in m.groups())
            try:
                return time(h1, m1), time(h2, m2)
            except ValueError:
                pass
        raise ValueError("不是有效的时段")

    def describe(self, d: SettingDef) -> str:
        return "“开始-结束”的时段，如 21:00-08:00（开始与结束相同表示不设免打扰）"

    def show(self, v: Any, d: SettingDef) -> str:
        return f"{v[0]:%H:%M}-{v[1]:%H:%M}"


class _EmployeeCode:
    """A 工号, or blank. Whether it names an active employee is checked against the org
    (:func:`actops.kernel.contradictions.setting_names_employee`)."""

    def __call__(self, raw: object, d: SettingDef) -> str | None:
        text = str(raw).strip()
        if len(text) > 64 or re.search(r"\s", text):
            raise ValueError("不是有效的工号")
        return text or None

    def describe(self, d: SettingDef) -> str:
        return "员工表中在职员工的工号，或留空"

    def show(self, v: Any, d: SettingDef) -> str:
        return v or "（空）"


INT, RATIO, AMOUNT, LEVEL, WINDOW, EMPLOYEE = _Int(), _Ratio(), _Amount(), _Level(), _Window(), _EmployeeCode()


def _pct(v: float | None) -> str:
    return "" if v is None else f"{v * 100:g}%"


def _yuan(v: float | None) -> str:
    return "" if v is None else f"{v:,.0f} 元" if float(v).is_integer() else f"{v:,.2f} 元"


# ------------------------------------------------------------------------ the table


@dataclass(frozen=True)
class SettingDef:
    key: str  # as in the 参数 column
    type: Any  # of the attribute(s) on Settings
    default: Any  # SPEC's default (a tuple when the key fills several attributes)
    lo: float | None
    hi: float | None
    unit_zh: str
    parse: Any  # one of INT, RATIO, AMOUNT, LEVEL, WINDOW, EMPLOYEE
    attrs: tuple[str, ...] = ()  # attribute names when they are not the key

    @property
    def names(self) -> tuple[str, ...]:
        return self.attrs or (self.key,)

    def show(self, v: Any) -> str:
        return self.parse.show(v, self)


_MAX_AMOUNT = 1_000_000_000.0
AMT_RANGE = (0.0, _MAX_AMOUNT)

SETTINGS: tuple[SettingDef, ...] = (
    SettingDef("kickoff_lead_days", int, 5, 0, 60, "工作日", INT),
    SettingDef("closing_days", int, 10, 0, 120, "工作日", INT),
    SettingDef("minutes_hours", int, 24, 0, 720, "小时", INT),
    SettingDef("monthly_report_day", int, 5, 1, 28, "日（28 日以内保证每月都有）", INT),
    SettingDef("late_streak_limit", int, 3, 1, 99, "次", INT),
    SettingDef("approval_sla_days", int, 2, 0, 60, "工作日", INT),
    SettingDef("escalate_after_days", int, 1, 0, 60, "工作日", INT),
    SettingDef("posthoc_days", int, 3, 0, 60, "工作日", INT),
    SettingDef("tier1_amount", float, 10_000.0, *AMT_RANGE, "元", AMOUNT),
    SettingDef("tier2_amount", float, 100_000.0, *AMT_RANGE, "元", AMOUNT),
    SettingDef("quiet_hours", time, (time(21, 0), time(8, 0)), None, None, "时段", WINDOW,
               attrs=("quiet_start", "quiet_end")),
    SettingDef("self_eval_day", int, 5, 1, 28, "日（28 日以内保证每月都有）", INT),
    SettingDef("reward_streak", int, 2, 1, 20, "季度", INT),
    SettingDef("fail_streak", int, 2, 1, 20, "季度", INT),
    SettingDef("kpi_score_cap", float, 1.2, 1.0, 2.0, "比例", RATIO),
    SettingDef("satisfaction_target", float, 0.9, 0.0, 1.0, "比例", RATIO),
    SettingDef("error_rate_target", float, 0.02, 0.0, 1.0, "比例", RATIO),
    SettingDef("budget_warn_ratio", float, 0.8, 0.0, 1.0, "比例", RATIO),
    SettingDef("risk_warn_level", int, 10, 1, 25, "分", LEVEL),
    SettingDef("audit_confidence", float, 0.95, 0.5, 0.99, "比例", RATIO),
    SettingDef("audit_tolerable_rate", float, 0.05, 0.01, 0.5, "比例", RATIO),
    SettingDef("audit_expected_rate", float, 0.0, 0.0, 0.5, "比例", RATIO),
    SettingDef("audit_always_amount", float, 100_000.0, *AMT_RANGE, "元", AMOUNT),
    SettingDef("audit_finding_due_days", int, 10, 1, 120, "工作日", INT),
    # OPS-3: jobs that read only changed rows still read everything this often (a link picked
    # in a grid does not move UpdatedAt; the scheduled full read is the source of truth).
    SettingDef("full_scan_hours", int, 24, 1, 720, "小时", INT),
    SettingDef("general_manager", str | None, None, None, None, "工号", EMPLOYEE),
)
DEFS: dict[str, SettingDef] = {d.key: d for d in SETTINGS}

# Pairs that must hold together: (lower key, upper key, holds(lower, upper), what it means).
CONSTRAINTS: tuple[tuple[str, str, Callable[[Any, Any], bool], str], ...] = (
    ("tier1_amount", "tier2_amount", lambda a, b: a <= b, "一级金额上限不能高于二级金额上限"),
    ("audit_expected_rate", "audit_tolerable_rate", lambda a, b: a < b,
     "预期偏差率必须低于可容忍偏差率，否则无法计算样本量"),
)


def _fields_from_table(cls: type) -> type:
    """Give the class one attribute per setting (type and default from :data:`SETTINGS`)."""
    annotations: dict[str, Any] = {}
    for d in SETTINGS:
        defaults = d.default if d.attrs else (d.default,)
        for name, default in zip(d.names, defaults, strict=True):
            annotations[name] = d.type
            setattr(cls, name, default)
    cls.__annotations__ = annotations
    return dataclass(frozen=True)(cls)


@_fields_from_table
class Settings:
    """One typed attribute per setting (see :data:`SETTINGS`); ``Settings()`` is SPEC's defaults.

    Attribute names are the keys, except quiet_hours → ``quiet_start``/``quiet_end``.
    """

    @classmethod
    def from_rows(cls, rows: Iterable[Any]) -> tuple[Settings, list[Issue]]:
        """Rows of 系统设置 (records or dicts with ``Id``, ``key``, ``value``) → settings, issues."""
        issues: list[Issue] = []
        by_key: dict[str, list[tuple[int | None, Any]]] = {}
        for row in rows:
            rid, key, raw = _get(row, "Id"), str(_get(row, "key") or "").strip(), _get(row, "value")
            if not key:
                continue  # a required-field issue of the row itself (records.from_row)
            if key not in DEFS:
                issues.append(_unknown(rid, key))
            else:
                by_key.setdefault(key, []).append((rid, raw))
        values: dict[str, Any] = {}
        rows_of: dict[str, list[tuple[int | None, Any]]] = {}
        for key, entries in by_key.items():
            d = DEFS[key]
            value, found = (_one(d, *entries[0]) if len(entries) == 1 else _duplicates(d, entries))
            issues += found
            if value is not _DEFAULT:
                values[key], rows_of[key] = value, entries
        for lo_key, hi_key, holds, meaning in CONSTRAINTS:
            lo_v = values.get(lo_key, DEFS[lo_key].default)
            hi_v = values.get(hi_key, DEFS[hi_key].default)
            if holds(lo_v, hi_v):
                continue
            for key, other in ((lo_key, hi_key), (hi_key, lo_key)):
                if key in values:
                    d, o = DEFS[key], DEFS[other]
                    other_v = values.get(other, o.default)
                    for rid, raw in rows_of[key]:
                        issues.append(Issue(TABLE_ZH, rid, VALUE_ZH, raw, (
                            f"{key} 的取值 {d.show(values[key])} 与 {other}（{o.show(other_v)}）矛盾："
                            f"{meaning}；已使用默认值 {d.show(d.default)}；请同时核对这两项的「{VALUE_ZH}」")))
            for key in (lo_key, hi_key):
                values.pop(key, None)
        kwargs: dict[str, Any] = {}
        for key, v in values.items():
            d = DEFS[key]
            kwargs.update(zip(d.names, v if d.attrs else (v,), strict=True))
        return cls(**kwargs), issues

    def in_quiet_hours(self, moment: datetime) -> bool:
        """Whether ``moment`` (local time) is inside the quiet window; it may wrap midnight."""
        t = to_local(moment).time()
        s, e = self.quiet_start, self.quiet_end  # type: ignore[attr-defined]
        if s == e:
            return False
        if s < e:
            return s <= t < e
        return t >= s or t < e

    def quiet_ends_after(self, moment: datetime) -> datetime:
        """The end of the quiet window ``moment`` lies in (call only inside the window)."""
        local = to_local(moment)
        end = datetime.combine(local.date(), self.quiet_end, tzinfo=TZ)  # type: ignore[attr-defined]
        if end <= local:
            end += timedelta(days=1)
        return end


_DEFAULT = object()  # "no usable value in the rows: keep the default"
_BAD = object()  # a value that does not parse


def _get(row: Any, name: str) -> Any:
    return row.get(name) if isinstance(row, Mapping) else getattr(row, name, None)


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _parse(d: SettingDef, raw: Any) -> Any:
    """The value, _DEFAULT for a blank cell, or ValueError("<what is wrong>")."""
    return _DEFAULT if _blank(raw) else d.parse(raw, d)


def _one(d: SettingDef, rid: int | None, raw: Any) -> tuple[Any, list[Issue]]:
    try:
        return _parse(d, raw), []
    except ValueError as exc:
        return _DEFAULT, [Issue(TABLE_ZH, rid, VALUE_ZH, raw, (
            f"{d.key} 的取值 {raw} {exc}：应为 {d.parse.describe(d)}；"
            f"已使用默认值 {d.show(d.default)}；{FIX}"))]


def _duplicates(d: SettingDef, entries: list[tuple[int | None, Any]]) -> tuple[Any, list[Issue]]:
    """One key on several rows: never last-one-wins. Equal values are used (nothing
    contradicts), different ones fall back to the default; either way every row is told."""
    parsed = []
    for _, raw in entries:
        try:
            parsed.append(_parse(d, raw))
        except ValueError:
            parsed.append(_BAD)
    agree = _BAD not in parsed and all(p == parsed[0] for p in parsed)
    value = parsed[0] if agree else _DEFAULT
    issues = []
    for rid, raw in entries:
        others = "、".join(str(r) for r, _ in entries if r is not None and r != rid)
        where = f"第 {others} 行" if others else "其他行"
        if agree:
            outcome = ("各行取值相同，已使用该值" if value is not _DEFAULT
                       else f"各行均为空，已使用默认值 {d.show(d.default)}")
        else:
            outcome = f"各行取值不一致，无法判断以哪一行为准，已使用默认值 {d.show(d.default)}"
        issues.append(Issue(TABLE_ZH, rid, KEY_ZH, d.key, (
            f"参数 {d.key} 与{where}重复（本行取值：{'' if _blank(raw) else raw}）；"
            f"{outcome}；请删除多余的行，只保留一行")))
    return value, issues


def _unknown(rid: int | None, key: str) -> Issue:
    near = difflib.get_close_matches(key, DEFS, n=1)
    hint = f"是否应为 {near[0]}？" if near else ""
    return Issue(TABLE_ZH, rid, KEY_ZH, key, (
        f"未知的参数 {key}，系统不会使用它；{hint}请检查拼写，或删除该行"))


def setting_value(key: str, settings: Settings) -> Any:
    """The parsed value of ``key`` as stored on ``settings`` (a tuple for multi-attribute keys)."""
    d = DEFS[key]
    vals = tuple(getattr(settings, n) for n in d.names)
    return vals if d.attrs else vals[0]
