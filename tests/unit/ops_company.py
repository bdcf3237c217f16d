"""A two-year company in the five operations tables (and the budget lines and risks of its
activities) on the in-memory NocoDB, for the tests that a job reading its period's rows
computes what it would from the whole tables. Built with the edges that matter: times just
inside and outside a month or quarter in Beijing time (a UTC day apart), feedback without
提交时间, rows naming an activity of another year, activities spanning many months."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from actops.kernel.calendar import TZ
from tests.unit.fake_world import small_company

DAYS = [date(2025, 1, 1) + timedelta(days=i) for i in range(730)]
EDGES = [datetime(2026, 6, 30, 23, 30, tzinfo=TZ), datetime(2026, 7, 1, 0, 30, tzinfo=TZ),
         datetime(2026, 9, 30, 23, 30, tzinfo=TZ), datetime(2026, 10, 1, 0, 30, tzinfo=TZ),
         datetime(2026, 6, 30, 16, 30, tzinfo=UTC), datetime(2026, 9, 30, 15, 30, tzinfo=UTC)]


def ops_company(store, seed: int = 7) -> None:
    rnd = random.Random(seed)
    small_company(store)
    store.table("activity_types").create([{"name": "市场推广"}, {"name": "培训"}])
    people = ["E02", "E04", "E05"]
    acts = []
    for i in range(120):
        end = rnd.choice(DAYS)
        closed = None
        if rnd.random() < 0.7:
            closed = rnd.choice(EDGES) if i % 9 == 0 else datetime.combine(
                end + timedelta(days=rnd.randint(-3, 10)), datetime.min.time(), TZ) + timedelta(hours=rnd.randint(0, 23))
        acts.append({"code": f"ACT-{i:03d}", "name": f"活动{i}", "type": rnd.choice(["市场推广", "培训"]),
                     "stage": rnd.choice(["立项申请", "执行", "结项验收"]), "department": rnd.choice(["D02", "D07"]),
                     "owner": rnd.choice(people), "start_date": end - timedelta(days=rnd.choice([0, 5, 40, 400])), "end_date": end,
                     "budget": rnd.choice([None, 10000, 50000]), "actual_cost": rnd.choice([None, 8000, 60000]),
                     "closed_at": closed})
    store.table("activities").create(acts)
    fb = []
    for i in range(150):
        when = None if i % 5 == 0 else (rnd.choice(EDGES) if i % 7 == 0 else datetime.combine(
            rnd.choice(DAYS), datetime.min.time(), TZ) + timedelta(hours=10))
        fb.append({"code": f"FB-{i:03d}", "activity": f"ACT-{rnd.randrange(120):03d}",
                   "satisfaction": rnd.choice([None, 2, 4, 5]), "submitted_at": when})
    store.table("feedback").create(fb)
    store.table("plans").create([{"code": f"P-{d}-{y}", "kind": "年度", "period": str(y), "department": d,
                                  "title": f"{y} {d}"} for d in ("D02", "D07") for y in (2025, 2026)])
    store.table("plan_tasks").create([
        {"code": f"T-{i:03d}", "plan": f"P-{rnd.choice(['D02', 'D07'])}-{rnd.choice([2025, 2026])}",
         "title": f"任务{i}", "owner": rnd.choice(people), "due_date": rnd.choice(DAYS),
         "status": rnd.choice(["未开始", "已完成", "已取消"]), "done_at": rnd.choice([None, EDGES[1]])}
        for i in range(100)])
    store.table("action_items").create([
        {"code": f"AI-{i:03d}", "title": f"事项{i}", "owner": rnd.choice(people),
         "activity": rnd.choice([None, f"ACT-{rnd.randrange(120):03d}"]), "due_date": rnd.choice(DAYS),
         "status": rnd.choice(["未开始", "已完成", "已取消"]), "done_at": rnd.choice([None, *EDGES])}
        for i in range(100)])
    store.table("budget_lines").create([
        {"code": f"BL-{i:03d}", "activity": f"ACT-{rnd.randrange(120):03d}", "category": rnd.choice(["场地", "宣传"]),
         "amount": rnd.choice([1000, 5000]), "spent": rnd.choice([None, 800, 6000])} for i in range(150)])
    store.table("risks").create([
        {"code": f"R-{i:03d}", "activity": f"ACT-{rnd.randrange(120):03d}", "category": "市场", "owner": "E04",
         "likelihood": rnd.randint(1, 5), "impact": rnd.randint(1, 5), "status": rnd.choice(["识别", "已关闭"])}
        for i in range(80)])
