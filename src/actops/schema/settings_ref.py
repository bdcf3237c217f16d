"""Schema values that copy a setting: ``{setting: tier1_amount}`` in ``schema/*.yaml``.

Some values in the schema are a setting in disguise: the approval route for expenses below
``tier1_amount``, the KPI target that is ``satisfaction_target``, the view「预算预警」that
filters at ``budget_warn_ratio``. Written as a one-key mapping ::

    max_amount: {setting: tier1_amount}                        # a seed-row value
    filters: [[score, gte, {setting: risk_warn_level}]]        # a view-filter value
    filters: [[used_pct, gte, {setting: budget_warn_ratio, times: 100}]]

they are resolved by ``actops schema apply`` from the live 系统设置 row (its 取值), or — when
that table does not exist yet — from the default in the settings seed rows of
``schema/actops/system.yaml``, and converted to the type of the field they land in. ``times``
scales a ratio for a field that shows percent points (0.8 → 80).

This is only about what staff *see*: seed rows and view filters. The engine itself reads
settings at run time (the typed settings object in ``actops.kernel.settings``); nothing here
is meant to be read by a flow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

SETTINGS_TABLE = "settings"  # table name of 系统设置; its key field is "key", its value "value"
NUMERIC = {"number", "decimal", "currency", "percent", "rating"}


class SettingValueError(ValueError):
    """A setting's value cannot become the field's value (said in Chinese, for staff)."""


@dataclass(frozen=True)
class SettingRef:
    key: str
    times: Decimal | None = None

    def __str__(self) -> str:
        return f"{{setting: {self.key}" + (f", times: {self.times}" if self.times is not None else "") + "}"


def parse(value: Any) -> Any:
    """``{setting: k}`` / ``{setting: k, times: n}`` → :class:`SettingRef`; anything else as is."""
    if not isinstance(value, Mapping) or "setting" not in value:
        if isinstance(value, Mapping):
            raise ValueError(f"a mapping as a value must be {{setting: <key>}}, got {dict(value)!r}")
        return value
    extra = set(value) - {"setting", "times"}
    if extra:
        raise ValueError(f"{{setting: …}} takes only `setting` and `times`, not {sorted(extra)}")
    key = value["setting"]
    if not isinstance(key, str) or not key:
        raise ValueError(f"{{setting: …}} needs a setting key, got {key!r}")
    times = value.get("times")
    if times is not None:
        if isinstance(times, bool) or not isinstance(times, int | float):
            raise ValueError(f"{{setting: {key}}}: times must be a number, got {times!r}")
        times = Decimal(str(times))
    return SettingRef(key, times)


def is_ref(value: Any) -> bool:
    return isinstance(value, SettingRef)


def _number(text: str) -> Decimal:
    try:
        d = Decimal(text.strip().replace(",", ""))
    except (InvalidOperation, AttributeError):
        raise SettingValueError(f"「{text}」不是数字") from None
    if not d.is_finite():
        raise SettingValueError(f"「{text}」不是数字")
    return d


def plain(d: Decimal) -> str:
    """A number as staff would write it: ``80`` not ``8E+1``, ``0.02`` not ``0.020``."""
    text = format(d.normalize(), "f")
    return "0" if text in ("-0", "") else text


def convert(raw: str, ref: SettingRef, field_type: str) -> Any:
    """A setting's text value as the value of a field of ``field_type`` (our schema type).

    Numbers come back as ``int`` when whole, else ``float``, so they can be written as JSON;
    text types get the text. Raises :class:`SettingValueError` when the text does not fit.
    """
    text = "" if raw is None else str(raw).strip()
    if not text:
        raise SettingValueError("取值为空")
    if field_type in NUMERIC or field_type == "formula" or ref.times is not None:
        d = _number(text) * (ref.times if ref.times is not None else 1)
        if field_type in ("number", "rating") and d != d.to_integral_value():
            raise SettingValueError(f"「{text}」不是整数")
        return int(d) if d == d.to_integral_value() else float(d)
    if field_type == "checkbox":
        low = text.lower()
        if low in ("true", "1", "是", "yes"):
            return True
        if low in ("false", "0", "否", "no"):
            return False
        raise SettingValueError(f"「{text}」不是是/否")
    return text


def as_filter_value(value: Any) -> str:
    """NocoDB stores filter values as text: the text a resolved value is compared by."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return plain(Decimal(str(value)))
    return str(value)


def same_filter_value(live: Any, wanted: str) -> bool:
    """``"80"`` equals ``"80.0"``; text compares as text."""
    if live is None:
        return False
    try:
        return _number(str(live)) == _number(wanted)
    except SettingValueError:
        return str(live) == wanted


@dataclass
class Resolved:
    value: Any
    note: str | None = None  # why the live value was unusable (then ``value`` is the default's)


class SettingValues:
    """The values placeholders resolve from: live 系统设置 rows over the yaml defaults.

    ``live`` is None when the settings table does not exist (a first apply): then the
    defaults are the truth and nothing is worth a note. A key missing from a live table
    takes its default silently too: the same apply inserts that seed row.
    """

    def __init__(self, defaults: Mapping[str, str], live: Mapping[str, Any] | None = None,
                 conflicts: Iterable[str] = ()) -> None:
        self.defaults = dict(defaults)
        self.live = None if live is None else dict(live)
        self.conflicts = set(conflicts)  # keys with several live rows that disagree

    @classmethod
    def from_rows(cls, defaults: Mapping[str, str], rows: Iterable[tuple[Any, Any]]) -> SettingValues:
        """From live (key, value) pairs; a key on two rows with different values is a conflict."""
        live: dict[str, Any] = {}
        conflicts = set()
        for key, value in rows:
            if not key:
                continue
            if key in live and str(live[key] or "").strip() != str(value or "").strip():
                conflicts.add(key)
            live.setdefault(key, value)
        return cls(defaults, live, conflicts)

    def resolve(self, ref: SettingRef, field_type: str) -> Resolved:
        if ref.key not in self.defaults and (self.live is None or ref.key not in self.live):
            raise SettingValueError(f"系统设置中没有参数 {ref.key}")
        default = self.defaults.get(ref.key)
        if self.live is not None and ref.key in self.live:
            try:
                if ref.key in self.conflicts:
                    raise SettingValueError("有多行且取值不同")
                return Resolved(convert(self.live[ref.key], ref, field_type))
            except SettingValueError as exc:
                if default is None:
                    raise
                return Resolved(convert(default, ref, field_type), f"系统设置 {ref.key} 的取值无效（{exc}）")
        return Resolved(convert(default, ref, field_type))

    def row(self, row: Mapping[str, Any], types: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
        """A seed row with its placeholders resolved, and notes on any fallback."""
        out, notes = {}, []
        for name, value in row.items():
            if is_ref(value):
                r = self.resolve(value, types[name])
                out[name] = r.value
                if r.note:
                    notes.append(f"{name}: {r.note}，按默认值 {self.defaults[value.key]} 写入")
            else:
                out[name] = value
        return out, notes


def default_settings(rows: tuple[Mapping[str, Any], ...]) -> dict[str, str]:
    """key → value of the settings seed rows in ``schema/actops/system.yaml``."""
    return {str(r["key"]): "" if r.get("value") is None else str(r["value"]) for r in rows}
