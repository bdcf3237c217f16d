"""A million rows (issue 12), the approvals job: ``bench/scale.py --job approvals`` runs this.

    ACTOPS_DB=pg .venv/bin/python bench/scale.py --job approvals [--rows 1000000] [--people 2000]

审批记录 (the decisions, approvals' largest table) gets ``--rows`` rows: ``rows // 3`` 采购
requests along their route (部门负责人 → 财务 → CEO), three steps each and one decision per
decided step, every chain sealed as the job seals it (前序校验, 本条校验, 记录校验). One request
in a hundred is still 审批中: its first step decided, the second waiting. The calendar,
departments and heads go through the API (bench/scale_audit.py's ``build``), the rest by COPY
(bench/pgload.py) in a child process.

Runs, each in its own process (peak RSS is the job's): first (a full read: every request and
every decision, each chain verified), idle, one decision (a person decides an open request's
waiting step, as the link page writes it) and full (``--full``). Every GET of rows a run made is
recorded and replayed raw (plain httpx) in a process of its own, best of ``--replays``: the ratio
is the job's wall time over the API's ceiling for the very pages it read.
"""

from __future__ import annotations

import random
import time
from datetime import date, datetime, timedelta
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
from pgload import load
from scale_audit import build, staff_list

from actops.jobs.approvals import JOB, history
from actops.kernel import runner
from actops.kernel.calendar import TZ
from actops.kernel.org import CHANNEL_EMAIL
from actops.messaging.channels import EmailChannel
from actops.nocodb import F
from actops_dev.catcher import MailCatcher

TABLES = {"settings", "calendar", "departments", "employees", "activities", "approval_routes", "approval_requests",
          "approval_steps", "approval_decisions", "plan_tasks", "outbox", "run_log"}
NOW = datetime(2026, 11, 17, 10, 0, tzinfo=TZ)  # a Tuesday, outside quiet hours
ROLES = ("部门负责人", "财务", "CEO")
OPEN_EVERY = 100


