"""A million rows (issue 12, part 4) on PostgreSQL: escalations over 1,000,000 action items
(the default), the audit job's draw over 1,000,000 expenses (``--job audit``: bench/scale_audit.py),
evaluations and summaries over the same action items (``--job periods``: bench/scale_periods.py),
the watch job's full read of the audit bench's 1,000,000 expenses (``--job watch``: bench/scale_watch.py),
or approvals over 1,000,000 decisions (``--job approvals``: bench/scale_approvals.py).

    ACTOPS_DB=pg .venv/bin/python bench/scale.py [--rows 1000000] [--open N] [--late-every 10] [--people 2000]
    ACTOPS_DB=pg .venv/bin/python bench/scale.py --job audit [--rows 1000000] [--people 2000]
    ACTOPS_DB=pg .venv/bin/python bench/scale.py --job periods [--rows 1000000] [--people 2000]
    ACTOPS_DB=pg .venv/bin/python bench/scale.py --job watch [--rows 1000000] [--people 2000]
    ACTOPS_DB=pg .venv/bin/python bench/scale.py --job approvals [--rows 1000000] [--people 2000]

待办事项 gets ``--rows`` rows, of which ``--open`` are open (未开始/进行中; 5 % of the rows
unless told; one in ``--late-every`` overdue at NOW) and the rest closed (已完成, a few 已取消),
owned by ``--people`` employees. The calendar, departments and employees go through the API
(settings keep their defaults); the action items are loaded by bench/pgload.py (COPY) in a
child process.

Escalations is run five times, each in its own process (so the peak RSS is the job's): first
(full read), second (its own writes read back), idle, one edit (one open item's due date
brought forward through the API) and full (job options: the runner then hands the job no
changes and it reads everything). For each: API calls by method against the pages and batches
implied, wall time as a ratio of the raw paged read of the same open set (store's columns, best
of two, same run) and peak RSS. Then the raw paged read of the whole table, page by page in a
process of its own: the API's ceiling for reading a million rows.
"""

from __future__ import annotations

import argparse
import time
from datetime import date, datetime, timedelta

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
from pgload import load

from actops.jobs import escalations
from actops.kernel.calendar import TZ, prc_calendar_rows
from actops.kernel.org import CHANNEL_EMAIL
from actops.messaging.channels import EmailChannel
from actops.nocodb import F
from actops_dev.catcher import MailCatcher

TABLES = {"settings", "calendar", "departments", "employees", "activities", "approval_requests",
          "approval_steps", "reports", "meetings", "action_items", "stage_gates", "problems",
          "eval_cycles", "evaluations", "audit_findings", "outbox", "run_log"}
NOW = datetime(2026, 11, 17, 10, 0, tzinfo=TZ)  # a Tuesday, outside quiet hours
OPEN = ["未开始", "进行中"]  # the escalations source's open filter for 待办事项
DEPTS = [f"D{d:02d}" for d in range(1, 21)]
WHOLE = ["employees", "departments", "calendar"]  # what the job reads whole besides the open items


def people(n: int) -> list[dict]:
    heads = {d: f"E{i:04d}" for i, d in enumerate(DEPTS, 1)}
    out = [{"code": "E0000", "name": "总经理", "department": "D01", "roles": "总经理", "active": True}]
    out += [{"code": h, "name": f"负责人{d}", "department": d, "manager": "E0000", "roles": "部门负责人",
             "active": True} for d, h in heads.items()]
    for i in range(len(out), n):
        d = DEPTS[i % 20]
        out.append({"code": f"E{i:04d}", "name": f"员工{i}", "department": d, "manager": heads[d], "active": True})
    for e in out:
        e["email"] = f"{e['code'].lower()}@bench.test"
    return out


