"""A million rows (issue 12), the audit job: ``bench/scale.py --job audit`` runs this.

    ACTOPS_DB=pg .venv/bin/python bench/scale.py --job audit [--rows 1000000] [--people 2000]

费用报销 (the largest table) gets ``--rows`` expenses spread over the four quarters of 2026 (a
quarter of them in 2026-Q3, the cycle drawn); beside them, in proportion, ``rows // 50``
activities (two documents and three budget lines each, one 立项 request each) and ``rows * 3
// 50`` approval requests in all (the rest 费用 and 采购, each with the steps of its route, a few
总监特批); a third of the first expenses are under a 费用 request. The model is bench/audit.py's
company, stretched over a year. The calendar, 20 departments and ``--people`` employees
(bench/scale.py's ``people()``, a few given the roles the routes name: the heads go through the
API, the rest by COPY), the cycles (2026-Q2 已完成 with twelve findings, 2026-Q3 待抽样) go
through the API; the rest is loaded by bench/pgload.py (COPY) in a child process.

The job is run twice, each in its own process (so the peak RSS is the job's): the draw (the
quarter's requests, expenses and the activities stream into the frame, the sample is drawn,
only the drawn items' rows are read by key) and a second run (idle: nothing to do). For each:
API calls by method and by table against the pages and batches implied; wall time as a ratio of
a raw paged read of what the frame reads (the quarter's requests and expenses by the job's
filters, the activities whole) with the columns the frame asks for, best of two in the same
run; the same read with every column (``store_columns``) for reference; and peak RSS.
"""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from audit import ROUTES, approval_rows, expense_route
from common import (
    batches,
    bench_store,
    child_result,
    drop_bases,
    http_client,
    in_child,
    open_store,
    pages,
    peak_rss_mb,
    raw_pages,
    store_columns,
    timed,
)
from pgload import link_after, load

from actops.jobs import audit
from actops.jobs.audit.population import FRAME_FIELDS
from actops.kernel.calendar import TZ, prc_calendar_rows
from actops.kernel.changed_rows import IN_CHUNK
from actops.nocodb import F

TABLES = {"settings", "calendar", "departments", "employees", "activity_types", "customers", "activities",
          "approval_routes", "approval_requests", "approval_steps", "expenses", "documents", "budget_lines",
          "plans", "plan_tasks", "audit_cycles", "audit_samples", "audit_findings", "outbox", "run_log"}
NOW = datetime(2026, 10, 13, 9, 30, tzinfo=TZ)  # a Tuesday after the quarter
YEAR, DAYS = date(2026, 1, 1), 365
START, END = date(2026, 7, 1), date(2026, 9, 30)
CYCLE = "2026-Q3"
CATEGORIES = ["策划", "场地", "设备", "物资", "人员", "餐饮", "交通", "宣传"]
SMALL = ["settings", "calendar", "employees", "departments", "approval_routes", "audit_cycles"]


def staff_list(n_people: int) -> list[dict]:
    """bench/scale.py's people, with the roles the routes and steps name (E0000 also CEO; one
    财务, one 总监, a few hundred 主管)."""
    from scale import people

    emps = people(n_people)
    emps[0]["roles"] = "总经理,CEO"
    emps[21]["roles"], emps[22]["roles"] = "财务", "总监"
    for e in emps[23:200]:
        e["roles"] = "主管"
    return emps


