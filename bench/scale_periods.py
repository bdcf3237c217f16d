"""A million rows for the jobs that read a period (issue 12, part 4): evaluations scoring a
quarter and summaries writing a month, over the 1,000,000 action items of bench/scale.py
(due dates over 380 days, 5 % open), on PostgreSQL.

    ACTOPS_DB=pg .venv/bin/python bench/scale.py --job periods [--rows 1000000] [--people 2000]

Both jobs used to read their operations tables whole; now each reads the rows its period can
count (jobs/evaluations/ops_rows.py, jobs/summaries/rows.py). Each run is in its own process
(peak RSS is the job's), and every GET of rows it made is recorded and then replayed raw
(plain httpx, nothing parsed beyond JSON) in a process of its own (best of ``--replays``): the ratio
is the job's wall time over the API's ceiling for the very pages it read. Runs:

* summaries, 2026-10 (the month before NOW): first (makes and sends), rerun (made already);
* evaluations, a 2026-Q3 quarter cycle in 评分中, with 协作效率 (K-COLLAB) switched to 计算 so the
  quarter's action items are read (as seeded it is typed, and scoring reads no action item):
  first (a row per employee, scored), second (its own writes read back), idle, and one edit (an action item due in the quarter marked
  done). Evaluations scores the quarter again on any edit of what it reads, but after its first run it reads the
  quarter's rows from its local copy (kernel/row_cache.py) patched with the rows changed since: the edit, not the
  quarter. Each run prints its row GETs by table.
"""

from __future__ import annotations

import time
from typing import Any

from common import (
    bench_store,
    child_result,
    drop_bases,
    in_child,
    measure,
    open_store,
    pages,
    preload,
    print_runs,
    record_gets,
    timed,
)
from scale import NOW, build, seed

from actops.jobs.evaluations import JOB as EVALUATIONS
from actops.jobs.summaries import JOB as SUMMARIES
from actops.kernel import runner
from actops.kernel.org import CHANNEL_EMAIL
from actops.messaging.channels import EmailChannel
from actops.nocodb import F
from actops_dev.catcher import MailCatcher

JOBS = {"summaries": SUMMARIES, "evaluations": EVALUATIONS}
CYCLE = {"code": "2026-Q3-考评", "kind": "季度考评", "period": "2026-Q3", "status": "评分中"}


def job_run(prefix: str, port: int, name: str) -> dict:
    s = open_store(prefix)
    gets = record_gets(s)
    channels = {CHANNEL_EMAIL: EmailChannel(host="127.0.0.1", port=port)}
    r, wall = timed(runner.run, JOBS[name], s, NOW, channels=channels)
    made = {t: len(v) for t, v in r.plan.inserts.items()}
    updates = {t: len(v) for t, v in r.plan.row_updates.items()}
    names = {t.table.id: n for n, t in s.bound_tables().items()}
    by_table: dict[str, int] = {}
    for u in gets:
        n = names.get(u.split("/api/v2/tables/")[1].split("/")[0], "?")
        by_table[n] = by_table.get(n, 0) + 1
    return {"wall": wall, "calls": dict(s.api.calls), "gets": gets, "status": r.status, "made": made,
            "by_table": by_table,
            "updates": updates, "enqueued": r.enqueued, "issues": [str(i)[:140] for i in r.plan.issues[:3]],
            "stats": r.plan.stats or r.note}


def mark_one_done(prefix: str) -> None:
    """A staff member marks one open action item due in the quarter as done."""
    t = open_store(prefix).table("action_items")
    w = t.where(F("due_date").on_or_after("2026-07-01") & F("due_date").on_or_before("2026-09-30")
                & (F("status") != "已完成"))
    row = t.table.first("Id", ["Id"], w) or t.table.first("Id", ["Id"])
    t.update([{"Id": row["Id"], "status": "已完成", "done_at": NOW}])


def main(args: Any) -> None:
    preload()
    n_open = args.rows // 20
    store = bench_store("periods")
    catcher = MailCatcher().start()
    try:
        print(f"API rows in {in_child(build, store.prefix, args.rows, n_open, args.people):.0f}s", flush=True)
        print(f"loaded in {in_child(seed, store.prefix, args.rows, n_open, args.people, 10):.0f}s (COPY; not "
              "part of the ratios)", flush=True)
        store.table("eval_cycles").create([CYCLE])
        kd = store.table("kpi_definitions")  # the worst case: 协作效率 computed, so the quarter's items are read
        kd.update([{"Id": r["Id"], "source": "计算"} for r in kd.rows(kd.where(F("code") == "K-COLLAB"), fields=["code"])])
        ai = store.table("action_items").table
        print(f"action_items: {ai.count()} rows; fork baseline RSS {child_result(lambda: None)[1]:.0f} MB", flush=True)
        runs = [("summaries", "first", None), ("summaries", "rerun", None),
                ("evaluations", "first", None), ("evaluations", "second", None), ("evaluations", "idle", None),
                ("evaluations", "one edit", mark_one_done)]
        table = []
        for name, label, edit in runs:
            if edit is not None:
                edit(store.prefix)
            time.sleep(2.5)  # UpdatedAt has whole seconds: let the marks settle
            table.append(measure(f"{name} {label}", job_run, store.prefix, catcher.port, name, replays=args.replays))
        print(f"\n{ai.count()} action items ({pages(ai.count())} pages whole)")
        print_runs(table)
    finally:
        catcher.stop()
        if not args.keep:
            drop_bases(store)
