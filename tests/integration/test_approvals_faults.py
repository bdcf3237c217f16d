"""Approvals under faults, against real servers: `actops run approvals` killed while it
inserts steps and while it sends, then run again; and two runs started together. Whatever
happens, each request ends with exactly its route's steps, each decision row once, and each
approver told once (at most one mail re-sent per kill: the one in flight)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter

import pytest

from tests.integration.test_delivery_faults import env_for, finish, kill, tally

TABLES = {"approval_routes", "approval_requests", "approval_steps", "approval_decisions", "employees",
          "departments", "settings", "calendar", "run_log", "outbox", "activities", "activity_types", "plan_tasks",
          "plans", "customers"}
REQUESTS = 120  # 费用 ≥ 100,000: three steps each, 360 step rows in four insert batches
NOW = "2026-11-23T10:00"


def fill(store, leave: bool = False) -> None:
    store.table("departments").create([{"code": "D01", "name": "总经办"}, {"code": "D02", "name": "市场部"}])
    people = [
        {"code": "E01", "name": "王总", "department": "D01", "roles": ["总经理", "CEO"], "email": "e01@corp.test"},
        {"code": "E02", "name": "李总监", "department": "D02", "manager": "E01", "roles": ["部门负责人", "总监"],
         "email": "e02@corp.test"},
        {"code": "E05", "name": "孙财务", "department": "D01", "manager": "E01", "roles": ["财务"], "email": "e05@corp.test"},
    ]
    people += [{"code": f"E{i}", "name": f"主管{i}", "department": "D02", "manager": "E02", "roles": ["主管"],
                "email": f"e{i}@corp.test"} for i in range(100, 100 + 20)]
    people += [{"code": f"S{i}", "name": f"员工{i}", "department": "D02", "manager": f"E{100 + i % 20}",
                "email": f"s{i}@corp.test"} for i in range(REQUESTS)]
    store.table("employees").create(people)
    ids = store.key_ids("departments")
    store.table("departments").update([{"Id": ids["D01"], "head": "E01"}, {"Id": ids["D02"], "head": "E02"}])
    store.table("approval_requests").create([
        {"code": f"AP-{i:04d}", "kind": "费用", "title": f"报销{i}", "applicant": f"S{i}", "department": "D02",
         "amount": 150_000, "status": "审批中"} for i in range(REQUESTS)])


def start(env) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "actops.cli", "run", "approvals", "--now", NOW],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def when(cond, proc, what: str, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before {what}:\n{proc.stdout.read()}")
        assert time.monotonic() < deadline, f"no progress towards {what}"
        time.sleep(0.01)


def end_state(store) -> tuple[Counter, Counter]:
    steps = Counter(r["code"] for r in store.table("approval_steps").rows(fields=["code"]))
    decisions = Counter(r["code"] for r in store.table("approval_decisions").rows(fields=["code"]))
    return steps, decisions


@pytest.mark.req("REL-1", "APR-1")
def test_killed_while_inserting_steps_and_while_sending_then_rerun_ends_as_one_clean_run(nocodb, make_store, smtp):
    store = make_store(TABLES, suffix="aprkill-")
    fill(store)
    env = env_for(*nocodb, store.prefix, smtp)
    smtp.clear()
    steps = store.table("approval_steps").table
    proc = start(env)
    when(lambda: 0 < steps.count() < 3 * REQUESTS, proc, "the first batch of steps")
    kill(proc)
    proc = start(env)
    when(lambda: len(smtp.messages) >= 10, proc, "ten mails")
    kill(proc)
    out = finish(start(env))
    assert "status 成功" in out or "status 部分成功" in out, out
    codes, decisions = end_state(store)
    assert len(codes) == 3 * REQUESTS and max(codes.values()) == 1  # every step, none twice
    assert sum(decisions.values()) == len(decisions)  # no decision twice
    open_ = [r for r in store.table("approval_steps").rows(fields=["code", "status"]) if r["status"] == "待审批"]
    assert sorted(r["code"] for r in open_) == [f"AP-{i:04d}-S1" for i in range(REQUESTS)]
    owed, lost, dups = tally(store, smtp)
    assert owed == REQUESTS and lost == 0 and dups <= 1  # one mail per opened step; only the one in flight again
    finish(start(env))  # and a rerun after all that changes and sends nothing
    assert end_state(store) == (codes, decisions) and tally(store, smtp) == (owed, lost, dups)


@pytest.mark.req("REL-1", "APR-1")
def test_two_runs_started_together_create_and_send_everything_once(nocodb, make_store, smtp):
    store = make_store(TABLES, suffix="aprtwin-")
    fill(store)
    env = env_for(*nocodb, store.prefix, smtp)
    smtp.clear()
    a, b = start(env), start(env)
    outs = finish(a) + finish(b)
    codes, _ = end_state(store)
    assert len(codes) == 3 * REQUESTS and max(codes.values()) == 1, outs
    assert tally(store, smtp) == (REQUESTS, 0, 0), outs
