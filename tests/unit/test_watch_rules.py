"""Budget and risk watch as pure rules, on hand-worked numbers (FIN-1..3, RSK-1, RSK-2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace as NS

import pytest

from actops.jobs.watch import budget, messages, risks
from actops.jobs.watch.budget import OK, OVER, WARN
from actops.kernel.calendar import TZ
from actops.kernel.org import build_org
from actops.kernel.settings import Settings

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)  # a Monday


def line(Id=1, activity="ACT-1", category="场地", amount=10_000.0, spent=None, warn_level=None, code=None):
    return NS(Id=Id, code=code or f"BL-{Id}", activity=activity, category=category, amount=amount, spent=spent,
              warn_level=warn_level)


def expense(Id, amount, status="已批准", activity="ACT-1", category="场地"):
    return NS(Id=Id, activity=activity, category=category, amount=amount, status=status)


# ------------------------------------------------------------------ budget


@pytest.mark.req("FIN-2")
@pytest.mark.parametrize(("spent", "amount", "ratio", "level"), [
    (7_999.99, 10_000, 0.8, OK), (8_000.00, 10_000, 0.8, WARN), (9_999.99, 10_000, 0.8, WARN),
    (10_000.00, 10_000, 0.8, OVER), (12_000.00, 10_000, 0.8, OVER),
    (7_000.00, 10_000, 0.7, WARN),  # 10000 × 0.7 is 7000.000000000001 in floats; in cents it is 700000
    (0.00, 0, 0.8, OK), (0.01, 0, 0.8, OVER),  # a line budgeted at zero: any spending is over
])
def test_level_of_a_line_by_the_warn_ratio_and_100_percent(spent, amount, ratio, level):
    assert budget.level_of(budget.cents(spent), budget.cents(amount), ratio) == level


@pytest.mark.req("FIN-1", "FIN-2")
def test_spent_sums_approved_and_paid_expenses_of_the_same_activity_and_category():
    exps = [expense(1, 1200.10), expense(2, 799.90, "已支付"), expense(3, 5000, "待审批"), expense(4, 300, "已驳回"),
            expense(5, 0.1), expense(6, 0.2),  # 0.30 exactly, not 0.30000000000000004
            expense(7, 450, category="餐饮"),  # same activity, other category
            expense(8, 999, activity="ACT-9"),  # an activity that does not exist
            expense(9, 60, category="交通")]  # a category without a line
    sums, found = budget.spent_by_key(exps, {"ACT-1"}, {("ACT-1", "场地"), ("ACT-1", "餐饮")})
    assert sums == {("ACT-1", "场地"): 200_030, ("ACT-1", "餐饮"): 45_000, ("ACT-1", "交通"): 6_000}
    assert [(f.row_id, f.field) for f in found] == [(8, "activity"), (9, "category")]
    assert "ACT-9 不存在" in found[0].why and "没有「交通」科目的预算" in found[1].why


@pytest.mark.req("FIN-2")
def test_a_line_rising_is_alerted_at_its_highest_threshold_and_a_fall_is_not():
    first = budget.judge_line(line(), 850_000, 0.8)  # 8,500 of 10,000: 85 %
    assert (first.changes, first.alert) == ({"spent": 8500.0, "warn_level": WARN}, WARN)
    rerun = budget.judge_line(line(spent=8500.0, warn_level=WARN), 850_000, 0.8)
    assert (rerun.changes, rerun.alert) == ({}, None)
    jump = budget.judge_line(line(spent=1000.0, warn_level=OK), 1_050_000, 0.8)  # 10 % → 105 %: one alert
    assert (jump.changes, jump.alert) == ({"spent": 10500.0, "warn_level": OVER}, OVER)
    fall = budget.judge_line(line(spent=10500.0, warn_level=OVER), 900_000, 0.8)  # an expense corrected
    assert (fall.changes, fall.alert) == ({"spent": 9000.0, "warn_level": WARN}, None)
    again = budget.judge_line(line(spent=9000.0, warn_level=WARN), 1_000_000, 0.8)  # exactly used up
    assert again.alert == OVER  # planned again; its key is the one already sent (see the job test)
    quiet = budget.judge_line(line(), 1_200_000, 0.8, alerts=False)  # archived activity
    assert (quiet.changes["warn_level"], quiet.alert) == (OVER, None)
    empty = budget.judge_line(line(spent=None, warn_level=None), 0, 0.8)
    assert (empty.changes, empty.alert) == ({"spent": 0.0, "warn_level": OK}, None)


@pytest.mark.req("FIN-1")
def test_two_lines_for_one_category_are_reported_on_both_and_not_filled():
    bad, found = budget.ambiguous_lines([line(1), line(2), line(3, category="餐饮")])
    assert bad == {("ACT-1", "场地")}
    assert [f.row_id for f in found] == [1, 2] and "有 2 行" in found[0].why


@pytest.mark.req("FIN-3")
def test_variance_per_category_at_closing():
    lines = [line(1, category="策划", amount=10_000), line(2, category="场地", amount=3_000),
             line(3, category="场地", amount=2_000), line(4, activity="ACT-2", category="策划", amount=99_999)]
    sums = {("ACT-1", "策划"): 800_000, ("ACT-1", "场地"): 600_000, ("ACT-1", "餐饮"): 30_000, ("ACT-2", "策划"): 1}
    assert budget.closing_variance(lines, sums, "ACT-1").splitlines() == [
        "策划：预算 10,000.00 元，实际 8,000.00 元，差异 -2,000.00 元（-20.0%）",
        "场地：预算 5,000.00 元，实际 6,000.00 元，差异 +1,000.00 元（+20.0%）",
        "餐饮：预算 0.00 元，实际 300.00 元，差异 +300.00 元（无预算）",
        "合计：预算 15,000.00 元，实际 14,300.00 元，差异 -700.00 元（-4.7%）",
    ]


@pytest.mark.req("FIN-3")
@pytest.mark.parametrize(("stage", "closed_at", "closing"), [
    ("执行", None, False), ("结项验收", None, True), ("归档", None, True), ("执行", "2026-11-20 10:00:00", True)])
def test_closing_is_the_closing_stages_or_a_closing_time(stage, closed_at, closing):
    assert budget.is_closing(stage, closed_at) is closing


# ------------------------------------------------------------------ risks


def risk(Id=1, code="ACT-1-R1", likelihood=3, impact=4, warned_score=None, status="监控中", updated=None):
    return NS(Id=Id, code=code, activity="ACT-1", category="安全", description="现场人流密集", likelihood=likelihood,
              impact=impact, owner="E04", mitigation="限流", status=status, warned_score=warned_score,
              UpdatedAt=updated, CreatedAt=None)


def hist(Id, code, likelihood, impact, at):
    return NS(Id=Id, code=code, risk="ACT-1-R1", likelihood=likelihood, impact=impact, at=at)


@pytest.mark.req("RSK-1")
@pytest.mark.parametrize(("likelihood", "impact", "bad"), [
    (9, 3, ["likelihood"]), (0, 3, ["likelihood"]), (3, 6, ["impact"]), (None, 3, ["likelihood"]), (5, 5, [])])
def test_likelihood_and_impact_must_be_1_to_5(likelihood, impact, bad):
    found = risks.problems(risk(likelihood=likelihood, impact=impact))
    assert [f.field for f in found] == bad
    assert all("1–5" in f.why for f in found)


@pytest.mark.req("RSK-1")
@pytest.mark.parametrize(("score", "band"), [(1, "低"), (4, "低"), (5, "中"), (9, "中"), (10, "高"), (14, "高"),
                                             (15, "极高"), (25, "极高")])
def test_band_follows_the_schema_formula(score, band):
    assert risks.band(score) == band


@pytest.mark.req("RSK-1", "RSK-2")
def test_risk_warn_level_is_a_score_and_accepts_the_band_name():
    s, issues = Settings.from_rows([{"Id": 1, "key": "risk_warn_level", "value": "极高"}])
    assert (s.risk_warn_level, issues) == (15, [])
    assert Settings().risk_warn_level == 10


@pytest.mark.req("RSK-2")
def test_history_row_on_first_sight_and_on_each_change_and_none_when_unchanged():
    t1 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
    first = risks.judge(risk(updated=t1), [], 10, NOW, set())
    assert first.history == {"code": "ACT-1-R1-H1", "risk": "ACT-1-R1", "at": t1, "likelihood": 3, "impact": 4,
                             "score": 12}
    rows = [hist(7, "ACT-1-R1-H1", 2, 2, t1), hist(9, "ACT-1-R1-H2", 3, 4, t1 + timedelta(days=1))]
    same = risks.judge(risk(warned_score=12), rows, 10, NOW, {"ACT-1-R1-H1", "ACT-1-R1-H2"})
    assert (same.history, same.state) == (None, "H2")
    changed = risks.judge(risk(likelihood=2, impact=4, warned_score=12), rows, 10, NOW, {"ACT-1-R1-H1", "ACT-1-R1-H2"})
    assert changed.history["code"] == "ACT-1-R1-H3" and changed.history["score"] == 8
    assert changed.history["at"] == NOW  # no edit time known: the run's time
    # a hand-made row already holds H3: the next free number is taken
    taken = risks.judge(risk(likelihood=1), rows, 10, NOW, {"ACT-1-R1-H3"})
    assert taken.history["code"] == "ACT-1-R1-H4"


@pytest.mark.req("RSK-2")
def test_the_last_row_by_time_is_the_level_last_seen():
    t = datetime(2026, 11, 1, tzinfo=UTC)
    rows = [hist(1, "ACT-1-R1-H2", 3, 4, t), hist(2, "ACT-1-R1-H1", 1, 1, t - timedelta(days=3))]
    assert risks.last_row(rows).Id == 1
    assert risks.judge(risk(), rows, 10, NOW, set()).history is None


@pytest.mark.req("RSK-2")
def test_a_crossing_warns_once_and_a_drop_rearms_the_warning():
    up = risks.judge(risk(likelihood=3, impact=4), [], 10, NOW, set())  # 12 ≥ 10
    assert (up.warn, up.changes) == (True, {"warned_score": 12})
    held = risks.judge(risk(likelihood=4, impact=4, warned_score=12), [], 10, NOW, set())  # 16: still above
    assert (held.warn, held.changes) == (False, {})
    down = risks.judge(risk(likelihood=3, impact=3, warned_score=12), [], 10, NOW, set())  # 9 < 10
    assert (down.warn, down.changes) == (False, {"warned_score": None})
    below = risks.judge(risk(likelihood=3, impact=3), [], 10, NOW, set())
    assert (below.warn, below.changes) == (False, {})
    exactly = risks.judge(risk(likelihood=2, impact=5), [], 10, NOW, set())  # reaches: 10 ≥ 10
    assert exactly.warn
    closed = risks.judge(risk(likelihood=5, impact=5, status="已关闭"), [], 10, NOW, set())
    assert (closed.warn, closed.changes) == (False, {})


@pytest.mark.req("RSK-2")
def test_the_warning_key_names_the_risk_the_crossing_and_the_level():
    first = risks.judge(risk(), [], 10, NOW, set())
    assert risks.item_key(1, first.state, 10) == "risks:1:warn-H1-L10"
    t = datetime(2026, 11, 1, tzinfo=UTC)
    after_kill = risks.judge(risk(), [hist(5, "ACT-1-R1-H1", 3, 4, t)], 10, NOW, {"ACT-1-R1-H1"})
    assert after_kill.warn and after_kill.state == first.state  # the row went in, the mark did not: same key
    hand = risks.judge(risk(), [hist(5, "手工记录", 3, 4, t)], 10, NOW, {"手工记录"})
    assert hand.state == "R5"


# ------------------------------------------------------------------ recipients and text


def emp(code, name, dept, manager=None, roles=("员工",), active=True, locale="zh-CN", email=True):
    return NS(code=code, name=name, department=dept, manager=manager, email=f"{code.lower()}@x.cn" if email else None,
              wecom_id=None, channel="邮件", locale=locale, active=active, roles=roles)


ORG = build_org([
    emp("E01", "王总", "D01", roles=("总经理",)), emp("E02", "李总监", "D02", "E01"),
    emp("E03", "赵主管", "D02", "E02", active=False), emp("E04", "钱专员", "D02", "E03"),
    emp("E05", "孙财务", "D07", "E01", roles=("财务",)), emp("E06", "周会计", "D07", "E05", roles=("财务",), locale="en"),
    emp("E08", "郑离职", "D07", "E05", roles=("财务",), active=False),
], [NS(code="D02", head="E02"), NS(code="D07", head="E05")])


@pytest.mark.req("FIN-2", "RSK-2")
def test_recipients_owner_and_finance_or_owner_and_the_active_manager_above():
    assert [p.code for p in messages.budget_recipients(ORG, "E04")] == ["E04", "E05", "E06"]
    assert [p.code for p in messages.budget_recipients(ORG, "E05")] == ["E05", "E06"]  # the owner is finance
    assert [p.code for p in messages.risk_recipients(ORG, "E04")] == ["E04", "E02"]  # E03 left: the next up
    assert [p.code for p in messages.risk_recipients(ORG, "E03")] == ["E02"]  # the owner left


@pytest.mark.req("FIN-2", "SEC-3")
def test_a_budget_alert_per_person_and_channel_in_their_language_after_quiet_hours():
    ctx = messages.Context(NOW, NOW + timedelta(hours=10), ORG)
    act = {"name": "春季<b>促销</b>", "owner": "E04"}
    msgs = messages.per_person(messages.budget_alert(line(7, amount=10_000), act, OVER, 10_500.0, 0.8, ctx), ctx)
    assert [(m.recipient, m.kind) for m in msgs] == [("E04", "预算预警"), ("E05", "预算预警"), ("E06", "预算预警")]
    zh, en = msgs[0], msgs[2]
    assert zh.subject == "【预算超支】春季<b>促销</b> 场地 已用 105.0%"
    assert en.subject == "[Over budget] 春季<b>促销</b> 场地: 105.0% used"
    assert "&lt;b&gt;促销" in zh.html and "<b>促销" not in zh.html  # escaped (SEC-3)
    assert "10,500.00" in zh.body and "＜b＞" in zh.body
    assert all(m.items == (f"budget_lines:7:budget-over:{m.recipient}",) and m.not_before == NOW + timedelta(hours=10)
               for m in msgs)
    warn = messages.per_person(messages.budget_alert(line(7), act, WARN, 8_000.0, 0.8, ctx), ctx)
    assert warn[0].items == ("budget_lines:7:budget-warn:E04",) and "预警比例 80%" in warn[0].body
    assert len({m.key for m in msgs + warn}) == 6  # per person and threshold


@pytest.mark.req("RSK-2")
def test_a_risk_warning_names_the_score_and_goes_to_owner_and_manager():
    ctx = messages.Context(NOW, NOW, ORG)
    msgs = messages.per_person(messages.risk_warning(risk(), {"name": "春季促销"}, 12, "高", 10, "risks:1:warn-H1-L10", ctx),
                               ctx)
    assert [(m.recipient, m.kind, m.items) for m in msgs] == [
        ("E04", "风险预警", ("risks:1:warn-H1-L10:E04",)), ("E02", "风险预警", ("risks:1:warn-H1-L10:E02",))]
    assert msgs[0].subject == "【风险预警】春季促销 安全风险 风险值 12（高）"
    assert "3 × 4 = 12（高）" in msgs[0].body and "预警线 10" in msgs[0].body
