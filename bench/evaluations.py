"""A quarterly evaluation cycle at scale: 5,000 employees, a year of activity data.

    .venv/bin/python bench/evaluations.py [--people 5000]

The company: 20 departments, 5,000 people (heads, 主管, staff), a year (2025-10 to 2026-09)
of 活动 (3 a person), 活动反馈 (one for half of the finished ones), 工作计划 and 计划任务
(2 a person), 待办事项 (3 a person), the KPI实绩 people enter (协作效率, 差错率, 触达 per
department and quarter; 转化率 per 销售 owner), audit findings (some 数据造假), the
published cycles before (2026-Q1, 2026-Q2 考评, the three 月度自评 of Q3, one row per person
each) and 2026-Q3-考评 in 评分中 without rows. Loaded by bench/fastload.py (seconds; through
the API the links make it an hour), in a child process so that peak memory is the job's.

Prints, for the first run (5,000 考评表 rows made and scored) and the next two: API calls by
method against the pages and batches the data implies, and wall time as a ratio of the raw
ceiling measured in the same run — a raw paged read of the tables the job reads (the store's
columns; the best of two) plus raw batch writes of what the job wrote (its inserts, into a scratch cycle,
deleted afterwards; its updates, sent again) — and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import date, datetime, timedelta

from common import (
    batches,
    bench_store,
    drop_bases,
    fresh,
    http_client,
    in_child,
    open_store,
    pages,
    peak_rss_mb,
    raw_ceiling,
    raw_patch,
    raw_write,
    timed,
    ts,
)
from fastload import load

from actops.jobs import evaluations
from actops.kernel.calendar import TZ, prc_calendar_rows
from actops.nocodb import F
from actops.store import Store

OPS = ["activities", "feedback", "plans", "plan_tasks", "action_items"]
READ = ["settings", "calendar", "employees", "departments", "eval_cycles", "evaluations", "grade_bands",
        "kpi_definitions", "kpi_results", *OPS, "audit_findings"]
TABLES = {*READ, "activity_types", "customers", "meetings", "approval_requests", "audit_cycles", "audit_samples",
          "outbox", "run_log"}
NOW = datetime(2026, 10, 20, 10, 0, tzinfo=TZ)  # a Tuesday, outside quiet hours
CYCLE = "2026-Q3-考评"
TYPES = ["市场推广", "客户交流", "团队建设", "培训", "销售", "技术"]
DEPTS = [f"D{d:02d}" for d in range(1, 21)]


def company(people: int, seed: int = 20261020) -> dict[str, list[dict]]:
    rng = random.Random(seed)
    t: dict[str, list[dict]] = {n: [] for n in (
        "calendar", "departments", "employees", "activities", "feedback", "plans", "plan_tasks", "action_items",
        "kpi_results", "audit_cycles", "audit_findings", "eval_cycles", "evaluations")}
    t["calendar"] = prc_calendar_rows([2025, 2026])
    heads = {d: f"E{i:05d}" for i, d in enumerate(DEPTS, 1)}
    t["departments"] = [{"code": d, "name": f"部门{d}", "head": heads[d]} for d in DEPTS]
    emps = [{"code": "E00000", "name": "总经理", "department": "D01", "roles": "总经理", "email": "gm@bench.test",
             "active": True}]
    emps += [{"code": h, "name": f"负责人{d}", "department": d, "manager": "E00000", "roles": "部门负责人",
              "email": f"{h.lower()}@bench.test", "active": True} for d, h in heads.items()]
    leads: dict[str, list[str]] = {d: [] for d in DEPTS}
    for i in range(len(emps), people):
        d, code = DEPTS[i % 20], f"E{i:05d}"
        lead = i < 21 + people // 10
        if lead:
            leads[d].append(code)
        emps.append({"code": code, "name": f"员工{i}", "department": d, "roles": "主管" if lead else "员工",
                     "manager": heads[d] if lead else rng.choice(leads[d]), "email": f"e{i}@bench.test",
                     "active": True, "late_streak": rng.choice([3, 4]) if rng.random() < 0.02 else None})
    t["employees"] = [{k: v for k, v in e.items() if v is not None} for e in emps]
    staff = [e for e in emps if e["code"] != "E00000"]
    first, today = date(2025, 10, 1), NOW.date()

    def day(lo: date = first, days: int = 365) -> date:
        return lo + timedelta(days=rng.randrange(days))

    for n in range(people * 3):
        e = rng.choice(staff)
        start = day(first - timedelta(days=30))
        end = start + timedelta(days=rng.randrange(21))
        budget = rng.randrange(5, 200) * 1000
        a = {"code": f"A{n:06d}", "name": f"活动{n}", "type": rng.choice(TYPES), "department": e["department"],
             "owner": e["code"], "start_date": start, "end_date": end, "budget": budget, "stage": "执行"}
        if end < today and rng.random() < 0.9:
            closed = end + timedelta(days=rng.randrange(-3, 10))
            a |= {"stage": "归档", "closed_at": ts(min(closed, today - timedelta(days=1)), 17),
                  "actual_cost": round(budget * rng.uniform(0.7, 1.2), 2)}
        t["activities"].append(a)
        if end < today and rng.random() < 0.5:
            t["feedback"].append({"code": f"FB{n:06d}", "activity": a["code"], "satisfaction": rng.choice([2, 3, 4, 4, 5, 5]),
                                  "respondent": "客户", "submitted_at": ts(min(end + timedelta(days=rng.randrange(1, 6)), today), 10)})
    quarters = [("2025-Q4", date(2025, 10, 1)), ("2026-Q1", date(2026, 1, 1)), ("2026-Q2", date(2026, 4, 1)),
                ("2026-Q3", date(2026, 7, 1))]
    t["plans"] = [{"code": f"P-{q}-{d}", "kind": "季度", "period": q, "department": d, "title": f"{d} {q} 计划",
                   "owner": heads[d]} for q, _ in quarters for d in DEPTS]
    for n in range(people * 2):
        e = rng.choice(staff)
        qi = rng.randrange(4)
        due = day(quarters[qi][1], 90)
        task = {"code": f"T{n:06d}", "plan": f"P-{quarters[qi][0]}-{e['department']}", "title": f"任务{n}",
                "owner": e["code"], "due_date": due, "status": "进行中"}
        if due < today:
            r = rng.random()
            task["status"] = "已取消" if r < 0.05 else "已完成" if r < 0.85 else "进行中"
            if task["status"] == "已完成":
                task["done_at"] = ts(due + timedelta(days=rng.randrange(-5, 4)), 16)
        t["plan_tasks"].append(task)
    for n in range(people * 3):
        e = rng.choice(staff)
        due = day()
        item = {"code": f"AI{n:06d}", "title": f"事项{n}", "owner": e["code"], "department": e["department"],
                "due_date": due, "status": "进行中"}
        if rng.random() < 0.3:
            item["activity"] = f"A{rng.randrange(people * 3):06d}"
        if due < today and rng.random() < 0.85:
            item |= {"status": "已完成", "done_at": ts(due + timedelta(days=rng.randrange(-5, 4)), 15)}
        t["action_items"].append(item)
    sellers = sorted({a["owner"] for a in t["activities"] if a["type"] == "销售" and a["end_date"] >= date(2026, 7, 1)})
    for q, _ in quarters[1:]:
        for d in DEPTS:
            t["kpi_results"] += [
                {"code": f"KR-{q}-{d}-K-COLLAB", "kpi": "K-COLLAB", "period": q, "subject": d,
                 "actual": round(rng.uniform(0.75, 1.0), 4)},
                {"code": f"KR-{q}-{d}-K-ERR", "kpi": "K-ERR", "period": q, "subject": d,
                 "actual": round(rng.uniform(0.005, 0.05), 4)}]
        t["kpi_results"].append({"code": f"KR-{q}-D05-K-REACH", "kpi": "K-REACH", "period": q, "subject": "D05",
                                 "actual": rng.randrange(30000, 70000)})
    t["kpi_results"] += [{"code": f"KR-2026-Q3-{s}-K-CONV", "kpi": "K-CONV", "period": "2026-Q3", "subject": s,
                          "actual": round(rng.uniform(0.1, 0.5), 4)} for s in sellers]
    t["audit_cycles"] = [{"code": "2026-Q2", "period_start": date(2026, 4, 1), "period_end": date(2026, 6, 30),
                          "status": "已完成"}]
    t["audit_findings"] = [{"code": f"2026-Q2-F{n:02d}", "cycle": "2026-Q2", "severity": "严重" if n % 4 == 0 else "中",
                            "description": "抽样发现", "owner": rng.choice(staff)["code"], "status": "整改中",
                            "fraud": n % 4 == 0} for n in range(1, 21)]
    weights = {"w_kpi": 0.4, "w_supervisor": 0.3, "w_self": 0.1, "w_judges": 0.2, "missing_rule": "重新分配权重"}
    for q in ("2026-Q1", "2026-Q2"):
        t["eval_cycles"].append({"code": f"{q}-考评", "kind": "季度考评", "period": q, "status": "已发布", **weights})
        t["evaluations"] += [{"code": f"{q}-考评-{e['code']}", "cycle": f"{q}-考评", "employee": e["code"],
                              "employee_name": e["name"], "department": e["department"],
                              "kpi_score": round(rng.uniform(60, 115), 2), "published_at": ts(date(2026, 4, 20), 9)}
                             for e in emps]
    for m in ("2026-07", "2026-08", "2026-09"):
        t["eval_cycles"].append({"code": f"{m}-自评", "kind": "月度自评", "period": m, "status": "已发布"})
        t["evaluations"] += [{"code": f"{m}-自评-{e['code']}", "cycle": f"{m}-自评", "employee": e["code"],
                              "employee_name": e["name"], "department": e["department"],
                              "self_score": rng.randrange(60, 100), "improvement_plan": "按计划改进",
                              "submitted_at": ts(date(2026, 10, 3), 11), "published_at": ts(date(2026, 10, 8), 9)}
                             for e in emps]
    t["eval_cycles"].append({"code": CYCLE, "kind": "季度考评", "period": "2026-Q3", "due_date": date(2026, 10, 31),
                             "cross_judges": 2, "status": "评分中", **weights})
    return t


def seed(prefix: str, people: int) -> None:
    data, took = timed(company, people)
    print(f"generated {sum(map(len, data.values()))} rows in {took:.1f}s: {({k: len(v) for k, v in data.items()})}")
    load(open_store(prefix), data)


def needed_pages(store: Store) -> int:
    """Data pages of what the job must read: the snapshot, the cycles, this cycle's rows (none
    yet), the months' self scores and the two quarters before (streaks), the KPI definitions
    and this quarter's entered actuals, the year of operations data, the fraud findings."""
    whole = ["settings", "calendar", "employees", "departments", "eval_cycles", "grade_bands", "kpi_definitions", *OPS]
    et, rt, ft = (store.table(n) for n in ("evaluations", "kpi_results", "audit_findings"))
    parts = [et.where(F("cycle") == CYCLE), et.where(F("cycle").in_(["2026-07-自评", "2026-08-自评", "2026-09-自评"])),
             et.where(F("cycle").in_(["2026-Q1-考评", "2026-Q2-考评"]))]
    return (sum(pages(store.table(n).table.count()) for n in whole) + sum(pages(et.table.count(w)) for w in parts)
            + pages(rt.table.count(rt.where(F("period") == "2026-Q3"))) + pages(ft.table.count(ft.where(F("fraud").checked()))))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=5000)
    args = ap.parse_args()
    store = bench_store("eval", TABLES)
    try:
        print(f"seeded in {in_child(seed, store.prefix, args.people):.0f}s (not part of any ratio)")
        print(f"rows: { ({t: store.table(t).table.count() for t in READ}) }")
        want_pages = needed_pages(store)
        http = http_client()
        raw_r = raw_ceiling(http, store, READ)
        rss0, raw = peak_rss_mb(), 0.0
        for label in ("first run (5,000 rows made and scored)", "second run (after the first run's writes)",
                      "third run (nothing changed)"):
            s = fresh(store)
            time.sleep(2.5)  # UpdatedAt has whole seconds: let the marks settle
            res, wall = timed(evaluations.run, s, NOW)
            calls = dict(s.api.calls)
            if not raw:
                raw_w = raw_writes(store, http, res)
                raw = raw_r + raw_w
                print(f"raw ceiling: paged read of the tables the job reads {raw_r:.1f}s + batch writes of the "
                      f"rows the first run wrote {raw_w:.1f}s = {raw:.1f}s")
            ins = {t: len(v) for t, v in res.plan.inserts.items()}
            ups = {t: len(v) for t, v in res.plan.row_updates.items()}
            print(f"\n{label}: {wall:.1f}s = {wall / raw:.2f}× the raw ceiling ({raw:.1f}s)")
            print(f"  API calls {sum(calls.values())}: {calls}")
            print(f"  {res.plan.stats or res.note}, status {res.status}, issues {len(res.plan.issues)}, "
                  f"enqueued {res.enqueued}, inserts {ins}, updates {ups}")
            for i in res.plan.issues[:3]:
                print(f"    issue: {str(i)[:160]}")
            if res.note != "idle":
                write = sum(batches(v) for v in ins.values()) + sum(batches(v) for v in ups.values())
                print(f"  needed: {want_pages} data pages of the tables read + {write} batches of ≤100 rows written "
                      "(besides: meta, the linked tables' keys, the check that new keys are new, marks, run log, notes)")
        print(f"\npeak RSS {peak_rss_mb():.0f} MB ({rss0:.0f} MB before the first run: interpreter, imports, raw read)")
    finally:
        drop_bases(store)


def raw_writes(store: Store, http, res) -> float:
    """The first run's writes again with plain httpx: its inserts into a scratch cycle (then
    deleted), its updates sent again with the values it wrote (nothing changes)."""
    s = fresh(store)
    took = 0.0
    rows = res.plan.inserts.get("evaluations", [])
    if rows:
        ct, et = s.table("eval_cycles"), s.table("evaluations")
        ct.create([{"code": "RAW", "kind": "季度考评", "period": "2026-Q3", "status": "评分中"}])
        titled = et._titled([{**r, "code": f"RAW-{r['code']}", "cycle": "RAW"} for r in rows])
        took += timed(raw_write, http, et.table.id, titled)[1]
        et.table.delete(et.table.ids_by_key(et.title("code"), et.where(F("cycle") == "RAW")).values())
        ct.table.delete(ct.table.ids_by_key(ct.title("code"), ct.where(F("code") == "RAW")).values())
    for table, changes in res.plan.row_updates.items():
        t = s.table(table)
        took += timed(raw_patch, http, t.table.id, t._titled([{"Id": i, **v} for i, v in changes.items()]))[1]
    return took


if __name__ == "__main__":
    main()
