"""The evaluations job through the shared runner on the in-memory NocoDB: HR opens a quarter
with one row, rows appear for everyone, scores and grades are written back and explained,
publication tells each person only their own result, and reruns change nothing.

Every expected number is worked out by hand in the comment above it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from actops.jobs.evaluations import JOB
from actops.kernel import runner
from actops.kernel.calendar import TZ
from tests.unit.fake_world import fake_store

T0 = datetime(2026, 10, 12, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


def at(y, m, d, h=12):
    return datetime(y, m, d, h, tzinfo=TZ)


@pytest.fixture()
def world():
    clock = {"now": T0}
    api, store = fake_store(clock)
    store.table("departments").create([{"code": "D01", "name": "总经办"}, {"code": "D02", "name": "市场部"},
                                       {"code": "D03", "name": "技术部"}])
    store.table("employees").create([
        {"code": "E01", "name": "王总", "department": "D01", "roles": ["总经理"], "email": "e01@x.cn"},
        {"code": "E02", "name": "李经理", "department": "D02", "manager": "E01", "roles": ["部门负责人"],
         "email": "e02@x.cn"},
        {"code": "E03", "name": "赵敏", "department": "D02", "manager": "E02", "email": "e03@x.cn"},
        {"code": "E04", "name": "钱多", "department": "D02", "manager": "E02", "email": "e04@x.cn", "late_streak": 3},
        {"code": "E05", "name": "孙工", "department": "D03", "manager": "E01", "roles": ["部门负责人"],
         "email": "e05@x.cn"},
        {"code": "E06", "name": "周工", "department": "D03", "manager": "E05", "email": "e06@x.cn"},
        {"code": "E09", "name": "已离职", "department": "D03", "manager": "E05", "active": False},
    ])
    store.table("departments").update([{"Id": 1, "head": "E01"}, {"Id": 2, "head": "E02"}, {"Id": 3, "head": "E05"}])
    return api, store, clock


def run(store, clock):
    """One run; the clock then moves on a minute, so edits after it are seen as changes."""
    result = runner.run(JOB, store, clock["now"].astimezone(TZ))
    clock["now"] += timedelta(minutes=1)
    return result


def replan(store, clock):
    """What a run would do now, planned in full (a dry run is never skipped as idle)."""
    return runner.run(JOB, store, clock["now"].astimezone(TZ), dry_run=True).plan


def rows(store, table="evaluations"):
    return {r["code"]: r for r in store.table(table).rows()}


def cycle(store, code, kind="季度考评", period="2026-Q3", status="已开启", **kw):
    store.table("eval_cycles").create([{"code": code, "kind": kind, "period": period, "status": status, **kw}])


def set_cycle(store, code, **values):
    rid = rows(store, "eval_cycles")[code]["Id"]
    store.table("eval_cycles").update([{"Id": rid, **values}])


def fill(store, values_by_employee, cyc="2026-Q3-考评"):
    by = {r["employee"]: r["Id"] for r in rows(store).values() if r["cycle"] == cyc}
    store.table("evaluations").update([{"Id": by[e], **v} for e, v in values_by_employee.items()])


@pytest.mark.req("EVA-1", "EVA-5")
def test_one_cycle_row_gives_one_row_per_active_employee_and_a_rerun_adds_nothing(world):
    api, store, clock = world
    cycle(store, "2026-Q3-考评", cross_judges=1)
    run(store, clock)
    got = rows(store)
    # six active employees (E09 has left): one row each, with their supervisor (直属上级)
    assert sorted((r["employee"], r.get("supervisor")) for r in got.values()) == [
        ("E01", None), ("E02", "E01"), ("E03", "E02"), ("E04", "E02"), ("E05", "E01"), ("E06", "E05")]
    assert got["2026-Q3-考评-E03"]["employee_name"] == "赵敏" and got["2026-Q3-考评-E03"]["department"] == "D02"
    # one cross-department judge each: a head of another department, never the person or their supervisor
    heads = {"D01": "E01", "D02": "E02", "D03": "E05"}
    for r in got.values():
        judge = r["judges"]
        assert judge in heads.values() and judge != heads[r["department"]] and judge not in (r["employee"],
                                                                                            r.get("supervisor"))
    again = replan(store, clock)
    assert again.inserts == {} and again.row_updates.get("evaluations", {}) == {}
    run(store, clock)
    assert rows(store) == got


@pytest.mark.req("EVA-1")
def test_a_row_the_form_made_counts_and_two_rows_for_one_person_are_reported(world):
    api, store, clock = world
    cycle(store, "2026-10-自评", kind="月度自评", period="2026-10")
    store.table("evaluations").create([
        {"code": "SE-20261010-0001", "cycle": "2026-10-自评", "employee": "E03", "self_score": 80},
        {"code": "SE-20261010-0002", "cycle": "2026-10-自评", "employee": "E04", "self_score": 70,
         "improvement_plan": "每周复盘"},
        {"code": "SE-20261010-0003", "cycle": "2026-10-自评", "employee": "E04", "self_score": 72,
         "improvement_plan": "每周复盘"}])
    result = run(store, clock)
    got = rows(store)
    # E03 and E04 already have rows: only the other four are created
    assert sorted(r["employee"] for r in got.values()) == ["E01", "E02", "E03", "E04", "E04", "E05", "E06"]
    said = {(i.row_id, i.field): i.reason for i in result.plan.issues if i.table == "考评表"}
    assert "改进计划" in said[(1, "改进计划")]  # a self-evaluation without its improvement plan
    assert "多行考评" in said[(2, "员工工号")] and "多行考评" in said[(3, "员工工号")]


def _scoring_world(store):
    """A quarter with KPI data, monthly self scores, supervisor scores, an earlier quarter."""
    kd = store.table("kpi_definitions")
    kd.update([{"Id": r["Id"], "active": r["code"] in ("K-DONE", "K-SAT")} for r in kd.rows()])
    store.table("activities").create([
        {"code": "ACT-1", "name": "秋季推广", "type": "市场推广", "stage": "归档", "department": "D02", "owner": "E03",
         "start_date": date(2026, 8, 1), "end_date": date(2026, 8, 10), "closed_at": at(2026, 8, 12)},
        {"code": "ACT-2", "name": "客户沙龙", "type": "客户交流", "stage": "执行", "department": "D02", "owner": "E04",
         "start_date": date(2026, 9, 1), "end_date": date(2026, 9, 10)},
        {"code": "ACT-3", "name": "系统升级", "type": "技术", "stage": "归档", "department": "D03", "owner": "E06",
         "start_date": date(2026, 8, 20), "end_date": date(2026, 9, 1), "closed_at": at(2026, 9, 5)}])
    store.table("feedback").create([
        {"code": "FB-1", "activity": "ACT-1", "satisfaction": 3, "submitted_at": at(2026, 8, 13)},
        {"code": "FB-2", "activity": "ACT-3", "satisfaction": 5, "submitted_at": at(2026, 9, 6)}])
    store.table("kpi_results").create([{"code": "R-1", "kpi": "K-SAT", "period": "2026-Q3", "subject": "D02",
                                        "actual": 0.81}])
    for m in ("07", "08", "09"):
        cycle(store, f"2026-{m}-自评", kind="月度自评", period=f"2026-{m}", status="已发布")
    store.table("evaluations").create([
        {"code": "M7-E03", "cycle": "2026-07-自评", "employee": "E03", "self_score": 80},
        {"code": "M9-E03", "cycle": "2026-09-自评", "employee": "E03", "self_score": 90},
        {"code": "M7-E04", "cycle": "2026-07-自评", "employee": "E04", "self_score": 70},
        {"code": "M8-E04", "cycle": "2026-08-自评", "employee": "E04", "self_score": 75},
        {"code": "M9-E04", "cycle": "2026-09-自评", "employee": "E04", "self_score": 80}])
    cycle(store, "2026-Q2-考评", period="2026-Q2", status="已发布")
    store.table("evaluations").create([
        {"code": "Q2-E05", "cycle": "2026-Q2-考评", "employee": "E05", "kpi_score": 105, "published_at": at(2026, 7, 10)},
        {"code": "Q2-E03", "cycle": "2026-Q2-考评", "employee": "E03", "kpi_score": 60, "published_at": at(2026, 7, 10)}])
    store.table("audit_cycles").create([{"code": "2026-Q3", "period_start": date(2026, 7, 1),
                                         "period_end": date(2026, 9, 30)}])
    store.table("audit_findings").create([{"code": "AF-1", "cycle": "2026-Q3", "severity": "严重",
                                           "description": "伪造签到表", "owner": "E06", "fraud": True}])
    cycle(store, "2026-Q3-考评", w_kpi=0.5, w_supervisor=0.3, w_self=0.2, w_judges=0, status="评分中")


@pytest.mark.req("EVA-3", "EVA-4", "EVA-5", "EVA-6", "KPI-2", "RPT-1")
def test_a_quarter_is_scored_graded_explained_and_flagged(world):
    api, store, clock = world
    _scoring_world(store)
    run(store, clock)  # creates the rows (with KPI and self parts)
    fill(store, {"E02": {"supervisor_score": 85}, "E03": {"supervisor_score": 80, "supervisor_comment": "沟通积极"},
                 "E04": {"supervisor_score": 70}, "E05": {"supervisor_score": 90}, "E06": {"supervisor_score": 88}})
    second = run(store, clock)
    got = {r["employee"]: r for r in rows(store).values() if r["cycle"] == "2026-Q3-考评"}
    # KPI (K-DONE and K-SAT, 0.15 each, targets 0.9):
    #   D02 K-DONE: ACT-1 done, ACT-2 open → 1/2 = 0.5 → 0.5/0.9 → 55.56;
    #       K-SAT: computed 0/1 (a 3-star answer) but 0.81 entered → 0.81/0.9 = 0.9 → 90;
    #       part = (55.56×0.15 + 90×0.15) / 0.3 = 72.78
    #   D03 K-DONE 1/1 → 1/0.9 → 111.11; K-SAT 1/1 (5 stars) → 111.11; part 111.11
    #   D01 has neither: no KPI score
    assert {e: r.get("kpi_score") for e, r in got.items()} == {
        "E01": None, "E02": 72.78, "E03": 72.78, "E04": 72.78, "E05": 111.11, "E06": 111.11}
    # self: E03 July 80, August missing, September 90 → 85; E04 (70 + 75 + 80)/3 = 75; the rest none
    assert (got["E03"]["self_score"], got["E04"]["self_score"], got["E02"].get("self_score")) == (85, 75, None)
    # composite, weights 0.5 / 0.3 / 0.2 / 0:
    #   E03 72.78×0.5 + 80×0.3 + 85×0.2 = 36.39 + 24 + 17 = 77.39
    #   E04 36.39 + 70×0.3 + 75×0.2 = 36.39 + 21 + 15 = 72.39
    #   E02 self missing → (36.39 + 85×0.3) / 0.8 = 61.89 / 0.8 = 77.3625 → 77.36
    #   E05 (111.11×0.5 + 90×0.3) / 0.8 = 82.555 / 0.8 = 103.19375 → 103.19
    #   E06 (55.555 + 88×0.3) / 0.8 = 81.955 / 0.8 = 102.44375 → 102.44
    #   E01 nothing at all → held
    assert {e: r.get("composite") for e, r in got.items()} == {
        "E01": None, "E02": 77.36, "E03": 77.39, "E04": 72.39, "E05": 103.19, "E06": 102.44}
    # bands: ≥ 90 S, 70–80 B; ranks in D02: 77.39, 77.36, 72.39 → 1, 2, 3; D03: 1, 2
    assert {e: (r.get("grade"), r.get("bonus_coefficient"), r.get("dept_rank")) for e, r in got.items()} == {
        "E01": (None, None, None), "E02": ("B", 1.0, 2), "E03": ("B", 1.0, 1), "E04": ("B", 1.0, 3),
        "E05": ("S", 1.5, 1), "E06": ("S", 1.5, 2)}
    assert "缺少自评分" in got["E02"]["score_note"] and "/ 0.8 = 77.36" in got["E02"]["score_note"]
    assert "2026-08 未自评" in got["E03"]["score_note"]
    # the manual K-SAT actual got its attainment and score: 0.81/0.9 = 0.9 → 90
    r1 = rows(store, "kpi_results")["R-1"]
    assert (r1["attainment"], r1["score"]) == (0.9, 90)
    # ...and says it overrides the computed 0/1 = 0 beside it (KPI-2)
    assert r1["computed"] == 0 and "覆盖了系统计算值 0" in r1["note"]
    # the computed actuals have rows of their own, with 实际值 left empty (typed, it would override)
    kr = rows(store, "kpi_results")
    d02 = kr["KR-2026-Q3-K-DONE-D02"]
    assert (d02["kpi"], d02["subject"], d02["computed"], d02["attainment"], d02["score"]) == (
        "K-DONE", "D02", 0.5, 0.5556, 55.56) and d02.get("actual") is None and "系统计算" in d02["note"]
    assert kr["KR-2026-Q3-K-SAT-D03"]["computed"] == 1 and kr["KR-2026-Q3-K-SAT-D03"]["score"] == 111.11
    # no data is a row saying so, never a 0
    d01 = kr["KR-2026-Q3-K-DONE-D01"]
    assert d01.get("score") is None and d01.get("computed") is None and "不评分" in d01["note"]
    assert len([k for k in kr if k.startswith("KR-")]) == 5  # K-DONE D01–D03, K-SAT D01 and D03 (D02 is R-1)
    # streaks: E05 Q2 105 and Q3 111.11 → met twice (reward_streak 2); E03 Q2 60 and Q3 72.78 → failed twice
    assert "符合海外培训奖励条件" in got["E05"]["flags"] and "须安排培训或调岗" in got["E03"]["flags"]
    assert "连续逾期提交报告 3 次" in got["E04"]["flags"] and "AF-1" in got["E06"]["flags"]
    # fairness: S/A in D02 0/3, in D03 2/2 → ratio 0 < 0.8: flagged on the cycle row for HR
    cyc_issues = [i.reason for i in second.plan.issues if i.table == "考评周期"]
    assert any("D02" in m and "五分之四规则" in m for m in cyc_issues)
    assert any("K-DONE" in m and "D01" in m and "无数据" in m for m in cyc_issues)
    # the same numbers again: a rerun plans no change to any row
    again = replan(store, clock)
    assert again.inserts == {} and again.row_updates == {}


@pytest.mark.req("EVA-5", "EVA-7")
def test_publishing_tells_each_person_only_their_own_result_and_locks(world):
    api, store, clock = world
    _scoring_world(store)
    run(store, clock)
    fill(store, {"E02": {"supervisor_score": 85}, "E03": {"supervisor_score": 80, "supervisor_comment": "沟通积极"},
                 "E04": {"supervisor_score": 70}, "E05": {"supervisor_score": 90}, "E06": {"supervisor_score": 88}})
    run(store, clock)
    before = {r["employee"]: r for r in rows(store).values() if r["cycle"] == "2026-Q3-考评"}
    set_cycle(store, "2026-Q3-考评", status="已发布")
    published = run(store, clock)
    got = {r["employee"]: r for r in rows(store).values() if r["cycle"] == "2026-Q3-考评"}
    assert sorted(e for e, r in got.items() if r.get("published_at")) == ["E02", "E03", "E04", "E05", "E06"]
    assert {e: got[e].get("composite") for e in got} == {e: before[e].get("composite") for e in before}
    msgs = {m.recipient: m for m in published.plan.messages}
    assert sorted(msgs) == ["E02", "E03", "E04", "E05", "E06"]  # E01 has no composite: not published
    e03 = msgs["E03"]
    assert e03.address == "e03@x.cn" and "77.39" in e03.body and "B" in e03.body and "第 1 名" in e03.body
    assert "沟通积极" in e03.body and "沟通积极" in e03.html
    others = ["王总", "李经理", "钱多", "孙工", "周工", "77.36", "72.39", "103.19", "102.44", "E02", "E04"]
    for m in (e03.body, e03.html, e03.subject):
        assert not [x for x in others if x in m]
    held = [i.reason for i in published.plan.issues if i.table == "考评表"]
    assert any("没有综合得分，未发布" in r for r in held)
    # the cycle is locked: a later edit changes nothing, a rerun writes and sends nothing
    fill(store, {"E03": {"supervisor_score": 20}})
    again = replan(store, clock)
    assert again.messages == [] and again.inserts == {} and again.row_updates.get("evaluations", {}) == {}
    run(store, clock)
    assert rows(store)["2026-Q3-考评-E03"]["composite"] == 77.39


@pytest.mark.req("OPS-3", "KPI-2")
def test_after_edits_a_run_reads_the_edits_and_scores_as_a_read_from_scratch_would(world):
    """The run after an edit patches its local copy of the quarter's rows (kernel.row_cache);
    what it writes is what a dry run reading everything from NocoDB finds nothing to change in."""
    api, store, clock = world
    _scoring_world(store)
    first = run(store, clock).plan.stats
    assert (first["read"], first["read_why"]) == ("full", "no local copy of these rows yet")
    store.table("activities").update([{"Id": 2, "stage": "归档", "closed_at": at(2026, 9, 9)}])  # E04's done
    store.table("feedback").update([{"Id": 1, "activity": "ACT-3"},  # a 3-star answer moves from D02 to D03
                                    {"Id": 2, "submitted_at": at(2026, 10, 20)}])  # a 5-star one leaves the quarter
    clock["now"] += timedelta(minutes=1)
    scratch: list[str] = []  # reads of the quarter's rows from scratch: none
    api.watch(lambda r: scratch.append(w) if r.method == "GET" and ("结束日期" in (w := r.url.params.get("where", ""))
                                                                     or "提交时间" in w) and "UpdatedAt" not in w else None)
    before = rows(store, "kpi_results")
    assert run(store, clock).plan.stats["read"] == "changes"
    assert scratch == []
    after = rows(store, "kpi_results")
    assert after != before
    again = replan(store, clock)
    assert again.inserts == {} and again.row_updates == {}
    got = runner.run(JOB, store, clock["now"].astimezone(TZ), params={"full": True})  # --full: no copy
    assert scratch and got.plan.row_updates == {}
