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

``--real`` (with a smaller ``--rows``, e.g. 50000: the issue's 50,000-item base) runs the job
for real instead: the first run (every line's 已用金额 written at NocoDB's per-row pace), its
writes read back, an idle run, one expense's amount corrected, one expense moved to another
activity; each against the idle run.
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
    preload,
    print_runs,
    record_gets,
    replay,
    timed,
)
from scale_audit import NOW, TABLES, build, seed

from actops.jobs.watch import JOB
from actops.kernel import runner
from actops.kernel.org import CHANNEL_EMAIL
from actops.messaging.channels import EmailChannel
from actops.nocodb import F
from actops_dev.catcher import MailCatcher


def job_run(prefix: str) -> dict:
    s = open_store(prefix)
    gets = record_gets(s)
    r, wall = timed(runner.run, JOB, s, NOW, dry_run=True)
    plan = r.plan
    return {"wall": wall, "calls": dict(s.api.calls), "gets": gets, "stats": plan.stats,
            "updates": {t: len(v) for t, v in plan.row_updates.items()}, "messages": len(plan.messages),
            "issues": len(plan.issues), "first_issues": [str(i)[:140] for i in plan.issues[:3]]}


def real_run(prefix: str, port: int) -> dict:
    """One real run (written, alerts mailed to a local catcher), for :func:`common.measure`."""
    s = open_store(prefix)
    gets = record_gets(s)
    r, wall = timed(runner.run, JOB, s, NOW, channels={CHANNEL_EMAIL: EmailChannel(host="127.0.0.1", port=port)})
    plan = r.plan
    return {"wall": wall, "calls": dict(s.api.calls), "gets": gets, "status": r.status,
            "made": {t: len(v) for t, v in plan.inserts.items()}, "enqueued": r.enqueued,
            "updates": {t: len(v) for t, v in plan.row_updates.items()}, "issues": [str(i)[:140] for i in plan.issues[:2]],
            "stats": {k: v for k, v in (plan.stats or {"note": r.note}).items() if k in ("read", "read_why", "rows_read",
                                                                                      "lines_updated", "note")}}


def edit_amount(prefix: str) -> None:
    """A finance clerk corrects the amount of one paid expense."""
    t = open_store(prefix).table("expenses")
    row = t.table.first("Id", ["Id"], t.where(F("status") == "已支付"))
    t.update([{"Id": row["Id"], "amount": 1234.5}])


def move_expense(prefix: str) -> None:
    """One paid expense booked to another activity that has a line of its 科目: the line it left
    must lose it, the one it joins gain it."""
    s = open_store(prefix)
    t, lines = s.table("expenses"), s.table("budget_lines")
    row = t.rows(t.where(F("status") == "已支付"), fields=["activity", "category"])[-1]
    other = next(x["activity"] for x in lines.rows(lines.where(F("category") == row["category"]),
                                                   fields=["activity"]) if x["activity"] != row["activity"])
    t.update([{"Id": row["Id"], "activity": other}])


def real_runs(prefix: str, replays: int) -> None:
    """``--real``: the first real run, its writes read back, idle, one edit, one move."""
    table, catcher = [], MailCatcher().start()
    try:
        for label, edit in (("first", None), ("second", None), ("idle", None), ("one edit", edit_amount),
                            ("one move", move_expense)):
            if edit is not None:
                edit(prefix)
            time.sleep(2.5)  # UpdatedAt has whole seconds: let the marks settle
            table.append(measure(f"watch {label}", real_run, prefix, catcher.port, replays=replays))
    finally:
        catcher.stop()
    print_runs(table)


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
        if args.real:
            return real_runs(store.prefix, args.replays)
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
