"""The watch job through the shared runner on the in-memory NocoDB: budget lines filled and
alerted once per threshold, the variance at closing, risks warned once per crossing with
their history, bad rows reported and skipped, reruns that send and write nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from actops.jobs.watch import JOB
from actops.kernel import runner
from actops.kernel.calendar import TZ
from tests.unit.fake_world import fake_store

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


class Box:
    """An e-mail channel that keeps what it was given."""

    name = "邮件"

    def __init__(self):
        self.sent = []

    def send(self, msg):
        self.sent.append(msg)


@pytest.fixture()
def world():
    clock = {"now": T0}
    api, store = fake_store(clock)
    store.table("departments").create([{"code": "D01", "name": "总经办"}, {"code": "D02", "name": "市场部"},
                                       {"code": "D07", "name": "财务部"}])
    store.table("employees").create([
        {"code": "E01", "name": "王总", "department": "D01", "roles": ["总经理"], "email": "e01@x.cn"},
        {"code": "E02", "name": "李总监", "department": "D02", "manager": "E01", "roles": ["部门负责人"],
         "email": "e02@x.cn"},
        {"code": "E04", "name": "钱专员", "department": "D02", "manager": "E02", "email": "e04@x.cn"},
        {"code": "E05", "name": "孙财务", "department": "D07", "manager": "E01", "roles": ["财务"], "email": "e05@x.cn"},
        {"code": "E06", "name": "前财务", "department": "D07", "manager": "E05", "roles": ["财务"], "email": "e06@x.cn",
         "active": False},
    ])
    store.table("activities").create([
        {"code": "ACT-1", "name": "春季促销", "type": "市场推广", "stage": "执行", "department": "D02", "owner": "E04",
         "start_date": "2026-11-01", "end_date": "2026-11-30", "budget": 15000},
    ])
    store.table("budget_lines").create([
        {"code": "BL-1", "activity": "ACT-1", "category": "场地", "amount": 10000},
        {"code": "BL-2", "activity": "ACT-1", "category": "策划", "amount": 5000},
    ])
    return store, clock, Box()


def run(world):
    store, clock, box = world
    return runner.run(JOB, store, clock["now"].astimezone(TZ), channels={"邮件": box})


def rows(store, table):
    return {r["code"]: r for r in store.table(table).rows()}


def tick(world):
    """Edits a minute apart: the runner's change marks tell them from the last run."""
    world[1]["now"] += timedelta(minutes=1)
    return world[0]


def add_expense(world, code, amount, status="已批准", activity="ACT-1", category="场地"):
    tick(world).table("expenses").create([{"code": code, "activity": activity, "category": category, "amount": amount,
                                     "spent_on": "2026-11-10", "employee": "E04", "status": status}])


def set_status(world, code, status):
    store = tick(world)
    store.table("expenses").update([{"Id": rows(store, "expenses")[code]["Id"], "status": status}])


def sent(box, since=0):
    return sorted((m.address, m.subject) for m in box.sent[since:])


@pytest.mark.req("FIN-1", "FIN-2")
def test_budget_alerts_fire_once_per_threshold_and_a_rerun_sends_nothing(world):
    store, clock, box = world
    add_expense(world, "EXP-1", 6000)
    add_expense(world, "EXP-2", 2500, "已支付")
    add_expense(world, "EXP-3", 9000, "待审批")  # not counted yet
    add_expense(world, "EXP-4", 400, category="策划")
    first = run(world)
    assert first.status == "成功", first.plan.issues
    lines = rows(store, "budget_lines")
    assert (lines["BL-1"]["spent"], lines["BL-1"]["warn_level"]) == (8500, "预警")
    assert (lines["BL-2"]["spent"], lines["BL-2"]["warn_level"]) == (400, "正常")
    # the owner and the active finance person, not the one who left
    assert sent(box) == [("e04@x.cn", "【预算预警】春季促销 场地 已用 85.0%"),
                         ("e05@x.cn", "【预算预警】春季促销 场地 已用 85.0%")]
    assert first.plan.stats["budget_alerts"] == 1

    again = run(world)
    assert again.enqueued == 0 and len(box.sent) == 2 and not again.plan.row_updates

    set_status(world, "EXP-3", "已批准")  # 17,500 of 10,000: the 100 % alert
    run(world)
    assert rows(store, "budget_lines")["BL-1"]["warn_level"] == "超支"
    assert sent(box, 2) == [("e04@x.cn", "【预算超支】春季促销 场地 已用 175.0%"),
                            ("e05@x.cn", "【预算超支】春季促销 场地 已用 175.0%")]

    set_status(world, "EXP-3", "已驳回")  # corrected: back to 85 %, nobody is told
    back = run(world)
    assert rows(store, "budget_lines")["BL-1"]["warn_level"] == "预警" and back.enqueued == 0
    set_status(world, "EXP-3", "已批准")  # over again: the 超支 alert went already
    over_again = run(world)
    assert over_again.plan.stats["budget_alerts"] == 1 and over_again.enqueued == 0
    assert len(box.sent) == 4 and rows(store, "budget_lines")["BL-1"]["warn_level"] == "超支"
    outbox = [r for r in store.table("outbox").rows() if r["job"] == "watch"]
    assert sorted(r["items"] for r in outbox) == ["budget_lines:budget-over:E04|1", "budget_lines:budget-over:E05|1",
                                                  "budget_lines:budget-warn:E04|1", "budget_lines:budget-warn:E05|1"]