def company(n_req: int, n_people: int, seed: int = 20261117) -> dict[str, Any]:
    """Employees (a list) and the requests, steps and decisions (generators, parents first)."""
    rng = random.Random(seed)
    emps = staff_list(n_people)
    heads = {e["department"]: e["code"] for e in emps if e.get("roles") == "部门负责人"}
    staff = emps[23:]
    who = {"财务": "E0021", "CEO": "E0000"}
    start = date(2024, 1, 1)
    plan = []  # (code, applicant, department, sent, open)
    for n in range(n_req):
        e = staff[rng.randrange(len(staff))]
        sent = start + timedelta(days=n * 1000 // n_req)
        plan.append((f"RP{n:07d}", e, sent, n % OPEN_EVERY == OPEN_EVERY - 1))

    def at(d: date, hour: int) -> datetime:
        return datetime(d.year, d.month, d.day, hour, tzinfo=TZ)

    def decided(code: str, e: dict, sent: date, is_open: bool) -> list[tuple[int, str, datetime]]:
        n = 1 if is_open else len(ROLES)
        return [(seq, who.get(ROLES[seq - 1], heads[e["department"]]), at(sent + timedelta(days=seq), 11))
                for seq in range(1, n + 1)]

    def chain(code: str, e: dict, sent: date, is_open: bool) -> tuple[list[dict], str]:
        rows, prev = [], history.GENESIS
        for seq, by, when in decided(code, e, sent, is_open):
            d = {"code": f"{code}-{seq}-D", "request": code, "step": f"{code}-{seq}", "decision": "通过", "by": by,
                 "at": when, "comment": "同意"}
            d["prev_hash"], d["hash"] = prev, history.digest(prev, d)
            prev = d["hash"]
            rows.append(d)
        return rows, history.head(len(rows), prev)

    def requests():
        for code, e, sent, is_open in plan:
            yield {"code": code, "kind": "采购", "title": f"采购{code}", "applicant": e["code"],
                   "department": e["department"], "amount": rng.randrange(1, 500) * 100,
                   "status": "审批中" if is_open else "已通过", "submitted_at": at(sent, 9),
                   "history_check": chain(code, e, sent, is_open)[1],
                   **({} if is_open else {"decided_at": at(sent + timedelta(days=3), 11)})}

    def steps():
        for code, e, sent, is_open in plan:
            done = len(decided(code, e, sent, is_open))
            for seq, role in enumerate(ROLES, 1):
                s = {"code": f"{code}-{seq}", "request": code, "seq": seq, "role": role,
                     "assignee": who.get(role, heads[e["department"]]),
                     "status": "已通过" if seq <= done else "待审批" if seq == done + 1 else "未开始"}
                if seq <= done + 1:
                    s["opened_at"] = at(sent + timedelta(days=seq - 1), 9)
                if seq <= done:
                    s["decided_at"] = at(sent + timedelta(days=seq), 11)
                if seq == done + 1:
                    s["due_at"] = at(date(2026, 11, 20), 18)
                yield s

    def decisions():
        for code, e, sent, is_open in plan:
            yield from chain(code, e, sent, is_open)[0]

    return {"employees": emps[21:], "approval_requests": requests(), "approval_steps": steps(),
            "approval_decisions": decisions()}


def seed(prefix: str, n_req: int, n_people: int) -> None:
    load(open_store(prefix), company(n_req, n_people))


def job_run(prefix: str, port: int, params: dict | None) -> dict:
    s = open_store(prefix)
    gets = record_gets(s)
    channels = {CHANNEL_EMAIL: EmailChannel(host="127.0.0.1", port=port)}
    r, wall = timed(runner.run, JOB, s, NOW, channels=channels, params=params)
    return {"wall": wall, "calls": dict(s.api.calls), "gets": gets, "status": r.status,
            "made": {t: len(v) for t, v in r.plan.inserts.items()},
            "updates": {t: len(v) for t, v in r.plan.row_updates.items()}, "enqueued": r.enqueued,
            "issues": f"{len(r.plan.issues)} {[str(i)[:140] for i in r.plan.issues[:3]]}",
            "stats": r.plan.stats or r.note}


def decide_one(prefix: str) -> None:
    """The assignee of one open request's waiting step approves it (the link page's write)."""
    s = open_store(prefix)
    st = s.table("approval_steps")
    step = st.rows(st.where(F("status") == "待审批"), fields=["code", "request", "assignee"])[0]
    s.table("approval_decisions").create([{"code": f"{step['code']}-D", "request": step["request"],
                                           "step": step["code"], "decision": "通过", "by": step["assignee"],
                                           "at": NOW, "comment": "同意"}])


def main(args: Any) -> None:
    preload()
    n_req = max(args.rows // 3, 10)
    store = bench_store("scaleapprovals", TABLES)
    catcher = MailCatcher().start()
    try:
        print(f"API rows in {in_child(build, store.prefix, args.people):.0f}s", flush=True)
        print(f"loaded in {in_child(seed, store.prefix, n_req, args.people):.0f}s (COPY; not part of the ratios)",
              flush=True)
        counts = {t: store.table(t).table.count() for t in ("approval_requests", "approval_steps",
                                                            "approval_decisions")}
        print(f"rows: {counts}; fork baseline RSS {child_result(lambda: None)[1]:.0f} MB", flush=True)
        runs = [("first", None, None), ("idle", None, None), ("one decision", decide_one, None),
                ("full", None, {"full": True})]
        table = []
        for label, edit, params in runs:
            if edit is not None:
                edit(store.prefix)
            time.sleep(2.5)  # UpdatedAt has whole seconds: let the marks settle
            table.append(measure(label, job_run, store.prefix, catcher.port, params, replays=args.replays))
        print(f"\n{counts}; whole: {sum(pages(n) for n in counts.values())} pages")
        print_runs(table, 14)
    finally:
        catcher.stop()
        if not args.keep:
            drop_bases(store)