def company(rows: int, n_act: int, n_req: int, n_people: int, seed: int = 20261013) -> dict[str, Any]:
    """The loaded tables (parents first): lists for all but the expenses, a generator."""
    rng = random.Random(seed)
    emps = staff_list(n_people)
    heads = {e["department"]: e["code"] for e in emps if e.get("roles") == "部门负责人"}
    staff = emps[23:]
    t: dict[str, Any] = {n: [] for n in ("activities", "approval_requests", "approval_steps", "documents",
                                          "budget_lines")}

    def day() -> date:
        return YEAR + timedelta(days=rng.randrange(DAYS))

    def request(code: str, kind: str, roles: tuple[str, ...], e: dict, amount: float, activity: str | None,
                sent: date) -> None:
        r, steps = approval_rows(code, kind, roles, e, amount, activity, sent, heads, rng)
        t["approval_requests"].append(r)
        t["approval_steps"] += steps

    lines: dict[str, list[str]] = {}
    for n in range(n_act):
        e, start = rng.choice(staff), day()
        a = {"code": f"A{n:06d}", "name": f"活动{n}", "type": rng.choice(["市场推广", "客户交流", "培训", "销售", "技术"]),
             "department": e["department"], "owner": e["code"], "start_date": start,
             "end_date": start + timedelta(days=rng.randrange(10)), "budget": rng.randrange(5, 99) * 1000,
             "stage": "执行", "initiation_request": f"RI{n:06d}"}  # its link is made after the requests load
        t["activities"].append(a)
        request(f"RI{n:06d}", "立项", ROUTES["立项"], e, a["budget"], a["code"], start - timedelta(days=rng.randrange(3, 20)))
        for k in (1, 2):
            ok = rng.random() < 0.97
            t["documents"].append({"code": f"DOC{n:06d}-{k}", "activity": a["code"], "stage": "策划",
                                   "name": f"活动{n}-策划-0{k}({start})" if ok else f"活动{n}方案v{k}.docx"})
        lines[a["code"]] = rng.sample(CATEGORIES, 3)
        for c in lines[a["code"]]:
            t["budget_lines"].append({"code": f"BL{n:06d}-{c}", "activity": a["code"], "category": c,
                                      "amount": a["budget"] / 3})
    codes = [a["code"] for a in t["activities"]]
    expense_requests = []
    for n in range(n_req - n_act):
        e = rng.choice(staff)
        amount = round(rng.lognormvariate(8.3, 1.0), 2) if rng.random() < 0.998 else rng.randrange(100, 300) * 1000
        if rng.random() < 0.8:
            act = rng.choice(codes)
            request(f"RE{n:06d}", "费用", expense_route(amount), e, amount, act, day())
            expense_requests.append((f"RE{n:06d}", act, amount))
        else:
            request(f"RP{n:06d}", "采购", ROUTES["采购"], e, amount, None, day())

    def expenses():
        for n in range(rows):
            e = staff[rng.randrange(len(staff))]
            x = {"code": f"X{n:07d}", "employee": e["code"], "spent_on": day(), "status": "已支付", "description": "活动费用"}
            if n % 3 == 0 and n // 3 < len(expense_requests):
                code, act, amount = expense_requests[n // 3]
                x |= {"request": code, "activity": act, "amount": amount}
            else:
                x |= {"activity": codes[rng.randrange(len(codes))], "amount": round(rng.lognormvariate(7.5, 1.0), 2)}
            x["category"] = rng.choice(lines[x["activity"]]) if rng.random() < 0.97 else rng.choice(CATEGORIES)
            if rng.random() < 0.95:
                x["receipt"] = [{"url": f"https://files.bench.test/{x['code']}.jpg", "title": f"{x['code']}.jpg",
                                 "mimetype": "image/jpeg", "size": 48213}]
            yield x

    return {"employees": emps[21:], "activities": t["activities"], "approval_requests": t["approval_requests"],
            "approval_steps": t["approval_steps"], "documents": t["documents"], "budget_lines": t["budget_lines"],
            "expenses": expenses()}


def build(prefix: str, n_people: int) -> None:
    """Through the API: the calendar, departments, the department heads."""
    from scale import DEPTS

    store = open_store(prefix)
    store.table("calendar").create(prc_calendar_rows([2026]))
    store.table("departments").create([{"code": d, "name": f"部门{d}"} for d in DEPTS])
    emps = staff_list(n_people)
    store.table("employees").create(emps[:1])  # the managers, the top one first: the heads link to it
    store.table("employees").create(emps[1:21])  # (the others, by COPY in seed, link to the heads)
    store.table("departments").update([{"Id": i, "head": f"E{int(code[1:]):04d}"}
                                       for code, i in store.table("departments").ids_by_key().items()])


def seed(prefix: str, rows: int, n_act: int, n_req: int, n_people: int) -> None:
    store = open_store(prefix)
    data, took = timed(company, rows, n_act, n_req, n_people)
    print(f"generated the small tables in {took:.1f}s: "
          f"{ {k: len(v) for k, v in data.items() if isinstance(v, list) and k != 'employees'} } (+ {rows} expenses, streamed)", flush=True)
    load(store, data)
    link_after(store, "activities", "initiation_request")  # 立项 requests load after the activities
    rng = random.Random(7)
    store.table("audit_cycles").create([
        {"code": "2026-Q2", "period_start": date(2026, 4, 1), "period_end": date(2026, 6, 30), "status": "已完成",
         "seed": 20004, "confidence": 0.95, "tolerable_rate": 0.05, "expected_rate": 0.0},
        {"code": CYCLE, "period_start": START, "period_end": END, "status": "待抽样"}])
    store.table("audit_findings").create([
        {"code": f"2026-Q2-F{n:02d}", "cycle": "2026-Q2", "severity": "中", "description": "上期发现",
         "owner": f"E{rng.randrange(23, n_people):04d}", "status": rng.choice(["待整改", "整改中", "已整改"])}
        for n in range(1, 13)])


def frame_reads(store) -> list[tuple[Any, str | None, list[str]]]:
    """(table, where, fields) as the job's frame reads them (jobs/audit/job.py ``_frame``)."""
    at, rt, et = (store.table(n) for n in ("activities", "approval_requests", "expenses"))
    near = rt.where(F("submitted_at").on_or_after(START - timedelta(days=1))
                    & F("submitted_at").before(END + timedelta(days=2)))
    quarter = et.where((F("spent_on") >= START) & (F("spent_on") <= END))
    return [(at, None, FRAME_FIELDS["activities"]), (rt, near, FRAME_FIELDS["approval_requests"]),
            (et, quarter, FRAME_FIELDS["expenses"])]


def frame_columns(b, fields: list[str]) -> list[str]:
    """The columns the store asks for when it streams ``fields`` (Store.stream: + 数据问题)."""
    if "data_issue" in b.titles and "data_issue" not in fields:
        fields = [*fields, "data_issue"]
    return ["Id", *b._request_titles(fields)]


def raw_frame(prefix: str, every_column: bool) -> float:
    """One raw paged read of what the frame reads: its columns, or every column."""
    store, http = open_store(prefix), http_client()
    reads = [(b, where, store_columns(b) if every_column else frame_columns(b, fields))
             for b, where, fields in frame_reads(store)]
    t0 = time.perf_counter()
    for b, where, cols in reads:
        raw_pages(http, b.table.id, cols, where)
    return time.perf_counter() - t0


TID = re.compile(r"/api/v2/(meta/)?tables/([^/]+)(/records)?(/count)?")


def job_run(prefix: str) -> dict:
    """The job once, its calls counted by (method, table, what): a page, an ``in`` lookup, a count, meta."""
    s = open_store(prefix)
    seen: Counter = Counter()
    send = s.api.request

    def request(method: str, path: str, **kw: Any) -> Any:
        m = TID.search(path)
        where = str((kw.get("params") or {}).get("where") or "")
        what = ("meta" if m.group(1) else "count" if m.group(4) else
                ("in" if ",in," in where else "read") if method.upper() == "GET" else "write") if m else path
        seen[(method.upper(), m.group(2) if m else "", what)] += 1
        return send(method, path, **kw)

    s.api.request = request
    r, wall = timed(audit.run, s, NOW)
    calls = dict(s.api.calls)
    names = {s.table(n).table.id: n for n in TABLES}
    by = Counter()
    for (method, tid, what), n in seen.items():
        by[f"{names.get(tid, tid) or '-'} {what} {method}"] += n
    return {"wall": wall, "calls": calls, "by": dict(sorted(by.items())), "stats": r.plan.stats or r.note,
            "status": r.status, "inserts": {t: len(v) for t, v in r.plan.inserts.items()},
            "updates": {t: len(v) for t, v in r.plan.row_updates.items()}, "issues": len(r.plan.issues),
            "first_issues": [str(i)[:160] for i in r.plan.issues[:3]]}


def implied_pages(store) -> tuple[int, dict[str, int]]:
    """Data pages the draw must read: the frame (the quarter's requests and expenses, every
    activity) and the small tables read whole or by a filter (snapshot, routes, cycles, open
    findings, this cycle's sample rows); the ``in`` lookups of the drawn rows come on top."""
    counts = {}
    for b, where, _ in frame_reads(store):
        counts[b.spec.name] = b.table.count(where)
    for n in SMALL:
        counts[n] = store.table(n).table.count()
    ft, st = store.table("audit_findings"), store.table("audit_samples")
    counts["audit_findings (open)"] = ft.table.count(ft.where(F("status").any_of(("待整改", "整改中"))))
    counts["audit_samples (cycle)"] = st.table.count(st.where(F("cycle") == CYCLE))
    return sum(pages(n) for n in counts.values()), counts


def main(args) -> None:
    rows, people = args.rows, args.people
    n_act, n_req = max(rows // 50, 10), max(rows * 3 // 50, 30)
    store = bench_store("scaleaudit", TABLES)
    try:
        print(f"API rows (calendar, 20 departments and their heads) in {in_child(build, store.prefix, people):.0f}s",
              flush=True)
        print(f"loaded in {in_child(seed, store.prefix, rows, n_act, n_req, people):.0f}s "
              "(generate, validate, encode, COPY; not part of the ratios)", flush=True)
        print(f"rows: { {t: store.table(t).table.count() for t in ('expenses', 'activities', 'approval_requests', 'approval_steps', 'documents', 'budget_lines', 'employees')} }")
        want, counts = implied_pages(store)
        print(f"what the draw reads (rows): {counts} → {want} pages; peak RSS of a child that does nothing "
              f"{child_result(lambda: None)[1]:.0f} MB (fork baseline)", flush=True)
        raw = min(child_result(raw_frame, store.prefix, False)[0] for _ in range(2))
        raw_all = min(child_result(raw_frame, store.prefix, True)[0] for _ in range(2))
        print(f"raw paged read of the frame ({counts['activities']} activities, {counts['approval_requests']} requests "
              f"near the quarter, {counts['expenses']} expenses in it): {raw:.1f}s with the frame's columns, "
              f"{raw_all:.1f}s with every column (best of two each)", flush=True)
        table = []
        for label in ("draw", "idle"):
            time.sleep(2.5)  # UpdatedAt has whole seconds: let the marks settle
            out, rss = child_result(job_run, store.prefix)
            calls = out["calls"]
            written = sum(batches(n) for n in out["inserts"].values()) + sum(batches(n) for n in out["updates"].values())
            lookups = sum(n for k, n in out["by"].items() if " in " in k)
            print(f"\n{label}: {out['wall']:.1f}s = {out['wall'] / raw:.2f}× raw ({out['wall'] / raw_all:.2f}× the "
                  f"every-column read), peak RSS {rss:.0f} MB, API calls {sum(calls.values())} {calls}\n"
                  f"  {out['stats']}, status {out['status']}, issues {out['issues']} {out['first_issues']}\n"
                  f"  inserts {out['inserts']}, updates {out['updates']}\n"
                  f"  implied: {want if label == 'draw' else 'no frame:'} pages (frame + small tables) + {lookups} "
                  f"in-lookups (≤{IN_CHUNK} keys) + {written} batches of ≤100 written\n  calls by table: {out['by']}",
                  flush=True)
            table.append((label, sum(calls.values()), calls, want if label == "draw" else None, lookups, written,
                          out["wall"], rss))
        print(f"\n{rows} expenses ({counts['expenses']} in {CYCLE}), {n_act} activities, {n_req} requests; "
              f"raw read of the frame {raw:.1f}s (frame's columns), {raw_all:.1f}s (every column)")
        print(f"{'run':6} {'calls':>6} {'GET':>5} {'POST':>5} {'PATCH':>6} {'pages':>6} {'in':>4} {'batches':>8} "
              f"{'time':>8} {'× raw':>6} {'× all':>6} {'RSS MB':>7}")
        for label, n, calls, want_, lookups, written, wall, rss in table:
            print(f"{label:6} {n:6} {calls.get('GET', 0):5} {calls.get('POST', 0):5} {calls.get('PATCH', 0):6} "
                  f"{'—' if want_ is None else want_:>6} {lookups:4} {written:8} {wall:7.1f}s {wall / raw:6.2f} {wall / raw_all:6.2f} {rss:7.0f}")
        print(f"(parent peak RSS {peak_rss_mb():.0f} MB)", flush=True)
    finally:
        if not args.keep:
            drop_bases(store)
