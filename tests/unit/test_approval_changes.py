"""Cost follows change (OPS-3) for approvals: after a first full read, a run reads the requests
an insert or an edit names (with their steps and decisions) and ends where a run that reads
everything ends — same rows, same outbox, same messages; a tampered or deleted decision is
still found (SEC-4).

Two identical companies on the in-memory NocoDB go through the same edits at the same times:
``changes`` runs the job as it is, ``full`` with ``since`` taken away (every run reads all).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from actops.jobs.approvals import JOB
from actops.kernel import runner
from actops.kernel.calendar import TZ, prc_calendar_rows
from actops.store import Store
from tests.unit.fake_world import small_company
from tests.unit.twins import World, row, worlds
from tests.unit.twins import step as twins_step

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)  # Monday
TABLES = ("approval_requests", "approval_steps", "approval_decisions", "activities")


def requests_read(w: World) -> list[str]:
    return sorted(r.code for r in w.loaded[-1].requests)


def build(store: Store) -> None:
    small_company(store)  # 王总 E01 (GM), 李总监 E02 (head of 市场部), 钱专员 E04 (under E02), 孙财务 E05
    store.table("calendar").create(prc_calendar_rows([2026]))
    store.table("approval_requests").create([
        {"code": f"AP-{i}", "kind": "采购", "title": f"采购{i}", "applicant": "E04", "department": "D02",
         "amount": 20000, "status": "审批中"} for i in (1, 2, 3)])
    store.table("activities").create([
        {"code": "ACT-1", "name": "冬季客户会", "type": "客户交流", "stage": "执行", "department": "D02",
         "owner": "E04", "start_date": "2026-12-01", "end_date": "2026-12-02"}])


def twins(monkeypatch) -> tuple[World, World]:
    """Two identical companies: a first run that reads everything, its own writes read back,
    AP-1's first step approved by link and AP-1..3's decisions sealed, then an idle run."""
    monkeypatch.setenv("ACTOPS_LINK_SECRET", "s" * 40)
    monkeypatch.setenv("ACTOPS_PUBLIC_URL", "https://actops.example.cn")
    changes, full = worlds(JOB, build, T0)
    step(changes, full, 0)  # first run: everything read, every request routed
    step(changes, full, 10)  # the first run's own writes read back
    step(changes, full, 10, decide("AP-1-S1", "通过", "E02"))  # the link page: AP-1 moves to 孙财务
    step(changes, full, 10)  # the decision sealed
    step(changes, full, 10)
    assert changes.results[-1].note == full.results[-1].note == "idle"
    return changes, full


def decide(step_code: str, what: str, by: str):
    """What the link page writes: the decision row, then the step."""
    def edit(store: Store) -> None:
        s = next(r for r in store.table("approval_steps").rows() if r["code"] == step_code)
        store.table("approval_decisions").create([{"code": f"{step_code}-D", "request": s["request"], "step": step_code,
                                                   "decision": what, "by": by, "at": store.api.server.now(), "comment": "同意"}])
        store.table("approval_steps").update([{"Id": s["Id"], "status": "已通过" if what == "通过" else "已驳回"}])
    return edit


def step(changes: World, full: World, minutes: int, edit=None) -> None:
    twins_step(changes, full, minutes, edit, tables=TABLES)


def read(w: World) -> str:
    return w.stats()["read"]


@pytest.mark.req("OPS-3", "APR-1")
def test_a_new_request_is_read_alone_and_routed(monkeypatch):
    changes, full = twins(monkeypatch)
    idle_calls = changes.calls[-1]
    step(changes, full, 10, lambda s: s.table("approval_requests").create([
        {"code": "AP-4", "kind": "采购", "title": "灯光租赁", "applicant": "E04", "department": "D02",
         "amount": 20000, "status": "审批中"}]))
    assert read(changes) == "changes" and read(full) == "full"
    assert requests_read(changes) == ["AP-4"] and len(requests_read(full)) == 4
    assert [(m.recipient, m.kind) for m in changes.results[-1].plan.messages] == [("E02", "待审批通知")]
    assert changes.stats()["routed"] == 1
    assert changes.calls[-1] <= 2 * idle_calls
    step(changes, full, 10)  # its own writes (steps, 记录校验) read back: AP-4 again, nothing new
    assert requests_read(changes) == ["AP-4"] and not changes.results[-1].plan.messages


@pytest.mark.req("OPS-3", "APR-2")
def test_a_decision_by_link_reads_its_request_and_opens_the_next_step(monkeypatch):
    changes, full = twins(monkeypatch)
    idle_calls = changes.calls[-1]
    step(changes, full, 10, decide("AP-2-S1", "通过", "E02"))
    assert read(changes) == "changes" and requests_read(changes) == ["AP-2"]
    assert changes.stats()["rows_read"] == {"approval_requests": 1, "approval_steps": 3, "approval_decisions": 1}
    assert [(m.recipient, m.kind) for m in changes.results[-1].plan.messages] == [("E05", "待审批通知")]
    assert row(changes.store, "approval_steps", "AP-2-S2")["status"] == "待审批"
    assert changes.calls[-1] <= 2 * idle_calls


@pytest.mark.req("OPS-3", "APR-2", "SEC-4")
def test_a_grid_decision_by_someone_else_is_undone_reading_its_request_alone(monkeypatch):
    changes, full = twins(monkeypatch)
    idle_calls = changes.calls[-1]
    s1 = row(changes.store, "approval_steps", "AP-3-S1")["Id"]
    # the in-memory NocoDB names no editor: not 李总监's own account, so the edit is undone
    step(changes, full, 10, lambda s: s.table("approval_steps").update([{"Id": s1, "status": "已通过"}]))
    assert read(changes) == "changes" and requests_read(changes) == ["AP-3"]
    assert changes.stats()["grid_edits_undone"] == 1
    assert row(changes.store, "approval_steps", "AP-3-S1")["status"] == "待审批"
    assert "只有" in row(changes.store, "approval_steps", "AP-3-S1")["data_issue"]
    assert changes.calls[-1] <= 2 * idle_calls


@pytest.mark.req("OPS-3", "APR-3", "SEC-4")
def test_an_edited_decision_is_found_reading_its_request_alone(monkeypatch):
    changes, full = twins(monkeypatch)
    idle_calls = changes.calls[-1]
    d = row(changes.store, "approval_decisions", "AP-1-S1-D")
    assert d["hash"]  # sealed by the twins' runs
    step(changes, full, 10, lambda s: s.table("approval_decisions").update([{"Id": d["Id"], "comment": "其实不同意"}]))
    assert read(changes) == "changes" and requests_read(changes) == ["AP-1"]
    assert changes.stats()["chains_broken"] == 1
    assert "审批记录被改动" in row(changes.store, "approval_requests", "AP-1")["audit_flag"]
    assert "被改动过" in row(changes.store, "approval_decisions", "AP-1-S1-D")["data_issue"]
    assert changes.calls[-1] <= 2 * idle_calls
    step(changes, full, 10)  # the flag it wrote read back: still broken, nothing more
    assert read(changes) == "changes" and changes.stats()["chains_broken"] == 1


@pytest.mark.req("OPS-3", "APR-3", "SEC-4")
def test_a_deleted_decision_makes_a_full_read_that_finds_the_broken_chain(monkeypatch):
    changes, full = twins(monkeypatch)
    d = row(changes.store, "approval_decisions", "AP-1-S1-D")
    step(changes, full, 10, lambda s: s.table("approval_decisions").table.delete([d["Id"]]))
    assert read(changes) == "full" and "deleted" in changes.stats()["read_why"]
    assert changes.stats()["chains_broken"] == 1
    req = row(changes.store, "approval_requests", "AP-1")
    assert "审批记录被改动或删除" in req["audit_flag"] and "有记录被删除" in req["data_issue"]
    step(changes, full, 10)  # back to reading changes
    assert read(changes) == "changes"


@pytest.mark.req("OPS-3", "APR-3", "SEC-4")
def test_a_decision_moved_to_another_request_makes_a_full_read_that_finds_both_chains_broken(monkeypatch):
    changes, full = twins(monkeypatch)
    d = row(changes.store, "approval_decisions", "AP-1-S1-D")
    step(changes, full, 10, lambda s: s.table("approval_decisions").update([{"Id": d["Id"], "request": "AP-2"}]))
    assert read(changes) == "full" and "moved" in changes.stats()["read_why"]
    assert changes.stats()["chains_broken"] == 2  # AP-1 lost a row no other row names, AP-2 got one
    assert "有记录被删除" in row(changes.store, "approval_requests", "AP-1")["data_issue"]


@pytest.mark.req("OPS-3", "APR-1")
def test_a_change_in_routes_reads_everything(monkeypatch):
    changes, full = twins(monkeypatch)
    routes = changes.store.table("approval_routes")
    rid = next(r["Id"] for r in routes.rows() if r["kind"] == "采购" and (r.get("min_amount") or 0) <= 20000
               and (r.get("max_amount") is None or r["max_amount"] > 20000) and r.get("active", True))

    def edit(s):
        s.table("approval_routes").update([{"Id": rid, "steps": "部门负责人 → CEO"}])

    step(changes, full, 10, edit)
    assert read(changes) == "full" and "routes" in changes.stats()["read_why"]
    assert len(requests_read(changes)) == 3
    step(changes, full, 10)  # nothing to write after it: idle, the state carried over
    assert changes.results[-1].note == "idle"
    step(changes, full, 10, lambda s: s.table("approval_requests").update([{"Id": 2, "title": "采购2（修订）"}]))
    assert read(changes) == "changes" and requests_read(changes) == ["AP-2"]


@pytest.mark.req("OPS-3", "ACT-2")
def test_an_activity_moved_past_its_gate_reads_its_initiation_request(monkeypatch):
    changes, full = twins(monkeypatch)
    act = row(changes.store, "activities", "ACT-1")
    assert "须经立项审批通过" in act["data_issue"]
    step(changes, full, 10, lambda s: s.table("activities").update([{"Id": act["Id"], "initiation_request": "AP-3"}]))
    assert read(changes) == "changes" and requests_read(changes) == ["AP-3"]
    assert "「审批中」" in row(changes.store, "activities", "ACT-1")["data_issue"]
    step(changes, full, 10, lambda s: s.table("activities").create([
        {"code": "ACT-2", "name": "春季促销", "type": "市场推广", "stage": "立项申请", "department": "D02",
         "owner": "E04", "start_date": "2026-12-01", "end_date": "2026-12-02", "budget": 50000}]))
    assert row(changes.store, "activities", "ACT-2")["initiation_request"] == "AP-ACT-2"
    assert row(changes.store, "approval_requests", "AP-ACT-2")["status"] == "审批中"


@pytest.mark.req("OPS-3")
def test_full_asks_for_everything(monkeypatch):
    changes, full = twins(monkeypatch)
    r = runner.run(changes.job, changes.store, changes.clock["now"] + timedelta(minutes=10), params={"full": True})
    assert r.plan.stats["read"] == "full" and len(r.plan.stats["read_why"]) > 0
    assert r.plan.stats["rows_read"]["approval_requests"] == 3
