"""Typed settings: SPEC's defaults, every bad value reported on its row, never a silent guess."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from actops.kernel.settings import DEFS, KEY_ZH, SETTINGS, TABLE_ZH, VALUE_ZH, Settings
from actops.schema.spec import find_table

# SPEC.md "Settings and their defaults", written out by hand on purpose.
SPEC_DEFAULTS = {
    "kickoff_lead_days": 5,
    "closing_days": 10,
    "minutes_hours": 24,
    "monthly_report_day": 5,
    "late_streak_limit": 3,
    "approval_sla_days": 2,
    "escalate_after_days": 1,
    "posthoc_days": 3,
    "tier1_amount": 10_000,
    "tier2_amount": 100_000,
    "quiet_start": time(21, 0),
    "quiet_end": time(8, 0),
    "self_eval_day": 5,
    "reward_streak": 2,
    "fail_streak": 2,
    "kpi_score_cap": 1.2,
    "satisfaction_target": 0.9,
    "error_rate_target": 0.02,
    "budget_warn_ratio": 0.8,
    "risk_warn_level": 10,
    "audit_confidence": 0.95,
    "audit_tolerable_rate": 0.05,
    "audit_expected_rate": 0.0,
    "audit_always_amount": 100_000,
    "audit_finding_due_days": 10,
    "full_scan_hours": 24,  # not in SPEC's table: OPS-3's periodic full read (issue 12)
    "general_manager": None,
}


def rows(**kv):
    return [{"Id": i, "key": k, "value": v} for i, (k, v) in enumerate(kv.items(), 1)]


def one(key, value):
    s, issues = Settings.from_rows([{"Id": 7, "key": key, "value": value}])
    return s, issues


@pytest.mark.parametrize("attr", list(SPEC_DEFAULTS))
def test_every_default_is_spec(attr):
    assert getattr(Settings(), attr) == SPEC_DEFAULTS[attr]


def test_every_key_of_the_settings_table_is_typed_once():
    _, spec = find_table("settings")
    seeded = [r["key"] for r in spec.rows]
    assert sorted(seeded) == sorted(DEFS) and len(SETTINGS) == len(DEFS) == 26
    assert (spec.zh, spec.field("key").zh, spec.field("value").zh) == (TABLE_ZH, KEY_ZH, VALUE_ZH)


def test_the_seed_rows_read_back_as_the_defaults_without_issues():
    _, spec = find_table("settings")
    s, issues = Settings.from_rows({"Id": i, **r} for i, r in enumerate(spec.rows, 1))
    assert issues == []
    assert s == Settings()


def test_missing_and_blank_keys_take_the_default_silently():
    s, issues = Settings.from_rows(rows(approval_sla_days="", closing_days=None))
    assert issues == [] and s == Settings()


def test_good_values_are_typed():
    s, issues = Settings.from_rows(rows(
        approval_sla_days="3", minutes_hours=12, quiet_hours="22:30–07:00", risk_warn_level="高",
        general_manager=" E0001 ", audit_confidence="99%",
    ))
    assert issues == []
    assert (s.approval_sla_days, s.minutes_hours, s.risk_warn_level, s.general_manager) == (3, 12, 10, "E0001")
    assert (s.quiet_start, s.quiet_end) == (time(22, 30), time(7, 0))
    assert s.audit_confidence == pytest.approx(0.99)


@pytest.mark.parametrize("typed,expected", [
    ("10000", 10_000), ("10,000", 10_000), ("1万", 10_000), ("10万", 100_000),
    ("1.5万", 15_000), ("¥20,000元", 20_000), (50000, 50_000),
])
def test_amounts_as_staff_type_them(typed, expected):
    s, issues = one("tier1_amount", typed)
    assert issues == []
    assert s.tier1_amount == expected


@pytest.mark.parametrize("typed,expected", [("80%", 0.8), ("0.8", 0.8), ("８０％", 0.8), (0.75, 0.75), ("100%", 1.0)])
def test_ratios_as_percent_or_fraction(typed, expected):
    s, issues = one("budget_warn_ratio", typed)
    assert issues == []
    assert s.budget_warn_ratio == pytest.approx(expected)


@pytest.mark.req("REL-2")
@pytest.mark.parametrize("key,value,words", [
    ("approval_sla_days", "abc", ["不是数字", "0–60", "工作日", "默认值 2"]),
    ("approval_sla_days", "-1", ["超出允许范围", "0–60"]),
    ("approval_sla_days", "1.5", ["不是整数"]),
    ("approval_sla_days", True, ["不是数字"]),
    ("monthly_report_day", "31", ["1–28"]),
    ("kpi_score_cap", "5", ["超出允许范围", "100%–200%", "默认值 120%"]),
    ("budget_warn_ratio", "80", ["0%–100%", "可写 80% 或 0.8"]),
    ("budget_warn_ratio", "1.5", ["超出允许范围"]),
    ("satisfaction_target", "nan", ["不是数字"]),
    ("tier1_amount", "-5000", ["0 元 至 1,000,000,000 元"]),
    ("tier2_amount", "一万", ["不是数字", "默认值 100,000 元"]),
    ("audit_always_amount", "1e18", ["超出允许范围"]),
    ("quiet_hours", "晚上九点到早上八点", ["不是有效的时段", "21:00-08:00"]),
    ("quiet_hours", "25:00-08:00", ["不是有效的时段"]),
    ("risk_warn_level", "特高", ["低/中/高/极高", "默认值 10（高）"]),
    ("general_manager", "张 三", ["不是有效的工号"]),
])
def test_a_bad_value_keeps_the_default_and_is_reported_on_its_row(key, value, words):
    s, issues = one(key, value)
    assert s == Settings()
    [i] = issues
    assert (i.table, i.row_id, i.field, i.value) == ("系统设置", 7, "取值", value)
    assert key in i.reason and "已使用默认值" in i.reason and "请在「系统设置」表中修改" in i.reason
    for w in words:
        assert w in i.reason, (w, i.reason)


@pytest.mark.req("REL-2")
def test_a_bad_value_does_not_stop_the_other_settings():
    s, issues = Settings.from_rows(rows(approval_sla_days="abc", posthoc_days="4"))
    assert s.approval_sla_days == 2 and s.posthoc_days == 4
    assert [i.row_id for i in issues] == [1]


@pytest.mark.req("REL-2")
def test_tier1_above_tier2_is_a_contradiction_not_a_guess():
    s, issues = Settings.from_rows(rows(tier1_amount="20万", tier2_amount="15万"))
    assert (s.tier1_amount, s.tier2_amount) == (10_000, 100_000)
    assert sorted(i.row_id for i in issues) == [1, 2]
    assert all("一级金额上限不能高于二级金额上限" in i.reason for i in issues)
    # Only the one typed is reverted when the other is the default.
    s, issues = Settings.from_rows(rows(tier2_amount="5000"))
    assert s.tier2_amount == 100_000 and [i.row_id for i in issues] == [1]
    assert "10,000 元" in issues[0].reason
    s, issues = Settings.from_rows(rows(tier1_amount="5万", tier2_amount="5万"))
    assert issues == [] and s.tier1_amount == s.tier2_amount == 50_000


@pytest.mark.req("REL-2")
def test_expected_audit_rate_must_stay_below_the_tolerable_rate():
    s, issues = Settings.from_rows(rows(audit_expected_rate="5%"))
    assert s.audit_expected_rate == 0 and issues and "可容忍偏差率" in issues[0].reason


@pytest.mark.req("REL-2")
def test_two_rows_with_one_key_are_both_reported_and_the_default_is_used():
    s, issues = Settings.from_rows([
        {"Id": 3, "key": "approval_sla_days", "value": "5"},
        {"Id": 9, "key": "approval_sla_days", "value": "1"},
    ])
    assert s.approval_sla_days == 2  # never last-one-wins
    assert [(i.row_id, i.field, i.value) for i in issues] == [(3, "参数", "approval_sla_days"),
                                                               (9, "参数", "approval_sla_days")]
    assert "第 9 行" in issues[0].reason and "第 3 行" in issues[1].reason
    assert all("默认值 2" in i.reason for i in issues)


@pytest.mark.req("REL-2")
def test_two_rows_with_the_same_value_use_it_but_are_still_reported():
    s, issues = Settings.from_rows([
        {"Id": 3, "key": "budget_warn_ratio", "value": "0.7"},
        {"Id": 4, "key": "budget_warn_ratio", "value": "70%"},
    ])
    assert s.budget_warn_ratio == pytest.approx(0.7)
    assert [i.row_id for i in issues] == [3, 4] and "取值相同" in issues[0].reason


@pytest.mark.req("REL-2")
def test_an_unknown_key_is_reported_with_a_suggestion():
    s, issues = Settings.from_rows([{"Id": 5, "key": "aproval_sla_days", "value": "3"}])
    assert s == Settings()
    [i] = issues
    assert (i.row_id, i.field, i.value) == (5, "参数", "aproval_sla_days")
    assert "未知的参数" in i.reason and "approval_sla_days" in i.reason


def test_records_of_the_settings_table_are_accepted():
    from actops.records import validate_rows

    _, spec = find_table("settings")
    recs, problems = validate_rows(spec, [{"Id": 1, "参数": "minutes_hours", "取值": 12}])
    assert problems == []
    s, issues = Settings.from_rows(recs)
    assert issues == [] and s.minutes_hours == 12


def test_quiet_hours_wrap_midnight_like_the_policy():
    s = Settings()
    assert s.in_quiet_hours(datetime(2026, 3, 2, 14, 0, tzinfo=UTC))  # 22:00 Shanghai
    assert not s.in_quiet_hours(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))  # 10:00
    end = s.quiet_ends_after(datetime(2026, 3, 2, 14, 0, tzinfo=UTC))
    assert end.isoformat() == "2026-03-03T08:00:00+08:00"
    off, _ = one("quiet_hours", "00:00-00:00")
    assert not off.in_quiet_hours(datetime(2026, 3, 2, 14, 0, tzinfo=UTC))
    with pytest.raises(ValueError):
        s.in_quiet_hours(datetime(2026, 3, 2, 22, 0))  # naive times are refused


def test_settings_are_frozen():
    with pytest.raises(AttributeError):
        Settings().approval_sla_days = 3  # type: ignore[misc]