@pytest.mark.req("FIN-3")
def test_the_variance_is_written_once_at_closing(world):
    store, clock, box = world
    add_expense(world, "EXP-1", 8000)
    add_expense(world, "EXP-2", 5500, category="策划")
    add_expense(world, "EXP-3", 300, category="餐饮")  # no 餐饮 line: counted in the variance, told on the row
    run(world)
    assert not rows(store, "activities")["ACT-1"]["variance"]  # still in execution
    assert "没有「餐饮」科目的预算" in rows(store, "expenses")["EXP-3"]["data_issue"]
    act = rows(store, "activities")["ACT-1"]
    tick(world).table("activities").update([{"Id": act["Id"], "stage": "结项验收"}])
    run(world)
    variance = rows(store, "activities")["ACT-1"]["variance"]
    assert variance.splitlines() == [
        "策划：预算 5,000.00 元，实际 5,500.00 元，差异 +500.00 元（+10.0%）",
        "场地：预算 10,000.00 元，实际 8,000.00 元，差异 -2,000.00 元（-20.0%）",
        "餐饮：预算 0.00 元，实际 300.00 元，差异 +300.00 元（无预算）",
        "合计：预算 15,000.00 元，实际 13,800.00 元，差异 -1,200.00 元（-8.0%）",
    ]
    add_expense(world, "EXP-4", 100)  # after closing: the variance stays as written
    later = run(world)
    assert rows(store, "activities")["ACT-1"]["variance"] == variance
    assert "activities" not in later.plan.row_updates


@pytest.mark.req("RSK-1", "RSK-2")
def test_a_risk_crossing_is_warned_once_and_every_change_is_kept_once(world):
    store, clock, box = world
    store.table("risks").create([
        {"code": "ACT-1-R1", "activity": "ACT-1", "category": "安全", "description": "现场人流密集", "likelihood": 2,
         "impact": 3, "owner": "E04", "status": "监控中"},
    ])
    run(world)
    hist = rows(store, "risk_history")
    assert [(c, h["likelihood"], h["impact"], h["score"]) for c, h in hist.items()] == [("ACT-1-R1-H1", 2, 3, 6)]
    assert box.sent == []

    def edit(**values):
        clock["now"] += timedelta(hours=1)
        store.table("risks").update([{"Id": rows(store, "risks")["ACT-1-R1"]["Id"], **values}])

    edit(likelihood=4)  # 12: reaches 10
    run(world)
    assert sent(box) == [("e02@x.cn", "【风险预警】春季促销 安全风险 风险值 12（高）"),
                         ("e04@x.cn", "【风险预警】春季促销 安全风险 风险值 12（高）")]
    assert rows(store, "risks")["ACT-1-R1"]["warned_score"] == 12
    rerun = run(world)
    assert rerun.enqueued == 0 and len(box.sent) == 2 and len(rows(store, "risk_history")) == 2

    edit(impact=4)  # 16: still above, no second warning
    run(world)
    edit(impact=2)  # 8: below, the warning is re-armed
    run(world)
    assert rows(store, "risks")["ACT-1-R1"]["warned_score"] is None and len(box.sent) == 2
    edit(impact=5)  # 20: a new crossing
    run(world)
    assert len(box.sent) == 4 and rows(store, "risks")["ACT-1-R1"]["warned_score"] == 20
    hist = rows(store, "risk_history")
    assert [(c, h["score"]) for c, h in sorted(hist.items())] == [
        ("ACT-1-R1-H1", 6), ("ACT-1-R1-H2", 12), ("ACT-1-R1-H3", 16), ("ACT-1-R1-H4", 8), ("ACT-1-R1-H5", 20)]
    run(world)
    assert len(rows(store, "risk_history")) == 5 and len(box.sent) == 4


@pytest.mark.req("RSK-2", "REL-1")
def test_a_run_killed_after_enqueueing_a_warning_does_not_warn_twice(world, monkeypatch):
    store, clock, box = world
    store.table("risks").create([{"code": "ACT-1-R1", "activity": "ACT-1", "category": "客户", "likelihood": 5,
                                  "impact": 5, "owner": "E04"}])
    real = store.table("risk_history").create_new

    def die(rows):
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(store.table("risk_history"), "create_new", die)
    with pytest.raises(KeyboardInterrupt):
        run(world)
    monkeypatch.setattr(store.table("risk_history"), "create_new", real)
    assert [r["status"] for r in store.table("outbox").rows()] == ["待发送", "待发送"]
    run(world)
    assert len(box.sent) == 2 and len(store.table("outbox").rows()) == 2
    assert list(rows(store, "risk_history")) == ["ACT-1-R1-H1"]
    assert rows(store, "risks")["ACT-1-R1"]["warned_score"] == 25


