"""An audit cycle at scale: a population of 100,000 items in one quarter.

    .venv/bin/python bench/audit.py [--items 100000]

The quarter (2026-Q3, 待抽样, parameters from 系统设置): 30 % approval requests (one 立项
per activity, the rest 费用 and 采购, each with the steps of its route, a few 总监特批),
60 % expenses (receipts, a third under a 费用 request), 10 % activities (two documents and
three budget lines each); 20 departments, 2,000 people; the cycle before with open findings.
Loaded by bench/fastload.py in a child process (through the API the links make it hours).

Prints for the draw and for a second run: API calls by method against the pages and batches
the data implies, wall time as a ratio of a raw paged read of the same tables (the store's
columns; the best of two) in the same run, the sample drawn, and the process's peak RSS.
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
    timed,
    ts,
)
from fastload import load

from actops.jobs import audit
from actops.kernel.calendar import TZ, prc_calendar_rows
from actops.nocodb import F
from actops.store import Store

WHOLE = ["settings", "calendar", "employees", "departments", "audit_cycles", "approval_requests", "approval_routes",
         "approval_steps", "activities", "documents", "budget_lines"]
READ = [*WHOLE, "expenses", "audit_findings", "audit_samples"]
TABLES = {*READ, "activity_types", "customers", "plans", "plan_tasks", "outbox", "run_log"}
NOW = datetime(2026, 10, 13, 9, 30, tzinfo=TZ)  # a Tuesday after the quarter
START, END = date(2026, 7, 1), date(2026, 9, 30)
CYCLE = "2026-Q3"
DEPTS = [f"D{d:02d}" for d in range(1, 21)]
CATEGORIES = ["策划", "场地", "设备", "物资", "人员", "餐饮", "交通", "宣传"]
ROUTES = {"立项": ("部门负责人", "总经理"), "采购": ("部门负责人", "财务", "CEO")}


def expense_route(amount: float) -> tuple[str, ...]:
    return ("主管",) if amount < 10000 else ("主管", "财务") if amount < 100000 else ("主管", "财务", "总监")


def approval_rows(code: str, kind: str, roles: tuple[str, ...], e: dict, amount: float, activity: str | None,
                  sent: date, heads: dict[str, str], rng: random.Random) -> tuple[dict, list[dict]]:
    """A request approved along ``roles`` and its steps (also bench/scale_audit.py's)."""
    r = {"code": code, "kind": kind, "title": f"{kind}{code}", "applicant": e["code"], "department": e["department"],
         "amount": amount, "status": "已通过", "submitted_at": ts(sent, 9), "decided_at": ts(sent + timedelta(days=len(roles)), 17)}
    if activity:
        r["activity"] = activity
    if rng.random() < 0.003:  # 总监特批, completed after the fact (late now and then)
        r |= {"emergency": True, "emergency_by": "E0022", "posthoc_due_at": ts(sent + timedelta(days=5), 18),
              "posthoc_done_at": ts(sent + timedelta(days=rng.choice([3, 4, 8])), 16)}
    steps = []
    for seq, role in enumerate(roles, 1):
        who = {"部门负责人": heads[e["department"]], "总经理": "E0000", "CEO": "E0000", "财务": "E0021",
               "总监": "E0022"}.get(role, e.get("manager"))
        steps.append({"code": f"{code}-{seq}", "request": code, "seq": seq, "role": role,
                      "assignee": who, "status": "已通过", "opened_at": ts(sent + timedelta(days=seq - 1), 9),
                      "decided_at": ts(sent + timedelta(days=seq), 11)})
    return r, steps


def company(items: int, seed: int = 20261013) -> dict[str, list[dict]]:
    rng = random.Random(seed)
    n_act, n_req = items // 10, items * 3 // 10
    n_exp = items - n_act - n_req
    t: dict[str, list[dict]] = {n: [] for n in (
        "calendar", "departments", "employees", "activities", "approval_requests", "approval_steps", "expenses",
        "documents", "budget_lines", "audit_cycles", "audit_findings")}
    t["calendar"] = prc_calendar_rows([2026])
    heads = {d: f"E{i:04d}" for i, d in enumerate(DEPTS, 1)}
    t["departments"] = [{"code": d, "name": f"部门{d}", "head": heads[d]} for d in DEPTS]
    emps = [{"code": "E0000", "name": "总经理", "department": "D01", "roles": "总经理,CEO", "active": True},
            *({"code": h, "name": f"负责人{d}", "department": d, "manager": "E0000", "roles": "部门负责人",
               "active": True} for d, h in heads.items()),
            {"code": "E0021", "name": "财务", "department": "D02", "manager": heads["D02"], "roles": "财务", "active": True},
            {"code": "E0022", "name": "总监", "department": "D01", "manager": "E0000", "roles": "总监", "active": True}]
    for i in range(len(emps), 2000):
        d = DEPTS[i % 20]
        emps.append({"code": f"E{i:04d}", "name": f"员工{i}", "department": d, "manager": heads[d],
                     "roles": "主管" if i < 200 else "员工", "active": True})
    for e in emps:
        e["email"] = f"{e['code'].lower()}@bench.test"
    t["employees"] = emps
    staff = emps[23:]
    days = (END - START).days + 1

    def day() -> date:
        return START + timedelta(days=rng.randrange(days))

    def request(code: str, kind: str, roles: tuple[str, ...], e: dict, amount: float, activity: str | None) -> None:
        r, steps = approval_rows(code, kind, roles, e, amount, activity, day(), heads, rng)
        t["approval_requests"].append(r)
        t["approval_steps"] += steps

    for n in range(n_act):
        e, start = rng.choice(staff), day()
        a = {"code": f"A{n:06d}", "name": f"活动{n}", "type": rng.choice(["市场推广", "客户交流", "培训", "销售", "技术"]),
             "department": e["department"], "owner": e["code"], "start_date": start,
             "end_date": start + timedelta(days=rng.randrange(10)), "budget": rng.randrange(5, 99) * 1000,
             "stage": "执行", "initiation_request": f"RI{n:06d}"}
        t["activities"].append(a)
        request(f"RI{n:06d}", "立项", ROUTES["立项"], e, a["budget"], a["code"])
        for k in (1, 2):
            ok = rng.random() < 0.97
            t["documents"].append({"code": f"DOC{n:06d}-{k}", "activity": a["code"], "stage": "策划",
                                   "name": f"活动{n}-策划-0{k}({start})" if ok else f"活动{n}方案v{k}.docx"})
        for c in rng.sample(CATEGORIES, 3):
            t["budget_lines"].append({"code": f"BL{n:06d}-{c}", "activity": a["code"], "category": c,
                                      "amount": a["budget"] / 3})
    lines = {(b["activity"], b["category"]) for b in t["budget_lines"]}
    expense_requests = []
    for n in range(n_req - n_act):
        e = rng.choice(staff)
        amount = round(rng.lognormvariate(8.3, 1.0), 2) if rng.random() < 0.998 else rng.randrange(100, 300) * 1000
        if rng.random() < 0.8:
            act = rng.choice(t["activities"])["code"]
            request(f"RE{n:06d}", "费用", expense_route(amount), e, amount, act)
            expense_requests.append((f"RE{n:06d}", act, amount))
        else:
            request(f"RP{n:06d}", "采购", ROUTES["采购"], e, amount, None)
    for n in range(n_exp):
        e = rng.choice(staff)
        x = {"code": f"X{n:06d}", "employee": e["code"], "spent_on": day(), "status": "已支付", "description": "活动费用"}
        if n % 3 == 0 and n // 3 < len(expense_requests):
            code, act, amount = expense_requests[n // 3]
            x |= {"request": code, "activity": act, "amount": amount}
        else:
            x |= {"activity": rng.choice(t["activities"])["code"], "amount": round(rng.lognormvariate(7.5, 1.0), 2)}
        act_lines = [c for c in CATEGORIES if (x["activity"], c) in lines]
        x["category"] = rng.choice(act_lines) if rng.random() < 0.97 else rng.choice(CATEGORIES)
        if rng.random() < 0.95:
            x["receipt"] = [{"url": f"https://files.bench.test/{x['code']}.jpg", "title": f"{x['code']}.jpg",
                             "mimetype": "image/jpeg", "size": 48213}]
        t["expenses"].append(x)
    t["audit_cycles"] = [
        {"code": "2026-Q2", "period_start": date(2026, 4, 1), "period_end": date(2026, 6, 30), "status": "已完成",
         "seed": 20004, "confidence": 0.95, "tolerable_rate": 0.05, "expected_rate": 0.0},
        {"code": CYCLE, "period_start": START, "period_end": END, "status": "待抽样"}]
    t["audit_findings"] = [{"code": f"2026-Q2-F{n:02d}", "cycle": "2026-Q2", "severity": "中", "description": "上期发现",
                            "owner": rng.choice(staff)["code"], "status": rng.choice(["待整改", "整改中", "已整改"])}
                           for n in range(1, 13)]
    return t


def seed(prefix: str, items: int) -> None:
    data, took = timed(company, items)
    print(f"generated {sum(map(len, data.values()))} rows in {took:.1f}s: {({k: len(v) for k, v in data.items()})}",
          flush=True)
    load(open_store(prefix), data)


def needed_pages(store: Store) -> int:
    """Data pages of what the job reads: the snapshot and the tables it reads whole (requests,
    routes, steps, activities, documents, budget lines), the quarter's expenses, the open
    findings, this cycle's sample rows (none yet)."""
    xt, ft, st = (store.table(n) for n in ("expenses", "audit_findings", "audit_samples"))
    return (sum(pages(store.table(n).table.count()) for n in WHOLE)
            + pages(xt.table.count(xt.where((F("spent_on") >= START) & (F("spent_on") <= END))))
            + pages(ft.table.count(ft.where(F("status").any_of(("待整改", "整改中")))))
            + pages(st.table.count(st.where(F("cycle") == CYCLE))))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=100000)
    args = ap.parse_args()
    store = bench_store("audit", TABLES)
    try:
        print(f"seeded in {in_child(seed, store.prefix, args.items):.0f}s (not part of the ratio)", flush=True)
        print(f"rows: {({t: store.table(t).table.count() for t in READ})}")
        want = needed_pages(store)
        http = http_client()
        raw = raw_ceiling(http, store, READ)
        rss0 = peak_rss_mb()
        for label in ("first run (the draw)", "second run (after the draw: nothing to do)"):
            s = fresh(store)
            time.sleep(2.5)  # UpdatedAt has whole seconds: let the marks settle
            res, wall = timed(audit.run, s, NOW)
            calls = dict(s.api.calls)
            ins = {t: len(v) for t, v in res.plan.inserts.items()}
            ups = {t: len(v) for t, v in res.plan.row_updates.items()}
            print(f"\n{label}: {wall:.1f}s = {wall / raw:.2f}× the raw paged read of the same tables ({raw:.1f}s)")
            print(f"  API calls {sum(calls.values())}: {calls}")
            print(f"  {res.plan.stats or res.note}, status {res.status}, issues {len(res.plan.issues)}, "
                  f"inserts {ins}, updates {ups}")
            for i in res.plan.issues[:3]:
                print(f"    issue: {str(i)[:160]}")
            if res.plan.inserts:
                write = sum(batches(v) for v in ins.values()) + sum(batches(v) for v in ups.values())
                print(f"  needed: {want} data pages of the tables read + {write} batches of ≤100 rows written "
                      "(besides: meta, the linked tables' keys, the check that new keys are new, marks, run log)")
        print(f"\npeak RSS {peak_rss_mb():.0f} MB ({rss0:.0f} MB before the first run: interpreter, imports, raw read)")
    finally:
        drop_bases(store)


if __name__ == "__main__":
    main()
