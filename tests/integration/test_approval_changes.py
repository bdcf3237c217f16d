"""Cost follows change (OPS-3) for approvals on a real NocoDB: with 60 requests in approval, a
decision from the link page reads its request alone, an edited decision is found reading its
request alone, a deleted one makes a full read that finds the broken chain (SEC-4), and
``--full`` afterwards finds nothing left undone.

One staff edit costs at most twice an idle run (OPS-3, issue 12): here the one-decision run
made 50 calls against the idle run's 25 (was 56). The idle run: bases and tables (2), run-log
meta, insert and lease (3), the previous run (1), two marks for each of the 8 watched tables
(16), outbox meta and pending count (2), finishing the run-log row (1). The one-decision run
has the same 22 to the marks, then the snapshot (settings, calendar, departments, employees:
meta and rows, 8), routes (2), the changed steps and decisions (meta and keys, 4), the request
(meta and rows, 2), its steps and decisions (2), the lease again (1), the outbox (meta, key
lookup, insert: 3), three writes, the pending messages and marking the one sent (2) and the
run-log row (1). What went: the key columns of 部门, 员工, 审批申请 and 审批步骤 (links are now
turned into keys from the rows read), the outbox count before a lookup of one key, and the
read of the failed runs approvals never asks about. The unit twins
(tests/unit/test_approval_changes.py) bound the job's own reads."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from actops.jobs.approvals import JOB
from actops.kernel import runner
from actops.kernel.calendar import TZ
from actops.store import Store
from actops.web import decide
from tests.integration.test_approvals import TABLES
from tests.integration.test_escalations import channels
from tests.serving import never_quiet


def by_code(store, table):
    return {r["code"]: r for r in store.table(table).rows()}


@pytest.mark.req("OPS-3", "APR-2", "APR-3", "SEC-4")
def test_a_decision_reads_its_request_alone_and_tampering_is_found(make_store, smtp, wecom):
    store = make_store(TABLES, suffix="aprchg-")
    never_quiet(store)  # wall-clock runs: a notice held for the morning would keep every run busy
    ch = channels(smtp, wecom)
    store.table("departments").create([{"code": "D01", "name": "总经办"}, {"code": "D02", "name": "市场部"},
                                       {"code": "D07", "name": "财务部"}])
    store.table("employees").create([
        {"code": "E01", "name": "王总", "department": "D01", "roles": ["总经理", "CEO"], "email": "gm@corp.test"},
        {"code": "E02", "name": "李总监", "department": "D02", "manager": "E01", "roles": ["部门负责人", "总监"],
         "email": "dir@corp.test"},
        {"code": "E04", "name": "钱专员", "department": "D02", "manager": "E02", "email": "staff@corp.test"},
        {"code": "E05", "name": "孙财务", "department": "D07", "manager": "E01", "roles": ["部门负责人", "财务"],
         "email": "fin@corp.test"},
    ])
    ids = store.key_ids("departments")
    store.table("departments").update([{"Id": ids["D01"], "head": "E01"}, {"Id": ids["D02"], "head": "E02"},
                                       {"Id": ids["D07"], "head": "E05"}])
    store.table("approval_requests").create([
        {"code": f"AP-C{i}", "kind": "采购", "title": f"采购{i}", "applicant": "E04", "department": "D02",
         "amount": 20_000, "status": "审批中"} for i in range(60)])

    def run(params=None):
        time.sleep(2.5)  # let NocoDB's UpdatedAt (whole seconds) settle past the marks
        fresh = Store(store.api, store.prefix, store.specs)  # as the CLI or a flow: meta read again
        before = store.api.total_calls
        r = runner.run(JOB, fresh, datetime.now(TZ), channels=ch, params=params)
        return r, store.api.total_calls - before

    r, _ = run()  # every request routed, its first step opened
    assert r.plan.stats["read"] == "full" and r.plan.stats["routed"] == 60
    r, _ = run()  # its own writes read back
    assert r.plan.stats["read"] == "changes" and r.plan.stats["routed"] == 0
    r, idle = run()
    if r.note != "idle":  # the notes it put on rows read back once more
        r, idle = run()
    assert r.note == "idle", r.plan.stats

    s1 = by_code(store, "approval_steps")["AP-C7-S1"]
    decide.record(store, s1["delegate"] or s1["assignee"], "AP-C7-S1", "通过", "同意", datetime.now(TZ))
    r, calls = run()
    stats = r.plan.stats
    assert stats["read"] == "changes" and stats["rows_read"]["approval_requests"] == 1, stats
    assert calls <= 2 * idle, (calls, idle)  # one staff edit costs at most twice an idle run
    assert stats["decisions_recorded"] == 0 and [m.recipient for m in r.plan.messages] == ["E05"]
    assert by_code(store, "approval_decisions")["AP-C7-S1-D"]["hash"]  # sealed

    d = by_code(store, "approval_decisions")["AP-C7-S1-D"]
    store.table("approval_decisions").update([{"Id": d["Id"], "comment": "事后改的意见"}])
    r, _ = run()
    assert r.plan.stats["read"] == "changes" and r.plan.stats["chains_broken"] == 1, r.plan.stats
    assert "审批记录被改动" in by_code(store, "approval_requests")["AP-C7"]["audit_flag"]

    s1 = by_code(store, "approval_steps")["AP-C8-S1"]
    decide.record(store, s1["delegate"] or s1["assignee"], "AP-C8-S1", "通过", "同意", datetime.now(TZ))
    run()
    store.table("approval_decisions").table.delete([by_code(store, "approval_decisions")["AP-C8-S1-D"]["Id"]])
    r, _ = run()
    assert r.plan.stats["read"] == "full" and "deleted" in r.plan.stats["read_why"], r.plan.stats
    assert r.plan.stats["chains_broken"] == 2  # AP-C7's edit, AP-C8's delete
    assert "有记录被删除" in by_code(store, "approval_requests")["AP-C8"]["data_issue"]

    r, _ = run(params={"full": True})  # `actops run approvals --full`: nothing left undone
    assert r.plan.stats["read"] == "full" and "--full" in r.plan.stats["read_why"]
    assert r.plan.messages == [] and r.plan.inserts == {}