@pytest.mark.req("REL-2")
def test_bad_rows_are_reported_on_their_row_and_skipped(world):
    store, clock, box = world
    add_expense(world, "EXP-1", 900, activity="ACT-9")  # no such activity
    add_expense(world, "EXP-2", 1000)
    store.table("risks").create([
        {"code": "ACT-1-R1", "activity": "ACT-1", "category": "安全", "likelihood": 9, "impact": 3, "owner": "E04"},
        {"code": "ACT-1-R2", "activity": "ACT-1", "category": "质量", "likelihood": 1, "impact": 2, "owner": "E04"},
    ])
    store.table("budget_lines").create([{"code": "BL-3", "activity": "ACT-1", "category": "场地", "amount": 1}])
    result = run(world)
    assert result.status == "部分成功"  # finished, with issues on rows
    exp = rows(store, "expenses")
    assert "【预算与风险监控】" in exp["EXP-1"]["data_issue"] and "ACT-9 不存在" in exp["EXP-1"]["data_issue"]
    assert not exp["EXP-2"]["data_issue"]
    rk = rows(store, "risks")
    assert "可能性应为 1–5" in rk["ACT-1-R1"]["data_issue"] and not rk["ACT-1-R2"]["data_issue"]
    assert list(rows(store, "risk_history")) == ["ACT-1-R2-H1"]  # the bad one has no history
    lines = rows(store, "budget_lines")
    assert all("无法确定费用计入哪一行" in lines[c]["data_issue"] for c in ("BL-1", "BL-3"))
    assert lines["BL-1"]["spent"] is None and lines["BL-2"]["spent"] == 0

    # fixed: the notes go, the rows are watched
    tick(world).table("risks").update([{"Id": rk["ACT-1-R1"]["Id"], "likelihood": 3}])
    store.table("budget_lines").update([{"Id": lines["BL-3"]["Id"], "category": "宣传"}])
    run(world)
    assert not rows(store, "risks")["ACT-1-R1"]["data_issue"]
    assert not rows(store, "budget_lines")["BL-1"]["data_issue"] and rows(store, "budget_lines")["BL-1"]["spent"] == 1000
    assert sorted(rows(store, "risk_history")) == ["ACT-1-R1-H1", "ACT-1-R2-H1"]


@pytest.mark.req("FIN-2", "RSK-2", "REL-1")
def test_each_person_gets_one_message_with_all_of_their_alerts_and_a_dead_runs_share_is_not_resent(world, monkeypatch):
    store, clock, box = world
    add_expense(world, "EXP-1", 8500)  # BL-1 场地 85 %
    store.table("risks").create([{"code": "ACT-1-R1", "activity": "ACT-1", "category": "客户", "likelihood": 5,
                                  "impact": 5, "owner": "E04"}])
    # the run dies after enqueueing: its alerts are in the outbox, the lines never learned them
    monkeypatch.setattr(store.table("budget_lines"), "update", lambda rows: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        run(world)
    monkeypatch.undo()
    assert [r["status"] for r in store.table("outbox").rows()] == ["待发送"] * 3  # E04, E05, E02
    add_expense(world, "EXP-2", 4500, category="策划")  # BL-2 策划 90 %: new since the dead run
    second = run(world)
    by = {}
    for m in box.sent:
        by.setdefault(m.address, []).append(m.subject)
    # E04 (owner of the line and the risk) had one message with both of the dead run's alerts;
    # the new 策划 alert goes alone, not with the two again
    assert sorted(by["e04@x.cn"]) == ["【预算与风险预警】共 2 项：预算预警 1 项，风险预警 1 项", "【预算预警】春季促销 策划 已用 90.0%"]
    assert sorted(by["e05@x.cn"]) == ["【预算预警】春季促销 场地 已用 85.0%", "【预算预警】春季促销 策划 已用 90.0%"]
    assert by["e02@x.cn"] == ["【风险预警】春季促销 客户风险 风险值 25（极高）"]
    both = next(m for m in box.sent if m.subject.startswith("【预算与风险预警】"))
    assert "1. 【预算预警】春季促销 场地" in both.markdown and "2. 【风险预警】" in both.markdown and "1. 【预算预警】" in both.html
    assert second.status == "成功" and rows(store, "budget_lines")["BL-1"]["warn_level"] == "预警"
    assert run(world).enqueued == 0 and len(box.sent) == 5


@pytest.mark.req("FIN-1")
def test_an_approved_claim_missing_a_field_the_budget_does_not_use_still_counts(world):
    """Watch reads what it counts (activity, 科目, amount, status): a claim approved without its
    发生日期 (NocoDB accepts a blank required field) used its budget all the same."""
    store = world[0]
    t = store.table("expenses")
    t.table.create([{t.title("code"): "EXP-ND", t.title("activity"): "ACT-1", t.title("category"): "场地",
                     t.title("amount"): 4000, t.title("employee"): "E04", t.title("status"): "已批准"}])
    result = run(world)
    assert rows(store, "budget_lines")["BL-1"]["spent"] == 4000
    assert not rows(store, "expenses")["EXP-ND"]["data_issue"]
    assert not [i for i in result.plan.issues if i.table == "费用报销"]
