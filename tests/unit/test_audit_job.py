"""The audit job through the shared runner on the in-memory NocoDB: one 审计周期 row becomes
its 审计样本 rows — always-included items apart, the statistical sample, checklists
pre-filled — and the stored seed and parameters draw the same sample again."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from actops.jobs.approvals.job import AUDIT_TAMPERED
from actops.jobs.audit import JOB
from actops.jobs.audit.draw import METHOD_VERSION
from actops.kernel import runner
from actops.kernel.calendar import TZ
from actops.store import Store
from tests.unit.fake_world import DEPARTMENTS, PEOPLE, fake_store

NOW = datetime(2026, 10, 12, 10, 0, tzinfo=TZ)
Q3 = (date(2026, 7, 1), date(2026, 9, 30))
ROUTE = ("部门负责人", "财务", "CEO")


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 7, 1, 9, tzinfo=TZ) + timedelta(days=day, hours=hour)


CLOCK = {"now": NOW}


@pytest.fixture()
def store():
    CLOCK["now"] = NOW
    api, s = fake_store(CLOCK)
    s.table("departments").create(DEPARTMENTS)
    s.table("employees").create(PEOPLE)
    requests, steps = [], []
    for i in range(80):
        code = f"AP-{i:03d}"
        requests.append({"code": code, "kind": "采购", "title": f"采购 {i}", "applicant": "E04",
                         "department": "D02" if i % 3 else "D07", "amount": 1000 + 700 * i, "status": "已通过",
                         "submitted_at": at(i), "history_check": "3:abc"})
        steps += [{"code": f"{code}-S{n}", "request": code, "seq": n, "role": role, "status": "已通过",
                   "decided_at": at(i, n)} for n, role in enumerate(ROUTE, 1)]
    requests += [
        {"code": "AP-EM", "kind": "采购", "title": "紧急采购", "applicant": "E04", "department": "D02",
         "amount": 30000, "status": "已通过", "emergency": True, "emergency_by": "E02", "submitted_at": at(3)},
        {"code": "AP-TAMP", "kind": "采购", "title": "被改动", "applicant": "E04", "department": "D02",
         "amount": 5000, "status": "已通过", "submitted_at": at(4), "audit_flag": AUDIT_TAMPERED},
        {"code": "AP-BIG", "kind": "采购", "title": "大额", "applicant": "E04", "department": "D07",
         "amount": 150000, "status": "已通过", "submitted_at": at(5)},
        {"code": "AP-DRAFT", "kind": "采购", "title": "草稿", "applicant": "E04", "amount": 1, "status": "草稿",
         "submitted_at": at(6)},
        {"code": "AP-Q2", "kind": "采购", "title": "上季度", "applicant": "E04", "amount": 1, "status": "已通过",
         "submitted_at": datetime(2026, 6, 30, 12, tzinfo=TZ)},
    ]
    # AP-BIG went through two of its three steps only: its chain check fails.
    steps += [{"code": f"AP-BIG-S{n}", "request": "AP-BIG", "seq": n, "role": role, "status": "已通过",
               "decided_at": at(5, n)} for n, role in enumerate(ROUTE[:2], 1)]
    s.table("approval_requests").create(requests)
    s.table("approval_steps").create(steps)
    s.table("activities").create([
        {"code": f"ACT-{i:02d}", "name": f"活动{i}", "type": "市场推广", "stage": "执行", "department": "D02",
         "owner": "E04", "start_date": date(2026, 7, 1) + timedelta(days=7 * i), "end_date": date(2026, 10, 30),
         "budget": 20000} for i in range(10)])
    s.table("expenses").create([
        {"code": f"EXP-{i:03d}", "activity": f"ACT-{i % 10:02d}", "category": "物资", "amount": 300 + 97 * i,
         "spent_on": date(2026, 7, 2) + timedelta(days=i), "employee": "E04", "status": "已支付"}
        for i in range(50)])
    s.table("audit_cycles").create([
        {"code": "2026-Q2", "period_start": date(2026, 4, 1), "period_end": date(2026, 6, 30), "status": "已完成",
         "seed": 1},
        {"code": "2026-Q3", "period_start": Q3[0], "period_end": Q3[1]},
    ])
    s.table("audit_findings").create([
        {"code": "2026-Q2-F01", "cycle": "2026-Q2", "severity": "高", "description": "事后补办超期",
         "owner": "E02", "status": "整改中"},
        {"code": "2026-Q2-F02", "cycle": "2026-Q2", "severity": "低", "description": "纪要缺负责人",
         "owner": "E05", "status": "已复查"},
    ])
    return s


def rows(store, table):
    return {r["code"]: r for r in store.table(table).rows()}


def run(store):
    """A run a few minutes after the last one (and after any edit made since)."""
    CLOCK["now"] += timedelta(minutes=5)
    return runner.run(JOB, store, CLOCK["now"])


@pytest.mark.req("AUD-1", "AUD-2", "AUD-3", "AUD-4", "AUD-5")
def test_one_cycle_row_becomes_its_sample(store):
    result = run(store)
    assert result.plan.stats["cycles_drawn"] == 1 and not result.plan.warnings
    cycle = rows(store, "audit_cycles")["2026-Q3"]
    assert cycle["status"] == "已抽样" and cycle["seed"]
    assert (cycle["confidence"], cycle["tolerable_rate"], cycle["expected_rate"]) == (0.95, 0.05, 0)
    assert (cycle["method"], cycle["allocation"]) == ("二项分布", "按比例")
    stored = json.loads(cycle["params"])
    assert stored["method_version"] == METHOD_VERSION and stored["seed"] == cycle["seed"]
    assert stored["params"]["always_amount"] == 100000
    assert stored["kinds"]["审批"]["population"] == 80 and stored["kinds"]["审批"]["size"] == 59

    samples = rows(store, "audit_samples")
    reasons = {r["item_code"]: r["reason"] for r in samples.values()}
    assert reasons["AP-EM"] == "紧急审批"
    assert reasons["AP-TAMP"] == "审批记录被改动"
    assert reasons["AP-BIG"] == "大额事项"
    assert reasons["2026-Q2-F01"] == "上期整改复查" and "2026-Q2-F02" not in reasons
    assert "AP-DRAFT" not in reasons and "AP-Q2" not in reasons
    kinds = [r["item_kind"] for r in samples.values()]
    assert kinds.count("审批") == 3 + 59 and kinds.count("活动") == 10 and kinds.count("整改复查") == 1
    assert 0 < kinds.count("费用") <= 60 and all(r["reason"] == "金额单位抽样" for r in samples.values()
                                                if r["item_kind"] == "费用")
    assert all(r["cycle"] == "2026-Q3" and not r.get("checked") for r in samples.values())

    big = samples["2026-Q3-A-AP-BIG"]
    assert "☒ 否｜审批链完整且按顺序审批" in big["notes"] and big["deviation"]
    ok = next(r for r in samples.values() if r["reason"] == "随机抽样")
    assert "☑ 是｜审批链完整且按顺序审批" in ok["notes"] and not ok.get("deviation")
    expense = next(r for r in samples.values() if r["item_kind"] == "费用")
    assert "☒ 否｜票据齐全" in expense["notes"]  # none of the claims has a receipt


@pytest.mark.req("AUD-4")
def test_the_stored_seed_draws_the_same_sample_and_a_new_seed_another(store):
    run(store)
    first = set(rows(store, "audit_samples"))
    cycle = rows(store, "audit_cycles")["2026-Q3"]
    fingerprint = json.loads(cycle["params"])["fingerprint"]
    assert run(store).plan.stats["cycles_drawn"] == 0  # drawn once: nothing to do

    store.table("audit_cycles").update([{"Id": cycle["Id"], "status": "待抽样"}])
    again = run(store)
    assert again.plan.stats["rows_new"] == again.plan.stats["rows_stale"] == 0
    assert set(rows(store, "audit_samples")) == first
    assert json.loads(rows(store, "audit_cycles")["2026-Q3"]["params"])["fingerprint"] == fingerprint

    store.table("audit_cycles").update([{"Id": cycle["Id"], "status": "待抽样", "seed": cycle["seed"] + 1}])
    other = run(store)
    assert other.plan.stats["rows_new"] > 0 and other.plan.stats["rows_stale"] > 0
    stale = [i for i in other.plan.issues if i.table == "审计样本"]
    assert stale and all("不在本周期最近一次抽样的结果中" in i.reason for i in stale)


@pytest.mark.req("AUD-2")
def test_parameters_that_admit_no_sample_are_said_on_the_cycle(store):
    cycle = rows(store, "audit_cycles")["2026-Q3"]
    store.table("audit_cycles").update([{"Id": cycle["Id"], "tolerable_rate": 0.05, "expected_rate": 0.05}])
    result = run(store)
    assert result.plan.stats["cycles_drawn"] == 0
    assert any(i.table == "审计周期" and "无法确定样本量" in i.reason for i in result.plan.issues)
    assert rows(store, "audit_cycles")["2026-Q3"]["status"] == "待抽样"
    assert not rows(store, "audit_samples")


@pytest.mark.req("AUD-1", "OPS-3")
def test_whole_rows_are_read_for_the_items_drawn_only(store, monkeypatch):
    """The population streams into small items; then the rows of the items drawn (and their
    steps) are read whole by key, in ``in`` lookups of 50: a request left out of the sample is
    counted but never held, and its steps are never read (bench/audit.py: the steps table was
    read whole, 52 pages at 100,000 items, and every row was held: 876 MB)."""
    from actops.jobs.audit import draw, job

    store.table("approval_requests").create([
        {"code": f"AP-X{i:03d}", "kind": "采购", "title": "无步骤", "applicant": "E04", "amount": 10,
         "status": "已驳回", "submitted_at": at(1)} for i in range(150)])
    store.table("approval_steps").create([{"code": "ORPHAN-S1", "request": "AP-GONE", "seq": 1, "role": "财务"}])
    steps_id = store.table("approval_steps").table.id
    acts_id = store.table("activities").table.id
    reads, act_reads = [], []
    real = store.api.request

    def spy(method, path, **kw):
        if method == "GET" and path == f"/api/v2/tables/{steps_id}/records":
            reads.append(kw.get("params"))
        if method == "GET" and path == f"/api/v2/tables/{acts_id}/records":
            act_reads.append(kw.get("params"))
        return real(method, path, **kw)

    monkeypatch.setattr(store.api, "request", spy)
    fresh = Store(store.api, store.prefix, store.specs)  # as a run: no key maps from the seeding
    inp = job.load(fresh, runner.RunContext("r", NOW))
    # the frame's page of activities, then the drawn ones by key: the expenses' 活动 links are
    # mapped from the keys the frame read (no lookup of the activities by Id or key column)
    assert len(act_reads) == 2 and ",in," in act_reads[1]["where"], act_reads
    result = next(iter(inp.draws.values()))
    assert isinstance(result, draw.Draw) and result.plans["approval"].population == 80 + 150
    drawn = {p.key for p in result.picks if p.kind == "approval"}
    assert set(inp.src.by_request) == drawn and len(drawn) < 80 + 150 + 3
    assert len(reads) == -(-len(drawn) // 50) and all(",in," in r["where"] for r in reads)
    with_steps = {k for k in drawn if k.startswith("AP-") and not k.startswith("AP-X") and k not in ("AP-EM", "AP-TAMP")}
    assert sorted(inp.src.steps) == sorted(with_steps) and "AP-GONE" not in inp.src.steps
    assert [s.seq for s in inp.src.steps["AP-BIG"]] == [1, 2]


@pytest.mark.req("AUD-1", "AUD-5")
def test_a_drawn_item_whose_row_has_a_bad_value_is_sampled_and_said(store):
    """The population reads the few columns it counts; a claim with a value missing elsewhere
    (NocoDB takes a row without its 科目) is still in it (an audit does not lose a bad row):
    drawn, its sample row says the pre-check could not be made, and the claim's row gets its
    issue."""
    t = store.table("expenses")
    ti = t.titles
    t.table.create([{ti["code"]: "EXP-BAD", ti["activity"]: "ACT-01", 
                     ti["amount"]: 250000, ti["spent_on"]: "2026-07-15", ti["employee"]: "E04",
                     ti["status"]: "已支付"}])
    result = run(store)
    bad = rows(store, "audit_samples")["2026-Q3-E-EXP-BAD"]
    assert bad["reason"] == "大额事项" and "☐ 待审计员判断｜系统未能预检：该事项在「费用报销」中的行有数据问题" in bad["notes"]
    said = [i for i in result.plan.issues if i.table == "费用报销"]
    assert len(said) == 1 and said[0].field == "科目" and "必填" in said[0].reason
    assert "科目" in (rows(store, "expenses")["EXP-BAD"]["data_issue"] or "")


@pytest.mark.req("AUD-1", "AUD-3")
def test_a_drawn_key_no_filter_can_carry_is_sampled_and_the_run_goes_on(store):
    """NocoDB splits an ``in`` list at commas: a claim keyed 「EXP,9」 cannot be looked up by key.
    It is in the population (always included: a large amount) and sampled; its pre-check says
    it could not be made; the rest of the draw goes on."""
    store.table("expenses").create([{"code": "EXP,9", "activity": "ACT-02", "category": "物资", "amount": 180000,
                                     "spent_on": date(2026, 8, 3), "employee": "E04", "status": "已支付"}])
    result = run(store)
    assert result.status == "成功" and result.plan.stats["cycles_drawn"] == 1
    odd = rows(store, "audit_samples")["2026-Q3-E-EXP,9"]
    assert odd["reason"] == "大额事项" and "系统未能预检" in odd["notes"]
    assert sum(1 for r in rows(store, "audit_samples").values() if r["item_kind"] == "费用") > 1