def action_items(rows: int, n_open: int, n_people: int, late_every: int = 10):
    """Open items spread evenly through the table (so no page of the open set is cheap): every
    ``rows // n_open``-th row. One open item in ``late_every`` is overdue at NOW."""
    step = max(rows // max(n_open, 1), 1)
    for i in range(rows):
        owner = f"E{21 + i % (n_people - 21):04d}"
        r = {"code": f"A{i:07d}", "title": f"事项{i}", "owner": owner}
        k = i // step
        if i % step == 0 and k < n_open:
            late = k % late_every == 0
            r |= {"status": OPEN[k % 2],
                  "due_date": date(2026, 11, 2) + timedelta(days=k % 14) if late else date(2026, 11, 18) + timedelta(days=k % 40)}
        else:
            due = date(2025, 11, 1) + timedelta(days=i % 380)
            r |= {"status": "已完成" if i % 50 else "已取消", "due_date": due,
                  "done_at": datetime(due.year, due.month, due.day, 17, 0, tzinfo=TZ)}
        yield r


def seed(prefix: str, rows: int, n_open: int, n_people: int, late_every: int) -> None:
    load(open_store(prefix), {"action_items": action_items(rows, n_open, n_people, late_every)})


def build(prefix: str, rows: int, n_open: int, n_people: int) -> None:
    store = open_store(prefix)
    store.table("calendar").create(prc_calendar_rows([2025, 2026, 2027]))
    store.table("departments").create([{"code": d, "name": f"部门{d}"} for d in DEPTS])
    emps = people(n_people)
    store.table("employees").create(emps[:21])  # the managers first: the others link to them
    store.table("employees").create(emps[21:])
    store.table("departments").update([{"Id": i, "head": f"E{int(code[1:]):04d}"}
                                       for code, i in store.table("departments").ids_by_key().items()])


def open_where(store) -> str:
    return store.table("action_items").where(F("status").any_of(OPEN))


def raw_open(prefix: str) -> float:
    """One raw paged read of what the job reads: the open items and the tables it reads whole."""
    store, http = open_store(prefix), http_client()
    t0 = time.perf_counter()
    for name in ("action_items", *WHOLE):
        b = store.table(name)
        raw_pages(http, b.table.id, store_columns(b), open_where(store) if name == "action_items" else None)
    return time.perf_counter() - t0


def raw_whole(prefix: str) -> tuple[int, float]:
    """The whole action-item table, page by page, nothing kept: (rows, seconds)."""
    store, http = open_store(prefix), http_client()
    b = store.table("action_items")
    return timed(raw_pages, http, b.table.id, store_columns(b))


def job_run(prefix: str, port: int, params: dict | None) -> dict:
    s = open_store(prefix)
    channels = {CHANNEL_EMAIL: EmailChannel(host="127.0.0.1", port=port)}
    r, wall = timed(escalations.run, s, NOW, channels=channels, params=params)
    updates = {t: len(v) for t, v in r.plan.row_updates.items()}
    return {"wall": wall, "calls": dict(s.api.calls), "stats": r.plan.stats or r.note, "status": r.status,
            "updates": updates, "enqueued": r.enqueued, "sent": len(r.sent.messages) + len(r.sent.failures),
            "issues": len(r.plan.issues), "warnings": [str(w)[:160] for w in r.plan.warnings[:3]]}


def one_edit(prefix: str) -> None:
    """A staff member brings one open item's due date forward to yesterday (it is now overdue)."""
    t = open_store(prefix).table("action_items")
    row = t.table.first("-Id", ["Id"], open_where(open_store(prefix)))
    t.update([{"Id": row["Id"], "due_date": (NOW - timedelta(days=1)).date()}])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--job", choices=["escalations", "audit", "periods", "watch", "approvals"], default="escalations")
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows of the largest table (audit: expenses)")
    ap.add_argument("--open", type=int, default=None, help="open items (default: 5 %% of the rows)")
    ap.add_argument("--people", type=int, default=2000)
    ap.add_argument("--late-every", type=int, default=10, help="one open item in N is overdue")
    ap.add_argument("--replays", type=int, default=2, help="periods, watch: raw replays of each run's reads (best of)")
    ap.add_argument("--keep", action="store_true", help="keep the bench bases (to look at them)")
    ap.add_argument("--real", action="store_true", help="watch: real runs (first, idle, one edit, one move)")
    args = ap.parse_args()
    if args.job == "audit":
        import scale_audit

        return scale_audit.main(args)
    if args.job == "periods":
        import scale_periods

        return scale_periods.main(args)
    if args.job == "watch":
        import scale_watch

        return scale_watch.main(args)
    if args.job == "approvals":
        import scale_approvals

        return scale_approvals.main(args)
    n_open = min(args.rows // 20 if args.open is None else args.open, args.rows)
    store = bench_store("scale", TABLES)
    catcher = MailCatcher().start()
    try:
        print(f"API rows (calendar, {len(DEPTS)} departments, {args.people} employees) in "
              f"{in_child(build, store.prefix, args.rows, n_open, args.people):.0f}s", flush=True)
        print(f"loaded in {in_child(seed, store.prefix, args.rows, n_open, args.people, args.late_every):.0f}s "
              "(generate, validate, encode, COPY; not part of the ratios)", flush=True)
        ai = store.table("action_items").table
        n_rows, n_open_now = ai.count(), ai.count(open_where(store))
        print(f"action_items: {n_rows} rows, {n_open_now} open; peak RSS of a child that does nothing "
              f"{child_result(lambda: None)[1]:.0f} MB (fork baseline)", flush=True)
        raw = min(child_result(raw_open, store.prefix)[0] for _ in range(2))
        want = pages(n_open_now) + sum(pages(store.table(t).table.count()) for t in WHOLE)
        print(f"raw paged read of the open set + {', '.join(WHOLE)}: {raw:.1f}s (best of two), {want} pages", flush=True)
        runs = [("first", None, None), ("second", None, None), ("idle", None, None),
                ("one edit", one_edit, None), ("full", None, {"full": True})]
        table = []
        for label, edit, params in runs:
            if edit is not None:
                edit(store.prefix)
            time.sleep(2.5)  # UpdatedAt has whole seconds: let the marks settle
            before = len(catcher.messages)
            out, rss = child_result(job_run, store.prefix, catcher.port, params)
            calls = out["calls"]
            write = sum(batches(n) for n in out["updates"].values()) + batches(out["enqueued"])
            print(f"\n{label}: {out['wall']:.1f}s = {out['wall'] / raw:.2f}× raw, peak RSS {rss:.0f} MB, "
                  f"API calls {sum(calls.values())} {calls}\n  {out['stats']}, status {out['status']}, "
                  f"issues {out['issues']}, updates {out['updates']}, enqueued {out['enqueued']}, "
                  f"messages {len(catcher.messages) - before}, warnings {out['warnings']}\n  implied: {want} pages (full read) + {write} "
                  f"batches of ≤100 + {out['sent']} marks + 2 run-log writes", flush=True)
            table.append((label, sum(calls.values()), calls, write, out["wall"], out["wall"] / raw, rss))
        print(f"\n{args.rows} action items, {n_open_now} open; raw read of the open set {raw:.1f}s ({want} pages)")
        print(f"{'run':10} {'calls':>6} {'GET':>5} {'POST':>5} {'PATCH':>6} {'batches':>8} {'time':>8} {'× raw':>6} {'RSS MB':>7}")
        for label, n, calls, write, wall, ratio, rss in table:
            print(f"{label:10} {n:6} {calls.get('GET', 0):5} {calls.get('POST', 0):5} {calls.get('PATCH', 0):6} "
                  f"{write:8} {wall:7.1f}s {ratio:6.2f} {rss:7.0f}")
        print(f"(parent peak RSS {peak_rss_mb():.0f} MB)", flush=True)
        # Last: at a million rows it takes longest, and the table above is already out.
        (n_read, whole_s), whole_rss = child_result(raw_whole, store.prefix)
        print(f"\nraw paged read of the whole table: {n_read} rows, {pages(n_read)} calls, {whole_s:.0f}s "
              f"({n_read / whole_s:.0f} rows/s), peak RSS {whole_rss:.0f} MB (page by page, nothing kept)")
    finally:
        catcher.stop()
        if not args.keep:
            drop_bases(store)


if __name__ == "__main__":
    main()
