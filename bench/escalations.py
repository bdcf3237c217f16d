"""Escalations at scale: 50,000 open items, API calls and wall time vs a raw paged read.

    .venv/bin/python bench/escalations.py [--items 50000]

Prints, for a first run (every item newly overdue), a second run (its own writes read back),
a third with nothing changed (idle), a fourth after one staff edit (OPS-3: it reads the
changed row, not the 50,000 open ones) and a full read with nothing to do (what every
``full_scan_hours`` costs): the API calls by method against the pages/batches the data implies,
the wall time as a ratio of a raw httpx paged read of the same tables measured in the same run,
and the messages sent; then the one-edit and full runs against the idle one. Runs against the
NocoDB in .env (start one with `actops up`).
"""

from __future__ import annotations

import argparse
import math
import time
import uuid
from datetime import datetime

import httpx
from common import raw_read

from actops import config
from actops.jobs import escalations
from actops.kernel.calendar import TZ, prc_calendar_rows
from actops.kernel.org import CHANNEL_EMAIL
from actops.messaging.channels import EmailChannel
from actops.nocodb import Api
from actops.schema import load_schema
from actops.schema.sync import apply
from actops.store import Store
from actops_dev.catcher import MailCatcher

TABLES = {"settings", "calendar", "departments", "employees", "activities", "approval_requests",
          "approval_steps", "reports", "meetings", "action_items", "stage_gates", "problems",
          "eval_cycles", "evaluations", "audit_findings",  # watched by the job (HR base: the first two)
          "outbox", "run_log"}
NOW = datetime(2026, 11, 17, 10, 0, tzinfo=TZ)  # a Tuesday, outside quiet hours


def build(store: Store, items: int, people: int = 200) -> dict[str, int]:
    store.table("calendar").create(prc_calendar_rows([2026, 2027]))
    store.table("departments").create([{"code": f"D{d:02d}", "name": f"部门{d}", "head": f"E{d:04d}"} for d in range(1, 11)])
    emps = [{"code": "E0000", "name": "总经理", "department": "D01", "roles": "总经理", "email": "gm@bench.test", "active": True}]
    for i in range(1, people):
        dept = (i % 10) + 1
        head = f"E{dept:04d}"
        emps.append({"code": f"E{i:04d}", "name": f"员工{i}", "department": f"D{dept:02d}",
                     "manager": "E0000" if i <= 10 else head, "email": f"e{i}@bench.test", "active": True})
    store.table("employees").create(emps)
    n_steps, n_actions = items * 2 // 5, items * 2 // 5
    n_reports = items - n_steps - n_actions
    store.table("approval_requests").create([{"code": "AP-B", "kind": "采购", "title": "基准", "applicant": "E0011", "status": "审批中"}])
    # Opened Thu 11-12 09:00: due Mon 11-16 09:00, so at NOW every item is at rung 2 (manager).
    store.table("approval_steps").create([
        {"code": f"S{i:06d}", "request": "AP-B", "seq": 1, "role": "主管", "assignee": f"E{11 + i % (people - 11):04d}",
         "status": "待审批", "opened_at": datetime(2026, 11, 12, 9, 0, tzinfo=TZ)} for i in range(n_steps)])
    store.table("action_items").create([
        {"code": f"A{i:06d}", "title": f"事项{i}", "owner": f"E{11 + i % (people - 11):04d}", "due_date": "2026-11-16",
         "status": "进行中"} for i in range(n_actions)])
    store.table("reports").create([
        {"code": f"R{i:06d}", "employee": f"E{11 + i % (people - 11):04d}", "kind": "日报", "period_start": "2026-11-13"}
        for i in range(n_reports)])
    return {"approval_steps": n_steps, "action_items": n_actions, "reports": n_reports, "employees": people}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=50000)
    args = ap.parse_args()
    cfg = config.nocodb()
    api = Api(cfg.url, cfg.token)
    prefix = f"bench-esc-{uuid.uuid4().hex[:6]}-"
    apply(api, load_schema(), prefix=prefix, only=TABLES, log=lambda s: None)
    store = Store(api, prefix)
    t0 = time.perf_counter()
    sizes = build(store, args.items)
    print(f"built {args.items} open items in {time.perf_counter() - t0:.0f}s: {sizes}")
    catcher = MailCatcher().start()
    channels = {CHANNEL_EMAIL: EmailChannel(host="127.0.0.1", port=catcher.port)}
    http = httpx.Client(base_url=cfg.url, headers={"xc-token": cfg.token}, timeout=120)
    read_tables = ["approval_steps", "action_items", "reports", "employees", "calendar"]
    raw = raw_read(http, [store.table(t).table.id for t in read_tables])
    pages = sum(math.ceil((store.table(t).table.count() + 1) / 1000) for t in read_tables)
    first = None
    measured: dict[str, tuple[int, float]] = {}

    def one_edit(s: Store) -> None:  # a staff member renames one action item in the grid
        t = s.table("action_items")
        t.update([{"Id": t.table.first("-Id", ["Id"])["Id"], "title": "事项（已改）"}])

    runs = [("first run", None, None),
            ("second run (nothing changed but the first run's own writes)", None, None),
            ("third run (nothing changed at all)", None, None),
            ("one edit (a staff member renamed one action item)", one_edit, None),
            # With an option the runner neither skips the run nor hands the job what changed.
            ("full read (as every full_scan_hours; nothing changed)", None, {"bench": "full"})]
    try:
        for label, edit, params in runs:
            s = Store(Api(cfg.url, cfg.token), prefix)
            if edit is not None:
                edit(Store(Api(cfg.url, cfg.token), prefix))
            time.sleep(2.5)  # UpdatedAt has whole seconds: let the marks settle
            before = len(catcher.messages)
            t0 = time.perf_counter()
            r = escalations.run(s, NOW, channels=channels, params=params)
            wall = time.perf_counter() - t0
            calls = dict(s.api.calls)
            measured[label.split(" (")[0]] = (sum(calls.values()), wall)
            print(f"\n{label}: {wall:.1f}s = {wall / raw:.2f}× the raw paged read of the same tables ({raw:.1f}s)")
            print(f"  API calls {sum(calls.values())}: {calls}")
            print(f"  {r.plan.stats or r.note}, enqueued {r.enqueued}, "
                  f"messages {len(catcher.messages) - before}, status {r.status}, "
                  f"issues {len(r.plan.issues)}, warnings {r.plan.warnings[:2]}")
            updates = {t: len(v) for t, v in r.plan.row_updates.items()}
            print(f"  row updates by table: {updates}")
            batches = sum(math.ceil(n / 100) for n in updates.values()) + math.ceil(r.enqueued / 100)
            print(f"  expected writes: {batches} batches of ≤100 (item updates, outbox inserts) + "
                  f"{len(r.sent.messages) + len(r.sent.failures)} single-row marks (one per message, as its "
                  f"channel accepts it) + 2 run-log writes; data pages of the big tables: {pages}")
            first = first or r
        idle_calls, idle_wall = measured["third run"]
        for name in ("one edit", "full read"):
            calls, wall = measured[name]
            print(f"\n{name} vs idle: {calls} / {idle_calls} calls = {calls / idle_calls:.2f}×, "
                  f"{wall:.1f}s / {idle_wall:.1f}s = {wall / idle_wall:.2f}×")
    finally:
        catcher.stop()
        for b in api.bases():  # both bases: 活动运营 and 人事考评
            if b["title"].startswith(prefix):
                api.request("DELETE", f"/api/v2/meta/bases/{b['id']}")


if __name__ == "__main__":
    main()
