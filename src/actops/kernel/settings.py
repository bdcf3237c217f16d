"""TEMPORARY stub: replaced by the typed settings module at merge."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from actops.kernel.calendar import TZ, to_local


@dataclass(frozen=True)
class Settings:
    """Settings the ladder and deadlines use; defaults are SPEC's Settings table."""

    approval_sla_days: int = 2
    escalate_after_days: int = 1
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    minutes_hours: int = 24
    posthoc_days: int = 3
    kickoff_lead_days: int = 5
    closing_days: int = 10
    monthly_report_day: int = 5
    late_streak_limit: int = 3

    @classmethod
    def from_settings(cls, settings: Mapping[str, object]) -> tuple[Settings, list[str]]:
        """Parse Settings rows (key → value); a bad value keeps the default and warns.

        Missing keys silently keep their default (SPEC documents the defaults).
        """
        values: dict[str, object] = {}
        warnings: list[str] = []
        defaults = cls()
        for key, (lo, hi, unit) in _INT_SETTINGS.items():
            if key not in settings or settings[key] is None:
                continue
            raw = settings[key]
            parsed = _parse_int(raw)
            if parsed is None or parsed < lo or (hi is not None and parsed > hi):
                rng = f"{lo}–{hi} 之间的整数" if hi is not None else f"不小于 {lo} 的整数"
                warnings.append(
                    f"设置项 {key} 的取值 {raw!r} 无效：应为{rng}（单位：{unit}）；"
                    f"已使用默认值 {getattr(defaults, key)}，请在系统设置表中修改。"
                )
                continue
            values[key] = parsed
        if "quiet_hours" in settings and settings["quiet_hours"] is not None:
            raw = settings["quiet_hours"]
            window = _parse_window(str(raw))
            if window is None:
                warnings.append(
                    f"设置项 quiet_hours 的取值 {raw!r} 无效：应为“开始-结束”，如 21:00-08:00；"
                    "已使用默认值 21:00-08:00，请在系统设置表中修改。"
                )
            else:
                values["quiet_start"], values["quiet_end"] = window
        return cls(**values), warnings  # type: ignore[arg-type]

    def in_quiet_hours(self, moment: datetime) -> bool:
        """Whether ``moment`` (local time) is inside the quiet window; it may wrap midnight."""
        t = to_local(moment).time()
        s, e = self.quiet_start, self.quiet_end
        if s == e:
            return False
        if s < e:
            return s <= t < e
        return t >= s or t < e

    def quiet_ends_after(self, moment: datetime) -> datetime:
        """The end of the quiet window ``moment`` lies in (call only inside the window)."""
        local = to_local(moment)
        end = datetime.combine(local.date(), self.quiet_end, tzinfo=TZ)
        if end <= local:
            end += timedelta(days=1)
        return end


# key: (minimum, maximum or None, unit shown in warnings)
_INT_SETTINGS: dict[str, tuple[int, int | None, str]] = {
    "approval_sla_days": (0, 60, "工作日"),
    "escalate_after_days": (0, 60, "工作日"),
    "minutes_hours": (0, 720, "小时"),
    "posthoc_days": (0, 60, "工作日"),
    "kickoff_lead_days": (0, 60, "工作日"),
    "closing_days": (0, 120, "工作日"),
    "monthly_report_day": (1, 28, "日，28 日以内保证每月都有"),
    "late_streak_limit": (1, None, "次"),
}


def _parse_int(raw: object) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    text = str(raw).strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        f = float(text)
    except ValueError:
        return None
    return int(f) if f.is_integer() else None


_WINDOW = re.compile(
    r"^\s*(\d{1,2})[:：](\d{2})\s*(?:-|–|—|~|～|至|到)\s*(\d{1,2})[:：](\d{2})\s*$"
)


def _parse_window(text: str) -> tuple[time, time] | None:
    m = _WINDOW.match(text)
    if not m:
        return None
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    try:
        return time(h1, m1), time(h2, m2)
    except ValueError:
        return None




def settings_from_rows(rows):
    return Settings.from_settings({r["key"]: r.get("value") for r in rows})
