"""A month of summaries for ten times the sample company.

    .venv/bin/python bench/summaries.py [--scale 10]

The company is ``actops seed --scale 10`` (src/actops_dev/sample, made as of 2026-12-01: about
155,000 rows), loaded by bench/fastload.py in a child process: through the API its links
make it take hours. Then the summaries of 2026-11 are made (each department and the company,
mailed with charts to a local mail catcher (WeCom to a local receiver), report files stored in NocoDB) and made again
(nothing to do: the month is done).

Prints API calls by method against the pages and batches the data implies, wall time as a
ratio of a raw paged read of the same tables (the store's columns; the best of two) in the same
run, and the time spent drawing the matplotlib charts, on its own.
"""

from __future__ import annotations

import argparse
import time
from datetime import date, datetime

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
)
from fastload import load

from actops.jobs.summaries import job as summaries
from actops.jobs.summaries import report
from actops.kernel import runner
from actops.kernel.calendar import TZ
from actops.kernel.org import CHANNEL_EMAIL, CHANNEL_WECOM
from actops.messaging.channels import EmailChannel, WeComChannel
from actops.nocodb import F
from actops.store import Store
from actops_dev.catcher import MailCatcher, WeComReceiver
from actops_dev.seed import sample_rows

TODAY = date(2026, 12, 1)
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=TZ)  # the cron's moment: the 1st at 08:00
WHOLE = ["settings", "calendar", "employees", "departments", "activities", "action_items", "budget_lines", "risks",
         "customers"]
READ = [*WHOLE, "summaries", "approval_requests", "approval_steps", "reports", "kpi_results", "feedback"]


def seed(prefix: str, scale: int) -> None:
    data, took = timed(sample_rows, TODAY, scale)
    print(f"generated {sum(map(len, data.values()))} rows in {took:.1f}s: {({k: len(v) for k, v in data.items()})}",
          flush=True)
    load(open_store(prefix), data)


def needed_pages(store: Store) -> int:
    """Data pages of what the job reads: the snapshot, the tables it reads whole, and what its
    filters select (requests decided and reports due since the month before, escalated steps,
    two months of KPI results, feedback since the month before, this month's summaries)."""
    first = date(2026, 10, 1)
    filtered = {"summaries": F("period") == "2026-11", "approval_requests": F("decided_at").on_or_after(first),
                "approval_steps": F("escalation_level") >= 1, "reports": F("due_at").on_or_after(first),
                "kpi_results": F("period").in_(["2026-11", "2026-10"]), "feedback": F("submitted_at").on_or_after(first)}
    return (sum(pages(store.table(n).table.count()) for n in WHOLE)
            + sum(pages(store.table(n).table.count(store.table(n).where(w))) for n, w in filtered.items()))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=int, default=10)
    args = ap.parse_args()
    store = bench_store("sum")
    drawn: list[float] = []
    charts_for = report.charts_for

    def timed_charts(*a, **kw):
        out, took = timed(charts_for, *a, **kw)
        drawn.append(took)
        return out

    report.charts_for = timed_charts
    catcher, wecom = MailCatcher().start(), WeComReceiver().start()
    try:
        print(f"seeded in {in_child(seed, store.prefix, args.scale):.0f}s (not part of the ratio)", flush=True)
        print(f"rows: {({t: store.table(t).table.count() for t in READ})}")
        want = needed_pages(store)
        http = http_client()
        raw = raw_ceiling(http, store, READ)
        channels = {CHANNEL_EMAIL: EmailChannel(host="127.0.0.1", port=catcher.port),
                    CHANNEL_WECOM: WeComChannel(wecom.url)}
        rss0 = peak_rss_mb()
        for label in ("first run (2026-11)", "second run (the month is done)"):
            s = fresh(store)
            drawn.clear()
            time.sleep(2.5)  # UpdatedAt has whole seconds: let the marks settle
            before = len(catcher.messages) + len(wecom.received)
            res, wall = timed(runner.run, summaries.JOB, s, NOW, channels=channels)
            calls = dict(s.api.calls)
            print(f"\n{label}: {wall:.1f}s = {wall / raw:.2f}× the raw paged read of the same tables ({raw:.1f}s)")
            print(f"  charts: {len(drawn)} scopes drawn in {sum(drawn):.1f}s "
                  f"({sum(drawn) / wall:.0%} of the run); without them {(wall - sum(drawn)) / raw:.2f}× the raw read")
            print(f"  API calls {sum(calls.values())}: {calls}")
            print(f"  {res.plan.stats or res.note}, status {res.status}, issues {len(res.plan.issues)}, "
                  f"enqueued {res.enqueued}, messages caught {len(catcher.messages) + len(wecom.received) - before}, "
                  f"deferred {res.sent.deferred}, warnings {[w[:80] for w in res.plan.warnings[:2]]}")
            if res.plan.inserts:
                rows = sum(len(v) for v in res.plan.inserts.values())
                print(f"  needed: {want} data pages of the tables read + {batches(rows)} insert batch(es) of the "
                      f"summary rows + {rows} report uploads + {batches(res.enqueued)} outbox batch(es) + one mark "
                      f"per message sent (besides: meta, the linked tables' keys, marks, run log)")
        print(f"\npeak RSS {peak_rss_mb():.0f} MB ({rss0:.0f} MB before the first run: interpreter, imports, raw read)")
    finally:
        report.charts_for = charts_for
        catcher.stop()
        wecom.stop()
        drop_bases(store)


if __name__ == "__main__":
    main()
