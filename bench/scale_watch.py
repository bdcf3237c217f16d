"""The watch job's full read at a million rows (issue 12, part 4): 1,000,000 费用报销 rows,
20,000 activities with 60,000 budget lines (the audit bench's company, bench/scale_audit.py),
on PostgreSQL.

    ACTOPS_DB=pg .venv/bin/python bench/scale.py --job watch [--rows 1000000] [--people 2000]

Watch reads every expense on a full read (a first run, ``--full``, every ``full_scan_hours``)
to sum each budget line's 已用金额; the expenses now pass a page at a time into small
(Id, activity, category, amount, status) tuples instead of staying as records. The run is a
dry run (planned in full, nothing written): a first real run would also write 60,000 lines'
已用金额, and a bulk update on a table with links is NocoDB's per-row work (about 800 rows a
minute here, see README), not the read this bench is about. Its reads are recorded and replayed
raw (plain httpx) in a process of their own: the ratio is the job's wall time over the API's
ceiling for the very pages it read. Peak RSS is the job's process's.
"""

from __future__ import annotations

from typing import Any

from common import (
    bench_store,
    child_result,
    drop_bases,
    in_child,
    open_store,
    preload,
    record_gets,
    replay,
    timed,
)
from scale_audit import NOW, TABLES, build, seed

from actops.jobs.watch import JOB
from actops.kernel import runner


def job_run(prefix: str) -> dict:
    s = open_store(prefix)
    gets = record_gets(s)
    r, wall = timed(runner.run, JOB, s, NOW, dry_run=True)
    plan = r.plan
    return {"wall": wall, "calls": dict(s.api.calls), "gets": gets, "stats": plan.stats,
            "updates": {t: len(v) for t, v in plan.row_updates.items()}, "messages": len(plan.messages),
            "issues": len(plan.issues), "first_issues": [str(i)[:140] for i in plan.issues[:3]]}


def main(args: Any) -> None:
    preload()
    rows, people = args.rows, args.people
    n_act, n_req = max(rows // 50, 10), max(rows * 3 // 50, 30)
    store = bench_store("scalewatch", TABLES | {"risks", "risk_history"})
    try:
        print(f"API rows in {in_child(build, store.prefix, people):.0f}s", flush=True)
        print(f"loaded in {in_child(seed, store.prefix, rows, n_act, n_req, people):.0f}s (COPY; not part of the "
              "ratios)", flush=True)
        print(f"rows: { {t: store.table(t).table.count() for t in ('expenses', 'activities', 'budget_lines')} }; "
              f"fork baseline RSS {child_result(lambda: None)[1]:.0f} MB", flush=True)
        out, rss = child_result(job_run, store.prefix)
        n, raw = min((child_result(replay, out["gets"])[0] for _ in range(args.replays)), key=lambda x: x[1])
        calls = sum(out["calls"].values())
        print(f"\nwatch, full read (dry run): {out['wall']:.1f}s = {out['wall'] / raw:.2f}× the raw replay of its "
              f"{len(out['gets'])} row GETs ({n} rows, {raw:.1f}s); {calls} calls {out['calls']}; peak RSS {rss:.0f} MB"
              f"\n  {out['stats']}\n  planned: updates {out['updates']}, {out['messages']} messages, "
              f"{out['issues']} issues {out['first_issues']}", flush=True)
    finally:
        if not args.keep:
            drop_bases(store)
